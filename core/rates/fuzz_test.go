package rates

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// FuzzEstimateParams prices arbitrary parameters against the sample card.
// Either the answer is an invalid_request error naming the service or
// parameter fields, or the estimate keeps every law of checkEstimate
// (never negative, whole unless the rule says none, the breakdown adds up)
// and encodes deterministically.
func FuzzEstimateParams(f *testing.F) {
	seeds := [][5]string{
		{"infraworks-profile-optimization", "road_km", "12", "", ""},
		{"infraworks-profile-optimization", "road_km", "5.01", "", ""},
		{"infraworks-profile-optimization", "road_km", "-0", "", ""},
		{"rendering", "size_mb", "12.5", "quality", "panorama"},
		{"rendering", "size_mb", "100000", "quality", "final"},
		{"rendering", "size_mb", "0.01", "quality", "ultra"},
		{"cfd-fea-simulation", "elements", "100000000", "", ""},
		{"cfd-fea-simulation", "elements", "1000", "", ""},
		{"cfd-fea-simulation", "elements", "1e6", "", ""},
		{"generative-design", "outcomes", "200", "", ""},
		{"generative-design", "outcomes", "2.5", "seed", "1"},
		{"moldflow-insight", "runs", "8", "", ""},
		{"configurator-360", "sessions", "1000000", "", ""},
		{"lighting-analysis", "rooms", "3", "", ""},
		{"forma-wind", "analyses", "999999999999999999999999", "", ""},
		{"structural-analysis", "", "", "", ""},
		{"", "x", "NaN", "y", "Infinity"},
		{"rendering", "size_mb", "00012.50", "quality", "draft"},
		{"rendering", "size_mb", ".5", "quality", "standard"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	c := card2018(f)
	holdings := map[core.Currency]decimal.Decimal{core.Cloud: dec("100"), core.Flex: dec("5")}
	f.Fuzz(func(t *testing.T, service, k1, v1, k2, v2 string) {
		params := Params{}
		if k1 != "" {
			params[k1] = v1
		}
		if k2 != "" {
			params[k2] = v2
		}
		est, err := c.Estimate(service, params, holdings)
		if err != nil {
			for _, field := range problemFields(t, err) {
				if field != "service" && field != "params" && !strings.HasPrefix(field, "params.") {
					t.Fatalf("problem names field %q, which is not in the request", field)
				}
			}
			return
		}
		checkEstimate(t, c, est)
		first, err := json.Marshal(est)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := c.Estimate(service, params, holdings)
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("the same estimate encoded differently:\n%s\n%s", first, second)
		}
		var wire struct{ Credits string }
		if err := json.Unmarshal(first, &wire); err != nil {
			t.Fatal(err)
		}
		if d, err := decimal.NewFromString(wire.Credits); err != nil || !d.Equal(est.Credits) {
			t.Fatalf("credits encoded as %q for %s", wire.Credits, est.Credits)
		}
	})
}

// FuzzParseEstimateRequest feeds arbitrary bodies through the route's whole
// path. The answer is a client error (invalid_request, or too_large for a
// body over the limit) or valid JSON, the same each time.
func FuzzParseEstimateRequest(f *testing.F) {
	for _, s := range []string{
		`{"service": "infraworks-profile-optimization", "params": {"road_km": 12}}`,
		`{"items": [{"service": "forma-solar"}, {"service": "rendering", "params": {"size_mb": "1.5", "quality": "final"}}], "holdings": {"cloud": "1", "forma": 0}}`,
		`{"service": "a", "service": "b"}`,
		`{"items": [], "params": 1}`,
		`[1, 2]`,
		`{"service": "rendering", "params": {"size_mb": 1e400}}`,
		`{"service": "rendering"} trailing`,
		``,
	} {
		f.Add([]byte(s))
	}
	c := card2018(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := c.AnswerJSON(body)
		if err != nil {
			code := core.ErrorCode(err)
			if code == core.CodeTooLarge && len(body) > RequestBytesMax {
				return
			}
			if code != core.CodeInvalidRequest {
				t.Fatalf("got %v, want invalid_request", err)
			}
			problemFields(t, err)
			return
		}
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %s", out)
		}
		again, err := c.AnswerJSON(body)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("the same body answered differently")
		}
	})
}

// FuzzParseCard reads arbitrary cards. A refused card is a client error; an
// accepted one is valid, writes JSON that reads back to the same bytes, and
// prices every service within the laws of checkEstimate.
func FuzzParseCard(f *testing.F) {
	f.Add(read2018(f))
	for _, s := range []string{
		`{"version": "v", "effective_from": "2020-01-01T00:00:00Z", "services": [{"id": "a", "name": "A", "currency": "cloud", "rule": {"kind": "included"}, "params": []}]}`,
		`{"version": "v", "effective_from": "2020-01-01T00:00:00Z", "services": [{"id": "p", "name": "P", "currency": "flex", "rule": {"kind": "power_law", "rounding": "none", "param": "n", "base": "0.5", "reference": "3", "exponent": "2.5"}, "params": [{"name": "n", "label": "N", "type": "number", "min": "0", "max": "1000", "decimals": 3, "default": "0"}]}]}`,
		`{"version": "v", "effective_from": "2020-01-01T00:00:00Z", "services": [{"id": "b", "name": "B", "currency": "cloud", "rule": {"kind": "per_unit", "param": "n", "rate": "3", "block": "0.7"}, "params": [{"name": "n", "label": "N", "type": "number", "min": "0", "max": "99", "decimals": 1, "default": "2.1"}]}]}`,
		`{"version": "v", "effective_from": "2020-01-01T00:00:00Z", "services": [{"id": "s", "name": "S", "currency": "cloud", "rule": {"kind": "size_quality", "param": "mb", "rate": "1", "quality_param": "q", "multipliers": {"a": "0.5", "b": "3"}}, "params": [{"name": "mb", "label": "MB", "type": "number", "min": "1", "max": "5", "integer": true, "default": "5"}, {"name": "q", "label": "Q", "type": "enum", "values": ["a", "b"], "default": "b"}]}]}`,
		`{"version": "", "services": [{}]}`,
		`{"version": "v"} {}`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCard(data)
		if err != nil {
			code := core.ErrorCode(err)
			if code == core.CodeTooLarge && len(data) > CardBytesMax {
				return
			}
			if code != core.CodeInvalidRequest {
				t.Fatalf("got %v, want invalid_request", err)
			}
			problemFields(t, err)
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseCard accepted a card Validate refuses: %v", err)
		}
		first, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseCard(first)
		if err != nil {
			t.Fatalf("the card's own JSON is refused: %v\n%s", err, first)
		}
		if second, _ := json.Marshal(again); !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the card:\n%s\n%s", first, second)
		}
		for _, s := range c.Services {
			// With defaults only, a required parameter is missing: that is a
			// client error. At every parameter's maximum, the most it costs.
			if est, err := c.Estimate(s.ID, nil, nil); err == nil {
				checkEstimate(t, c, est)
			} else if core.ErrorCode(err) != core.CodeInvalidRequest {
				t.Fatalf("%s with defaults: %v", s.ID, err)
			}
			max := Params{}
			for _, p := range s.Params {
				if p.Type == ParamNumber {
					max[p.Name] = p.Max.String()
				}
			}
			est, err := c.Estimate(s.ID, max, nil)
			if err != nil && core.ErrorCode(err) != core.CodeInvalidRequest {
				t.Fatalf("%s at maximum: %v", s.ID, err)
			}
			if err == nil {
				checkEstimate(t, c, est)
			}
		}
	})
}
