package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"
	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/sampledata"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shopspring/decimal"
)

// testQuoteKey signs the test handlers' quote links.
var testQuoteKey = ed25519.NewKeyFromSeed([]byte("cloud-credits-test-quote-key-32b"))

// quoteEnv is env with a settable clock and, optionally, its own price
// catalog; invoice payment only (no payment provider).
type quoteEnv struct {
	*env
	mu    sync.Mutex
	clock time.Time
}

func (q *quoteEnv) now() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.clock
}

func (q *quoteEnv) advance(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.clock = q.clock.Add(d)
}

func newQuoteEnv(t *testing.T, prices *pricing.Catalog) *quoteEnv {
	t.Helper()
	qe := &quoteEnv{env: newEnv(t)}
	qe.clock = qe.env.now
	rc, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	if prices == nil {
		prices = pc
	}
	h, err := api.New(api.Config{Rates: rc, Prices: prices, Credits: qe.svc, Keys: qe.keys, Now: qe.now,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), PublicURL: publicURL, QuoteKey: testQuoteKey,
		QuoteLinkURL: "https://quotes.example.test/"})
	if err != nil {
		t.Fatal(err)
	}
	qe.h = h
	qe.svc.Now = qe.now
	qe.resellerContractFor(t, "r1")
	qe.resellerContractFor(t, "r2")
	for name, p := range map[string]auth.Principal{
		"reseller": {Subject: "r", Role: auth.Reseller, Reseller: "acme-resale"},
		"vendor":   {Subject: "v", Role: auth.VendorAdmin},
		"admin":    {Subject: "carol", Role: auth.ContractAdmin, Contract: "c1"},
		"admin-r1": {Subject: "rita", Role: auth.ContractAdmin, Contract: "r1"},
		"admin-r2": {Subject: "rob", Role: auth.ContractAdmin, Contract: "r2"},
	} {
		tok, err := qe.keys.Mint(p, qe.clock, auth.TTLMax)
		if err != nil {
			t.Fatal(err)
		}
		qe.tokens[name] = tok
	}
	return qe
}

func (q *quoteEnv) resellerContractFor(t *testing.T, id string) {
	t.Helper()
	q.ok(t, q.do(t, "vendor", "POST", "/v1/contracts", "seed-"+id, fmt.Sprintf(
		`{"id":%q,"customer":"Reseller customer","entity":"%s-hq","start":"2026-01-01T00:00:00Z","end":"2030-01-01T00:00:00Z","channel":"reseller"}`, id, id)), 201)
}

type quoteView struct {
	QuoteID          string `json:"quote_id"`
	Token            string `json:"token"`
	URL              string `json:"url"`
	Reseller         string `json:"reseller"`
	Contract         string `json:"contract"`
	Credits          string `json:"credits"`
	Channel          string `json:"channel"`
	UnitPrice        string `json:"unit_price"`
	Total            string `json:"total"`
	PriceBookVersion string `json:"price_book_version"`
	ExpiresAt        string `json:"expires_at"`
	Accepted         *bool  `json:"accepted"`
}

func (q *quoteEnv) makeQuote(t *testing.T, who, key, body string) quoteView {
	t.Helper()
	rec := q.do(t, who, "POST", "/v1/quotes", key, body)
	q.ok(t, rec, 201)
	var v quoteView
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.Token == "" {
		t.Fatalf("not a quote (%v): %s", err, rec.Body)
	}
	return v
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &b)
	return b.Error.Code
}

func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status || errorCode(t, rec) != code {
		t.Fatalf("got %d %s, want %d %s: %s", rec.Code, errorCode(t, rec), status, code, rec.Body)
	}
}

func TestQuoteMakeViewAccept(t *testing.T) {
	q := newQuoteEnv(t, nil)
	body := `{"customer":"Reseller customer","contract":"r1","currency":"cloud","credits":"5000"}`
	v := q.makeQuote(t, "reseller", "q-1", body)
	if v.Reseller != "acme-resale" || v.Channel != "reseller" || v.Credits != "5000" || v.UnitPrice != "1.10" || v.Total != "5500.00" {
		t.Errorf("quote = %+v; want 5000 cloud at the reseller rate 1.10", v)
	}
	if v.URL != "https://quotes.example.test/q/"+v.Token {
		t.Errorf("url = %s", v.URL)
	}
	if want := q.clock.Add(quote.ValidityDefault).Format(time.RFC3339); v.ExpiresAt != want {
		t.Errorf("expires_at = %s, want %s (30 days)", v.ExpiresAt, want)
	}
	// A retry answers the same token byte for byte.
	again := q.do(t, "reseller", "POST", "/v1/quotes", "q-1", body)
	if again.Header().Get("Idempotent-Replayed") != "true" || !strings.Contains(again.Body.String(), v.Token) {
		t.Errorf("retry = %s", again.Body)
	}

	// Anyone can read it; the keys are public.
	got := q.do(t, "", "GET", "/v1/quotes/"+v.Token, "", "")
	q.ok(t, got, 200)
	var read quoteView
	_ = json.Unmarshal(got.Body.Bytes(), &read)
	if read.QuoteID != v.QuoteID || read.Total != v.Total || read.Accepted == nil || *read.Accepted {
		t.Errorf("GET = %s", got.Body)
	}
	keys := q.do(t, "", "GET", "/v1/quotes/keys", "", "")
	q.ok(t, keys, 200)
	pub := base64.RawURLEncoding.EncodeToString(testQuoteKey.Public().(ed25519.PublicKey))
	if !strings.Contains(keys.Body.String(), pub) || strings.Contains(keys.Body.String(), base64.RawURLEncoding.EncodeToString(testQuoteKey.Seed())) {
		t.Errorf("keys = %s", keys.Body)
	}

	// Only the quote's contract accepts it.
	accept := "/v1/quotes/" + v.Token + "/accept"
	before := q.dump(t)
	wantError(t, q.do(t, "admin-r2", "POST", accept, "a-1", `{"payment":"invoice"}`), 404, "not_found")
	wantError(t, q.do(t, "reseller", "POST", accept, "a-1", `{"payment":"invoice"}`), 403, "forbidden")
	wantError(t, q.do(t, "vendor", "POST", accept, "a-1", `{"payment":"invoice"}`), 403, "forbidden")
	sameDump(t, "refused accepts", before, q.dump(t))

	first := q.do(t, "admin-r1", "POST", accept, "a-1", `{"payment":"invoice"}`)
	q.ok(t, first, 201)
	o := decodeOrder(t, first)
	if o.Contract != "r1" || o.Total != "5500.00" || o.UnitPrice != "1.10" || o.Credits != "5000" || o.Status != "pending" || o.Payment != "invoice" {
		t.Errorf("order = %s", first.Body)
	}
	if !strings.Contains(first.Body.String(), `"quote_id":"`+v.QuoteID+`"`) {
		t.Errorf("order does not name its quote: %s", first.Body)
	}
	replay := q.do(t, "admin-r1", "POST", accept, "a-1", `{"payment":"invoice"}`)
	if replay.Code != 201 || replay.Body.String() != first.Body.String() || replay.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %d %s", replay.Code, replay.Body)
	}
	before = q.dump(t)
	wantError(t, q.do(t, "admin-r1", "POST", accept, "a-2", `{"payment":"invoice"}`), 409, "quote_already_accepted")
	wantError(t, q.do(t, "admin-r1", "POST", "/v1/contracts/r1/orders", "o-1", `{"payment":"invoice","quote_token":"`+v.Token+`"}`), 409, "quote_already_accepted")
	sameDump(t, "a second accept", before, q.dump(t))
	got = q.do(t, "", "GET", "/v1/quotes/"+v.Token, "", "")
	_ = json.Unmarshal(got.Body.Bytes(), &read)
	if read.Accepted == nil || !*read.Accepted {
		t.Errorf("GET after accept = %s", got.Body)
	}
	// The retry replays even after the quote has expired.
	q.advance(quote.ValidityDefault)
	if r := q.do(t, "admin-r1", "POST", accept, "a-1", `{"payment":"invoice"}`); r.Code != 201 || r.Body.String() != first.Body.String() {
		t.Errorf("replay after expiry = %d %s", r.Code, r.Body)
	}
}

func TestQuoteTokenOnOrders(t *testing.T) {
	q := newQuoteEnv(t, nil)
	// A vendor's quote with no contract: any contract may accept it, once.
	v := q.makeQuote(t, "vendor", "q-open", `{"customer":"Anyone","currency":"cloud","packs":3,"channel":"reseller","valid_days":2}`)
	if v.Contract != "" || v.Reseller != "vendor" || v.Credits != "300" {
		t.Errorf("quote = %+v", v)
	}
	orders := "/v1/contracts/r2/orders"
	wantError(t, q.do(t, "admin-r2", "POST", orders, "o-1", `{"payment":"invoice","currency":"forma","quote_token":"`+v.Token+`"}`), 400, "invalid_request")
	wantError(t, q.do(t, "admin-r2", "POST", orders, "o-2", `{"payment":"invoice","credits":"500","quote_token":"`+v.Token+`"}`), 400, "invalid_request")
	rec := q.do(t, "admin-r2", "POST", orders, "o-3", `{"payment":"invoice","currency":"cloud","packs":3,"quote_token":"`+v.Token+`"}`)
	q.ok(t, rec, 201)
	if o := decodeOrder(t, rec); o.Contract != "r2" || o.Total != "375.00" || o.Credits != "300" {
		t.Errorf("order = %s", rec.Body)
	}
	wantError(t, q.do(t, "admin-r1", "POST", "/v1/quotes/"+v.Token+"/accept", "a-1", `{"payment":"invoice"}`), 409, "quote_already_accepted")
	// A list-channel quote is paid by card.
	l := q.makeQuote(t, "vendor", "q-list", `{"customer":"Anyone","currency":"cloud","credits":"100","channel":"list"}`)
	wantError(t, q.do(t, "admin-r1", "POST", "/v1/quotes/"+l.Token+"/accept", "a-2", `{"payment":"invoice"}`), 400, "invalid_request")
}

func TestQuoteAcceptRace(t *testing.T) {
	q := newQuoteEnv(t, nil)
	v := q.makeQuote(t, "reseller", "q-race", `{"customer":"Reseller customer","contract":"r1","currency":"cloud","credits":"1000"}`)
	const n = 20
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rec := q.do(t, "admin-r1", "POST", "/v1/quotes/"+v.Token+"/accept", fmt.Sprintf("race-%d", i), `{"payment":"invoice"}`)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
		}(i)
	}
	wg.Wait()
	created, refused := 0, 0
	for i, c := range codes {
		switch {
		case c == 201:
			created++
		case c == 409 && strings.Contains(bodies[i], `"quote_already_accepted"`):
			refused++
		default:
			t.Errorf("accept %d: %d %s", i, c, bodies[i])
		}
	}
	if created != 1 || refused != n-1 {
		t.Errorf("%d created, %d quote_already_accepted; want 1 and %d", created, refused, n-1)
	}
	orders, err := q.svc.Orders(t.Context(), "r1")
	if err != nil || len(orders) != 1 || orders[0].Quote != v.QuoteID {
		t.Errorf("orders = %+v, %v; want exactly one, of the quote", orders, err)
	}
	acceptances := 0
	for _, line := range q.dump(t) {
		if strings.HasPrefix(line, "quote_acceptances|") {
			acceptances++
		}
	}
	if acceptances != 1 {
		t.Errorf("%d quote_acceptances rows, want 1", acceptances)
	}
}

func TestQuoteTamperedAndExpired(t *testing.T) {
	q := newQuoteEnv(t, nil)
	v := q.makeQuote(t, "reseller", "q-1", `{"customer":"Reseller customer","contract":"r1","currency":"cloud","credits":"5000","valid_days":1}`)
	body64, sig64, _ := strings.Cut(v.Token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(body64)
	cheaper := strings.Replace(string(raw), `"total":"5500.00"`, `"total":"1.00"`, 1)
	otherKey := ed25519.NewKeyFromSeed([]byte("some-other-key-nobody-trusts-32b"))
	forged, err := quote.Sign(quote.Quote{ID: "qt_forged", Reseller: "x", Customer: "x", Contract: "r1", Currency: core.Cloud,
		Credits: decimal.NewFromInt(5000), Packs: decimal.NewFromInt(50), Channel: pricing.ChannelReseller,
		UnitPrice: decimal.RequireFromString("0.01"), Total: decimal.RequireFromString("50"), ListTotal: decimal.RequireFromString("6250"),
		PriceBookVersion: "x", IssuedAt: q.clock, ExpiresAt: q.clock.Add(time.Hour)}, otherKey, quote.KeyID(testQuoteKey.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	before := q.dump(t)
	for name, tok := range map[string]string{
		"price changed":     base64.RawURLEncoding.EncodeToString([]byte(cheaper)) + "." + sig64,
		"signature changed": body64 + "." + strings.Repeat("A", len(sig64)),
		"forged key":        forged,
		"garbage":           "not-a-token",
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, q.do(t, "", "GET", "/v1/quotes/"+tok, "", ""), 422, "quote_invalid")
			wantError(t, q.do(t, "admin-r1", "POST", "/v1/quotes/"+tok+"/accept", "a-"+name, `{"payment":"invoice"}`), 422, "quote_invalid")
			wantError(t, q.do(t, "admin-r1", "POST", "/v1/contracts/r1/orders", "o-"+name, `{"payment":"invoice","quote_token":"`+tok+`"}`), 422, "quote_invalid")
		})
	}
	q.advance(24 * time.Hour) // exactly at expires_at
	wantError(t, q.do(t, "", "GET", "/v1/quotes/"+v.Token, "", ""), 422, "quote_expired")
	wantError(t, q.do(t, "admin-r1", "POST", "/v1/quotes/"+v.Token+"/accept", "a-exp", `{"payment":"invoice"}`), 422, "quote_expired")
	wantError(t, q.do(t, "admin-r1", "POST", "/v1/contracts/r1/orders", "o-exp", `{"payment":"invoice","quote_token":"`+v.Token+`"}`), 422, "quote_expired")
	sameDump(t, "tampered and expired quotes", before, q.dump(t))
}

// A quote is honoured at its price after a newer price book takes effect.
func TestQuoteHonouredAfterPriceBookChange(t *testing.T) {
	_, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) // newEnv's clock
	var books []*pricing.Book
	for _, cur := range core.Currencies() {
		books = append(books, pc.Books(cur)...)
	}
	current, err := pc.Book(core.Cloud, now)
	if err != nil {
		t.Fatal(err)
	}
	dearer := *current
	dearer.Version, dearer.EffectiveFrom, dearer.Benchmarks = "cloud-test-dearer", now.Add(24*time.Hour), nil
	dearer.Tiers = nil
	for _, tier := range current.Tiers {
		rates := map[pricing.Channel]decimal.Decimal{}
		for ch, r := range tier.Rates {
			rates[ch] = r.Mul(decimal.NewFromInt(2))
		}
		tier.Rates = rates
		dearer.Tiers = append(dearer.Tiers, tier)
	}
	cat, err := pricing.NewCatalog(append(books, &dearer)...)
	if err != nil {
		t.Fatal(err)
	}
	q := newQuoteEnv(t, cat)
	v := q.makeQuote(t, "reseller", "q-1", `{"customer":"Reseller customer","contract":"r1","currency":"cloud","credits":"5000"}`)
	q.advance(48 * time.Hour)
	// Today's price is the dearer book's…
	now2 := q.do(t, "", "POST", "/v1/prices", "", `{"currency":"cloud","credits":"5000","channel":"reseller"}`)
	if !strings.Contains(now2.Body.String(), `"price_book_version":"cloud-test-dearer"`) || !strings.Contains(now2.Body.String(), `"subtotal":"11000.00"`) {
		t.Fatalf("price now = %s", now2.Body)
	}
	// …but the quote is accepted at its own.
	rec := q.do(t, "admin-r1", "POST", "/v1/quotes/"+v.Token+"/accept", "a-1", `{"payment":"invoice"}`)
	q.ok(t, rec, 201)
	if o := decodeOrder(t, rec); o.Total != "5500.00" || o.UnitPrice != "1.10" || o.PriceBookVersion != v.PriceBookVersion || o.PriceBookVersion == "cloud-test-dearer" {
		t.Errorf("order = %s; want the quoted 5500.00 from %s", rec.Body, v.PriceBookVersion)
	}
}

func TestQuoteResellerWithoutClaimRefused(t *testing.T) {
	q := newQuoteEnv(t, nil)
	// Mint cannot make such a token; sign one by hand as a careless issuer would.
	claims := jwt.MapClaims{"iss": iss, "aud": aud, "sub": "r", "role": "reseller",
		"iat": q.clock.Unix(), "nbf": q.clock.Add(-time.Minute).Unix(), "exp": q.clock.Add(time.Hour).Unix()}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = auth.KeyID(&testKey.PublicKey)
	signed, err := tok.SignedString(testKey)
	if err != nil {
		t.Fatal(err)
	}
	before := q.dump(t)
	rec := q.do(t, signed, "POST", "/v1/quotes", "q-1", `{"customer":"x","currency":"cloud","credits":"100"}`)
	if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusForbidden {
		t.Errorf("reseller without a reseller claim: %d %s; want 401 or 403", rec.Code, rec.Body)
	}
	wantError(t, q.do(t, "admin", "POST", "/v1/quotes", "q-2", `{"customer":"x","currency":"cloud","credits":"100"}`), 403, "forbidden")
	wantError(t, q.do(t, "", "POST", "/v1/quotes", "q-3", `{"customer":"x","currency":"cloud","credits":"100"}`), 401, "unauthenticated")
	sameDump(t, "refused quote makers", before, q.dump(t))
}

func TestQuoteBadInput(t *testing.T) {
	q := newQuoteEnv(t, nil)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"credits as a JSON number", `{"customer":"x","currency":"cloud","credits":5000}`, "credits"},
		{"negative credits", `{"customer":"x","currency":"cloud","credits":"-5"}`, "credits"},
		{"zero credits", `{"customer":"x","currency":"cloud","credits":"0"}`, "credits"},
		{"huge credits", `{"customer":"x","currency":"cloud","credits":"1000000000001"}`, "credits"},
		{"credits and packs", `{"customer":"x","currency":"cloud","credits":"100","packs":1}`, "packs"},
		{"neither credits nor packs", `{"customer":"x","currency":"cloud"}`, "credits"},
		{"zero packs", `{"customer":"x","currency":"cloud","packs":0}`, "packs"},
		{"unknown currency", `{"customer":"x","currency":"gold","credits":"100"}`, "currency"},
		{"unknown channel", `{"customer":"x","currency":"cloud","credits":"100","channel":"friends"}`, "channel"},
		{"a reseller on the eba channel", `{"customer":"x","currency":"cloud","credits":"100","channel":"eba"}`, "channel"},
		{"valid_days 0", `{"customer":"x","currency":"cloud","credits":"100","valid_days":0}`, "valid_days"},
		{"valid_days 91", `{"customer":"x","currency":"cloud","credits":"100","valid_days":91}`, "valid_days"},
		{"valid_days as a string", `{"customer":"x","currency":"cloud","credits":"100","valid_days":"30"}`, "valid_days"},
		{"no customer", `{"currency":"cloud","credits":"100"}`, "customer"},
		{"customer too long", `{"customer":"` + strings.Repeat("x", 201) + `","currency":"cloud","credits":"100"}`, "customer"},
		{"control character in customer", `{"customer":"a\nb","currency":"cloud","credits":"100"}`, "customer"},
		{"unknown contract", `{"customer":"x","contract":"nope","currency":"cloud","credits":"100"}`, "contract"},
		{"a price in the body", `{"customer":"x","currency":"cloud","credits":"100","total":"1.00"}`, "total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := q.dump(t)
			rec := q.do(t, "reseller", "POST", "/v1/quotes", "bad-"+tc.name, tc.body)
			wantError(t, rec, 400, "invalid_request")
			var b struct {
				Error struct {
					Details struct {
						Fields map[string]string `json:"fields"`
					} `json:"details"`
				} `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &b)
			if _, ok := b.Error.Details.Fields[tc.field]; !ok {
				t.Errorf("details do not name %s: %s", tc.field, rec.Body)
			}
			sameDump(t, tc.name, before, q.dump(t))
		})
	}
	// The limits themselves are accepted.
	q.makeQuote(t, "reseller", "ok-1", `{"customer":"x","currency":"cloud","credits":"100","valid_days":1}`)
	q.makeQuote(t, "reseller", "ok-90", `{"customer":"x","currency":"cloud","credits":"100","valid_days":90,"channel":"reseller"}`)
	wantError(t, q.do(t, "reseller", "POST", "/v1/quotes", "", `{"customer":"x","currency":"cloud","credits":"100"}`), 400, "idempotency_key_missing")
}

func sameDump(t *testing.T, what string, before, after []string) {
	t.Helper()
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("%s changed the store", what)
	}
}
