package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// OrderStatus is where an order is in its life:
//
//	pending → paid → fulfilled, or pending → cancelled.
//
// A card order is paid by the payment provider's webhook and fulfilled in the
// same step; an invoice order waits for a vendor admin's mark-paid, which
// also fulfils it. Refunded is reserved for a refund after fulfilment (not
// made by this version).
type OrderStatus string

const (
	OrderPending   OrderStatus = "pending"
	OrderPaid      OrderStatus = "paid"
	OrderFulfilled OrderStatus = "fulfilled"
	OrderCancelled OrderStatus = "cancelled"
	OrderRefunded  OrderStatus = "refunded"
)

// Payment is how an order is paid.
type Payment string

const (
	PayCard    Payment = "card"    // a Checkout Session with the payment provider
	PayInvoice Payment = "invoice" // invoice or PO, marked paid by a vendor admin
)

// ParsePayment accepts the payment methods of API.md.
func ParsePayment(s string) (Payment, bool) {
	switch p := Payment(s); p {
	case PayCard, PayInvoice:
		return p, true
	}
	return "", false
}

// USD is the money currency of every price book, and so of every order.
const USD = "usd"

// OrdersPerContractMax bounds the orders read for one contract (a new order
// reads them all to count the contract year's purchases).
const OrdersPerContractMax = 10_000

// Order buys credits of one currency for a contract. Its price is computed by
// the server from the price book (or a still-valid signed quote) when the
// order is made and never changes afterwards.
type Order struct {
	ID               string          `json:"order_id"`
	Contract         string          `json:"contract"`
	Status           OrderStatus     `json:"status"`
	Currency         core.Currency   `json:"currency"`
	Credits          decimal.Decimal `json:"credits"`
	Packs            decimal.Decimal `json:"packs"`
	Channel          string          `json:"channel"`
	UnitPrice        decimal.Decimal `json:"unit_price"`
	Total            decimal.Decimal `json:"total"`
	MoneyCurrency    string          `json:"money_currency"`
	PriceBookVersion string          `json:"price_book_version"`
	Payment          Payment         `json:"payment"`
	Provider         string          `json:"provider,omitempty"`
	SessionID        string          `json:"session_id,omitempty"`
	CheckoutURL      string          `json:"checkout_url,omitempty"`
	TestMode         bool            `json:"test_mode,omitempty"`
	Quote            string          `json:"quote_id,omitempty"`
	Lot              string          `json:"lot,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	PaidAt           time.Time       `json:"paid_at,omitzero"`
	FulfilledAt      time.Time       `json:"fulfilled_at,omitzero"`
	CancelledAt      time.Time       `json:"cancelled_at,omitzero"`
	// Version counts the order's writes (1: created).
	Version int64 `json:"-"`
}

// MarshalJSON writes the order with its total as money ("6250.00", two
// fractional digits, as API.md shows money) and its unit price with at least
// two ("1.20", "1.1833"), as the prices API shows rates. Every other field is
// as tagged.
func (o Order) MarshalJSON() ([]byte, error) {
	type plain Order
	return core.EncodeJSON(struct {
		plain
		UnitPrice string `json:"unit_price"`
		Total     string `json:"total"`
	}{plain: plain(o), UnitPrice: rateText(o.UnitPrice), Total: core.FormatMoney(o.Total)})
}

// rateText renders money per credit exactly, with at least two fractional
// digits.
func rateText(d decimal.Decimal) string {
	s := d.String()
	if _, frac, _ := strings.Cut(s, "."); len(frac) < core.MoneyScale {
		return d.StringFixed(core.MoneyScale)
	}
	return s
}

// PutOrder creates an order. Condition: none with that id exists.
type PutOrder struct{ Order Order }

// UpdateOrder replaces an order with Order, whose Version is one more than
// the version read. Condition: the stored order is still at the version read
// — what makes fulfilment (and cancellation) happen exactly once.
type UpdateOrder struct{ Order Order }

func (PutOrder) isOp()    {}
func (UpdateOrder) isOp() {}

// OrderID derives an order's id from the idempotency scope and key of the
// request that made it, so a retried request (and the payment provider's
// session, created with the order id as its own idempotency key) lands on the
// same order.
func OrderID(scope, key string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + key))
	return "ord_" + hex.EncodeToString(h[:10])
}

// CanBuy reports whether contract c may buy credits at `at`: not once it has
// ended. Checkout asks before opening a payment session, and the planner
// asks again.
func CanBuy(c Contract, at time.Time) error {
	if end := c.EndAt(); !end.IsZero() && !at.Before(end) {
		return core.Errorf(core.CodeConflict, "contract %s ended at %s; it can buy no credits", c.ID, end.Format(time.RFC3339))
	}
	return nil
}

// CheckOrder validates an order the server priced, collecting every problem:
// a planner refuses to store an order a bug has left incomplete.
func CheckOrder(o Order) error {
	var p core.Problems
	checkID(&p, "order_id", o.ID, true)
	if _, ok := core.ParseCurrency(string(o.Currency)); !ok {
		p.Add("currency", "unknown currency %q", o.Currency)
	}
	p.Merge("", core.CheckCredits("credits", o.Credits))
	if o.Packs.Sign() <= 0 || !o.Packs.IsInteger() {
		p.Add("packs", "must be a whole number of packs greater than zero")
	}
	if o.Total.Sign() <= 0 || !o.Total.Equal(core.RoundMoney(o.Total)) {
		p.Add("total", "must be an amount of money greater than zero, in cents")
	}
	if o.UnitPrice.Sign() <= 0 {
		p.Add("unit_price", "must be greater than zero")
	}
	if o.MoneyCurrency != USD {
		p.Add("money_currency", "must be %s", USD)
	}
	if o.PriceBookVersion == "" {
		p.Add("price_book_version", "is required")
	}
	switch pay, _ := ParsePayment(string(o.Payment)); pay {
	case PayCard:
		if o.Provider == "" || o.SessionID == "" || o.CheckoutURL == "" {
			p.Add("payment", "a card order needs its payment provider's checkout session (provider, session id and URL)")
		}
	case PayInvoice:
	default:
		p.Add("payment", "must be card or invoice")
	}
	return p.Err()
}

// PlanCreateOrder records a new pending order.
func PlanCreateOrder(c Contract, o Order, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if err := CanBuy(c, env.At); err != nil {
			return Tx{}, nil, err
		}
		o.Contract, o.Status, o.CreatedAt = c.ID, OrderPending, env.At
		o.Lot, o.PaidAt, o.FulfilledAt, o.CancelledAt = "", time.Time{}, time.Time{}, time.Time{}
		if err := CheckOrder(o); err != nil {
			return Tx{}, nil, err
		}
		return Tx{Ops: []Op{PutOrder{Order: o}}}, o, nil
	})
}

// FulfilResult is the answer to fulfilling an order.
type FulfilResult struct {
	Order Order `json:"order"`
	Lot   *Lot  `json:"lot,omitempty"`
}

// LotOfOrder is the id of the shared lot an order's fulfilment creates.
func LotOfOrder(orderID string) string { return "lot_" + orderID }

// PlanFulfil marks an order paid and creates its shared lot in one Tx:
// the order's status condition and the lot's create-if-absent condition make
// the lot appear exactly once however often (and however concurrently) the
// payment event arrives. An order already fulfilled answers with itself and
// an empty Tx. currencyEnd is the currency's final expiry after a sunset.
func PlanFulfil(c Contract, o Order, currencyEnd time.Time, env Env) (Decision, error) {
	if o.Status == OrderFulfilled {
		return Decision{Response: mustJSON(FulfilResult{Order: o})}, nil
	}
	tx, res, err := fulfil(c, o, currencyEnd, env)
	if err != nil {
		return Decision{}, err
	}
	return Decision{Tx: merged(tx), Response: mustJSON(res)}, nil
}

// PlanMarkPaid is a vendor admin's mark-paid of an invoice/PO order: it
// fulfils the order exactly as PlanFulfil does, once per idempotency key. A
// card order is refused (its payment provider's webhook pays it); an order
// already fulfilled answers with itself.
func PlanMarkPaid(c Contract, o Order, currencyEnd time.Time, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if o.Payment != PayInvoice {
			return Tx{}, nil, core.Invalid("order", "order %s is paid by %s; only invoice/PO orders are marked paid (the payment provider's webhook pays card orders)", o.ID, o.Payment)
		}
		if o.Status == OrderFulfilled {
			return Tx{}, FulfilResult{Order: o}, nil
		}
		tx, res, err := fulfil(c, o, currencyEnd, env)
		return tx, res, err
	})
}

func fulfil(c Contract, o Order, currencyEnd time.Time, env Env) (Tx, FulfilResult, error) {
	switch {
	case o.Contract != c.ID:
		panic("ledger: fulfilling order " + o.ID + " of contract " + o.Contract + " with contract " + c.ID)
	case o.Status == OrderCancelled, o.Status == OrderRefunded:
		return Tx{}, FulfilResult{}, core.Errorf(core.CodeConflict, "order %s is %s; it cannot be fulfilled", o.ID, o.Status)
	}
	lotID := LotOfOrder(o.ID)
	tx, lots, err := grantShared(c, GrantRequest{
		Lot: lotID, Currency: o.Currency, Credits: o.Credits, Source: SourcePurchase, Order: o.ID, CurrencyEnd: currencyEnd,
	}, env)
	if err != nil {
		return Tx{}, FulfilResult{}, err
	}
	after := o
	after.Status, after.Lot, after.FulfilledAt = OrderFulfilled, lotID, env.At
	if after.PaidAt.IsZero() {
		after.PaidAt = env.At
	}
	res := FulfilResult{Order: after}
	if len(lots) > 0 {
		res.Lot = &lots[0]
	}
	tx.At = env.At
	after.Version = o.Version + 1
	tx.Ops = append(tx.Ops, UpdateOrder{Order: after})
	return tx, res, nil
}

// PlanCancelOrder cancels a pending order (its checkout expired or was
// abandoned). Anything else is left as it is, and answered with itself.
func PlanCancelOrder(o Order, env Env) (Decision, error) {
	if o.Status != OrderPending {
		return Decision{Response: mustJSON(o)}, nil
	}
	after := o
	after.Status, after.CancelledAt, after.Version = OrderCancelled, env.At, o.Version+1
	return Decision{Tx: Tx{At: env.At, Ops: []Op{UpdateOrder{Order: after}}}, Response: mustJSON(after)}, nil
}

// ContractYear returns the contract year containing t: it starts on the
// contract's start date or an anniversary of it. Price tiers count the
// credits bought in it. A t before the start is in the first year.
func ContractYear(c Contract, t time.Time) (from, to time.Time) {
	from = c.Start
	for !from.AddDate(1, 0, 0).After(t) {
		from = from.AddDate(1, 0, 0)
	}
	return from, from.AddDate(1, 0, 0)
}

// PurchasedInYear sums the credits of a contract's orders in currency cur
// that count toward its volume tier at t: paid or fulfilled orders created in
// the contract year containing t. Tiers are per currency (each currency has
// its own price book), so other currencies' orders do not count; pending and
// cancelled orders bought nothing yet.
func PurchasedInYear(c Contract, orders []Order, cur core.Currency, t time.Time) decimal.Decimal {
	from, to := ContractYear(c, t)
	sum := decimal.Zero
	for _, o := range orders {
		if o.Contract == c.ID && o.Currency == cur && (o.Status == OrderPaid || o.Status == OrderFulfilled) &&
			!o.CreatedAt.Before(from) && o.CreatedAt.Before(to) {
			sum = sum.Add(o.Credits)
		}
	}
	return sum
}
