package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/sqlite"
	"cloudcredits/functions/internal/stripemock"
	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/stripe"
	"cloudcredits/functions/sampledata"

	"github.com/shopspring/decimal"
)

const (
	iss           = "test-issuer"
	aud           = "test-api"
	webhookSecret = "whsec_test_api"
	publicURL     = "https://credits.example.test"
)

// env is a handler on a real SQLite ledger with two contracts, c1 and c2,
// and tokens for every role.
type env struct {
	h      http.Handler
	st     ledger.Store
	svc    *credits.Service
	keys   *auth.Keys
	now    time.Time
	tokens map[string]string
}

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, st)
}

// newEnvOn is newEnv on a given (fresh, empty) store, which it closes when
// the test ends.
func newEnvOn(t testing.TB, st ledger.Store) *env {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	svc := credits.New(st, nil)
	svc.Now = func() time.Time { return now }
	keys := auth.NewKeys(iss, aud, testKey)
	rc, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	// Card orders go to the real stripe-mock (see main_test.go); webhooks
	// are signed with webhookSecret, as Stripe signs them.
	provider, err := stripe.New(stripemock.APIKey, stripe.WithBackendURL(stripemock.URL(t)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Credits: svc, Keys: keys, Now: func() time.Time { return now },
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Payments: provider, WebhookSecret: webhookSecret, PublicURL: publicURL, QuoteKey: testQuoteKey})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{h: h, st: st, svc: svc, keys: keys, now: now, tokens: map[string]string{}}
	mint := func(name string, p auth.Principal) {
		tok, err := keys.Mint(p, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	mint("vendor", auth.Principal{Subject: "v", Role: auth.VendorAdmin})
	mint("admin", auth.Principal{Subject: "carol", Role: auth.ContractAdmin, Contract: "c1"})
	mint("service", auth.Principal{Subject: "render", Role: auth.Service, Contract: "c1"})
	mint("ann", auth.Principal{Subject: "ann", Role: auth.User, Contract: "c1"})
	mint("admin2", auth.Principal{Subject: "dave", Role: auth.ContractAdmin, Contract: "c2"})
	mint("service2", auth.Principal{Subject: "render", Role: auth.Service, Contract: "c2"})
	mint("reseller", auth.Principal{Subject: "r", Role: auth.Reseller, Reseller: "acme-resale"})

	ctx := context.Background()
	for _, c := range []string{"c1", "c2"} {
		e.ok(t, e.do(t, "vendor", "POST", "/v1/contracts", "seed-"+c, fmt.Sprintf(`{"id":%q,"customer":"Customer %s","entity":"%s-hq","covered_entities":["%s-sub"],"start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z","plan_active":true,"monthly_baseline":"1000"}`, c, c, c, c)), 201)
		if _, err := svc.GrantShared(ctx, c, ledger.GrantRequest{Lot: c + "-pool", Currency: core.Cloud, Credits: decimal.NewFromInt(1000), Source: ledger.SourcePurchase}, ledger.Idem{Key: "grant-" + c}); err != nil {
			t.Fatal(err)
		}
	}
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/users", "u-ann", `{"user":"ann","kind":"employee","entity":"c1-hq","can_spend":true}`), 201)
	return e
}

func (e *env) do(t testing.TB, who, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := e.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if who != "" {
		req.Header.Set("Authorization", "Bearer "+who)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func (e *env) ok(t testing.TB, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d: %s", rec.Code, status, rec.Body)
	}
}

func (e *env) dump(t testing.TB) []string {
	t.Helper()
	d, err := e.st.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConsumeReplayAndBalance(t *testing.T) {
	e := newEnv(t)
	body := `{"user":"ann","entity":"c1-hq","service":"infraworks-profile-optimization","params":{"road_km":"12"}}`
	first := e.do(t, "service", "POST", "/v1/contracts/c1/consumptions", "job-1", body)
	e.ok(t, first, 201)
	var got struct {
		ID           string `json:"consumption_id"`
		Credits      string `json:"credits"`
		Currency     string `json:"currency"`
		BalanceAfter string `json:"balance_after"`
		Debits       []struct {
			Lot     string `json:"lot"`
			Credits string `json:"credits"`
		} `json:"debits"`
	}
	if err := json.Unmarshal(first.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Credits != "300" || got.Currency != "cloud" || got.BalanceAfter != "800" || len(got.Debits) != 2 {
		t.Errorf("consumption = %+v; want 300 cloud from ann's 100 individual and 200 shared, 800 left", got)
	}
	again := e.do(t, "service", "POST", "/v1/contracts/c1/consumptions", "job-1", body)
	e.ok(t, again, 201)
	if !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s (replayed %q); want the first answer byte for byte", again.Body, again.Header().Get("Idempotent-Replayed"))
	}
	if first.Header().Get("Idempotent-Replayed") != "" {
		t.Error("the first answer is marked replayed")
	}
	bal := e.do(t, "admin", "GET", "/v1/contracts/c1/balance", "", "")
	e.ok(t, bal, 200)
	if !strings.Contains(bal.Body.String(), `"cloud":{"total":"800","individual":"0","shared":"800"}`) {
		t.Errorf("balance after one job = %s", bal.Body)
	}
	mine := e.do(t, "ann", "GET", "/v1/me/balance", "", "")
	e.ok(t, mine, 200)
	if !strings.Contains(mine.Body.String(), `"total":"800"`) {
		t.Errorf("ann's balance = %s", mine.Body)
	}
}

func TestHoldSettleReleaseRefundRoutes(t *testing.T) {
	e := newEnv(t)
	hold := e.do(t, "service", "POST", "/v1/contracts/c1/holds", "h1", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"150","expires_in_seconds":3600}`)
	e.ok(t, hold, 201)
	var h struct {
		ID        string `json:"hold_id"`
		Credits   string `json:"credits"`
		ExpiresAt string `json:"expires_at"`
	}
	json.Unmarshal(hold.Body.Bytes(), &h)
	if h.Credits != "150" || h.ExpiresAt != "2026-03-10T10:00:00Z" {
		t.Errorf("hold = %s", hold.Body)
	}
	settle := e.do(t, "service", "POST", "/v1/contracts/c1/holds/"+h.ID+"/settle", "s1", `{"credits":"120"}`)
	e.ok(t, settle, 200)
	if !strings.Contains(settle.Body.String(), `"credits":"120"`) || !strings.Contains(settle.Body.String(), `"released":"30"`) {
		t.Errorf("settle = %s", settle.Body)
	}
	var s struct {
		Consumption string `json:"consumption_id"`
	}
	json.Unmarshal(settle.Body.Bytes(), &s)
	e.ok(t, e.do(t, "service", "POST", "/v1/contracts/c1/holds/"+h.ID+"/release", "r1", ``), 409)
	refund := e.do(t, "service", "POST", "/v1/contracts/c1/consumptions/"+s.Consumption+"/refund", "rf1", `{"credits":"20"}`)
	e.ok(t, refund, 200)
	bal := e.do(t, "admin", "GET", "/v1/contracts/c1/balance", "", "")
	if !strings.Contains(bal.Body.String(), `"cloud":{"total":"1000"`) {
		t.Errorf("1100 granted - 120 settled + 20 refunded = 1000; balance = %s", bal.Body)
	}
}

// TestBadInputChangesNothing sends every kind of bad request to every route
// and checks the documented status and code, and that the store is byte for
// byte what it was.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	expired, _ := e.keys.Mint(auth.Principal{Subject: "render", Role: auth.Service, Contract: "c1"}, e.now.Add(-2*time.Hour), time.Hour)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged, _ := auth.NewKeys(iss, aud, otherKey).Mint(auth.Principal{Subject: "render", Role: auth.Service, Contract: "c1"}, e.now, time.Hour)
	wrongAud, _ := auth.NewKeys(iss, "another-api", testKey).Mint(auth.Principal{Subject: "render", Role: auth.Service, Contract: "c1"}, e.now, time.Hour)
	// An existing consumption and hold of c2, to try from c1.
	c2 := e.do(t, "service2", "POST", "/v1/contracts/c2/consumptions", "c2-job", `{"user":"x","entity":"c2-hq","service":"structural-analysis"}`)
	_ = c2 // c2 has no users: refused, recorded as an attempt before the baseline dump

	// An order of c1, to reach from elsewhere; made before the baseline dump.
	c1Order := e.placeOrder(t, "admin", "c1", "seed-order", cardOrder)
	orders, markPaid, webhook := "/v1/contracts/c1/orders", "/v1/orders/"+c1Order.ID+"/mark-paid", "/v1/webhooks/stripe"
	paid := string(paidEvent(t, c1Order))
	forgedSig := payments.SignWebhook([]byte(paid), "whsec_forged", e.now)
	bigEvent := `{"id":"evt_big","object":"event","type":"x","pad":"` + strings.Repeat("p", api.BodyMax) + `"}`

	consume := "/v1/contracts/c1/consumptions"
	job := `{"user":"ann","entity":"c1-hq","service":"structural-analysis","params":{}}`
	big := `{"user":"ann","entity":"c1-hq","service":"structural-analysis","project":"` + strings.Repeat("p", api.BodyMax) + `"}`
	type tc struct {
		name, who, method, path, key, body string
		status                             int
		code                               string
	}
	cases := []tc{
		{"malformed JSON", "service", "POST", consume, "k", `{"user":`, 400, "invalid_request"},
		{"truncated JSON", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq"`, 400, "invalid_request"},
		{"array body", "service", "POST", consume, "k", `[]`, 400, "invalid_request"},
		{"wrong type", "service", "POST", consume, "k", `{"user":7,"entity":"c1-hq","service":"structural-analysis"}`, 400, "invalid_request"},
		{"credits as JSON number", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":10}`, 400, "invalid_request"},
		{"negative credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"-10"}`, 400, "invalid_request"},
		{"zero credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"0"}`, 400, "invalid_request"},
		{"huge credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"100000000000000000"}`, 400, "invalid_request"},
		{"over-precise credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1.0000001"}`, 400, "invalid_request"},
		{"unknown service", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"teleport","credits":"1"}`, 400, "invalid_request"},
		{"unknown field", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","discount":"1"}`, 400, "invalid_request"},
		{"params and credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","params":{}}`, 400, "invalid_request"},
		{"missing idempotency key", "service", "POST", consume, "", job, 400, "idempotency_key_missing"},
		{"oversized idempotency key", "service", "POST", consume, strings.Repeat("k", 256), job, 400, "invalid_request"},
		{"non-printable idempotency key", "service", "POST", consume, "k\x01", job, 400, "invalid_request"},
		{"oversized body", "service", "POST", consume, "k", big, 413, "too_large"},
		{"no token", "", "POST", consume, "k", job, 401, "unauthenticated"},
		{"expired token", expired, "POST", consume, "k", job, 401, "unauthenticated"},
		{"wrong signature", forged, "POST", consume, "k", job, 401, "unauthenticated"},
		{"wrong audience", wrongAud, "POST", consume, "k", job, 401, "unauthenticated"},
		{"wrong role", "admin", "POST", consume, "k", job, 403, "forbidden"},
		{"another contract", "service2", "POST", consume, "k", job, 404, "not_found"},
		{"another contract's balance", "admin2", "GET", "/v1/contracts/c1/balance", "", "", 404, "not_found"},
		{"unknown contract", "vendor", "GET", "/v1/contracts/nope/balance", "", "", 404, "not_found"},
		{"insufficient credits", "service", "POST", consume, "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"5000"}`, 422, "insufficient_credits"},
		{"uncovered entity", "service", "POST", consume, "k", `{"user":"ann","entity":"elsewhere","service":"rendering","credits":"1"}`, 422, "not_eligible"},
		{"unknown hold", "service", "POST", "/v1/contracts/c1/holds/nope/settle", "k", `{"credits":"1"}`, 404, "not_found"},
		{"settle negative", "service", "POST", "/v1/contracts/c1/holds/nope/settle", "k", `{"credits":"-1"}`, 400, "invalid_request"},
		{"unknown consumption refund", "service", "POST", "/v1/contracts/c1/consumptions/nope/refund", "k", `{}`, 404, "not_found"},
		{"hold expiry too long", "service", "POST", "/v1/contracts/c1/holds", "k", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","expires_in_seconds":999999999}`, 400, "invalid_request"},
		{"user unknown kind", "admin", "POST", "/v1/contracts/c1/users", "k", `{"user":"zed","kind":"robot","entity":"c1-hq"}`, 400, "invalid_request"},
		{"user of another contract", "admin2", "POST", "/v1/contracts/c1/users", "k", `{"user":"zed","kind":"employee","entity":"c1-hq"}`, 404, "not_found"},
		{"remove unknown user", "admin", "DELETE", "/v1/contracts/c1/users/nobody", "k", ``, 404, "not_found"},
		{"budget unknown currency", "admin", "PUT", "/v1/contracts/c1/projects/p1/budget", "k", `{"currency":"usd","monthly_cap":"10"}`, 400, "invalid_request"},
		{"budget negative cap", "admin", "PUT", "/v1/contracts/c1/projects/p1/budget", "k", `{"currency":"cloud","monthly_cap":"-10"}`, 400, "invalid_request"},
		{"budget cap as number", "admin", "PUT", "/v1/contracts/c1/projects/p1/budget", "k", `{"currency":"cloud","monthly_cap":10}`, 400, "invalid_request"},
		{"contract by non-vendor", "admin", "POST", "/v1/contracts", "k", `{"id":"c3","customer":"x","entity":"e","start":"2026-01-01T00:00:00Z"}`, 403, "forbidden"},
		{"contract bad dates", "vendor", "POST", "/v1/contracts", "k", `{"id":"c3","customer":"x","entity":"e","start":"2026-01-01T00:00:00Z","end":"2025-01-01T00:00:00Z"}`, 400, "invalid_request"},
		{"contract bad time", "vendor", "POST", "/v1/contracts", "k", `{"id":"c3","customer":"x","entity":"e","start":"yesterday"}`, 400, "invalid_request"},
		{"contract bad notify_email", "vendor", "POST", "/v1/contracts", "k", `{"id":"c3","customer":"x","entity":"e","start":"2026-01-01T00:00:00Z","notify_email":"Admin <a@b.example>"}`, 400, "invalid_request"},
		{"notify-email: malformed JSON", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":`, 400, "invalid_request"},
		{"notify-email: missing", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{}`, 400, "invalid_request"},
		{"notify-email: a number", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":42}`, 400, "invalid_request"},
		{"notify-email: a list", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":"a@b.example, c@d.example"}`, 400, "invalid_request"},
		{"notify-email: too long", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":"` + strings.Repeat("a", 250) + `@b.example"}`, 400, "invalid_request"},
		{"notify-email: unknown field", "admin", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":"a@b.example","bcc":"x@y.example"}`, 400, "invalid_request"},
		{"notify-email: another contract", "admin2", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":"a@b.example"}`, 404, "not_found"},
		{"notify-email: a user", "ann", "PUT", "/v1/contracts/c1/notify-email", "k", `{"notify_email":"a@b.example"}`, 403, "forbidden"},
		{"notify-email: no key", "admin", "PUT", "/v1/contracts/c1/notify-email", "", `{"notify_email":"a@b.example"}`, 400, "idempotency_key_missing"},
		{"notifications: bad state", "admin", "GET", "/v1/contracts/c1/notifications?state=lost", "", "", 400, "invalid_request"},
		{"notifications: another contract", "admin2", "GET", "/v1/contracts/c1/notifications", "", "", 404, "not_found"},
		{"terminate in the past", "vendor", "POST", "/v1/contracts/c1/terminate", "k", `{"at":"2020-01-01T00:00:00Z"}`, 400, "invalid_request"},
		{"withdraw unknown lot", "vendor", "POST", "/v1/lots/nope/withdraw", "k", `{}`, 404, "not_found"},
		{"withdraw a shared lot", "vendor", "POST", "/v1/lots/c1-pool/withdraw", "k", `{}`, 400, "invalid_request"},
		{"me as a service", "service", "GET", "/v1/me/balance", "", "", 403, "forbidden"},

		{"order: malformed JSON", "admin", "POST", orders, "k", `{"currency":`, 400, "invalid_request"},
		{"order: credits as JSON number", "admin", "POST", orders, "k", `{"currency":"cloud","credits":5000,"payment":"card"}`, 400, "invalid_request"},
		{"order: packs as a string", "admin", "POST", orders, "k", `{"currency":"cloud","packs":"3","payment":"card"}`, 400, "invalid_request"},
		{"order: negative credits", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"-100","payment":"card"}`, 400, "invalid_request"},
		{"order: zero credits", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"0","payment":"card"}`, 400, "invalid_request"},
		{"order: huge credits", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100000000000000000","payment":"card"}`, 400, "invalid_request"},
		{"order: over-precise credits", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"1.0000001","payment":"card"}`, 400, "invalid_request"},
		{"order: fractional packs", "admin", "POST", orders, "k", `{"currency":"cloud","packs":2.5,"payment":"card"}`, 400, "invalid_request"},
		{"order: zero packs", "admin", "POST", orders, "k", `{"currency":"cloud","packs":0,"payment":"card"}`, 400, "invalid_request"},
		{"order: unknown currency", "admin", "POST", orders, "k", `{"currency":"gold","credits":"100","payment":"card"}`, 400, "invalid_request"},
		{"order: unknown payment", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100","payment":"cash"}`, 400, "invalid_request"},
		{"order: no payment", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100"}`, 400, "invalid_request"},
		{"order: both credits and packs", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100","packs":1,"payment":"card"}`, 400, "invalid_request"},
		{"order: neither credits nor packs", "admin", "POST", orders, "k", `{"currency":"cloud","payment":"card"}`, 400, "invalid_request"},
		{"order: a price in the body", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100","payment":"card","total":"1.00"}`, 400, "invalid_request"},
		{"order: invoice on a list contract", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100","payment":"invoice"}`, 400, "invalid_request"},
		{"order: too large for a card", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"1000000","payment":"card"}`, 400, "invalid_request"},
		{"order: missing idempotency key", "admin", "POST", orders, "", cardOrder, 400, "idempotency_key_missing"},
		{"order: another contract", "admin2", "POST", orders, "k", cardOrder, 404, "not_found"},
		{"order: unknown contract", "vendor", "POST", "/v1/contracts/nope/orders", "k", cardOrder, 404, "not_found"},
		{"order: by a service", "service", "POST", orders, "k", cardOrder, 403, "forbidden"},
		{"order: with a quote", "admin", "POST", orders, "k", `{"currency":"cloud","credits":"100","payment":"card","quote_token":"q"}`, 422, "quote_invalid"},
		{"order: key of the seed order, another body", "admin", "POST", orders, "seed-order", `{"currency":"cloud","credits":"100","payment":"card"}`, 409, "idempotency_key_reused"},
		{"order: another contract's", "admin2", "GET", orders + "/" + c1Order.ID, "", "", 404, "not_found"},
		{"order: another contract's, under its own", "admin2", "GET", "/v1/contracts/c2/orders/" + c1Order.ID, "", "", 404, "not_found"},
		{"order: unknown", "admin", "GET", orders + "/ord_nope", "", "", 404, "not_found"},
		{"mark-paid by a contract admin", "admin", "POST", markPaid, "k", "", 403, "forbidden"},
		{"mark-paid of a card order", "vendor", "POST", markPaid, "k", "", 400, "invalid_request"},
		{"mark-paid of an unknown order", "vendor", "POST", "/v1/orders/ord_nope/mark-paid", "k", "", 404, "not_found"},
		{"mark-paid without idempotency key", "vendor", "POST", markPaid, "", "", 400, "idempotency_key_missing"},
		{"mark-paid with a body", "vendor", "POST", markPaid, "k", `{"paid":true}`, 400, "invalid_request"},
		// For the webhook, key is the Stripe-Signature header (Stripe sends no Idempotency-Key).
		{"webhook without signature", "", "POST", webhook, "", paid, 400, "invalid_request"},
		{"webhook with a forged signature", "", "POST", webhook, forgedSig, paid, 400, "invalid_request"},
		{"webhook with a bearer token instead", "admin", "POST", webhook, "", paid, 400, "invalid_request"},
		{"webhook over 64 KiB", "", "POST", webhook, forgedSig, bigEvent, 413, "too_large"},
	}
	before := e.dump(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if c.path == webhook {
				rec = e.webhookAs(t, c.who, []byte(c.body), c.key)
			} else {
				rec = e.do(t, c.who, c.method, c.path, c.key, c.body)
			}
			if rec.Code != c.status {
				t.Errorf("status = %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if got := decodeError(t, rec).Error.Code; got != c.code {
				t.Errorf("code = %s, want %s", got, c.code)
			}
			after := e.dump(t)
			if c.code == "not_eligible" {
				after = withoutAttempts(after)
			}
			if strings.Join(after, "\n") != strings.Join(withoutAttempts(before), "\n") && c.code == "not_eligible" {
				t.Errorf("the store changed beyond the attempt record")
			} else if c.code != "not_eligible" && strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("the store changed:\n%s", diff(before, after))
			}
			if c.code == "not_eligible" {
				before = e.dump(t)
			}
		})
	}
}

func withoutAttempts(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "attempts|") {
			out = append(out, l)
		}
	}
	return out
}

func diff(a, b []string) string {
	in := map[string]bool{}
	for _, l := range a {
		in[l] = true
	}
	var out []string
	for _, l := range b {
		if !in[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

func grantBig() ledger.GrantRequest {
	return ledger.GrantRequest{Lot: "big", Currency: core.Cloud, Credits: decimal.NewFromInt(1_000_000_000), Source: ledger.SourcePurchase}
}

func idemKey(k string) ledger.Idem { return ledger.Idem{Key: k} }
