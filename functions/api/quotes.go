package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// Quote links.
//
// Rules kept here (PRODUCT.md and API.md leave them open):
//
//   - A reseller (its token must carry the reseller claim) quotes on the
//     reseller channel only; a vendor admin may quote on any channel and
//     defaults to the named contract's channel, else list. The quote's
//     Reseller is the reseller claim, or "vendor".
//   - The price is Config.Prices' at the time of the request; with a contract
//     named, the contract year's paid purchases of the currency count toward
//     the tier (as checkout counts them), otherwise none do. A named contract
//     must exist and not have ended.
//   - valid_days is 1–90 (quote.ValidityMax), default 30; times are whole
//     seconds. The quote id is random; the answer is stored under the
//     request's Idempotency-Key (scoped to the reseller or vendor), so a retry
//     gets the same token back byte for byte.
//   - Quotes are not stored: the token is the quote. Only its acceptance is
//     (ledger.PutQuoteAcceptance, in the same Tx as the order), so a quote is
//     accepted once across every contract.
//   - Accepting (POST /v1/quotes/{token}/accept, or quote_token on POST
//     /v1/contracts/{c}/orders) makes a pending order at the QUOTED price,
//     whatever the price book says now: the quote names its book version for
//     the record. A quote naming a contract is accepted only by that
//     contract (404 to any other, as another contract's resources answer);
//     one naming none, by any contract. Payment is card (the default) or
//     invoice; invoice only for a quote on the reseller or eba channel. A
//     retried accept with the same key replays its first answer even after
//     the quote has expired; an accept of an accepted quote is 409
//     quote_already_accepted.
//   - Of two concurrent card accepts, the loser may have opened a checkout
//     session before losing the acceptance's condition; nobody receives its
//     URL, and it expires unpaid.
//   - The signing key never leaves Config.QuoteKey: it is not logged, not
//     answered, and GET /v1/quotes/keys publishes the public keys only.

// quoteRoutes registers the quote routes (api.GroupPurchases).
func (h *Handler) quoteRoutes() {
	h.handle(GroupPurchases, "GET /v1/quotes/keys", h.quoteKeysRoute)
	h.handle(GroupPurchases, "POST /v1/quotes", h.authed(quoteMakers, h.createQuote))
	h.handle(GroupPurchases, "GET /v1/quotes/{token}", h.getQuote)
	h.handle(GroupPurchases, "POST /v1/quotes/{token}/accept", h.authed(quoteAccepters, h.acceptQuoteRoute))
}

var (
	quoteMakers    = []auth.Role{auth.Reseller, auth.VendorAdmin}
	quoteAccepters = []auth.Role{auth.ContractAdmin}
)

// QuotePublicKeysMax bounds the public keys quote links are verified with.
const QuotePublicKeysMax = 8

// quoteVendor is the Reseller of a quote a vendor admin made.
const quoteVendor = "vendor"

// quoteKeyMap returns the verification keys by key id: QuoteKey's public key
// and QuotePublicKeys.
func quoteKeyMap(cfg Config) map[string]ed25519.PublicKey {
	keys := map[string]ed25519.PublicKey{}
	if len(cfg.QuoteKey) == ed25519.PrivateKeySize {
		pub := cfg.QuoteKey.Public().(ed25519.PublicKey)
		keys[quote.KeyID(pub)] = pub
	}
	for _, pub := range cfg.QuotePublicKeys {
		if len(pub) == ed25519.PublicKeySize {
			keys[quote.KeyID(pub)] = pub
		}
	}
	return keys
}

// quoteJSON is a quote as the API answers it.
type quoteJSON struct {
	QuoteID          string          `json:"quote_id"`
	Token            string          `json:"token"`
	URL              string          `json:"url"`
	Reseller         string          `json:"reseller"`
	Customer         string          `json:"customer"`
	Contract         string          `json:"contract,omitempty"`
	Currency         core.Currency   `json:"currency"`
	Credits          string          `json:"credits"`
	Packs            string          `json:"packs"`
	Channel          pricing.Channel `json:"channel"`
	UnitPrice        string          `json:"unit_price"`
	Total            string          `json:"total"`
	ListTotal        string          `json:"list_total"`
	Savings          string          `json:"savings"`
	MoneyCurrency    string          `json:"money_currency"`
	PriceBookVersion string          `json:"price_book_version"`
	IssuedAt         time.Time       `json:"issued_at"`
	ExpiresAt        time.Time       `json:"expires_at"`
	KeyID            string          `json:"key_id"`
	// Accepted is answered by GET /v1/quotes/{token} only.
	Accepted *bool `json:"accepted,omitempty"`
}

func (h *Handler) quoteView(q quote.Quote, token string) quoteJSON {
	base := h.cfg.QuoteLinkURL
	if base == "" {
		base = h.cfg.PublicURL
	}
	return quoteJSON{
		QuoteID: q.ID, Token: token, URL: strings.TrimRight(base, "/") + "/q/" + token,
		Reseller: q.Reseller, Customer: q.Customer, Contract: q.Contract, Currency: q.Currency,
		Credits: core.FormatCredits(q.Credits), Packs: q.Packs.String(), Channel: q.Channel,
		UnitPrice: pricing.FormatRate(q.UnitPrice), Total: core.FormatMoney(q.Total), ListTotal: core.FormatMoney(q.ListTotal),
		Savings: core.FormatMoney(decimal.Max(q.ListTotal.Sub(q.Total), decimal.Zero)), MoneyCurrency: ledger.USD,
		PriceBookVersion: q.PriceBookVersion, IssuedAt: q.IssuedAt.UTC(), ExpiresAt: q.ExpiresAt.UTC(), KeyID: q.KeyID,
	}
}

func (h *Handler) quoteKeysRoute(w http.ResponseWriter, r *http.Request) {
	type keyJSON struct {
		KeyID     string `json:"kid"`
		PublicKey string `json:"public_key"`
	}
	keys := []keyJSON{}
	for kid, pub := range h.quoteKeys {
		keys = append(keys, keyJSON{KeyID: kid, PublicKey: base64.RawURLEncoding.EncodeToString(pub)})
	}
	slices.SortFunc(keys, func(a, b keyJSON) int { return strings.Compare(a.KeyID, b.KeyID) })
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// quoteRequest is the body of POST /v1/quotes.
type quoteRequest struct {
	customer  string
	contract  string
	currency  core.Currency
	credits   decimal.Decimal
	packs     decimal.Decimal
	channel   pricing.Channel // empty: the default for the caller
	validDays int64
}

const validDaysDefault = int64(quote.ValidityDefault / (24 * time.Hour))
const validDaysMax = int64(quote.ValidityMax / (24 * time.Hour))

func parseQuoteRequest(o *object) quoteRequest {
	req := quoteRequest{validDays: validDaysDefault}
	req.customer = o.str("customer", true, quote.CustomerMax)
	req.contract = o.id("contract", false)
	req.currency = parseCurrency(o, true)
	req.credits, req.packs = parseQuantity(o, true)
	if ch := o.str("channel", false, 16); ch != "" {
		if c, ok := pricing.ParseChannel(ch); ok {
			req.channel = c
		} else {
			o.p.Add("channel", "must be one of list, reseller, eba")
		}
	}
	if _, given := o.raw("valid_days"); given {
		req.validDays = o.integer("valid_days", false, 1, validDaysMax)
	}
	return req
}

func (h *Handler) createQuote(w http.ResponseWriter, r *http.Request) {
	h.mutation(w, r, "", http.StatusCreated, false, func(o *object) call {
		req := parseQuoteRequest(o)
		p := principalOf(r.Context())
		if p.Role == auth.Reseller && req.channel != "" && req.channel != pricing.ChannelReseller {
			o.p.Add("channel", "a reseller quotes on the reseller channel")
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			if p.Role == auth.Reseller && p.Reseller == "" {
				return credits.Outcome{}, core.Errorf(core.CodeForbidden, "a reseller's token must carry its reseller claim to make quotes")
			}
			if len(h.cfg.QuoteKey) != ed25519.PrivateKeySize {
				return credits.Outcome{}, core.Errorf(core.CodeInternal, "quote signing is not configured")
			}
			ctx := r.Context()
			if out, replayed, err := h.cfg.Credits.Replay(ctx, "", idem); err != nil || replayed {
				return out, err
			}
			q, err := h.makeQuote(ctx, p, req)
			if err != nil {
				return credits.Outcome{}, err
			}
			pub := h.cfg.QuoteKey.Public().(ed25519.PublicKey)
			q.KeyID = quote.KeyID(pub)
			token, err := quote.Sign(q, h.cfg.QuoteKey, q.KeyID)
			if err != nil {
				return credits.Outcome{}, err
			}
			return h.cfg.Credits.Record(ctx, h.quoteView(q, token), idem)
		}
	})
}

// makeQuote prices req now for p (see the rules at the top of this file).
func (h *Handler) makeQuote(ctx context.Context, p auth.Principal, req quoteRequest) (quote.Quote, error) {
	now := h.now(ctx).Truncate(time.Second)
	purchased := decimal.Zero
	channel := req.channel
	if req.contract != "" {
		c, err := h.cfg.Credits.Contract(ctx, req.contract)
		if core.ErrorCode(err) == core.CodeNotFound {
			return quote.Quote{}, core.Invalid("contract", "there is no contract %s", req.contract)
		}
		if err != nil {
			return quote.Quote{}, err
		}
		if err := ledger.CanBuy(c, now); err != nil {
			return quote.Quote{}, err
		}
		orders, err := h.cfg.Credits.Orders(ctx, c.ID)
		if err != nil {
			return quote.Quote{}, err
		}
		purchased = ledger.PurchasedInYear(c, orders, req.currency, now)
		if ch, ok := pricing.ParseChannel(c.Channel); ok && channel == "" && p.Role == auth.VendorAdmin {
			channel = ch
		}
	}
	if channel == "" {
		channel = pricing.ChannelList
		if p.Role == auth.Reseller {
			channel = pricing.ChannelReseller
		}
	}
	if err := h.salesOpen(ctx, req.currency, now); err != nil {
		return quote.Quote{}, err
	}
	price, err := h.cfg.Prices.Price(pricing.Request{
		Currency: req.currency, Credits: req.credits, Packs: req.packs, Channel: channel, PurchasedThisYear: purchased,
	}, now)
	if err != nil {
		return quote.Quote{}, err
	}
	maker := quoteVendor
	if p.Role == auth.Reseller {
		maker = p.Reseller
	}
	return quote.Quote{
		ID: newQuoteID(), Reseller: maker, Customer: req.customer, Contract: req.contract, Currency: req.currency,
		Credits: price.Credits, Packs: price.Packs, Channel: price.Channel, UnitPrice: price.UnitPrice,
		Total: price.Subtotal, ListTotal: price.ListTotal, PriceBookVersion: price.PriceBookVersion,
		IssuedAt: now, ExpiresAt: now.Add(time.Duration(req.validDays) * 24 * time.Hour),
	}, nil
}

func newQuoteID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: no randomness: " + err.Error())
	}
	return "qt_" + hex.EncodeToString(b[:])
}

// verifyQuote checks a token with the handler's keys at now.
func (h *Handler) verifyQuote(ctx context.Context, token string) (quote.Quote, error) {
	return quote.Verify(token, h.quoteKeys, h.now(ctx))
}

func (h *Handler) getQuote(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	q, err := h.verifyQuote(r.Context(), token)
	if err != nil {
		writeError(w, r, err)
		return
	}
	view := h.quoteView(q, token)
	if h.cfg.Credits != nil {
		a, err := h.cfg.Credits.QuoteAcceptance(r.Context(), q.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		accepted := a != nil
		view.Accepted = &accepted
	}
	writeJSON(w, http.StatusOK, view)
}

func (h *Handler) acceptQuoteRoute(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	h.mutation(w, r, "", http.StatusCreated, true, func(o *object) call {
		pay := ledger.PayCard
		if s := o.str("payment", false, 16); s != "" {
			if p, ok := ledger.ParsePayment(s); ok {
				pay = p
			} else {
				o.p.Add("payment", "must be card or invoice")
			}
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			ctx := r.Context()
			c := principalOf(ctx).Contract
			if out, replayed, err := h.cfg.Credits.Replay(ctx, c, idem); err != nil || replayed {
				return out, err
			}
			q, err := h.verifyQuote(r.Context(), token)
			if err != nil {
				return credits.Outcome{}, err
			}
			return h.acceptQuote(ctx, c, q, pay, idem)
		}
	})
}

// acceptQuote makes contract c's order from the verified quote q, at the
// quoted price, and records the acceptance with it (see the rules at the
// top of this file). The caller has already answered replays.
func (h *Handler) acceptQuote(ctx context.Context, c string, q quote.Quote, pay ledger.Payment, idem ledger.Idem) (credits.Outcome, error) {
	if q.Contract != "" && q.Contract != c {
		return credits.Outcome{}, core.Errorf(core.CodeNotFound, "quote %s not found for contract %s", q.ID, c)
	}
	switch a, err := h.cfg.Credits.QuoteAcceptance(ctx, q.ID); {
	case err != nil:
		return credits.Outcome{}, err
	case a != nil:
		return credits.Outcome{}, ledger.AlreadyAccepted(*a, c)
	}
	if _, err := h.buyer(ctx, c, q.Currency); err != nil {
		return credits.Outcome{}, err
	}
	if pay == ledger.PayInvoice && q.Channel == pricing.ChannelList {
		return credits.Outcome{}, core.Invalid("payment", "invoice/PO payment is for quotes on the reseller or eba channel; this quote is on the list channel, so pay by card")
	}
	order := ledger.Order{
		ID: ledger.OrderID(idem.ScopeOr(c), idem.Key), Contract: c, Currency: q.Currency,
		Credits: q.Credits, Packs: q.Packs, Channel: string(q.Channel), UnitPrice: q.UnitPrice, Total: q.Total,
		MoneyCurrency: ledger.USD, PriceBookVersion: q.PriceBookVersion, Payment: pay, Quote: q.ID,
	}
	if pay == ledger.PayCard {
		var err error
		if order, err = h.openCheckout(ctx, order); err != nil {
			return credits.Outcome{}, err
		}
	}
	return h.cfg.Credits.AcceptQuote(ctx, c, order, idem)
}
