package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
)

// Config is what the handler is built from.
type Config struct {
	Rates  *rates.Catalog
	Prices *pricing.Catalog
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the JSON access log; nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves the API.
type Handler struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the handler for every route of the API.
func New(cfg Config) (*Handler, error) {
	if cfg.Rates == nil || cfg.Prices == nil {
		return nil, fmt.Errorf("api: a rate card catalog and a price book catalog are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /healthz", h.healthz)
	h.mux.HandleFunc("GET /v1/ratecard", h.ratecard)
	h.mux.HandleFunc("POST /v1/estimates", h.estimates)
	h.mux.HandleFunc("POST /v1/prices", h.prices)
	h.mux.HandleFunc("/v1/", h.unknownRoute)
}

// ServeHTTP gives every request an id, recovers from panics as internal
// errors, and writes one access log line.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = newRequestID()
	}
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
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
			"request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds())
	}()
	h.mux.ServeHTTP(rec, r)
}

func (h *Handler) unknownRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, core.Errorf(core.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *Handler) ratecard(w http.ResponseWriter, r *http.Request) {
	card, err := h.cfg.Rates.At(h.cfg.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, card)
}

func (h *Handler) estimates(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	card, err := h.cfg.Rates.At(h.cfg.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := card.AnswerJSON(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeRaw(w, http.StatusOK, out)
}

func (h *Handler) prices(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	req, err := pricing.ParseRequest(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	p, err := h.cfg.Prices.Price(req, h.cfg.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
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
