package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	stripego "github.com/stripe/stripe-go/v84"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
)

// Provider opens Stripe Checkout Sessions. Safe for concurrent use.
type Provider struct {
	client   *stripego.Client
	testMode bool
}

var _ payments.Provider = (*Provider)(nil)

// Option configures New.
type Option func(*options)

type options struct {
	backendURL string
	httpClient *http.Client
	retries    *int64
}

// WithBackendURL sends API calls to u (for example stripe-mock's
// http://127.0.0.1:12111) instead of https://api.stripe.com. No /v1 suffix.
func WithBackendURL(u string) Option { return func(o *options) { o.backendURL = u } }

// WithHTTPClient makes stripe-go use c (its own default has an 80 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithMaxNetworkRetries sets how often stripe-go retries a request that
// failed on the network or with a retryable status (default 2). Retries reuse
// the idempotency key, so they never open a second session.
func WithMaxNetworkRetries(n int64) Option { return func(o *options) { o.retries = &n } }

// New returns a Provider using the secret (sk_…) or restricted (rk_…) key
// apiKey. A test-mode key (sk_test_…, rk_test_…) makes TestMode true. The
// error never contains the key.
func New(apiKey string, opts ...Option) (*Provider, error) {
	var testMode bool
	switch {
	case strings.HasPrefix(apiKey, "sk_test_"), strings.HasPrefix(apiKey, "rk_test_"):
		testMode = true
	case strings.HasPrefix(apiKey, "sk_live_"), strings.HasPrefix(apiKey, "rk_live_"):
	case strings.HasPrefix(apiKey, "pk_"):
		return nil, errors.New("stripe: a publishable key (pk_…) was given; the server needs the secret key (sk_…) or a restricted key (rk_…)")
	default:
		return nil, errors.New("stripe: the API key is not a Stripe secret key (want sk_test_…, sk_live_…, rk_test_… or rk_live_…)")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg := &stripego.BackendConfig{
		// stripe-go's default logger prints failed requests to stderr; errors
		// are returned to the caller instead, and nothing here logs.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
		HTTPClient:    o.httpClient,
	}
	if o.backendURL != "" {
		u, err := url.Parse(o.backendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: backend URL %q is not an absolute http(s) URL", o.backendURL)
		}
		cfg.URL = stripego.String(strings.TrimRight(o.backendURL, "/"))
	}
	if o.retries != nil {
		cfg.MaxNetworkRetries = stripego.Int64(*o.retries)
	}
	client := stripego.NewClient(apiKey, stripego.WithBackends(stripego.NewBackendsWithConfig(cfg)))
	return &Provider{client: client, testMode: testMode}, nil
}

// Name is payments.ProviderStripe.
func (p *Provider) Name() string { return payments.ProviderStripe }

// TestMode reports whether the key is a test-mode key.
func (p *Provider) TestMode() bool { return p.testMode }

// CreateCheckout opens a Checkout Session for r. See the package doc for the
// exact session; r is validated first and nothing is sent when it is invalid.
func (p *Provider) CreateCheckout(ctx context.Context, r payments.CheckoutRequest) (payments.Checkout, error) {
	if err := r.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	cents, err := payments.Cents(r.Amount)
	if err != nil {
		return payments.Checkout{}, err // Validate checked it; kept for the value
	}
	params := sessionParams(r, cents)
	s, err := p.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return payments.Checkout{}, translate(err, r.OrderID)
	}
	// Check what Stripe says it made, not only that it answered.
	switch {
	case s.ID == "" || !strings.HasPrefix(s.ID, "cs_"):
		return payments.Checkout{}, core.Errorf(core.CodeInternal, "stripe: checkout session for order %s came back with id %q", r.OrderID, s.ID)
	case s.URL == "":
		return payments.Checkout{}, core.Errorf(core.CodeInternal, "stripe: checkout session %s for order %s came back without a URL", s.ID, r.OrderID)
	case s.ClientReferenceID != r.OrderID:
		return payments.Checkout{}, core.Errorf(core.CodeInternal, "stripe: checkout session %s came back for order %q, not %q", s.ID, s.ClientReferenceID, r.OrderID)
	}
	return payments.Checkout{Provider: payments.ProviderStripe, SessionID: s.ID, URL: s.URL}, nil
}

// sessionParams is the Checkout Session for r, amount already in cents.
func sessionParams(r payments.CheckoutRequest, cents int64) *stripego.CheckoutSessionCreateParams {
	params := &stripego.CheckoutSessionCreateParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModePayment)),
		ClientReferenceID: stripego.String(r.OrderID),
		SuccessURL:        stripego.String(r.SuccessURL),
		CancelURL:         stripego.String(r.CancelURL),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			Quantity: stripego.Int64(1),
			PriceData: &stripego.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:   stripego.String(string(stripego.CurrencyUSD)),
				UnitAmount: stripego.Int64(cents),
				ProductData: &stripego.CheckoutSessionCreateLineItemPriceDataProductDataParams{
					Name: stripego.String(r.Description),
				},
			},
		}},
	}
	params.AddMetadata("order_id", r.OrderID)
	params.AddMetadata("contract", r.Contract)
	params.SetIdempotencyKey(r.IdempotencyKey)
	return params
}

// translate turns a stripe-go failure into a core error. Stripe's messages
// are safe to pass on (they never contain the key: an invalid key is shown
// masked, and we don't pass even that on).
func translate(err error, orderID string) error {
	var se *stripego.Error
	if !errors.As(err, &se) {
		// Network failure or context end; stripe-go has already retried.
		return fmt.Errorf("stripe: create checkout session for order %s: %w", orderID, err)
	}
	where := fmt.Sprintf("(status %d, request %s)", se.HTTPStatusCode, se.RequestID)
	switch {
	case se.Type == stripego.ErrorTypeIdempotency:
		return core.Errorf(core.CodeIdempotencyKeyReused,
			"stripe refused the checkout for order %s: its idempotency key was already used with other parameters %s", orderID, where)
	case se.HTTPStatusCode == http.StatusUnauthorized || se.HTTPStatusCode == http.StatusForbidden:
		return core.Errorf(core.CodeInternal, "stripe refused the server's API key %s; check the configured key", where)
	case se.Type == stripego.ErrorTypeInvalidRequest && se.HTTPStatusCode == http.StatusBadRequest:
		e := core.Errorf(core.CodeInvalidRequest, "stripe refused the checkout for order %s: %s %s", orderID, se.Msg, where)
		if se.Param != "" {
			e = e.WithDetail("stripe_param", se.Param)
		}
		if se.Code != "" {
			e = e.WithDetail("stripe_code", string(se.Code))
		}
		return e
	}
	return core.Errorf(core.CodeInternal, "stripe failed to create the checkout for order %s: %s %s", orderID, se.Msg, where)
}
