package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/testpay"
)

// startLocal runs the local server as `make run` does, on a free loopback
// port with a fresh data folder and no Stripe keys, and returns its address.
func startLocal(t *testing.T, data string) (string, *app) {
	t.Helper()
	return serveLocal(t, config{data: data, storeKind: "sqlite", getenv: func(string) string { return "" }})
}

// serveLocal runs the local server with cfg on a free loopback port (cfg's
// base, site folder and logger are set here) until the test ends, and
// returns its address.
func serveLocal(t *testing.T, cfg config) (string, *app) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.base = "http://" + ln.Addr().String()
	cfg.site = t.TempDir()
	cfg.logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	a, err := newApp(context.Background(), cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		a.close()
	})
	return cfg.base, a
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func call(t *testing.T, method, u, token, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestLocalCheckoutInTestMode walks the README's "Buy credits": a card
// order opens the local TEST MODE page, paying there delivers the signed
// webhook to the same server, and the purchased lot is in the balance.
func TestLocalCheckoutInTestMode(t *testing.T) {
	data := t.TempDir()
	base, a := startLocal(t, data)
	if a.payments.Name() != payments.ProviderTest || !a.payments.TestMode() {
		t.Fatalf("provider %s (test mode %v); want the test provider with no Stripe keys", a.payments.Name(), a.payments.TestMode())
	}
	admin := ""
	for _, tok := range demoTokens(a.keys, time.Now()) {
		if tok[0] == "ADMIN" {
			admin = tok[1]
		}
	}

	status, body := call(t, "POST", base+"/v1/contracts/demo/orders", admin, "buy-1", `{"currency":"cloud","credits":"500","payment":"card"}`)
	if status != 201 {
		t.Fatalf("create order = %d %s", status, body)
	}
	var order struct {
		ID          string `json:"order_id"`
		Status      string `json:"status"`
		Total       string `json:"total"`
		CheckoutURL string `json:"checkout_url"`
		Provider    string `json:"provider"`
		TestMode    bool   `json:"test_mode"`
		Lot         string `json:"lot"`
	}
	if err := json.Unmarshal(body, &order); err != nil {
		t.Fatal(err)
	}
	if order.Status != "pending" || order.Total != "625.00" || order.Provider != payments.ProviderTest || !order.TestMode ||
		!strings.HasPrefix(order.CheckoutURL, base+testpay.PathPrefix) {
		t.Fatalf("order = %s", body)
	}

	status, page := call(t, "GET", order.CheckoutURL, "", "", "")
	if status != 200 || !strings.Contains(string(page), "TEST MODE") || !strings.Contains(string(page), "625.00 USD") {
		t.Fatalf("checkout page = %d:\n%s", status, page)
	}
	m := regexp.MustCompile(`action="([^"]+/pay)"><input type="hidden" name="token" value="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no Pay form on the page:\n%s", page)
	}
	payURL, err := url.Parse(order.CheckoutURL)
	if err != nil {
		t.Fatal(err)
	}
	payURL, _ = payURL.Parse(m[1])
	resp, err := noRedirects.PostForm(payURL.String(), url.Values{"token": {m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := base + "/checkout.html?order=" + order.ID; resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("pay = %d to %q; want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	status, body = call(t, "GET", base+"/v1/contracts/demo/orders/"+order.ID, admin, "", "")
	if err := json.Unmarshal(body, &order); status != 200 || err != nil || order.Status != "fulfilled" || order.Lot == "" {
		t.Fatalf("order after paying = %d %s", status, body)
	}
	status, body = call(t, "GET", base+"/v1/contracts/demo/balance", admin, "", "")
	var bal struct {
		Lots []struct {
			ID, Amount string
		} `json:"lots"`
	}
	if err := json.Unmarshal(body, &bal); status != 200 || err != nil {
		t.Fatalf("balance = %d %s", status, body)
	}
	found := false
	for _, l := range bal.Lots {
		found = found || (l.ID == order.Lot && l.Amount == "500")
	}
	if !found {
		t.Errorf("the purchased lot %s of 500 is not in the balance: %s", order.Lot, body)
	}
}

func TestPaymentsFromTheEnvironment(t *testing.T) {
	data := t.TempDir()
	none := func(string) string { return "" }
	first, err := newPayments(none, data, "http://127.0.0.1:9")
	if err != nil || first.provider.Name() != payments.ProviderTest || first.pages == nil || !strings.HasPrefix(first.webhookSecret, "whsec_local_") {
		t.Fatalf("no keys: %+v, %v; want the test provider with a local secret", first, err)
	}
	info, err := os.Stat(filepath.Join(data, webhookSecretFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("webhook secret file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	again, err := newPayments(none, data, "http://127.0.0.1:9")
	if err != nil || again.webhookSecret != first.webhookSecret {
		t.Errorf("a restart made another webhook secret")
	}

	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	stripe, err := newPayments(env(map[string]string{EnvStripeKey: "sk_test_x", EnvStripeWebhookSecret: "whsec_x"}), data, "http://127.0.0.1:9")
	if err != nil || stripe.provider.Name() != payments.ProviderStripe || stripe.pages != nil || stripe.webhookSecret != "whsec_x" {
		t.Errorf("with Stripe keys: %+v, %v; want Stripe with the given secret and no test pages", stripe, err)
	}
	for _, half := range []map[string]string{{EnvStripeKey: "sk_test_x"}, {EnvStripeWebhookSecret: "whsec_x"}} {
		if _, err := newPayments(env(half), data, "http://127.0.0.1:9"); err == nil {
			t.Errorf("%v alone was accepted", half)
		}
	}
}

func TestTokensEnv(t *testing.T) {
	data := t.TempDir()
	tokens := [][2]string{{"VENDOR", "v.t.s"}, {"ADMIN", "a.t.s"}, {"SERVICE", "s.t.s"}, {"ANN", "u.t.s"}}
	for range 2 { // a restart replaces the file
		if err := writeTokensEnv(data, "http://127.0.0.1:8080", tokens); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(data, tokensFile)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("tokens.env: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{"export BASE=http://127.0.0.1:8080\n", "export VENDOR=v.t.s\n", "export ADMIN=a.t.s\n",
		"export SERVICE=s.t.s\n", "export ANN=u.t.s\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("tokens.env has no %q:\n%s", want, b)
		}
	}
	entries, _ := os.ReadDir(data)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d files, want tokens.env alone (no temporary left over)", len(entries))
	}
	if err := writeTokensEnv(filepath.Join(data, "missing"), "x", tokens); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}
