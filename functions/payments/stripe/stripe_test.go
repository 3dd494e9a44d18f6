package stripe_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
	"cloudcredits/functions/internal/stripemock"
	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/stripe"
)

func TestMain(m *testing.M) { stripemock.Main(m) }

// recorder passes requests through to stripe-mock and keeps what was sent,
// so a test can check the exact parameters Stripe would receive.
type recorder struct {
	mu   sync.Mutex
	sent []sent
}

type sent struct {
	method, path   string
	form           url.Values
	idempotencyKey string // as sent
	echoedKey      string // as stripe-mock saw it (it echoes the header)
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	form, _ := url.ParseQuery(string(body))
	s := sent{method: r.Method, path: r.URL.Path, form: form, idempotencyKey: r.Header.Get("Idempotency-Key")}
	if resp != nil {
		s.echoedKey = resp.Header.Get("Idempotency-Key")
	}
	rec.mu.Lock()
	rec.sent = append(rec.sent, s)
	rec.mu.Unlock()
	return resp, err
}

func (rec *recorder) requests() []sent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]sent(nil), rec.sent...)
}

func newProvider(t *testing.T) (*stripe.Provider, *recorder) {
	t.Helper()
	rec := &recorder{}
	p, err := stripe.New(stripemock.APIKey,
		stripe.WithBackendURL(stripemock.URL(t)),
		stripe.WithHTTPClient(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, rec
}

func request(orderID, amount string) payments.CheckoutRequest {
	return payments.CheckoutRequest{
		OrderID: orderID, Contract: "ctr_acme", Currency: "cloud",
		Credits: decimal.RequireFromString("5000"), Amount: decimal.RequireFromString(amount),
		Description:    "5,000 Cloud Credits",
		SuccessURL:     "https://credits.example.test/orders/" + orderID + "?session={CHECKOUT_SESSION_ID}",
		CancelURL:      "https://credits.example.test/orders/" + orderID,
		IdempotencyKey: "checkout-" + orderID,
	}
}

func TestCreateCheckoutSendsExactSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ amount, cents string }{
		{"6250.00", "625000"},
		{"0.10", "10"},
		{"1234.5", "123450"},
		{"999999.99", "99999999"},
	} {
		t.Run(tc.amount, func(t *testing.T) {
			t.Parallel()
			p, rec := newProvider(t)
			r := request("ord_"+tc.cents, tc.amount)
			co, err := p.CreateCheckout(context.Background(), r)
			if err != nil {
				t.Fatalf("CreateCheckout: %v", err)
			}
			if co.Provider != "stripe" || !strings.HasPrefix(co.SessionID, "cs_") {
				t.Errorf("checkout = %+v; want provider stripe and a cs_ session id", co)
			}
			if u, err := url.Parse(co.URL); err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("checkout URL = %q; want an absolute https URL", co.URL)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests sent, want 1: %+v", len(reqs), reqs)
			}
			got := reqs[0]
			if got.method != http.MethodPost || got.path != "/v1/checkout/sessions" {
				t.Errorf("sent %s %s, want POST /v1/checkout/sessions", got.method, got.path)
			}
			want := map[string]string{
				"mode":                                          "payment",
				"line_items[0][quantity]":                       "1",
				"line_items[0][price_data][currency]":           "usd",
				"line_items[0][price_data][unit_amount]":        tc.cents,
				"line_items[0][price_data][product_data][name]": r.Description,
				"client_reference_id":                           r.OrderID,
				"metadata[order_id]":                            r.OrderID,
				"metadata[contract]":                            r.Contract,
				"success_url":                                   r.SuccessURL,
				"cancel_url":                                    r.CancelURL,
			}
			for k, v := range want {
				if g := got.form.Get(k); g != v {
					t.Errorf("%s = %q, want %q", k, g, v)
				}
			}
			for k := range got.form {
				if strings.Contains(k, "unit_amount_decimal") {
					t.Errorf("sent %s: amounts go as integer cents only", k)
				}
			}
			if got.idempotencyKey != r.IdempotencyKey || got.echoedKey != r.IdempotencyKey {
				t.Errorf("Idempotency-Key sent %q, seen by stripe-mock %q; want %q", got.idempotencyKey, got.echoedKey, r.IdempotencyKey)
			}
		})
	}
}

func TestCreateCheckoutRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	p, rec := newProvider(t)
	for name, r := range map[string]payments.CheckoutRequest{
		"three decimals": request("ord_3d", "62.505"),
		"zero":           request("ord_0", "0.00"),
		"over limit":     request("ord_big", "1000000.00"),
		"no order":       func() payments.CheckoutRequest { r := request("", "10.00"); return r }(),
	} {
		_, err := p.CreateCheckout(context.Background(), r)
		if core.ErrorCode(err) != core.CodeInvalidRequest {
			t.Errorf("%s: err = %v; want invalid_request", name, err)
		}
	}
	_, err := p.CreateCheckout(context.Background(), request("ord_3d", "62.505"))
	if e, _ := core.AsError(err); e == nil || !strings.Contains(e.Message, "amount") {
		t.Errorf("three-decimal refusal doesn't name the amount: %v", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests reached Stripe for refused checkouts, want 0", n)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for key, wantTest := range map[string]bool{"sk_test_abc": true, "rk_test_abc": true, "sk_live_abc": false, "rk_live_abc": false} {
		p, err := stripe.New(key)
		if err != nil {
			t.Errorf("New(%s): %v", key, err)
			continue
		}
		if p.Name() != "stripe" || p.TestMode() != wantTest {
			t.Errorf("New(%s): name %q test mode %v; want stripe, %v", key, p.Name(), p.TestMode(), wantTest)
		}
	}
	for _, key := range []string{"", "pk_test_secretish123", "whsec_secretish123", "sk_secretish123"} {
		_, err := stripe.New(key)
		if err == nil {
			t.Errorf("New(%q) accepted", key)
		} else if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("New(%q) error quotes the key: %v", key, err)
		}
	}
	if _, err := stripe.New("sk_test_abc", stripe.WithBackendURL("127.0.0.1:12111")); err == nil {
		t.Error("New accepted a backend URL without a scheme")
	}
}

// Stripe's refusals become the domain's codes; none quotes the key.
func TestCreateCheckoutTranslatesStripeErrors(t *testing.T) {
	t.Parallel()
	const key = "sk_test_SECRETSECRETSECRET"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   core.Code
	}{
		{"amount too small", 400, `{"error":{"type":"invalid_request_error","code":"amount_too_small","param":"line_items[0][price_data][unit_amount]","message":"The Checkout Session's total amount due must add up to at least $0.50 usd"}}`, core.CodeInvalidRequest},
		{"idempotency key reused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`, core.CodeIdempotencyKeyReused},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****CRET"}}`, core.CodeInternal},
		{"outage", 500, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`, core.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Request-Id", "req_fake")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			p, err := stripe.New(key, stripe.WithBackendURL(srv.URL), stripe.WithMaxNetworkRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.CreateCheckout(context.Background(), request("ord_e", "10.00"))
			if got := core.ErrorCode(err); got != tc.code {
				t.Fatalf("err = %v (code %s); want code %s", err, got, tc.code)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "****") {
				t.Errorf("error quotes the key: %v", err)
			}
			if !strings.Contains(err.Error(), "req_fake") {
				t.Errorf("error lacks Stripe's request id: %v", err)
			}
		})
	}
}
