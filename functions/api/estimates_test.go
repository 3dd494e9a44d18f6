package api_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

type estimateCase struct {
	Name    string          `json:"name"`
	Request json.RawMessage `json:"request"`
	Credits string          `json:"credits"`
	Error   *struct {
		Code   string   `json:"code"`
		Fields []string `json:"fields"`
	} `json:"error"`
}

// TestEstimatesRouteMatchesGoldens replays every golden estimate through
// POST /v1/estimates: the route answers exactly what the core's golden says.
func TestEstimatesRouteMatchesGoldens(t *testing.T) {
	var file struct {
		Cases []estimateCase `json:"cases"`
	}
	readJSON(t, filepath.Join(root, "testdata/golden/estimates/cases.json"), &file)
	if len(file.Cases) < 20 {
		t.Fatalf("only %d estimate cases", len(file.Cases))
	}
	h := newHandler(t, nil, nil, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range file.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			rec := do(t, h, "POST", "/v1/estimates", tc.Request)
			if tc.Error != nil {
				if rec.Code != http.StatusBadRequest {
					t.Errorf("status = %d, want 400", rec.Code)
				}
				e := decodeError(t, rec)
				if e.Error.Code != tc.Error.Code {
					t.Errorf("code = %s, want %s", e.Error.Code, tc.Error.Code)
				}
				fields, _ := e.Error.Details["fields"].(map[string]any)
				for _, f := range tc.Error.Fields {
					if _, ok := fields[f]; !ok {
						t.Errorf("details.fields %v does not name %s", fields, f)
					}
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d: %s", rec.Code, rec.Body)
			}
			want := readFile(t, filepath.Join(root, "testdata/golden/estimates", tc.Name+".json"))
			if !sameJSON(t, rec.Body.Bytes(), want) {
				t.Errorf("route answer differs from golden\n got: %s\nwant: %s", rec.Body, want)
			}
		})
	}
}
