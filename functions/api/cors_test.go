package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/api"
	"cloudcredits/functions/sampledata"
)

// TestCORS: the public routes answer any origin, preflight included; the
// authenticated routes answer only the origins the deployment lists.
func TestCORS(t *testing.T) {
	e := newEnv(t)
	h := e.h
	do := func(method, path, origin string, hdr map[string]string, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

	w := do("OPTIONS", "/v1/estimates", "https://shop.example", preflight, "")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Content-Type") || w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight of a public route = %d %v", w.Code, w.Header())
	}
	w = do("POST", "/v1/estimates", "https://shop.example", map[string]string{"Content-Type": "application/json"},
		`{"service":"structural-analysis","params":{}}`)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("a public answer to another origin = %d %v", w.Code, w.Header())
	}
	if w := do("GET", "/v1/ratecard", "", nil, ""); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a same-origin answer carries CORS headers: %v", w.Header())
	}

	// No origin listed: an authenticated route gives another origin nothing.
	w = do("OPTIONS", "/v1/contracts/c1/consumptions", "https://shop.example",
		map[string]string{"Access-Control-Request-Method": "POST"}, "")
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight of an authenticated route from an unlisted origin = %d %v", w.Code, w.Header())
	}
	w = do("GET", "/v1/contracts/c1/balance", "https://shop.example", map[string]string{"Authorization": "Bearer " + e.tokens["admin"]}, "")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an authenticated answer to an unlisted origin carries %q", w.Header().Get("Access-Control-Allow-Origin"))
	}

	// A listed origin: the deployment's console on another host.
	rc, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	listed, err := api.New(api.Config{Rates: rc, Prices: pc, Credits: e.svc, Keys: e.keys, Now: func() time.Time { return e.now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), CORSOrigins: []string{"https://console.example"}})
	if err != nil {
		t.Fatal(err)
	}
	h = listed
	w = do("OPTIONS", "/v1/contracts/c1/balance", "https://console.example", map[string]string{"Access-Control-Request-Method": "GET"}, "")
	if w.Header().Get("Access-Control-Allow-Origin") != "https://console.example" ||
		!strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Authorization") || w.Header().Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("preflight from a listed origin = %d %v", w.Code, w.Header())
	}
	w = do("GET", "/v1/contracts/c1/balance", "https://console.example", map[string]string{"Authorization": "Bearer " + e.tokens["admin"]}, "")
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "https://console.example" ||
		!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Idempotent-Replayed") {
		t.Errorf("an authenticated answer to a listed origin = %d %v", w.Code, w.Header())
	}
	w = do("GET", "/v1/contracts/c1/balance", "https://evil.example", map[string]string{"Authorization": "Bearer " + e.tokens["admin"]}, "")
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an unlisted origin beside a listed one is answered %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
}
