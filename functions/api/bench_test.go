package api_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// reportLatency records each iteration's time and reports p50 and p99 in
// microseconds next to the usual ns/op.
func reportLatency(b *testing.B, run func(i int)) {
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		run(i)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Nanoseconds())/1000, "p99-µs")
}

// BenchmarkHandlerEstimate is one POST /v1/estimates through the full
// handler (request id, logging, parsing, the core, encoding).
func BenchmarkHandlerEstimate(b *testing.B) {
	h := newHandler(b, nil, nil, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	body := `{"service":"cfd-fea-simulation","params":{"elements":"1500000"}}`
	reportLatency(b, func(int) {
		req := httptest.NewRequest("POST", "/v1/estimates", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

// BenchmarkHandlerConsume is one POST …/consumptions through the full
// handler on the SQLite ledger: token verification, idempotency, pricing
// the job, the read–plan–write of the spend.
func BenchmarkHandlerConsume(b *testing.B) {
	e := newEnv(b)
	if _, err := e.svc.GrantShared(b.Context(), "c1", grantBig(), idemKey("big")); err != nil {
		b.Fatal(err)
	}
	body := `{"user":"ann","entity":"c1-hq","service":"structural-analysis","params":{}}`
	reportLatency(b, func(i int) {
		rec := e.do(b, "service", "POST", "/v1/contracts/c1/consumptions", fmt.Sprintf("bench-%d", i), body)
		if rec.Code != 201 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
