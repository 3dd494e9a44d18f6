package testpay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/testpay"
)

const secret = "whsec_local_test_secret"

// hook is a fake API webhook endpoint: it verifies each delivery with
// payments.ParseWebhook, as the API does, and keeps what arrived.
type hook struct {
	mu     sync.Mutex
	events []payments.Event
	errs   []error
	status int // answer with this status (0: 200)
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := payments.ParseWebhook(body, r.Header.Get("Stripe-Signature"), secret, time.Now())
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.errs = append(h.errs, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.events = append(h.events, ev)
	if h.status != 0 {
		http.Error(w, "fake outage", h.status)
	}
}

func (h *hook) got() ([]payments.Event, []error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]payments.Event(nil), h.events...), append([]error(nil), h.errs...)
}

type env struct {
	p      *testpay.Provider
	site   *httptest.Server // serves the provider's pages
	hook   *hook
	client *http.Client // does not follow redirects
}

func setup(t *testing.T) *env {
	t.Helper()
	h := &hook{}
	hookSrv := httptest.NewServer(h)
	t.Cleanup(hookSrv.Close)
	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	p, err := testpay.New(site.URL, hookSrv.URL+"/v1/webhooks/stripe", secret, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle(testpay.PathPrefix, p.Handler())
	return &env{p: p, site: site, hook: h, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func request(orderID string) payments.CheckoutRequest {
	return payments.CheckoutRequest{
		OrderID: orderID, Contract: "ctr_acme", Currency: "cloud",
		Credits: decimal.RequireFromString("5000"), Amount: decimal.RequireFromString("6250.00"),
		Description:    `5,000 Cloud Credits <script>alert("x")</script>`,
		SuccessURL:     "http://127.0.0.1:8080/orders/" + orderID + "?session={CHECKOUT_SESSION_ID}",
		CancelURL:      "http://127.0.0.1:8080/orders/" + orderID + "?cancelled=1",
		IdempotencyKey: "idem-" + orderID,
	}
}

func (e *env) get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := e.client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) post(t *testing.T, u, token string) *http.Response {
	t.Helper()
	resp, err := e.client.PostForm(u, url.Values{"token": {token}})
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var tokenField = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

func pageToken(t *testing.T, page string) string {
	t.Helper()
	m := tokenField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token field in the page:\n%s", page)
	}
	return m[1]
}

func TestPageIsTestModeAndEscaped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if e.p.Name() != "test" || !e.p.TestMode() {
		t.Errorf("Name %q TestMode %v; want test, true", e.p.Name(), e.p.TestMode())
	}
	co, err := e.p.CreateCheckout(context.Background(), request("ord_1"))
	if err != nil {
		t.Fatalf("CreateCheckout: %v", err)
	}
	if co.Provider != "test" || !strings.HasPrefix(co.SessionID, "cs_test_") || co.URL != e.site.URL+"/test-checkout/"+co.SessionID {
		t.Errorf("checkout = %+v", co)
	}
	status, page := e.get(t, co.URL)
	if status != http.StatusOK {
		t.Fatalf("GET page = %d:\n%s", status, page)
	}
	for _, want := range []string{"TEST MODE", "Test mode — no real payment is taken", "ord_1", "ctr_acme", "6250.00 USD", "5000 cloud credits", "Pay (test)", "Cancel",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Errorf("page contains an unescaped <script:\n%s", page)
	}
	pageToken(t, page)
}

func TestPayDeliversSignedEventThenRedirects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := request("ord_pay")
	co, err := e.p.CreateCheckout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	_, page := e.get(t, co.URL)
	resp := e.post(t, co.URL+"/pay", pageToken(t, page))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST pay = %d, want 303", resp.StatusCode)
	}
	wantLoc := "http://127.0.0.1:8080/orders/ord_pay?session=" + co.SessionID
	if loc := resp.Header.Get("Location"); loc != wantLoc {
		t.Errorf("redirect to %q, want %q", loc, wantLoc)
	}
	events, errs := e.hook.got()
	if len(errs) != 0 {
		t.Fatalf("webhook deliveries refused by ParseWebhook: %v", errs)
	}
	if len(events) != 1 {
		t.Fatalf("%d webhook events arrived, want 1", len(events))
	}
	ev := events[0]
	if !strings.HasPrefix(ev.ID, "evt_") || ev.Type != payments.EventCheckoutCompleted || !ev.Paid ||
		ev.OrderID != "ord_pay" || ev.Contract != "ctr_acme" || ev.SessionID != co.SessionID ||
		ev.Currency != "usd" || !ev.AmountTotal.Equal(r.Amount) {
		t.Errorf("event = %+v; want a paid checkout.session.completed for ord_pay, 6250.00 usd", ev)
	}
	// Paid sessions are gone: paying again finds nothing, nothing more is sent.
	if resp := e.post(t, co.URL+"/pay", pageToken(t, page)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("second pay = %d, want 404", resp.StatusCode)
	}
	if events, _ := e.hook.got(); len(events) != 1 {
		t.Errorf("%d events after a second pay, want 1", len(events))
	}
}

func TestCancelSendsExpiredThenRedirects(t *testing.T) {
	t.Parallel()
	e := setup(t)
	co, _ := e.p.CreateCheckout(context.Background(), request("ord_c"))
	_, page := e.get(t, co.URL)
	resp := e.post(t, co.URL+"/cancel", pageToken(t, page))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://127.0.0.1:8080/orders/ord_c?cancelled=1" {
		t.Fatalf("POST cancel = %d to %q; want 303 to the cancel URL", resp.StatusCode, resp.Header.Get("Location"))
	}
	events, errs := e.hook.got()
	if len(errs) != 0 || len(events) != 1 || events[0].Type != payments.EventCheckoutExpired || events[0].Paid || events[0].OrderID != "ord_c" {
		t.Errorf("events %+v, errors %v; want one unpaid checkout.session.expired for ord_c", events, errs)
	}
}

func TestWrongTokenIsForbidden(t *testing.T) {
	t.Parallel()
	e := setup(t)
	co, _ := e.p.CreateCheckout(context.Background(), request("ord_csrf"))
	_, page := e.get(t, co.URL)
	good := pageToken(t, page)
	other, _ := e.p.CreateCheckout(context.Background(), request("ord_other"))
	_, otherPage := e.get(t, other.URL)
	for name, token := range map[string]string{"empty": "", "wrong": strings.Repeat("0", len(good)), "another session's": pageToken(t, otherPage), "truncated": good[:len(good)-1]} {
		for _, action := range []string{"/pay", "/cancel"} {
			if resp := e.post(t, co.URL+action, token); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %s token = %d, want 403", action, name, resp.StatusCode)
			}
		}
	}
	if events, errs := e.hook.got(); len(events)+len(errs) != 0 {
		t.Errorf("webhook called %d times after refused posts, want 0", len(events)+len(errs))
	}
	// The session is still payable with the right token.
	if resp := e.post(t, co.URL+"/pay", good); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("pay with the right token after refusals = %d, want 303", resp.StatusCode)
	}
}

func TestUnknownSessionIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, path := range []string{"/test-checkout/cs_test_nope", "/test-checkout/", "/test-checkout/cs_test_nope/extra/bits"} {
		if status, _ := e.get(t, e.site.URL+path); status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, status)
		}
	}
	if resp := e.post(t, e.site.URL+"/test-checkout/cs_test_nope/pay", "00"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST pay for an unknown session = %d, want 404", resp.StatusCode)
	}
	if events, errs := e.hook.got(); len(events)+len(errs) != 0 {
		t.Errorf("webhook called for an unknown session")
	}
}

func TestFailedDeliveryKeepsSessionOpen(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.hook.mu.Lock()
	e.hook.status = http.StatusInternalServerError
	e.hook.mu.Unlock()
	co, _ := e.p.CreateCheckout(context.Background(), request("ord_retry"))
	_, page := e.get(t, co.URL)
	token := pageToken(t, page)
	if resp := e.post(t, co.URL+"/pay", token); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("pay with the webhook failing = %d, want 502", resp.StatusCode)
	}
	e.hook.mu.Lock()
	e.hook.status = 0
	e.hook.mu.Unlock()
	if resp := e.post(t, co.URL+"/pay", token); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("retried pay = %d, want 303", resp.StatusCode)
	}
	if events, _ := e.hook.got(); len(events) != 2 || events[0].ID == events[1].ID {
		t.Errorf("events = %+v; want two deliveries with distinct event ids", events)
	}
}

func TestCreateCheckoutIdempotentAndValidated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := request("ord_i")
	a, err1 := e.p.CreateCheckout(context.Background(), r)
	b, err2 := e.p.CreateCheckout(context.Background(), r)
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("same key twice = %+v, %v and %+v, %v; want the same session", a, err1, b, err2)
	}
	r2 := r
	r2.Amount = decimal.RequireFromString("1.00")
	if _, err := e.p.CreateCheckout(context.Background(), r2); core.ErrorCode(err) != core.CodeIdempotencyKeyReused {
		t.Errorf("same key, other amount: err = %v; want idempotency_key_reused", err)
	}
	r3 := request("ord_bad")
	r3.Amount = decimal.RequireFromString("10.001")
	if _, err := e.p.CreateCheckout(context.Background(), r3); core.ErrorCode(err) != core.CodeInvalidRequest {
		t.Errorf("three-decimal amount: err = %v; want invalid_request", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, args := range [][3]string{
		{"", "http://127.0.0.1:1/v1/webhooks/stripe", secret},
		{"http://127.0.0.1:1", "/v1/webhooks/stripe", secret},
		{"http://127.0.0.1:1", "http://127.0.0.1:1/v1/webhooks/stripe", ""},
	} {
		if _, err := testpay.New(args[0], args[1], args[2], nil); err == nil {
			t.Errorf("New%q accepted", args)
		}
	}
}
