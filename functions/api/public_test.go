package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
	"cloudcredits/functions/api"
	"cloudcredits/functions/sampledata"
)

// root is the module root, where the golden cases name their files from.
const root = "../.."

func newHandler(t testing.TB, rc *rates.Catalog, pc *pricing.Catalog, at time.Time) http.Handler {
	t.Helper()
	if rc == nil || pc == nil {
		r, p, err := sampledata.Catalogs("")
		if err != nil {
			t.Fatal(err)
		}
		if rc == nil {
			rc = r
		}
		if pc == nil {
			pc = p
		}
	}
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Now: func() time.Time { return at },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(t testing.TB, h http.Handler, method, path string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// sameJSON compares two JSON documents ignoring formatting.
func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden is not JSON: %v\n%s", err, want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return bytes.Equal(gb, wb)
}

type errorShape struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorShape {
	t.Helper()
	var e errorShape
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not the error shape of the API (%v): %s", err, rec.Body.Bytes())
	}
	return e
}

// TestPricesRouteMatchesGoldens replays every golden price case through the
// HTTP route: the same numbers come out of the API as out of the core.
func TestPricesRouteMatchesGoldens(t *testing.T) {
	var cases []struct {
		Name    string          `json:"name"`
		Book    string          `json:"book"`
		At      time.Time       `json:"at"`
		Request json.RawMessage `json:"request"`
		Error   string          `json:"error"`
		Golden  string          `json:"golden"`
	}
	readJSON(t, filepath.Join(root, "testdata/golden/prices/cases.json"), &cases)
	if len(cases) < 10 {
		t.Fatalf("only %d price cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			book, err := pricing.ParseBook(readFile(t, filepath.Join(root, tc.Book)))
			if err != nil {
				t.Fatal(err)
			}
			pc, err := pricing.NewCatalog(book)
			if err != nil {
				t.Fatal(err)
			}
			rec := do(t, newHandler(t, nil, pc, tc.At), "POST", "/v1/prices", tc.Request)
			want := readFile(t, filepath.Join(root, tc.Golden))
			if tc.Error != "" {
				if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("status = %d, want a 4xx for %s", rec.Code, tc.Error)
				}
				if got := decodeError(t, rec).Error.Code; got != tc.Error {
					t.Errorf("code = %s, want %s", got, tc.Error)
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d: %s", rec.Code, rec.Body)
			}
			if !sameJSON(t, rec.Body.Bytes(), want) {
				t.Errorf("route answer differs from golden %s\n got: %s\nwant: %s", tc.Golden, rec.Body, want)
			}
		})
	}
}

func TestPublicRoutesRefuseBadInput(t *testing.T) {
	h := newHandler(t, nil, nil, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	huge := []byte(`{"service":"structural-analysis","params":{"x":"` + strings.Repeat("1", api.BodyMax) + `"}}`)
	for _, tc := range []struct {
		name, path string
		body       string
		status     int
		code       string
		field      string // a field the details must name, if any
	}{
		{"estimate malformed JSON", "/v1/estimates", `{"service":`, 400, "invalid_request", ""},
		{"estimate not an object", "/v1/estimates", `[1,2]`, 400, "invalid_request", ""},
		{"estimate unknown service", "/v1/estimates", `{"service":"teleportation","params":{}}`, 400, "invalid_request", "service"},
		{"estimate negative param", "/v1/estimates", `{"service":"infraworks-profile-optimization","params":{"road_km":"-1"}}`, 400, "invalid_request", "params.road_km"},
		{"estimate non-numeric param", "/v1/estimates", `{"service":"infraworks-profile-optimization","params":{"road_km":"twelve"}}`, 400, "invalid_request", "params.road_km"},
		{"estimate huge param", "/v1/estimates", `{"service":"infraworks-profile-optimization","params":{"road_km":"99999999999999"}}`, 400, "invalid_request", "params.road_km"},
		{"estimate over-precise param", "/v1/estimates", `{"service":"infraworks-profile-optimization","params":{"road_km":"1.0000000001"}}`, 400, "invalid_request", "params.road_km"},
		{"estimate trailing garbage", "/v1/estimates", `{"service":"structural-analysis","params":{}} x`, 400, "invalid_request", ""},
		{"price credits as a JSON number", "/v1/prices", `{"currency":"cloud","credits":5000}`, 400, "invalid_request", "credits"},
		{"price unknown currency", "/v1/prices", `{"currency":"usd","credits":"5000"}`, 400, "invalid_request", "currency"},
		{"price unknown channel", "/v1/prices", `{"currency":"cloud","credits":"5000","channel":"black-market"}`, 400, "invalid_request", "channel"},
		{"price zero credits", "/v1/prices", `{"currency":"cloud","credits":"0"}`, 400, "invalid_request", "credits"},
		{"price negative credits", "/v1/prices", `{"currency":"cloud","credits":"-100"}`, 400, "invalid_request", "credits"},
		{"price huge credits", "/v1/prices", `{"currency":"cloud","credits":"1000000000000000000000"}`, 400, "invalid_request", "credits"},
		{"price over-precise credits", "/v1/prices", `{"currency":"cloud","credits":"1.0000001"}`, 400, "invalid_request", "credits"},
		{"price wrong type", "/v1/prices", `{"currency":7,"credits":"100"}`, 400, "invalid_request", "currency"},
		{"price empty body", "/v1/prices", ``, 400, "invalid_request", ""},
		{"oversized body", "/v1/estimates", string(huge), 413, "too_large", ""},
		{"unknown route", "/v1/teleport", `{}`, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, "POST", tc.path, []byte(tc.body))
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			e := decodeError(t, rec)
			if e.Error.Code != tc.code {
				t.Errorf("code = %s, want %s", e.Error.Code, tc.code)
			}
			if tc.field != "" {
				fields, _ := e.Error.Details["fields"].(map[string]any)
				if _, ok := fields[tc.field]; !ok {
					t.Errorf("details.fields = %v, want it to name %s", fields, tc.field)
				}
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestHealthAndRatecard(t *testing.T) {
	h := newHandler(t, nil, nil, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if rec := do(t, h, "GET", "/healthz", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Errorf("healthz = %d %s", rec.Code, rec.Body)
	}
	rec := do(t, h, "GET", "/v1/ratecard", nil)
	if rec.Code != 200 {
		t.Fatalf("ratecard = %d %s", rec.Code, rec.Body)
	}
	var card struct {
		Version  string `json:"version"`
		Services []struct {
			ID       string            `json:"id"`
			Name     string            `json:"name"`
			Currency string            `json:"currency"`
			Rule     map[string]any    `json:"rule"`
			Params   []json.RawMessage `json:"params"`
		} `json:"services"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &card); err != nil {
		t.Fatal(err)
	}
	if card.Version == "" || len(card.Services) < 14 {
		t.Errorf("rate card version %q with %d services", card.Version, len(card.Services))
	}
	for _, s := range card.Services {
		if s.ID == "" || s.Name == "" || s.Currency == "" || s.Rule["kind"] == nil {
			t.Errorf("service %+v lacks id, name, currency or rule kind", s)
		}
	}
	if id := rec.Header().Get("X-Request-Id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("X-Request-Id = %q", id)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
