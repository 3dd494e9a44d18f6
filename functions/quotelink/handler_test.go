//go:build !js

package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"

	"github.com/shopspring/decimal"
)

func newTestHandler(t *testing.T, now time.Time) *Handler {
	t.Helper()
	_, pub, _ := testKey(1)
	h, err := NewHandler(Config{PublicKeys: publicKeysVar(pub), SiteURL: testSiteURL}, func() time.Time { return now })
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, method, path string) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(body)}
}

// tamper changes one character of the token's payload or signature part.
func tamper(token string, inSignature bool) string {
	i := 5
	if inSignature {
		i = strings.Index(token, ".") + 5
	}
	b := []byte(token)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestQuotePage(t *testing.T) {
	priv, _, kid := testKey(1)
	tok := sign(t, sampleQuote(), priv, kid)
	res := get(t, newTestHandler(t, t0), http.MethodGet, "/q/"+tok)
	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body:\n%s", res.status, res.body)
	}
	for _, want := range []string{
		`<p class="total" id="total">$5,750.00</p>`,
		`You save $500.00 (8%) against the list price of $6,250.00`,
		`<dd id="credits">5,000 cloud credits (50 packs)</dd>`,
		`<dd id="unit-price">$1.15 per credit (reseller channel)</dd>`,
		`<dd id="customer">Contoso Engineering</dd>`,
		`<dd id="reseller">northwind-resellers</dd>`,
		`<dd id="price-book">2026-01</dd>`,
		`<dd id="valid-until">30 March 2026, 09:30 UTC</dd>`,
		`<a class="accept" id="accept" href="` + testSiteURL + `/checkout.html?quote=` + tok + `">`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	golden := filepath.Join("testdata", "quote.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(res.body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if res.body != string(want) {
		t.Errorf("page differs from %s (go test -update rewrites it); got:\n%s", golden, res.body)
	}
}

func TestNoSavingsAtListPrice(t *testing.T) {
	priv, _, kid := testKey(1)
	q := sampleQuote()
	q.Channel, q.UnitPrice, q.Total = pricing.ChannelList, decimal.RequireFromString("1.25"), q.ListTotal
	res := get(t, newTestHandler(t, t0), http.MethodGet, "/q/"+sign(t, q, priv, kid))
	if res.status != http.StatusOK || strings.Contains(res.body, "You save") || !strings.Contains(res.body, "<dt>Savings</dt><dd>none</dd>") {
		t.Errorf("status %d; want 200 and savings none, no \"You save\"; body:\n%s", res.status, res.body)
	}
}

func TestAcceptURLKeepsSitePath(t *testing.T) {
	_, pub, _ := testKey(1)
	h, err := NewHandler(Config{PublicKeys: publicKeysVar(pub), SiteURL: "https://example.test/shop/"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.acceptURL("abc.def"), "https://example.test/shop/checkout.html?quote=abc.def"; got != want {
		t.Errorf("acceptURL = %s, want %s", got, want)
	}
}

func TestInvalidLinks(t *testing.T) {
	priv, _, kid := testKey(1)
	otherPriv, _, otherKid := testKey(2)
	tok := sign(t, sampleQuote(), priv, kid)
	for _, tc := range []struct{ name, token string }{
		{"payload altered", tamper(tok, false)},
		{"signature altered", tamper(tok, true)},
		{"signature cut off", tok[:strings.Index(tok, ".")]},
		{"not a token", "hello"},
		{"unknown key", sign(t, sampleQuote(), otherPriv, otherKid)},
		{"known kid, other key", sign(t, sampleQuote(), otherPriv, kid)},
		{"too long", strings.Repeat("A", quote.TokenMax+1)},
		{"escaped garbage", "%3Cscript%3E"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, newTestHandler(t, t0), http.MethodGet, "/q/"+tc.token)
			if res.status != http.StatusBadRequest || !strings.Contains(res.body, "<h1>This quote link is not valid</h1>") {
				t.Errorf("status %d, want 400 with \"This quote link is not valid\"; body:\n%s", res.status, res.body)
			}
			if strings.Contains(res.body, "checkout.html") {
				t.Error("an invalid link's page offers checkout")
			}
		})
	}
}

func TestExpiredLink(t *testing.T) {
	priv, _, kid := testKey(1)
	q := sampleQuote()
	tok := sign(t, q, priv, kid)
	for _, now := range []time.Time{q.ExpiresAt, q.ExpiresAt.Add(time.Hour)} {
		res := get(t, newTestHandler(t, now), http.MethodGet, "/q/"+tok)
		if res.status != http.StatusGone || !strings.Contains(res.body, "<h1>This quote expired on 30 March 2026, 09:30 UTC</h1>") {
			t.Errorf("at %s: status %d, want 410 with the expiry date; body:\n%s", now, res.status, res.body)
		}
		if strings.Contains(res.body, "checkout.html") {
			t.Error("an expired link's page offers checkout")
		}
	}
	// A second before expiry it is still shown.
	if res := get(t, newTestHandler(t, q.ExpiresAt.Add(-time.Second)), http.MethodGet, "/q/"+tok); res.status != http.StatusOK {
		t.Errorf("a second before expiry: status %d, want 200", res.status)
	}
}

func TestEscapesEveryField(t *testing.T) {
	priv, _, kid := testKey(1)
	q := sampleQuote()
	q.Customer = `<script>alert("x")</script> & "Sons"`
	res := get(t, newTestHandler(t, t0), http.MethodGet, "/q/"+sign(t, q, priv, kid))
	if res.status != http.StatusOK {
		t.Fatalf("status %d, want 200", res.status)
	}
	if strings.Contains(res.body, "<script") {
		t.Errorf("the customer's name reached the page unescaped:\n%s", res.body)
	}
	for _, want := range []string{
		`<dd id="customer">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Sons&#34;</dd>`,
		`<title>Quote for &lt;script&gt;`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := newTestHandler(t, t0)
	for _, path := range []string{"/", "/q/", "/q", "/q/abc/def", "/favicon.ico", "/checkout.html"} {
		if res := get(t, h, http.MethodGet, path); res.status != http.StatusNotFound || !strings.Contains(res.body, "Page not found") {
			t.Errorf("GET %s: status %d, want 404 page", path, res.status)
		}
	}
	res := get(t, h, http.MethodPost, "/q/abc.def")
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q; want 405 and GET, HEAD", res.status, res.header.Get("Allow"))
	}
}

// TestSecurityHeaders: every answer carries the headers, and the CSP's style
// hash is that of the page's one <style> element (else browsers drop it).
func TestSecurityHeaders(t *testing.T) {
	priv, _, kid := testKey(1)
	tok := sign(t, sampleQuote(), priv, kid)
	h := newTestHandler(t, t0)
	notConfigured := NotConfigured(fmt.Errorf("test"))
	for _, tc := range []struct {
		name   string
		h      http.Handler
		path   string
		status int
	}{
		{"quote", h, "/q/" + tok, 200},
		{"invalid", h, "/q/" + tamper(tok, true), 400},
		{"not found", h, "/nope", 404},
		{"expired", newTestHandler(t, t0.Add(90*24*time.Hour)), "/q/" + tok, 410},
		{"not configured", notConfigured, "/q/" + tok, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, tc.h, http.MethodGet, tc.path)
			if res.status != tc.status {
				t.Errorf("status %d, want %d", res.status, tc.status)
			}
			checkSecurityHeaders(t, res.header, res.body)
		})
	}
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

func checkSecurityHeaders(t *testing.T, h http.Header, body string) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe") || strings.Contains(body, "<script") {
		t.Errorf("scripts must not run: CSP %q", csp)
	}
	styles := styleRE.FindAllStringSubmatch(body, -1)
	if len(styles) != 1 {
		t.Fatalf("%d <style> elements, want 1", len(styles))
	}
	sum := sha256.Sum256([]byte(styles[0][1]))
	if hash := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, hash) {
		t.Errorf("CSP %q does not allow the page's style (%s)", csp, hash)
	}
}

func TestParsePublicKeys(t *testing.T) {
	_, pub, kid := testKey(1)
	b64 := base64.RawURLEncoding.EncodeToString(pub)
	for _, s := range []string{
		fmt.Sprintf(`{%q: %q}`, kid, b64),
		fmt.Sprintf(`{%q: %q}`, kid, base64.URLEncoding.EncodeToString(pub)), // padded
		fmt.Sprintf(`{"keys": [{"kid": %q, "public_key": %q}]}`, kid, b64),   // GET /v1/quotes/keys
	} {
		keys, err := ParsePublicKeys(s)
		if err != nil || len(keys) != 1 || !keys[kid].Equal(pub) {
			t.Errorf("ParsePublicKeys(%s) = %v, %v; want the one key", s, keys, err)
		}
	}
	for _, s := range []string{
		"", "{}", `{"keys": []}`, "[1]", `{"k": "not base64!"}`, `{"k": "AAAA"}`, fmt.Sprintf(`{"": %q}`, b64),
		fmt.Sprintf(`{"keys": [{"kid": "a", "public_key": %q}, {"kid": "a", "public_key": %q}]}`, b64, b64),
		strings.Repeat(" ", configBytesMax) + "{}",
	} {
		if keys, err := ParsePublicKeys(s); err == nil {
			t.Errorf("ParsePublicKeys(%.40q) = %v, want an error", s, keys)
		}
	}
}

func TestNewHandlerRefusesBadConfig(t *testing.T) {
	_, pub, _ := testKey(1)
	keys := publicKeysVar(pub)
	for _, cfg := range []Config{
		{PublicKeys: keys},
		{PublicKeys: keys, SiteURL: "credits.example.test"},
		{PublicKeys: keys, SiteURL: "ftp://credits.example.test"},
		{PublicKeys: keys, SiteURL: "https://credits.example.test/?a=b"},
		{SiteURL: testSiteURL},
	} {
		if _, err := NewHandler(cfg, time.Now); err == nil {
			t.Errorf("NewHandler(%+v) accepted it", cfg)
		}
	}
	_, err := NewHandler(Config{}, time.Now)
	if err == nil || !strings.Contains(err.Error(), envPublicKeys) || !strings.Contains(err.Error(), envSiteURL) {
		t.Errorf("NewHandler(empty) = %v; want both settings named", err)
	}
}

func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "999": "999", "1000": "1,000", "5750.00": "5,750.00", "-1234567.5": "-1,234,567.5", "1.1833": "1.1833",
	} {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestFill(t *testing.T) {
	got, err := fill(`<p title="{{a}}">{{b}}{{a}}</p>`, map[string]string{"a": `"'&<>`, "b": "{{a}}"})
	if want := `<p title="&#34;&#39;&amp;&lt;&gt;">{{a}}&#34;&#39;&amp;&lt;&gt;</p>`; err != nil || got != want {
		t.Errorf("fill = %q, %v; want %q (values escaped, never read as slots)", got, err, want)
	}
	for _, tmpl := range []string{"{{missing}}", "x {{open", strings.Repeat("{{a}}", slotsMax+1)} {
		if _, err := fill(tmpl, map[string]string{"a": "1"}); err == nil {
			t.Errorf("fill(%.30q) gave no error", tmpl)
		}
	}
	for name, page := range map[string]string{"quote": quotePageHTML, "message": messagePageHTML} {
		if strings.Contains(page, "{{style}}") || strings.Contains(page, "{{main}}") || !strings.Contains(page, pageCSS) {
			t.Errorf("%s page: layout not composed", name)
		}
	}
}
