package payments

import (
	"context"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// Provider names, as returned by Provider.Name and stored on an order.
const (
	ProviderStripe = "stripe"
	ProviderTest   = "test"
)

// Limits on a CheckoutRequest. Most are Stripe's own, so that a request this
// package accepts is never refused by Stripe for its shape.
const (
	// CentsMax is the largest amount Stripe takes for one USD payment
	// (eight digits: $999,999.99). Larger orders go by invoice/PO.
	CentsMax = 99_999_999
	// OrderIDMax bounds the order id and the contract id: Stripe's limit for
	// client_reference_id is 200 characters (metadata values allow 500).
	OrderIDMax = 200
	// DescriptionMax bounds the line item's name on the checkout page.
	DescriptionMax = 250
	// URLMax bounds the success and cancel URLs.
	URLMax = 2048
	// IdempotencyKeyMax is Stripe's limit for an Idempotency-Key.
	IdempotencyKeyMax = 255
)

// CheckoutRequest asks a provider to open a hosted checkout for one order.
// Every field is required; Validate says which are wrong.
type CheckoutRequest struct {
	// OrderID identifies the order; it comes back in every event about the
	// checkout (client_reference_id and metadata order_id).
	OrderID string
	// Contract is the buying contract; it comes back in metadata contract.
	Contract string
	// Currency is the credit currency bought ("cloud", "forma", "flex"); the
	// money is always USD.
	Currency string
	// Credits is the quantity bought, shown to the buyer.
	Credits decimal.Decimal
	// Amount is the price in USD with at most two decimals, computed by the
	// server's price book. Providers never compute or adjust it.
	Amount decimal.Decimal
	// Description is the line item's name on the checkout page.
	Description string
	// SuccessURL and CancelURL are where the buyer's browser goes after
	// paying or cancelling. "{CHECKOUT_SESSION_ID}" in SuccessURL is replaced
	// by the session id (Stripe's template; the test provider does the same).
	SuccessURL, CancelURL string
	// IdempotencyKey makes a retried CreateCheckout return the same session
	// instead of opening a second one.
	IdempotencyKey string
}

// Checkout is an opened hosted checkout: send the buyer's browser to URL.
type Checkout struct {
	Provider  string // ProviderStripe or ProviderTest
	SessionID string // cs_… ; events about it carry the same id
	URL       string
}

// Provider opens hosted checkouts. Implementations: payments/stripe and
// payments/testpay.
type Provider interface {
	// Name is ProviderStripe or ProviderTest.
	Name() string
	// TestMode reports whether no real money can move through this provider
	// (a Stripe test key, or the test provider). The UI must say so.
	TestMode() bool
	// CreateCheckout validates r (invalid_request listing every problem),
	// converts the amount to cents exactly, and opens a checkout session.
	CreateCheckout(ctx context.Context, r CheckoutRequest) (Checkout, error)
}

// Validate reports every problem with r at once, as an invalid_request
// *core.Error whose details name each field.
func (r CheckoutRequest) Validate() error {
	var p core.Problems
	checkID(&p, "order_id", r.OrderID)
	checkID(&p, "contract", r.Contract)
	if _, ok := core.ParseCurrency(r.Currency); !ok {
		p.Add("currency", "must be one of cloud, forma, flex; got %q", r.Currency)
	}
	p.Merge("", core.CheckCredits("credits", r.Credits))
	if _, err := Cents(r.Amount); err != nil {
		p.Merge("", err)
	}
	switch d := strings.TrimSpace(r.Description); {
	case d == "":
		p.Add("description", "is required")
	case len(r.Description) > DescriptionMax:
		p.Add("description", "must be at most %d bytes", DescriptionMax)
	}
	checkURL(&p, "success_url", r.SuccessURL)
	checkURL(&p, "cancel_url", r.CancelURL)
	switch k := r.IdempotencyKey; {
	case k == "":
		p.Add("idempotency_key", "is required")
	case len(k) > IdempotencyKeyMax:
		p.Add("idempotency_key", "must be at most %d bytes", IdempotencyKeyMax)
	}
	return p.Err()
}

// Cents converts a USD amount to integer cents exactly. It refuses an
// amount that is not positive, has more than two decimals that are not
// zero (6250.001 is refused; 6250.000 is 625000), or exceeds CentsMax. No
// rounding happens here: the price book rounds, once.
func Cents(amount decimal.Decimal) (int64, error) {
	cents := amount.Shift(core.MoneyScale)
	switch {
	case amount.Sign() <= 0:
		return 0, core.Invalid("amount", "must be greater than zero, got %s", amount)
	case !cents.IsInteger():
		return 0, core.Invalid("amount", "has more than %d decimal places: %s (amounts are rounded to cents by the price book, never here)", core.MoneyScale, amount)
	case cents.GreaterThan(decimal.NewFromInt(CentsMax)):
		return 0, core.Invalid("amount", "must be at most %s USD for a card payment, got %s; use an invoice", decimal.New(CentsMax, -core.MoneyScale).StringFixed(core.MoneyScale), amount)
	}
	return cents.IntPart(), nil
}

func checkID(p *core.Problems, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		p.Add(field, "is required")
	case len(v) > OrderIDMax:
		p.Add(field, "must be at most %d bytes", OrderIDMax)
	}
}

func checkURL(p *core.Problems, field, v string) {
	if v == "" {
		p.Add(field, "is required")
		return
	}
	if len(v) > URLMax {
		p.Add(field, "must be at most %d bytes", URLMax)
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.Add(field, "must be an absolute http or https URL")
	}
}
