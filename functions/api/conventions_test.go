package api_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/auth"
)

// doAs is e.do with the Content-Type given (none when ct is empty).
func (e *env) doAs(t testing.TB, ct, who, method, path, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if tok := e.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// TestBodiesMustBeJSON: a body that is not application/json (a charset
// parameter allowed) is refused with 415 unsupported_media_type and changes
// nothing; an empty body needs no Content-Type where the route takes none.
func TestBodiesMustBeJSON(t *testing.T) {
	e := newEnv(t)
	spend := `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10"}`
	before := e.dump(t)
	for _, tc := range []struct{ name, ct, path, body string }{
		{"text/plain", "text/plain", "/v1/contracts/c1/consumptions", spend},
		{"text/plain with charset", "text/plain; charset=utf-8", "/v1/contracts/c1/consumptions", spend},
		{"form", "application/x-www-form-urlencoded", "/v1/contracts/c1/consumptions", spend},
		{"no Content-Type", "", "/v1/contracts/c1/consumptions", spend},
		{"a JSON suffix type", "application/problem+json", "/v1/contracts/c1/consumptions", spend},
		{"another charset", "application/json; charset=latin1", "/v1/contracts/c1/consumptions", spend},
		{"unparseable", "application/json;;", "/v1/contracts/c1/consumptions", spend},
		{"public estimate as text", "text/plain", "/v1/estimates", `{"service":"structural-analysis","params":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.doAs(t, tc.ct, "service", "POST", tc.path, "media-"+tc.name, tc.body)
			if rec.Code != 415 || !strings.Contains(rec.Body.String(), `"code":"unsupported_media_type"`) {
				t.Errorf("status = %d, want 415 unsupported_media_type: %s", rec.Code, rec.Body)
			}
		})
	}
	if after := e.dump(t); !slices.Equal(before, after) {
		t.Error("a refused body changed the ledger")
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"} {
		rec := e.doAs(t, ct, "service", "POST", "/v1/contracts/c1/consumptions", "ok-"+ct, spend)
		e.ok(t, rec, 201)
	}
	// An empty body needs no Content-Type: a release takes none.
	hold := e.do(t, "service", "POST", "/v1/contracts/c1/holds", "h-media", spend)
	e.ok(t, hold, 201)
	id := jsonField(t, hold, "hold_id")
	e.ok(t, e.doAs(t, "", "service", "POST", "/v1/contracts/c1/holds/"+id+"/release", "rel-media", ""), 200)
	// A body the route requires, missing, is still a 400 naming the body.
	rec := e.doAs(t, "", "service", "POST", "/v1/contracts/c1/consumptions", "empty", "")
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"body"`) {
		t.Errorf("empty spend = %d %s; want 400 naming the body", rec.Code, rec.Body)
	}
}

// TestWrongMethodIs405: a known path with a method it does not serve answers
// 405 method_not_allowed with an Allow header listing the methods it does; an
// unknown path stays 404.
func TestWrongMethodIs405(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/ratecard", "GET"},
		{"GET", "/v1/estimates", "POST"},
		{"PUT", "/v1/contracts/c1/consumptions", "POST"},
		{"GET", "/v1/contracts/c1/holds/h1/settle", "POST"},
		{"POST", "/v1/contracts/c1/users/ann", "DELETE"},
		{"PATCH", "/v1/contracts/c1/balance", "GET"},
	} {
		rec := e.do(t, "admin", tc.method, tc.path, "k", "")
		if rec.Code != 405 || !strings.Contains(rec.Body.String(), `"code":"method_not_allowed"`) || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d (Allow %q) %s; want 405 method_not_allowed, Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), rec.Body, tc.allow)
		}
	}
	if rec := e.do(t, "admin", "GET", "/v1/nothing-here", "", ""); rec.Code != 404 {
		t.Errorf("unknown path = %d, want 404", rec.Code)
	}
}

// TestUncleanPathsAnswerJSON: a path with an empty, "." or ".." segment is
// not redirected (an empty 307 a client cannot act on) but answered 404
// not_found in the error shape.
func TestUncleanPathsAnswerJSON(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"//v1/ratecard", "/v1//ratecard", "/v1/contracts/c1//balance", "/v1/./ratecard", "/v1/contracts/../ratecard"} {
		for _, method := range []string{"GET", "POST"} {
			rec := e.do(t, "admin", method, p, "k", "")
			if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"code":"not_found"`) || rec.Header().Get("Location") != "" {
				t.Errorf("%s %s = %d (Location %q) %q; want 404 not_found, no redirect", method, p, rec.Code, rec.Header().Get("Location"), rec.Body)
			}
		}
	}
}

// TestWholeNumbersAreJSONIntegers: every whole-number field of a request
// (expires_in_seconds, valid_days, extension_months, packs) takes a JSON
// integer only — not a string, a fraction or an exponent — on every route
// that reads it, the error names the field, and nothing changes.
func TestWholeNumbersAreJSONIntegers(t *testing.T) {
	e := newEnv(t)
	hold := func(v string) string {
		return `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10","expires_in_seconds":` + v + `}`
	}
	quote := func(v string) string {
		return `{"customer":"x","currency":"cloud","credits":"100","valid_days":` + v + `}`
	}
	contract := func(v string) string {
		return `{"id":"c9","customer":"C9","entity":"c9-hq","start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z","plan_active":true,"extension_months":` + v + `}`
	}
	packs := func(v string) string {
		return `{"currency":"cloud","payment":"card","packs":` + v + `}`
	}
	quotedPacks := func(v string) string {
		return `{"customer":"x","currency":"cloud","packs":` + v + `}`
	}
	before := e.dump(t)
	for _, tc := range []struct{ who, path, field, body string }{
		{"admin", "/v1/contracts/c1/orders", "packs", packs(`"3"`)},
		{"admin", "/v1/contracts/c1/orders", "packs", packs(`3.0`)},
		{"admin", "/v1/contracts/c1/orders", "packs", packs(`3e0`)},
		{"reseller", "/v1/quotes", "packs", quotedPacks(`"3"`)},
		{"reseller", "/v1/quotes", "packs", quotedPacks(`2.5`)},
		{"service", "/v1/contracts/c1/holds", "expires_in_seconds", hold(`"60"`)},
		{"service", "/v1/contracts/c1/holds", "expires_in_seconds", hold(`60.5`)},
		{"service", "/v1/contracts/c1/holds", "expires_in_seconds", hold(`6e1`)},
		{"service", "/v1/contracts/c1/holds", "expires_in_seconds", hold(`60.0`)},
		{"service", "/v1/contracts/c1/holds", "expires_in_seconds", hold(`true`)},
		{"reseller", "/v1/quotes", "valid_days", quote(`"30"`)},
		{"reseller", "/v1/quotes", "valid_days", quote(`3e1`)},
		{"vendor", "/v1/contracts", "extension_months", contract(`"6"`)},
		{"vendor", "/v1/contracts", "extension_months", contract(`6.0`)},
	} {
		rec := e.do(t, tc.who, "POST", tc.path, "int-"+tc.body, tc.body)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"`+tc.field+`":"must be a whole number`) {
			t.Errorf("%s = %d %s; want 400 naming %s as a whole number", tc.body, rec.Code, rec.Body, tc.field)
		}
	}
	if after := e.dump(t); !slices.Equal(before, after) {
		t.Error("a refused whole number changed the ledger")
	}
	// The public price route reads packs the same way.
	for _, v := range []string{`"3"`, `3.0`, `3e0`, `true`} {
		rec := e.do(t, "", "POST", "/v1/prices", "", `{"currency":"cloud","packs":`+v+`}`)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"packs":"must be a whole number of packs, a JSON integer`) {
			t.Errorf("price of packs %s = %d %s; want 400 naming packs as a whole number", v, rec.Code, rec.Body)
		}
	}
	e.ok(t, e.do(t, "service", "POST", "/v1/contracts/c1/holds", "int-ok", hold(`60`)), 201)
	e.ok(t, e.do(t, "reseller", "POST", "/v1/quotes", "int-ok", quote(`30`)), 201)
	e.ok(t, e.do(t, "reseller", "POST", "/v1/quotes", "int-ok-packs", quotedPacks(`3`)), 201)
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "int-ok-packs", packs(`3`)), 201)
	e.ok(t, e.do(t, "", "POST", "/v1/prices", "", `{"currency":"cloud","packs":3}`), 200)
	e.ok(t, e.do(t, "vendor", "POST", "/v1/contracts", "int-ok", contract(`6`)), 201)
}

// TestErrorsDoNotEscapeHTML: JSON answers carry '<', '>' and '&' as they
// are, not as \u003c escapes.
func TestErrorsDoNotEscapeHTML(t *testing.T) {
	e := newEnv(t)
	rec := e.do(t, "admin", "GET", "/v1/%3Cscript%3E&x", "", "")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "/v1/<script>&x") || strings.Contains(rec.Body.String(), `\u003c`) {
		t.Errorf("answer = %d %s; want 404 naming /v1/<script>&x unescaped", rec.Code, rec.Body)
	}
	rec = e.do(t, "service", "POST", "/v1/contracts/c1/consumptions", "html", `{"user":"a<b>","entity":"c1-hq","service":"x<y"}`)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `unknown service \"x<y\"`) {
		t.Errorf("answer = %d %s; want 400 naming service x<y unescaped", rec.Code, rec.Body)
	}
}

// TestSettleAtZeroAnswersEmptyDebits: a hold settled at "0" answers
// "debits": [] (never null) and records no consumption; the credits return.
func TestSettleAtZeroAnswersEmptyDebits(t *testing.T) {
	e := newEnv(t)
	hold := e.do(t, "service", "POST", "/v1/contracts/c1/holds", "h0", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"150"}`)
	e.ok(t, hold, 201)
	id := jsonField(t, hold, "hold_id")
	rec := e.do(t, "service", "POST", "/v1/contracts/c1/holds/"+id+"/settle", "s0", `{"credits":"0"}`)
	e.ok(t, rec, 200)
	if body := rec.Body.String(); !strings.Contains(body, `"debits":[]`) || strings.Contains(body, "null") || strings.Contains(body, "consumption_id") {
		t.Errorf("settle at 0 = %s; want debits [] and no consumption", body)
	}
	for _, line := range e.dump(t) {
		if strings.HasPrefix(line, "consumptions|") {
			t.Errorf("settling at 0 recorded %s", line)
		}
	}
	bal := e.do(t, "admin", "GET", "/v1/contracts/c1/balance", "", "")
	if !strings.Contains(bal.Body.String(), `"cloud":{"total":"1100"`) {
		t.Errorf("balance after settling at 0 = %s; want all 1100 back", bal.Body)
	}
}

// TestMyBalanceIsWhatIMaySpend: GET /v1/me/balance shows a user only what
// they may spend. An employee sees their individual lot and the shared pool;
// an education identity, or a user without permission to spend, sees
// nothing, and is told why.
func TestMyBalanceIsWhatIMaySpend(t *testing.T) {
	e := newEnv(t)
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/users", "u-edu", `{"user":"eve","kind":"education","entity":"c1-hq","can_spend":true}`), 201)
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/users", "u-ro", `{"user":"rob","kind":"employee","entity":"c1-hq","can_spend":false}`), 201)
	for _, u := range []string{"eve", "rob"} {
		tok, err := e.keys.Mint(auth.Principal{Subject: u, Role: auth.User, Contract: "c1"}, e.now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[u] = tok
	}
	mine := e.do(t, "ann", "GET", "/v1/me/balance", "", "")
	e.ok(t, mine, 200)
	if !strings.Contains(mine.Body.String(), `"cloud":{"total":"1100","individual":"100","shared":"1000"}`) {
		t.Errorf("ann's balance = %s; want her 100 and the shared 1000", mine.Body)
	}
	for u, reason := range map[string]string{"eve": "education_identity", "rob": "no_spend_permission"} {
		rec := e.do(t, u, "GET", "/v1/me/balance", "", "")
		e.ok(t, rec, 200)
		body := rec.Body.String()
		if !strings.Contains(body, `"balances":{}`) || !strings.Contains(body, `"lots":[]`) || !strings.Contains(body, `"reason":"`+reason+`"`) {
			t.Errorf("%s's balance = %s; want nothing to spend, because %s", u, body, reason)
		}
	}
}

// TestResellersDoNotShareKeys: two resellers whose tokens carry the same
// subject keep their idempotency keys apart; B's request with A's key makes
// B's own quote, never replays A's.
func TestResellersDoNotShareKeys(t *testing.T) {
	e := newEnv(t)
	tok, err := e.keys.Mint(auth.Principal{Subject: "r", Role: auth.Reseller, Reseller: "other-resale"}, e.now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["reseller-b"] = tok
	body := `{"customer":"Same Customer","currency":"cloud","credits":"100"}`
	a := e.do(t, "reseller", "POST", "/v1/quotes", "shared-key", body)
	e.ok(t, a, 201)
	b := e.do(t, "reseller-b", "POST", "/v1/quotes", "shared-key", body)
	e.ok(t, b, 201)
	if b.Header().Get("Idempotent-Replayed") != "" || jsonField(t, b, "token") == jsonField(t, a, "token") || jsonField(t, b, "reseller") != "other-resale" {
		t.Errorf("reseller B got %s (replayed %q); want its own quote, not A's %s", b.Body, b.Header().Get("Idempotent-Replayed"), a.Body)
	}
	again := e.do(t, "reseller", "POST", "/v1/quotes", "shared-key", body)
	if again.Header().Get("Idempotent-Replayed") != "true" || again.Body.String() != a.Body.String() {
		t.Errorf("A's retry = %s; want A's first answer replayed", again.Body)
	}
}

// TestStoredAnswersDoNotEscapeHTML: an answer stored for replay keeps '<',
// '>' and '&' as they are, as every other answer does, and its replay is the
// same bytes.
func TestStoredAnswersDoNotEscapeHTML(t *testing.T) {
	e := newEnv(t)
	body := `{"customer":"Smith & Sons <Ltd>","currency":"cloud","credits":"100"}`
	first := e.do(t, "reseller", "POST", "/v1/quotes", "html-quote", body)
	e.ok(t, first, 201)
	if !strings.Contains(first.Body.String(), `"customer":"Smith & Sons <Ltd>"`) {
		t.Errorf("quote = %s; want the customer unescaped", first.Body)
	}
	again := e.do(t, "reseller", "POST", "/v1/quotes", "html-quote", body)
	if again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s; want %s byte for byte", again.Body, first.Body)
	}
	// An order (encoded by a MarshalJSON of its own) names its contract
	// unescaped too, when made and when read.
	e.ok(t, e.do(t, "vendor", "POST", "/v1/contracts", "html-contract",
		`{"id":"c<&>","customer":"C","entity":"c-hq","start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z","plan_active":true}`), 201)
	order := e.do(t, "vendor", "POST", "/v1/contracts/c%3C%26%3E/orders", "html-order", `{"currency":"cloud","credits":"100","payment":"card"}`)
	e.ok(t, order, 201)
	read := e.do(t, "vendor", "GET", "/v1/contracts/c%3C%26%3E/orders/"+jsonField(t, order, "order_id"), "", "")
	e.ok(t, read, 200)
	for _, rec := range []*httptest.ResponseRecorder{order, read} {
		if s := rec.Body.String(); !strings.Contains(s, `"contract":"c<&>"`) || strings.Contains(s, `\u00`) {
			t.Errorf("order = %s; want its contract c<&> unescaped", s)
		}
	}
}
