package rates

import (
	"strings"
	"testing"

	"cloudcredits/core"
)

func TestParseEstimateRequest(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		batch    bool
		items    []Item
		holdings map[core.Currency]string // nil: none given
	}{
		{"single with string params", `{"service": "rendering", "params": {"size_mb": "12.5", "quality": "final"}}`,
			false, []Item{{"rendering", Params{"size_mb": "12.5", "quality": "final"}}}, nil},
		{"numbers stay decimal text", `{"service": "rendering", "params": {"size_mb": 12.50, "big": 123456789012345678901234567890.123}}`,
			false, []Item{{"rendering", Params{"size_mb": "12.50", "big": "123456789012345678901234567890.123"}}}, nil},
		{"params omitted", `{"service": "lighting-analysis"}`,
			false, []Item{{"lighting-analysis", Params{}}}, nil},
		{"params null", `{"service": "lighting-analysis", "params": null, "holdings": null}`,
			false, []Item{{"lighting-analysis", Params{}}}, nil},
		{"batch with holdings", `{"items": [{"service": "a", "params": {"n": 1}}, {"service": "b"}], "holdings": {"cloud": "500", "forma": 20.5}}`,
			true, []Item{{"a", Params{"n": "1"}}, {"b", Params{}}}, map[core.Currency]string{core.Cloud: "500", core.Forma: "20.5"}},
		{"empty holdings mean nothing held", `{"service": "a", "holdings": {}}`,
			false, []Item{{"a", Params{}}}, map[core.Currency]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseEstimateRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if req.Batch != tt.batch {
				t.Errorf("batch: got %v, want %v", req.Batch, tt.batch)
			}
			if len(req.Items) != len(tt.items) {
				t.Fatalf("items: got %d, want %d", len(req.Items), len(tt.items))
			}
			for i, want := range tt.items {
				got := req.Items[i]
				if got.Service != want.Service || len(got.Params) != len(want.Params) || got.Params == nil {
					t.Errorf("items[%d]: got %+v, want %+v", i, got, want)
				}
				for k, v := range want.Params {
					if got.Params[k] != v {
						t.Errorf("items[%d].params.%s: got %q, want %q", i, k, got.Params[k], v)
					}
				}
			}
			if (req.Holdings == nil) != (tt.holdings == nil) || len(req.Holdings) != len(tt.holdings) {
				t.Fatalf("holdings: got %v, want %v", req.Holdings, tt.holdings)
			}
			for c, want := range tt.holdings {
				if got := req.Holdings[c]; !got.Equal(dec(want)) {
					t.Errorf("holdings.%s: got %s, want %s", c, got, want)
				}
			}
		})
	}
}

func TestParseEstimateRequestErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"not JSON", `{"service": `, []string{"body"}},
		{"trailing garbage", `{"service": "a"} x`, []string{"body"}},
		{"trailing value", `{"service": "a"}{}`, []string{"body"}},
		{"not an object", `["rendering"]`, []string{"body"}},
		{"empty object", `{}`, []string{"service"}},
		{"both forms", `{"service": "a", "items": [{"service": "b"}]}`, []string{"items"}},
		{"params beside items", `{"items": [{"service": "b"}], "params": {}}`, []string{"params"}},
		{"unknown top-level field", `{"service": "a", "qty": 3}`, []string{"qty"}},
		{"duplicate key", `{"service": "a", "params": {"km": "1", "km": "2"}}`, []string{"params.km"}},
		{"wrong types named by field", `{"service": 7, "params": {"km": true, "q": ["x"], "r": null}}`,
			[]string{"params.km", "params.q", "params.r", "service"}},
		{"params not an object", `{"service": "a", "params": "km=12"}`, []string{"params"}},
		{"too many params", `{"service": "a", "params": {` + manyParams(ParamsPerRequestMax+1) + `}}`, []string{"params"}},
		{"value too long", `{"service": "a", "params": {"km": "` + strings.Repeat("1", ParamValueLenMax+1) + `"}}`, []string{"params.km"}},
		{"service too long", `{"service": "` + strings.Repeat("s", IDLenMax+1) + `"}`, []string{"service"}},
		{"items not an array", `{"items": {"service": "a"}}`, []string{"items"}},
		{"items empty", `{"items": []}`, []string{"items"}},
		{"too many items", `{"items": [` + strings.TrimSuffix(strings.Repeat(`{"service": "a"},`, ItemsMax+1), ",") + `]}`, []string{"items"}},
		{"bad items named by index", `{"items": [{"service": "a"}, 3, {"params": {}}, {"service": "b", "qty": 1}, {"service": "c", "params": {"km": {}}}]}`,
			[]string{"items[1]", "items[2].service", "items[3].qty", "items[4].params.km"}},
		{"bad holdings", `{"service": "a", "holdings": {"gold": "5", "cloud": "-1", "forma": "1.1234567", "flex": true}}`,
			[]string{"holdings.cloud", "holdings.flex", "holdings.forma", "holdings.gold"}},
		{"holdings with an exponent", `{"service": "a", "holdings": {"cloud": 1e3}}`, []string{"holdings.cloud"}},
		{"holdings not an object", `{"service": "a", "holdings": [1]}`, []string{"holdings"}},
		{"too deep", `{"service": "a", "params": {"km": [[[[[[[[1]]]]]]]]}}`, []string{"params.km[0][0][0][0][0][0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEstimateRequest([]byte(tt.body))
			if got := problemFields(t, err); !equalStrings(got, sortedCopy(tt.fields)) {
				t.Errorf("fields: got %q, want %q (%v)", got, sortedCopy(tt.fields), err)
			}
		})
	}
}

func TestParseEstimateRequestTooLarge(t *testing.T) {
	body := `{"service": "` + strings.Repeat(" ", RequestBytesMax) + `"}`
	_, err := ParseEstimateRequest([]byte(body))
	if got, want := core.ErrorCode(err), core.CodeTooLarge; got != want {
		t.Errorf("code: got %s, want %s", got, want)
	}
}

func manyParams(n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, `"p`+strings.Repeat("x", i)+`": "1"`)
	}
	return strings.Join(parts, ", ")
}
