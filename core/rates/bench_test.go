package rates

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// benchItems are one job of each rule kind, with parameters.
var benchItems = []Item{
	{"structural-analysis", Params{"analyses": "3"}},
	{"moldflow-insight", Params{"runs": "8"}},
	{"infraworks-profile-optimization", Params{"road_km": "12"}},
	{"rendering", Params{"size_mb": "12.5", "quality": "final"}},
	{"cfd-fea-simulation", Params{"elements": "1500000"}},
	{"generative-design", Params{"outcomes": "20"}},
	{"lighting-analysis", Params{}},
	{"forma-wind", Params{"analyses": "2"}},
}

func BenchmarkEstimate(b *testing.B) {
	c := card2018(b)
	holdings := map[core.Currency]decimal.Decimal{core.Cloud: dec("500")}
	for _, it := range benchItems {
		b.Run(it.Service, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Estimate(it.Service, it.Params, holdings); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEstimateMany1000(b *testing.B) {
	c := card2018(b)
	items := make([]Item, ItemsMax)
	for i := range items {
		items[i] = benchItems[i%len(benchItems)]
	}
	holdings := map[core.Currency]decimal.Decimal{core.Cloud: dec("500"), core.Forma: dec("50")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.EstimateMany(items, holdings); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnswerJSON1000 is the route's whole path for a full batch:
// parse, price, encode.
func BenchmarkAnswerJSON1000(b *testing.B) {
	c := card2018(b)
	body := []byte(`{"items": [`)
	for i := 0; i < ItemsMax; i++ {
		if i > 0 {
			body = append(body, ',')
		}
		it := benchItems[i%len(benchItems)]
		body = append(body, fmt.Sprintf(`{"service": %q, "params": {`, it.Service)...)
		first := true
		for k, v := range it.Params {
			if !first {
				body = append(body, ',')
			}
			first = false
			body = append(body, fmt.Sprintf(`%q: %q`, k, v)...)
		}
		body = append(body, "}}"...)
	}
	body = append(body, `], "holdings": {"cloud": "500"}}`...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.AnswerJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEstimateAppendJSON is what the browser's typed call does for
// each keystroke: one estimate without holdings, written as JSON into a
// reused buffer.
func BenchmarkEstimateAppendJSON(b *testing.B) {
	c := card2018(b)
	for _, it := range benchItems {
		b.Run(it.Service, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				est, err := c.Estimate(it.Service, it.Params, nil)
				if err != nil {
					b.Fatal(err)
				}
				buf = est.AppendJSON(buf[:0])
			}
		})
	}
}
