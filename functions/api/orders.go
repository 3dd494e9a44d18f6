package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/payments"

	"github.com/shopspring/decimal"
)

// Orders and checkout.
//
// Rules kept here (API.md and PRODUCT.md leave them open):
//
//   - The price is computed here, with Config.Prices at the time of the
//     request, the contract's channel and the contract year's purchases of
//     the currency (ledger.PurchasedInYear over its orders); a body naming a
//     price (total, unit_price, …) is refused as an unknown field.
//   - The order id is ledger.OrderID(idempotency scope, key), and it is the
//     payment provider's idempotency key: a retried request finds its first
//     answer before anything is priced or opened (credits.Service.Replay),
//     and a retry after a crash between the provider and the ledger reopens
//     the same session.
//   - Invoice/PO payment is for eba and reseller contracts; a list contract
//     pays by card.
//   - With a quote_token the order is the quote's acceptance, at the quoted
//     price (quotes.go); currency and credits | packs may then be left out,
//     and must match the quote when given.
//   - The webhook carries no Idempotency-Key (Stripe sends none); the order's
//     status condition makes fulfilment exactly once. It answers 400 to an
//     unverified delivery (bad signature, old timestamp, malformed event),
//     500 (or 409 after losing too many races) when the ledger could not act,
//     so Stripe retries, and 200 to every verified event it has dealt with —
//     including those it deliberately does not act on: an event type it does
//     not handle, a session this system did not open, an order id it does
//     not know (another deployment sharing the Stripe account; retrying would
//     never help), and a payment that does not match its order (amount,
//     currency, session, payment method), arrives for a cancelled order or
//     an unknown one, or arrives after the contract ended. The refusals
//     ("action": "refused") are logged at error level: money moved that no
//     lot stands for, and someone must refund it.

// orderRoutes registers the purchase routes (api.GroupPurchases).
func (h *Handler) orderRoutes() {
	h.handle(GroupPurchases, "POST /v1/contracts/{c}/orders", h.authed(contractAdmin, h.createOrder))
	h.handle(GroupPurchases, "GET /v1/contracts/{c}/orders/{o}", h.authed(contractAdmin, h.getOrder))
	h.handle(GroupPurchases, "POST /v1/orders/{o}/mark-paid", h.authed(vendorOnly, h.markPaid))
	h.handle(GroupPurchases, "POST /v1/webhooks/stripe", h.stripeWebhook)
	h.quoteRoutes()
}

// quoteTokenMax bounds a quote token in an order request.
const quoteTokenMax = quote.TokenMax

// orderRequest is the body of POST /v1/contracts/{c}/orders.
type orderRequest struct {
	currency   core.Currency
	credits    decimal.Decimal // zero when packs are given
	packs      decimal.Decimal // zero when credits are given
	payment    ledger.Payment
	quoteToken string
}

// parseOrderRequest reads an order. With a quote_token, currency and
// credits | packs may be left out (the quote names them); when given, they
// must match the quote.
func parseOrderRequest(o *object) orderRequest {
	var req orderRequest
	req.quoteToken = o.str("quote_token", false, quoteTokenMax)
	quoted := req.quoteToken != ""
	req.currency = parseCurrency(o, !quoted)
	req.credits, req.packs = parseQuantity(o, !quoted)
	pay := o.str("payment", true, 16)
	if p, ok := ledger.ParsePayment(pay); ok {
		req.payment = p
	} else if pay != "" {
		o.p.Add("payment", "must be card or invoice")
	}
	return req
}

// parseCurrency reads the currency field.
func parseCurrency(o *object, required bool) core.Currency {
	cur := o.str("currency", required, 16)
	if c, ok := core.ParseCurrency(cur); ok {
		return c
	} else if cur != "" {
		o.p.Add("currency", "unknown currency %q: use cloud, forma or flex", cur)
	}
	return ""
}

// parseQuantity reads exactly one of credits (a decimal string) and packs (a
// whole number, a JSON integer); at most one when not required.
func parseQuantity(o *object, required bool) (credits, packs decimal.Decimal) {
	c, hasCredits := o.dec("credits", false, true, core.CreditsScaleMax)
	_, creditsGiven := o.raw("credits")
	_, packsGiven := o.raw("packs")
	switch {
	case creditsGiven && packsGiven:
		o.p.Add("packs", "send either credits or packs, not both")
	case !creditsGiven && !packsGiven:
		if required {
			o.p.Add("credits", "is required (or send packs, a whole number of packs)")
		}
	case hasCredits:
		credits = c
	case packsGiven:
		if n := o.integer("packs", false, 1, pricing.PacksMax); n > 0 {
			packs = decimal.NewFromInt(n)
		}
	}
	return credits, packs
}

func (h *Handler) createOrder(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object) call {
		req := parseOrderRequest(o)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			ctx := r.Context()
			if out, replayed, err := h.cfg.Credits.Replay(ctx, c, idem); err != nil || replayed {
				return out, err
			}
			if req.quoteToken != "" {
				q, err := h.verifyQuote(r.Context(), req.quoteToken)
				if err != nil {
					return credits.Outcome{}, err
				}
				if err := matchesQuote(req, q); err != nil {
					return credits.Outcome{}, err
				}
				return h.acceptQuote(ctx, c, q, req.payment, idem)
			}
			order, err := h.priceOrder(ctx, c, req, idem)
			if err != nil {
				return credits.Outcome{}, err
			}
			if order.Payment == ledger.PayCard {
				if order, err = h.openCheckout(ctx, order); err != nil {
					return credits.Outcome{}, err
				}
			}
			return h.cfg.Credits.CreateOrder(ctx, c, order, idem)
		}
	})
}

// matchesQuote refuses an order naming a currency or quantity other than
// its quote's: the quote decides them.
func matchesQuote(req orderRequest, q quote.Quote) error {
	var p core.Problems
	if req.currency != "" && req.currency != q.Currency {
		p.Add("currency", "the quote is for %s", q.Currency)
	}
	if !req.credits.IsZero() && !req.credits.Equal(q.Credits) {
		p.Add("credits", "the quote is for %s credits", core.FormatCredits(q.Credits))
	}
	if !req.packs.IsZero() && !req.packs.Equal(q.Packs) {
		p.Add("packs", "the quote is for %s packs", q.Packs)
	}
	return p.Err()
}

// buyer reads contract c for a purchase in currency cur now: refused when
// the contract may not buy, or the currency's sales have closed.
func (h *Handler) buyer(ctx context.Context, c string, cur core.Currency) (ledger.Contract, error) {
	contract, err := h.cfg.Credits.Contract(ctx, c)
	if err != nil {
		return ledger.Contract{}, err
	}
	now := h.now(ctx)
	if err := ledger.CanBuy(contract, now); err != nil {
		return ledger.Contract{}, err
	}
	return contract, h.salesOpen(ctx, cur, now)
}

// priceOrder builds the order of req for contract c, priced now with the
// contract's channel and the contract year's purchases of the currency.
func (h *Handler) priceOrder(ctx context.Context, c string, req orderRequest, idem ledger.Idem) (ledger.Order, error) {
	contract, err := h.buyer(ctx, c, req.currency)
	if err != nil {
		return ledger.Order{}, err
	}
	now := h.now(ctx)
	channel := pricing.ChannelList
	if contract.Channel != "" {
		ch, ok := pricing.ParseChannel(contract.Channel)
		if !ok {
			return ledger.Order{}, core.Errorf(core.CodeInternal, "contract %s has unknown channel %q", c, contract.Channel)
		}
		channel = ch
	}
	if req.payment == ledger.PayInvoice && channel == pricing.ChannelList {
		return ledger.Order{}, core.Invalid("payment", "invoice/PO payment is for EBA and reseller contracts; contract %s buys on the list channel, so pay by card", c)
	}
	orders, err := h.cfg.Credits.Orders(ctx, c)
	if err != nil {
		return ledger.Order{}, err
	}
	price, err := h.cfg.Prices.Price(pricing.Request{
		Currency: req.currency, Credits: req.credits, Packs: req.packs, Channel: channel,
		PurchasedThisYear: ledger.PurchasedInYear(contract, orders, req.currency, now),
	}, now)
	if err != nil {
		return ledger.Order{}, err
	}
	return ledger.Order{
		ID: ledger.OrderID(idem.ScopeOr(c), idem.Key), Contract: c, Currency: req.currency,
		Credits: price.Credits, Packs: price.Packs, Channel: string(price.Channel), UnitPrice: price.UnitPrice,
		Total: price.Subtotal, MoneyCurrency: ledger.USD, PriceBookVersion: price.PriceBookVersion, Payment: req.payment,
	}, nil
}

// openCheckout opens the payment provider's hosted checkout for a card
// order, with the order id as the provider's idempotency key, and returns
// the order with its session.
func (h *Handler) openCheckout(ctx context.Context, o ledger.Order) (ledger.Order, error) {
	if h.cfg.Payments == nil {
		return o, core.Errorf(core.CodeInternal, "card payment is not configured (no payment provider)")
	}
	if h.cfg.PublicURL == "" {
		return o, core.Errorf(core.CodeInternal, "card payment is not configured (no public URL for the checkout's return pages)")
	}
	back := strings.TrimRight(h.cfg.PublicURL, "/") + "/checkout.html?order=" + url.QueryEscape(o.ID)
	co, err := h.cfg.Payments.CreateCheckout(ctx, payments.CheckoutRequest{
		OrderID: o.ID, Contract: o.Contract, Currency: string(o.Currency), Credits: o.Credits, Amount: o.Total,
		Description: core.FormatCredits(o.Credits) + " " + o.Currency.Name(),
		SuccessURL:  back, CancelURL: back + "&cancelled=1",
		IdempotencyKey: o.ID,
	})
	if err != nil {
		return o, err
	}
	o.Provider, o.SessionID, o.CheckoutURL, o.TestMode = co.Provider, co.SessionID, co.URL, h.cfg.Payments.TestMode()
	return o, nil
}

func (h *Handler) getOrder(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("o")
	if err := ownContract(r, c); err != nil {
		writeError(w, r, err)
		return
	}
	o, err := h.cfg.Credits.Order(r.Context(), c, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (h *Handler) markPaid(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("o")
	h.mutation(w, r, "", http.StatusOK, true, func(o *object) call {
		return func(idem ledger.Idem) (credits.Outcome, error) {
			ctx := r.Context()
			contract, err := h.cfg.Credits.OrderContract(ctx, id)
			if err != nil {
				return credits.Outcome{}, err
			}
			order, err := h.cfg.Credits.Order(ctx, contract, id)
			if err != nil {
				return credits.Outcome{}, err
			}
			end, err := h.currencyEnd(ctx, order.Currency)
			if err != nil {
				return credits.Outcome{}, err
			}
			return h.cfg.Credits.MarkPaid(ctx, contract, id, end, idem)
		}
	})
}

// Webhook actions, as answered to the provider and logged.
const (
	webhookFulfilled = "fulfilled"
	webhookCancelled = "cancelled"
	webhookIgnored   = "ignored"
	webhookRefused   = "refused"
)

// webhookAnswer is the 200 answer to a verified webhook delivery.
type webhookAnswer struct {
	Received bool   `json:"received"`
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	OrderID  string `json:"order_id,omitempty"`
	Action   string `json:"action"`
	Reason   string `json:"reason,omitempty"`
}

// stripeWebhook handles POST /v1/webhooks/stripe: see the rules at the top
// of this file.
func (h *Handler) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readRawBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	ev, err := payments.ParseWebhook(body, r.Header.Get(payments.SignatureHeader), h.cfg.WebhookSecret, h.now(r.Context()))
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "webhook refused", "request_id", requestID(ctx), "error", err.Error())
		writeError(w, r, err)
		return
	}
	ans, err := h.handleEvent(ctx, ev)
	if err != nil {
		h.cfg.Logger.ErrorContext(ctx, "webhook failed", "request_id", requestID(ctx), "event_id", ev.ID,
			"type", ev.Type, "order_id", ev.OrderID, "error", err.Error())
		writeError(w, r, err)
		return
	}
	level := h.cfg.Logger.InfoContext
	switch {
	case ans.Action == webhookRefused:
		level = h.cfg.Logger.ErrorContext
	case ans.Action == webhookIgnored && ans.OrderID != "":
		level = h.cfg.Logger.WarnContext
	}
	level(ctx, "webhook", "request_id", requestID(ctx), "event_id", ev.ID, "type", ev.Type,
		"order_id", ev.OrderID, "session_id", ev.SessionID, "action", ans.Action, "reason", ans.Reason)
	writeJSON(w, http.StatusOK, ans)
}

// handleEvent acts on a verified event. An error is a failure the provider
// should retry; a deliberate refusal is an answer.
func (h *Handler) handleEvent(ctx context.Context, ev payments.Event) (webhookAnswer, error) {
	ans := webhookAnswer{Received: true, EventID: ev.ID, Type: ev.Type, OrderID: ev.OrderID, Action: webhookIgnored}
	handled := ev.Paid || ev.Type == payments.EventCheckoutExpired || ev.Type == payments.EventCheckoutCompleted
	switch {
	case !handled:
		ans.Reason = "not an event this system acts on"
		return ans, nil
	case ev.OrderID == "":
		ans.Reason = "a checkout session this system did not open"
		return ans, nil
	}
	contract, err := h.cfg.Credits.OrderContract(ctx, ev.OrderID)
	if core.ErrorCode(err) == core.CodeNotFound {
		if ev.Paid { // money moved for an order this ledger has no record of
			ans.Action = webhookRefused
		}
		ans.Reason = "no order with this id"
		return ans, nil
	}
	if err != nil {
		return ans, err
	}
	o, err := h.cfg.Credits.Order(ctx, contract, ev.OrderID)
	if err != nil {
		return ans, err
	}
	refuse := func(format string, args ...any) (webhookAnswer, error) {
		ans.Action, ans.Reason = webhookRefused, core.Errorf(core.CodeConflict, format, args...).Message
		return ans, nil
	}
	switch {
	case ev.Contract != "" && ev.Contract != contract:
		return refuse("the event names contract %s, the order belongs to %s", ev.Contract, contract)
	case o.Payment != ledger.PayCard:
		return refuse("order %s is paid by %s, not by card", o.ID, o.Payment)
	case ev.SessionID != o.SessionID:
		return refuse("the event is about checkout session %s, the order's is %s", ev.SessionID, o.SessionID)
	}
	switch {
	case ev.Paid:
		if !ev.AmountTotal.Equal(o.Total) || ev.Currency != o.MoneyCurrency {
			return refuse("paid %s %s, the order's total is %s %s: not fulfilled, refund the payment",
				core.FormatMoney(ev.AmountTotal), ev.Currency, core.FormatMoney(o.Total), o.MoneyCurrency)
		}
		if o.Status == ledger.OrderCancelled || o.Status == ledger.OrderRefunded {
			return refuse("order %s was paid but is %s: not fulfilled, refund the payment", o.ID, o.Status)
		}
		if o.Status != ledger.OrderFulfilled {
			c, err := h.cfg.Credits.Contract(ctx, contract)
			if err != nil {
				return ans, err
			}
			if err := ledger.CanBuy(c, h.now(ctx)); err != nil {
				return refuse("order %s was paid after its contract ended (%s): not fulfilled, refund the payment", o.ID, core.ErrorCode(err))
			}
		}
		end, err := h.currencyEnd(ctx, o.Currency)
		if err != nil {
			return ans, err
		}
		if _, err := h.cfg.Credits.Fulfil(ctx, contract, o.ID, end); err != nil {
			return ans, err
		}
		ans.Action = webhookFulfilled
		if o.Status == ledger.OrderFulfilled {
			ans.Reason = "already fulfilled"
		}
	case ev.Type == payments.EventCheckoutExpired:
		if o.Status != ledger.OrderPending {
			ans.Reason = "order is " + string(o.Status)
			return ans, nil
		}
		if _, err := h.cfg.Credits.CancelOrder(ctx, contract, o.ID); err != nil {
			return ans, err
		}
		ans.Action = webhookCancelled
	default: // completed, but the payment is still on its way (an asynchronous method)
		ans.Reason = "payment not completed yet"
	}
	return ans, nil
}
