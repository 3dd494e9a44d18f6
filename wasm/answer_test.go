package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// These tests run natively and, in make test, compiled to js/wasm under
// Node: the engine the browser loads answers every golden case exactly as the
// core (and so the API) does.

func golden(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	out, _ := json.Marshal(v)
	return out
}

func TestEngineEstimatesMatchGoldens(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name    string          `json:"name"`
			Request json.RawMessage `json:"request"`
			Error   *struct {
				Code string `json:"code"`
			} `json:"error"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(golden(t, "testdata/golden/estimates/cases.json"), &file); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range file.Cases {
		status, body := e.estimate(tc.Request, at)
		if tc.Error != nil {
			var got struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.Unmarshal(body, &got)
			if status != 400 || got.Error.Code != tc.Error.Code {
				t.Errorf("%s: status %d code %q, want 400 %s", tc.Name, status, got.Error.Code, tc.Error.Code)
			}
			continue
		}
		want := golden(t, "testdata/golden/estimates/"+tc.Name+".json")
		if status != 200 || !bytes.Equal(compact(t, body), compact(t, want)) {
			t.Errorf("%s: status %d\n got: %s\nwant: %s", tc.Name, status, body, want)
		}
	}
}

func TestEnginePricesMatchGoldens(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string          `json:"name"`
		Book    string          `json:"book"`
		At      time.Time       `json:"at"`
		Request json.RawMessage `json:"request"`
		Error   string          `json:"error"`
		Golden  string          `json:"golden"`
	}
	if err := json.Unmarshal(golden(t, "testdata/golden/prices/cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, tc := range cases {
		if filepath.Dir(tc.Book) != "testdata/pricebooks" || tc.Error != "" {
			continue // the engine embeds only the published books
		}
		status, body := e.price(tc.Request, tc.At)
		want := golden(t, tc.Golden)
		if status != 200 || !bytes.Equal(compact(t, body), compact(t, want)) {
			t.Errorf("%s: status %d\n got: %s\nwant: %s", tc.Name, status, body, want)
		}
		checked++
	}
	if checked < 8 {
		t.Fatalf("only %d price cases checked", checked)
	}
}

func TestEngineSetRateCardRefusesBadCard(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.setRateCard([]byte(`{"version":"x"}`)); err == nil {
		t.Error("an invalid card was accepted")
	}
	if err := e.setRateCard(golden(t, "testdata/ratecards/2018.json")); err != nil {
		t.Errorf("the sample card was refused: %v", err)
	}
}
