package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/quote"

	"github.com/shopspring/decimal"
)

// Limits.
const (
	// keysMax bounds the public keys configured (the current one and a few
	// retired ones still valid during a rotation).
	keysMax = 16
	// configBytesMax bounds QUOTE_PUBLIC_KEYS before it is parsed.
	configBytesMax = 16 << 10
)

// startedLog is what the Worker's Go program logs once, when it starts.
const startedLog = "quotelink: the Go program started; it serves this isolate's requests"

// The names of the Worker's vars.
const (
	envPublicKeys = "QUOTE_PUBLIC_KEYS"
	envSiteURL    = "SITE_URL"
)

// Config is what the handler needs, as text from the environment.
type Config struct {
	PublicKeys string // QUOTE_PUBLIC_KEYS
	SiteURL    string // SITE_URL
}

// configFrom reads the Config through getenv (cloudflare.Getenv in the
// Worker, os.Getenv natively).
func configFrom(getenv func(string) string) Config {
	return Config{PublicKeys: getenv(envPublicKeys), SiteURL: getenv(envSiteURL)}
}

// Handler serves the quote pages. Build it with NewHandler.
type Handler struct {
	keys map[string]ed25519.PublicKey
	site *url.URL
	now  func() time.Time
}

// NewHandler checks cfg and returns the handler; every problem in cfg is
// reported, joined. now is the clock (time.Now outside tests).
func NewHandler(cfg Config, now func() time.Time) (*Handler, error) {
	keys, kerr := ParsePublicKeys(cfg.PublicKeys)
	site, serr := parseSiteURL(cfg.SiteURL)
	if err := errors.Join(kerr, serr); err != nil {
		return nil, err
	}
	return &Handler{keys: keys, site: site, now: now}, nil
}

// ParsePublicKeys reads QUOTE_PUBLIC_KEYS: a JSON object mapping each key id
// to its base64url (unpadded or padded) Ed25519 public key, or the API's
// GET /v1/quotes/keys answer {"keys": [{"kid", "public_key"}]}.
func ParsePublicKeys(s string) (map[string]ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%s is not set", envPublicKeys)
	}
	if len(s) > configBytesMax {
		return nil, fmt.Errorf("%s is longer than %d bytes", envPublicKeys, configBytesMax)
	}
	raw := map[string]string{}
	var listed struct {
		Keys []struct {
			KID       string `json:"kid"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(s), &listed); err == nil && listed.Keys != nil {
		for _, k := range listed.Keys {
			if _, dup := raw[k.KID]; dup {
				return nil, fmt.Errorf("%s: key id %q listed twice", envPublicKeys, k.KID)
			}
			raw[k.KID] = k.PublicKey
		}
	} else if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("%s: want a JSON object {\"<kid>\": \"<base64url public key>\"}: %v", envPublicKeys, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s holds no key", envPublicKeys)
	}
	if len(raw) > keysMax {
		return nil, fmt.Errorf("%s holds %d keys; at most %d", envPublicKeys, len(raw), keysMax)
	}
	keys := make(map[string]ed25519.PublicKey, len(raw))
	var errs []error
	for kid, b64 := range raw {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "="))
		switch {
		case kid == "":
			errs = append(errs, fmt.Errorf("%s: an empty key id", envPublicKeys))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: key %q is not base64url: %v", envPublicKeys, kid, err))
		case len(b) != ed25519.PublicKeySize:
			errs = append(errs, fmt.Errorf("%s: key %q is %d bytes; an Ed25519 public key is %d", envPublicKeys, kid, len(b), ed25519.PublicKeySize))
		default:
			keys[kid] = ed25519.PublicKey(b)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, nil
}

func parseSiteURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%s is not set", envSiteURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s=%q: want an absolute http(s) URL without query or fragment", envSiteURL, s)
	}
	return u, nil
}

// acceptURL is where the Accept button leads: the site's checkout with the
// token, which the API verifies again when the order is placed.
func (h *Handler) acceptURL(token string) string {
	u := *h.site.JoinPath("checkout.html")
	u.RawQuery = url.Values{"quote": {token}}.Encode()
	return u.String()
}

// Page is one answer of the Worker: what ServeHTTP writes natively and what
// the Worker's JavaScript turns into a Response. Every answer also carries
// the SecurityHeaders.
type Page struct {
	Status      int
	ContentType string
	Allow       string // the Allow header of a 405, else empty
	Body        string
}

// The status codes the pages answer with (net/http's values; the Worker's
// build does not link net/http).
const (
	statusOK                  = 200
	statusBadRequest          = 400
	statusNotFound            = 404
	statusMethodNotAllowed    = 405
	statusGone                = 410
	statusInternalServerError = 500
)

const contentTypeHTML = "text/html; charset=utf-8"

// Serve answers one request: GET and HEAD /q/{token}; every other path is
// 404. rawURL is the request's URL as the client sent it (absolute, or a
// path); HEAD gets the GET answer, whose body the caller drops.
func (h *Handler) Serve(method, rawURL string) Page {
	path := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		path = u.Path // decoded, as net/http's Request.URL.Path
	}
	return h.servePath(method, path)
}

func (h *Handler) servePath(method, path string) Page {
	token, ok := strings.CutPrefix(path, "/q/")
	if !ok || token == "" || strings.Contains(token, "/") {
		return messagePageFor(statusNotFound, "Page not found", "There is nothing at this address. A quote link looks like …/q/ followed by a long code.")
	}
	if method != "GET" && method != "HEAD" {
		p := messagePageFor(statusMethodNotAllowed, "Method not allowed", "Open the quote link in a browser.")
		p.Allow = "GET, HEAD"
		return p
	}
	if len(token) > quote.TokenMax { // before any decoding: not one of ours
		return invalidPage()
	}
	now := h.now()
	q, err := quote.Verify(token, h.keys, now)
	switch core.ErrorCode(err) {
	case "":
		return h.quotePage(q, token)
	case core.CodeQuoteExpired:
		return expiredPage(q, err)
	case core.CodeQuoteInvalid:
		return invalidPage()
	default:
		log.Printf("quotelink: verify: %v", err)
		return messagePageFor(statusInternalServerError, "Something went wrong", "This quote can't be shown right now. Try again later, or ask your reseller for the quote.")
	}
}

// NotConfiguredPage is the answer to every request when the Worker's vars
// are wrong: a misconfiguration must not pass for an invalid link.
func NotConfiguredPage() Page {
	return messagePageFor(statusInternalServerError, "This quote service is not configured",
		"The quote can't be checked right now. Please tell your reseller; your link itself may be fine.")
}

// pageCSS is the only style of every page, inline so that the page needs no
// other request; the CSP allows exactly this text by its hash.
const pageCSS = `:root{--ink:#17202b;--muted:#55606e;--line:#d5dce4;--accent:#0b5cad;--ok:#1b6e2e;--bad:#b00020}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#f5f7fa}
main{max-width:44rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.sheet{background:#fff;border:1px solid var(--line);border-radius:10px;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .25rem}
.lead{color:var(--muted);margin:0 0 1rem}
.total{font-size:2rem;font-weight:700;margin:.5rem 0}
.save{color:var(--ok);font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:1rem 0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.accept{display:inline-block;margin-top:1rem;padding:.65rem 1.4rem;border-radius:6px;background:var(--accent);color:#fff;font-weight:600;text-decoration:none}
.fine{color:var(--muted);font-size:.85rem;margin-top:1.5rem}
.bad h1{color:var(--bad)}
@media print{body{background:#fff}.sheet{border:0;padding:0}.accept{display:none}}`

var (
	cssHash = func() string {
		sum := sha256.Sum256([]byte(pageCSS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
	// contentSecurityPolicy: nothing may load or run but the inline style.
	contentSecurityPolicy = "default-src 'none'; style-src " + cssHash +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// SecurityHeaders are sent with every answer, in this order.
var SecurityHeaders = [...][2]string{
	{"Content-Security-Policy", contentSecurityPolicy},
	{"X-Content-Type-Options", "nosniff"},
	// The token is in the URL: never send it on as a Referer.
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Cache-Control", "no-store"},
	{"X-Robots-Tag", "noindex, nofollow"},
}

func (h *Handler) quotePage(q quote.Quote, token string) Page {
	contract := q.Contract
	if contract == "" {
		contract = "any contract (the first to accept)"
	}
	vars := map[string]string{
		"title": "Quote for " + q.Customer, "id": q.ID, "reseller": q.Reseller, "customer": q.Customer,
		"contract": contract, "channel": string(q.Channel), "price_book_version": q.PriceBookVersion,
		"currency":   q.Currency.Name(),
		"credits":    groupDigits(core.FormatCredits(q.Credits)),
		"packs":      groupDigits(core.FormatCredits(q.Packs)),
		"unit_price": "$" + groupDigits(q.UnitPrice.String()),
		"total":      money(q.Total),
		"list_total": money(q.ListTotal),
		"issued_at":  formatTime(q.IssuedAt),
		"expires_at": formatTime(q.ExpiresAt),
		"accept_url": h.acceptURL(token),
		"savings":    "none",
	}
	vars["savings_line"] = "List price " + vars["list_total"]
	if s := q.ListTotal.Sub(q.Total); s.IsPositive() {
		pct := s.Div(q.ListTotal).Shift(2).Round(1).String() + "%"
		vars["savings"] = money(s) + " (" + pct + ")"
		vars["savings_line"] = "You save " + vars["savings"] + " against the list price of " + vars["list_total"]
	}
	return render(statusOK, quotePageHTML, vars)
}

func invalidPage() Page {
	return messagePageFor(statusBadRequest, "This quote link is not valid",
		"The link is incomplete or has been changed since it was issued. Copy the whole link again, or ask your reseller to send it again.")
}

// expiredPage says when the quote expired: from the quote when Verify
// returns it, else from the error's details (core/quote puts expires_at
// there, RFC 3339).
func expiredPage(q quote.Quote, err error) Page {
	when := q.ExpiresAt
	if e, ok := core.AsError(err); when.IsZero() && ok {
		for _, k := range []string{"expires_at", "expired_at"} {
			switch t := e.Details[k].(type) {
			case time.Time:
				when = t
			case string:
				when, _ = time.Parse(time.RFC3339, t)
			}
			if !when.IsZero() {
				break
			}
		}
	}
	title := "This quote has expired"
	if !when.IsZero() {
		title = "This quote expired on " + formatTime(when)
	}
	return messagePageFor(statusGone, title, "Ask your reseller for a new quote.")
}

func messagePageFor(status int, title, message string) Page {
	return render(status, messagePageHTML, map[string]string{"title": title, "message": message})
}

func render(status int, tmpl string, vars map[string]string) Page {
	body, err := fill(tmpl, vars)
	if err != nil {
		// The templates and their variables are ours: this is a bug.
		log.Printf("quotelink: render: %v", err)
		return Page{Status: statusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "internal error\n"}
	}
	return Page{Status: status, ContentType: contentTypeHTML, Body: body}
}

// money renders US dollars with cents and thousands separators ("$6,250.00").
func money(d decimal.Decimal) string { return "$" + groupDigits(core.FormatMoney(d)) }

// groupDigits puts a comma between each group of three integer digits of a
// plain decimal numeral ("-1234567.5" → "-1,234,567.5").
func groupDigits(s string) string {
	sign, s := "", s
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = "-", rest
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

// formatTime renders an instant in UTC, unambiguous for any reader.
func formatTime(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }
