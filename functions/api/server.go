package api

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/payments"
)

// Config is what the handler is built from.
type Config struct {
	Rates  *rates.Catalog
	Prices *pricing.Catalog
	// Credits is the ledger service; nil serves the public routes only.
	Credits *credits.Service
	// Keys verify bearer tokens; required with Credits.
	Keys *auth.Keys
	// Payments opens hosted checkouts for card orders (payments/stripe, or
	// payments/testpay locally); nil refuses card orders.
	Payments payments.Provider
	// WebhookSecret verifies POST /v1/webhooks/stripe (Stripe's endpoint
	// signing secret, whsec_…); empty refuses every delivery.
	WebhookSecret string
	// PublicURL is where the site is served (scheme and host, no trailing
	// slash needed): a checkout returns the buyer to
	// PublicURL/checkout.html?order=…. Required for card orders.
	PublicURL string
	// QuoteKey signs quote links (Ed25519); nil refuses POST /v1/quotes. Its
	// public key verifies them. It is never logged or answered.
	QuoteKey ed25519.PrivateKey
	// QuotePublicKeys also verify quote links: keys being rotated out, at
	// most QuotePublicKeysMax.
	QuotePublicKeys []ed25519.PublicKey
	// QuoteLinkURL is where quote links point: QuoteLinkURL/q/<token> (the
	// quote-link Worker, or the local server's own page). Empty means
	// PublicURL.
	QuoteLinkURL string
	// Groups limits the handler to the routes of these groups (a Lambda
	// function's share); empty means every route.
	Groups []Group
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CORSOrigins are the origins (scheme://host[:port]) whose pages may call
	// the authenticated routes from a browser; the public routes answer any
	// origin. Empty: none.
	CORSOrigins []string
	// Logger receives the JSON access log; nil means slog.Default().
	Logger *slog.Logger
}

// Group names the concern a route belongs to. Each Lambda function serves
// the routes of its groups only, so its IAM role allows only what they need.
type Group string

const (
	GroupPublic    Group = "public"    // healthz, rate card, estimates, prices
	GroupPurchases Group = "purchases" // orders, checkout, payment webhooks, quotes
	GroupAdmin     Group = "admin"     // contracts, users, budgets, lots
	GroupSpending  Group = "spending"  // consume, hold, settle, release, refund
	GroupReads     Group = "reads"     // balances, usage, governance reports
)

// Groups lists every group.
func Groups() []Group {
	return []Group{GroupPublic, GroupPurchases, GroupAdmin, GroupSpending, GroupReads}
}

// Route is one served route.
type Route struct {
	Group   Group
	Pattern string // "METHOD /path/{param}"
}

// AnswerMargin is the time kept, before a request's deadline, to answer it:
// the store's work stops this much earlier (see ServeHTTP).
const AnswerMargin = time.Second

// Handler serves the API.
type Handler struct {
	cfg    Config
	mux    *http.ServeMux
	routes []Route
	// publicMux holds the public routes alone: CORS asks it whether a
	// request's route answers any origin.
	publicMux *http.ServeMux
	// quoteKeys verify quote links, by key id.
	quoteKeys map[string]ed25519.PublicKey
	// bodyMax holds the body bounds of the routes that take more than
	// BodyMax, by pattern (handleLarge).
	bodyMax map[string]int64
}

// handle registers a route unless the handler is limited to other groups.
func (h *Handler) handle(g Group, pattern string, fn http.HandlerFunc) {
	if len(h.cfg.Groups) > 0 && !slices.Contains(h.cfg.Groups, g) {
		return
	}
	h.routes = append(h.routes, Route{Group: g, Pattern: pattern})
	h.mux.HandleFunc(pattern, fn)
	if g == GroupPublic {
		h.publicMux.HandleFunc(pattern, fn)
	}
}

// handleLarge is handle for a route whose bodies may be up to limit bytes
// (more than BodyMax); its handler reads them with readBodyMax(…, limit).
func (h *Handler) handleLarge(g Group, pattern string, limit int64, fn http.HandlerFunc) {
	h.handle(g, pattern, fn)
	h.bodyMax[pattern] = limit
}

// Routes lists the routes this handler serves.
func (h *Handler) Routes() []Route { return slices.Clone(h.routes) }

// New returns the handler for every route of the API.
func New(cfg Config) (*Handler, error) {
	if cfg.Rates == nil || cfg.Prices == nil {
		return nil, fmt.Errorf("api: a rate card catalog and a price book catalog are required")
	}
	if len(cfg.QuoteKey) != 0 && len(cfg.QuoteKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("api: the quote signing key is not an Ed25519 private key")
	}
	if len(cfg.QuotePublicKeys) > QuotePublicKeysMax {
		return nil, fmt.Errorf("api: %d quote public keys; at most %d", len(cfg.QuotePublicKeys), QuotePublicKeysMax)
	}
	for i, k := range cfg.QuotePublicKeys {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("api: quote public key %d is not an Ed25519 public key", i+1)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), publicMux: http.NewServeMux(), quoteKeys: quoteKeyMap(cfg),
		bodyMax: map[string]int64{}}
	h.register()
	return h, nil
}

func (h *Handler) register() {
	h.handle(GroupPublic, "GET /healthz", h.healthz)
	h.handle(GroupPublic, "GET /v1/ratecard", h.ratecard)
	h.handle(GroupPublic, "POST /v1/estimates", h.estimates)
	h.handle(GroupPublic, "POST /v1/prices", h.prices)
	h.handle(GroupPublic, "GET /v1/openapi.yaml", h.openAPI)
	if h.cfg.Credits != nil {
		h.contractRoutes()
		h.balanceRoutes()
		h.spendingRoutes()
		h.holdRoutes()
		h.orderRoutes()
		h.governanceRoutes()
		h.sunsetRoutes()
	}
	h.mux.HandleFunc("/", h.unknownRoute)
}

// ServeHTTP gives every request an id, recovers from panics as internal
// errors, and writes one access log line.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = newRequestID()
	}
	// The clock is read once per request: the rate card chosen, the token's
	// expiry and the ledger's write all see this instant.
	ctx := credits.WithTime(context.WithValue(r.Context(), requestIDKey{}, id), h.cfg.Now().UTC())
	// A request with a deadline (a Lambda function's timeout) stops its
	// store work AnswerMargin before it, so a store that does not answer
	// is reported 503 unavailable instead of the function being cut off.
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-AnswerMargin))
		defer cancel()
	}
	r = r.WithContext(ctx)
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(p))
			if !rec.wrote {
				writeError(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		h.cfg.Logger.InfoContext(ctx, "request",
			"request_id", id, "method", r.Method, "path", logPath(r.URL.Path),
			"status", rec.status, "bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds())
	}()
	if h.cors(rec, r) {
		return
	}
	if h.tooLargeUpfront(rec, r) {
		return
	}
	if !CleanPath(r.URL.Path) {
		uncleanPath(rec, r)
		return
	}
	h.mux.ServeHTTP(rec, r)
}

// now is the request's instant (ServeHTTP reads the clock once per
// request), or the clock for a call from outside a request.
func (h *Handler) now(ctx context.Context) time.Time {
	if at, ok := credits.TimeOf(ctx); ok {
		return at
	}
	return h.cfg.Now().UTC()
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Handler) ratecard(w http.ResponseWriter, r *http.Request) {
	card, err := h.cfg.Rates.At(h.now(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, card)
}

func (h *Handler) estimates(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, func(body []byte, at time.Time) (any, error) {
		card, err := h.cfg.Rates.At(at)
		if err != nil {
			return nil, err
		}
		out, err := card.AnswerJSON(body)
		return json.RawMessage(out), err
	})
}

func (h *Handler) prices(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, func(body []byte, at time.Time) (any, error) {
		req, err := pricing.ParseRequest(body)
		if err != nil {
			return nil, err
		}
		return h.cfg.Prices.Price(req, at)
	})
}

// answer is the shape of a public computation: read the body, compute at
// the request's instant, and answer 200 with the result as JSON.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, compute func(body []byte, at time.Time) (any, error)) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := compute(body, h.now(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if raw, ok := out.(json.RawMessage); ok {
		writeRaw(w, http.StatusOK, raw)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// logPath is a request path fit for the log: a quote link's token is a
// capability (anyone holding it may view and accept the quote), so it is
// replaced by {token}.
func logPath(p string) string {
	const prefix = "/v1/quotes/"
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok || rest == "" || rest == "keys" {
		return p
	}
	_, tail, _ := strings.Cut(rest, "/")
	if tail != "" {
		return prefix + "{token}/" + tail
	}
	return prefix + "{token}"
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

// validRequestID accepts a caller's id only when it is short and plain, so a
// log line can never be forged through it.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func readAll(r *http.Request) ([]byte, error) { return io.ReadAll(r.Body) }

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer (read
// deadlines while draining a body that is too large).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
