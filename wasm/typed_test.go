package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
)

// pack is what loader.js does: the request's items as one packed string, or
// false when the loader would send JSON instead.
func pack(t *testing.T, body []byte) (string, bool, bool) {
	t.Helper()
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return "", false, false
	}
	type item struct {
		Service any            `json:"service"`
		Params  map[string]any `json:"params"`
	}
	var items []item
	batch := false
	for k := range req {
		switch k {
		case "service", "params":
		case "items":
			batch = true
		default:
			return "", false, false // holdings or an unknown field: JSON
		}
	}
	if batch {
		if _, ok := req["service"]; ok {
			return "", false, false
		}
		dec := json.NewDecoder(bytes.NewReader(req["items"]))
		dec.UseNumber()
		if dec.Decode(&items) != nil || len(items) == 0 {
			return "", false, false
		}
	} else {
		var it item
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&it) != nil || it.Params == nil {
			return "", false, false
		}
		items = []item{it}
	}
	var parts []string
	for _, it := range items {
		s, ok := it.Service.(string)
		if !ok || it.Params == nil {
			return "", false, false
		}
		fields := []string{s}
		names := make([]string, 0, len(it.Params))
		for k := range it.Params {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			var v string
			switch x := it.Params[k].(type) {
			case string:
				v = x
			case json.Number:
				v = x.String()
			default:
				return "", false, false
			}
			fields = append(fields, k, v)
		}
		for _, f := range fields {
			if strings.ContainsAny(f, sepItem+sepField) {
				return "", false, false
			}
		}
		parts = append(parts, strings.Join(fields, sepField))
	}
	return strings.Join(parts, sepItem), batch, true
}

// TestPackedAnswersAreTheJSONAnswers: for every golden request the loader
// would pack, the typed call answers the same status and the same bytes as
// the JSON call (which the goldens check against the API's answers).
func TestPackedAnswersAreTheJSONAnswers(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name    string          `json:"name"`
			Request json.RawMessage `json:"request"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(golden(t, "testdata/golden/estimates/cases.json"), &file); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var big []string
	for i := 0; i < 1000; i++ {
		big = append(big, fmt.Sprintf(`{"service":"infraworks-profile-optimization","params":{"road_km":"%d"}}`, 1+i%50))
	}
	requests := map[string][]byte{
		"batch of 1000":         []byte(`{"items":[` + strings.Join(big, ",") + `]}`),
		"escaped unknown param": []byte(`{"service":"rendering","params":{"<size & \u2028\"q\">":"1","size_mb":"2"}}`),
		"unknown service":       []byte(`{"service":"<b>&\u0001","params":{}}`),
		"bad number":            []byte(`{"service":"rendering","params":{"size_mb":"1e3"}}`),
	}
	for _, tc := range file.Cases {
		requests[tc.Name] = tc.Request
	}
	packed := 0
	for name, body := range requests {
		p, batch, ok := pack(t, body)
		if !ok {
			continue
		}
		packed++
		wantStatus, want := e.estimate(body, at)
		status, got := e.estimatePacked(p, batch, at, nil)
		if status != wantStatus || !bytes.Equal(got, want) {
			t.Errorf("%s: packed answer %d\n%s\nJSON answer %d\n%s", name, status, got, wantStatus, want)
		}
	}
	if packed < len(requests)/2 {
		t.Fatalf("only %d of %d requests were packable", packed, len(requests))
	}
}

func TestPackedFallsBackToJSON(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		packed string
		batch  bool
	}{
		"two items, single form": {"a" + sepItem + "b", false},
		"name without value":     {"rendering" + sepField + "size_mb", false},
		"name twice":             {strings.Join([]string{"rendering", "q", "1", "q", "2"}, sepField), false},
		"too many items":         {strings.Repeat("lighting-analysis"+sepItem, 1000) + "lighting-analysis", true},
	} {
		if status, _ := e.estimatePacked(tc.packed, tc.batch, at, nil); status != statusUseJSON {
			t.Errorf("%s: status %d, want %d (use JSON)", name, status, statusUseJSON)
		}
	}
}

func TestStableUntil(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	for _, c := range e.rates.Cards() {
		starts = append(starts, c.EffectiveFrom)
	}
	for _, cur := range []string{"cloud", "forma", "flex"} {
		for _, b := range e.prices.Books(core.Currency(cur)) {
			starts = append(starts, b.EffectiveFrom)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	if _, ok := e.stableUntil(starts[0].Add(-time.Second)); ok {
		t.Error("before the first card or book, answers were called stable")
	}
	last := starts[len(starts)-1]
	if until, ok := e.stableUntil(last); !ok || !until.IsZero() {
		t.Errorf("after the last change: %v %v, want zero time, true", until, ok)
	}
	// Between two changes, the bound is the next one, and the answers
	// given anywhere before it are the same.
	for i := 1; i < len(starts); i++ {
		a, b := starts[i-1], starts[i]
		if !a.Before(b) {
			continue
		}
		if until, _ := e.stableUntil(a); !until.Equal(b) {
			t.Errorf("at %v: until %v, want %v", a, until, b)
		}
	}
}

// TestPriceBytesAreJSONMarshal: the engine's price answer is byte for byte
// core.EncodeJSON of the price, as the API encodes it.
func TestPriceBytesAreJSONMarshal(t *testing.T) {
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, body := range []string{
		`{"currency":"cloud","credits":"5000","channel":"reseller"}`,
		`{"currency":"cloud","credits":"120000","channel":"eba","purchased_this_year":"1000"}`,
		`{"currency":"cloud","credits":"1","channel":"list"}`,
	} {
		req, err := pricing.ParseRequest([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.prices.Price(req, at)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := core.EncodeJSON(p)
		if status, got := e.price([]byte(body), at); status != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: %d\n%s\nwant\n%s", body, status, got, want)
		}
	}
}
