package testpay

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	stripego "github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
)

// Limits and fixed paths.
const (
	// PathPrefix is where Handler serves its pages: mount Handler there on
	// the server whose address is the baseURL given to New.
	PathPrefix = "/test-checkout/"
	// SessionsMax bounds the open sessions kept; opening one more forgets
	// the oldest.
	SessionsMax = 1000
	// SessionTTL is how long an open session stays payable (Stripe's
	// default expiry).
	SessionTTL = 24 * time.Hour
	// WebhookTimeout bounds one webhook delivery.
	WebhookTimeout = 10 * time.Second
	// formBodyMax bounds a Pay or Cancel form post (it holds one token).
	formBodyMax = 4 << 10
	// webhookReplyMax bounds how much of the webhook's answer is read.
	webhookReplyMax = 4 << 10
)

// Provider is the local test provider. Safe for concurrent use.
type Provider struct {
	baseURL    string // no trailing slash
	webhookURL string
	secret     string
	client     *http.Client
	now        func() time.Time // time.Now; replaced in tests
	max        int

	mu       sync.Mutex
	sessions map[string]*session // by session id
	order    []string            // session ids, oldest first
	byKey    map[string]string   // idempotency key -> session id
}

var _ payments.Provider = (*Provider)(nil)

type session struct {
	id      string
	token   string // the CSRF token of its forms
	req     payments.CheckoutRequest
	cents   int64
	created time.Time
	busy    bool // a webhook delivery for it is in flight
}

// New returns a test provider whose checkout pages live under
// baseURL+PathPrefix, which POSTs signed events to webhookURL using the
// webhook signing secret secret, with client (nil: one with WebhookTimeout).
func New(baseURL, webhookURL, secret string, client *http.Client) (*Provider, error) {
	for name, u := range map[string]string{"base URL": baseURL, "webhook URL": webhookURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("testpay: %s %q is not an absolute http(s) URL", name, u)
		}
	}
	if secret == "" {
		return nil, errors.New("testpay: a webhook signing secret is required (the API verifies every event with it)")
	}
	if client == nil {
		client = &http.Client{Timeout: WebhookTimeout}
	}
	return &Provider{
		baseURL:    strings.TrimRight(baseURL, "/"),
		webhookURL: webhookURL,
		secret:     secret,
		client:     client,
		now:        time.Now,
		max:        SessionsMax,
		sessions:   map[string]*session{},
		byKey:      map[string]string{},
	}, nil
}

// Name is payments.ProviderTest.
func (p *Provider) Name() string { return payments.ProviderTest }

// TestMode is always true.
func (p *Provider) TestMode() bool { return true }

// CreateCheckout validates r and opens a session whose URL is this
// provider's page. The same idempotency key with the same request returns the
// same session; with another request it is refused (idempotency_key_reused),
// as Stripe does.
func (p *Provider) CreateCheckout(ctx context.Context, r payments.CheckoutRequest) (payments.Checkout, error) {
	if err := r.Validate(); err != nil {
		return payments.Checkout{}, err
	}
	cents, err := payments.Cents(r.Amount)
	if err != nil {
		return payments.Checkout{}, err
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.byKey[r.IdempotencyKey]; ok {
		if s := p.lookupLocked(id, now); s != nil {
			if !sameRequest(s.req, r) {
				return payments.Checkout{}, core.Errorf(core.CodeIdempotencyKeyReused,
					"test checkout: idempotency key already used for another checkout request")
			}
			return p.checkout(s), nil
		}
	}
	s := &session{id: "cs_test_" + randomHex(24), token: randomHex(32), req: r, cents: cents, created: now}
	for len(p.order) >= p.max {
		p.forgetLocked(p.order[0])
	}
	p.sessions[s.id] = s
	p.order = append(p.order, s.id)
	p.byKey[r.IdempotencyKey] = s.id
	return p.checkout(s), nil
}

func (p *Provider) checkout(s *session) payments.Checkout {
	return payments.Checkout{Provider: payments.ProviderTest, SessionID: s.id, URL: p.baseURL + PathPrefix + s.id}
}

func sameRequest(a, b payments.CheckoutRequest) bool {
	return a.OrderID == b.OrderID && a.Contract == b.Contract && a.Currency == b.Currency &&
		a.Credits.Equal(b.Credits) && a.Amount.Equal(b.Amount) && a.Description == b.Description &&
		a.SuccessURL == b.SuccessURL && a.CancelURL == b.CancelURL
}

// lookupLocked returns the open session id, forgetting it if it expired.
func (p *Provider) lookupLocked(id string, now time.Time) *session {
	s := p.sessions[id]
	if s != nil && now.Sub(s.created) >= SessionTTL {
		p.forgetLocked(id)
		return nil
	}
	return s
}

func (p *Provider) forgetLocked(id string) {
	s := p.sessions[id]
	if s == nil {
		return
	}
	delete(p.sessions, id)
	if p.byKey[s.req.IdempotencyKey] == id {
		delete(p.byKey, s.req.IdempotencyKey)
	}
	for i, o := range p.order {
		if o == id {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	if _, err := rand.Read(b); err != nil {
		panic("testpay: crypto/rand failed: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// Handler serves the checkout pages: GET PathPrefix+"{session}" shows one;
// POST …/{session}/pay and …/{session}/cancel act on it.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathPrefix+"{session}", p.servePage)
	mux.HandleFunc("POST "+PathPrefix+"{session}/pay", func(w http.ResponseWriter, r *http.Request) {
		p.serveAction(w, r, payments.EventCheckoutCompleted)
	})
	mux.HandleFunc("POST "+PathPrefix+"{session}/cancel", func(w http.ResponseWriter, r *http.Request) {
		p.serveAction(w, r, payments.EventCheckoutExpired)
	})
	mux.HandleFunc(PathPrefix, func(w http.ResponseWriter, r *http.Request) {
		p.renderMessage(w, http.StatusNotFound, "No such page", "This test checkout page does not exist.")
	})
	return mux
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY") // a framed Pay button could be clickjacked
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
}

func (p *Provider) servePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("session")
	p.mu.Lock()
	s := p.lookupLocked(id, p.now())
	var view pageView
	if s != nil {
		view = pageView{
			SessionID: s.id, Token: s.token, OrderID: s.req.OrderID, Contract: s.req.Contract,
			Description: s.req.Description,
			Credits:     core.FormatCredits(s.req.Credits), CurrencyName: core.Currency(s.req.Currency).Name(),
			Amount: core.FormatMoney(decimal.New(s.cents, -core.MoneyScale)),
		}
	}
	p.mu.Unlock()
	if s == nil {
		p.renderMessage(w, http.StatusNotFound, "Checkout not found",
			"This test checkout session does not exist: it was paid, cancelled, expired, or the server restarted.")
		return
	}
	setPageHeaders(w)
	var buf bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&buf, "checkout", view); err != nil {
		http.Error(w, "rendering the test checkout page failed", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// serveAction handles Pay (typ completed) and Cancel (typ expired): check the
// token, deliver the signed event, then redirect. A failed delivery leaves
// the session open so it can be tried again.
func (p *Provider) serveAction(w http.ResponseWriter, r *http.Request, typ string) {
	id := r.PathValue("session")
	r.Body = http.MaxBytesReader(w, r.Body, formBodyMax)
	token := r.PostFormValue("token")

	p.mu.Lock()
	s := p.lookupLocked(id, p.now())
	switch {
	case s == nil:
		p.mu.Unlock()
		p.renderMessage(w, http.StatusNotFound, "Checkout not found",
			"This test checkout session does not exist: it was paid, cancelled, expired, or the server restarted.")
		return
	case token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1:
		p.mu.Unlock()
		p.renderMessage(w, http.StatusForbidden, "Refused",
			"This form was not sent from the test checkout page (its token is missing or wrong). Open the checkout page again.")
		return
	case s.busy:
		p.mu.Unlock()
		p.renderMessage(w, http.StatusConflict, "Already in progress", "This test checkout is already being completed.")
		return
	}
	s.busy = true
	req, cents := s.req, s.cents
	p.mu.Unlock()

	err := p.deliver(r.Context(), typ, id, req, cents)

	p.mu.Lock()
	s.busy = false
	if err == nil {
		p.forgetLocked(id)
	}
	p.mu.Unlock()
	if err != nil {
		p.renderMessage(w, http.StatusBadGateway, "Webhook delivery failed",
			"The test payment event could not be delivered, so nothing was paid or cancelled: "+err.Error()+". Go back and try again.")
		return
	}
	target := req.CancelURL
	if typ == payments.EventCheckoutCompleted {
		target = strings.ReplaceAll(req.SuccessURL, "{CHECKOUT_SESSION_ID}", id) // as Stripe does
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// event builds the webhook payload Stripe would send for the session: an
// event (id evt_…) whose data.object is the checkout.session.
func (p *Provider) event(typ, sessionID string, req payments.CheckoutRequest, cents int64, now time.Time) ([]byte, error) {
	paymentStatus, status := "paid", "complete"
	if typ == payments.EventCheckoutExpired {
		paymentStatus, status = "unpaid", "expired"
	}
	ev := map[string]any{
		"id":               "evt_test_" + randomHex(24),
		"object":           "event",
		"api_version":      stripego.APIVersion,
		"created":          now.Unix(),
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"type":             typ,
		"data": map[string]any{"object": map[string]any{
			"id":                  sessionID,
			"object":              "checkout.session",
			"amount_subtotal":     cents,
			"amount_total":        cents,
			"cancel_url":          req.CancelURL,
			"client_reference_id": req.OrderID,
			"created":             now.Unix(),
			"currency":            "usd",
			"livemode":            false,
			"metadata":            map[string]string{"order_id": req.OrderID, "contract": req.Contract},
			"mode":                "payment",
			"payment_status":      paymentStatus,
			"status":              status,
			"success_url":         req.SuccessURL,
			"url":                 nil,
		}},
	}
	return json.Marshal(ev)
}

func (p *Provider) deliver(ctx context.Context, typ, sessionID string, req payments.CheckoutRequest, cents int64) error {
	now := p.now()
	payload, err := p.event(typ, sessionID, req, cents, now)
	if err != nil {
		return fmt.Errorf("encoding the event: %v", err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: p.secret, Timestamp: now})
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.webhookURL, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("webhook request: %v", err)
	}
	hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	hr.Header.Set(payments.SignatureHeader, signed.Header)
	hr.Header.Set("User-Agent", "cloudcredits-testpay (Stripe webhook format)")
	resp, err := p.client.Do(hr)
	if err != nil {
		return fmt.Errorf("POST %s: %v", p.webhookURL, err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, webhookReplyMax))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s answered %s: %s", p.webhookURL, resp.Status, strings.TrimSpace(string(reply)))
	}
	return nil
}

type pageView struct {
	SessionID, Token               string
	OrderID, Contract, Description string
	Credits, CurrencyName, Amount  string
	Title, Message                 string
}

func (p *Provider) renderMessage(w http.ResponseWriter, status int, title, msg string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = pageTmpl.ExecuteTemplate(w, "message", pageView{Title: title, Message: msg})
}

var pageTmpl = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>TEST MODE — {{.}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
.banner{background:#ffd400;color:#000;border-bottom:4px solid #000;padding:1.25rem 1rem;text-align:center}
.banner strong{display:block;font-size:2.25rem;letter-spacing:.08em}
.banner span{font-size:1.25rem}
main{max-width:34rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #ddd;border-radius:8px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}dt{color:#666}dd{margin:0;word-break:break-word}
.amount{font-size:1.6rem;font-weight:700}
.actions{display:flex;gap:1rem;margin-top:1.5rem}form{margin:0}
button{font:inherit;padding:.7rem 1.4rem;border-radius:6px;border:1px solid #000;cursor:pointer}
.pay{background:#000;color:#fff}.cancel{background:#fff}
</style></head>
<body><div class="banner" role="alert"><strong>TEST MODE</strong><span>Test mode — no real payment is taken</span></div>
<main>{{end}}

{{define "checkout"}}{{template "head" "Cloud Credits checkout"}}
<h1>Checkout (test)</h1>
<p>This page stands in for Stripe Checkout on a local server. No card is asked for and no money moves.</p>
<dl>
<dt>Order</dt><dd>{{.OrderID}}</dd>
<dt>Contract</dt><dd>{{.Contract}}</dd>
<dt>Item</dt><dd>{{.Description}}</dd>
<dt>Credits</dt><dd>{{.Credits}} {{.CurrencyName}}</dd>
<dt>Amount</dt><dd class="amount">{{.Amount}} USD</dd>
</dl>
<div class="actions">
<form method="post" action="{{.SessionID}}/pay"><input type="hidden" name="token" value="{{.Token}}"><button class="pay" type="submit">Pay (test) {{.Amount}} USD</button></form>
<form method="post" action="{{.SessionID}}/cancel"><input type="hidden" name="token" value="{{.Token}}"><button class="cancel" type="submit">Cancel</button></form>
</div>
</main></body></html>
{{end}}

{{define "message"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</main></body></html>
{{end}}
`))
