package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// BenchSpenders measures spends against one contract's pool with `spenders`
// concurrent callers, through credits.Service on st (a fresh, empty store).
// It reports spends/s, and p50-ms and p99-ms of one spend's latency (read,
// plan, conditional write, re-plans included). The pool is two users'
// individual lots and a sharded shared grant, so burn order and shard
// rotation are what production does.
func BenchSpenders(b *testing.B, st ledger.Store, spenders int) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var tick atomic.Int64
	svc := credits.New(st, func() time.Time { return now.Add(time.Duration(tick.Add(1))) })
	contract := "bench"
	must := func(_ credits.Outcome, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(svc.CreateContract(ctx, ledger.Contract{ID: contract, Customer: "Bench", Entity: "hq",
		Start: now.AddDate(0, -1, 0), End: now.AddDate(2, 0, 0), PlanActive: true}, ledger.Idem{Key: "c"}))
	users := []string{"u1", "u2", "u3", "u4"}
	for _, u := range users {
		must(svc.AddUser(ctx, contract, ledger.UserRequest{User: u, Kind: ledger.Employee, Entity: "hq", CanSpend: true}, ledger.Idem{Key: "u-" + u}))
	}
	must(svc.GrantShared(ctx, contract, ledger.GrantRequest{Lot: "pool", Currency: core.Cloud,
		Credits: decimal.NewFromInt(1_000_000_000), Source: ledger.SourcePurchase, Shards: 8}, ledger.Idem{Key: "g"}))

	one := decimal.NewFromInt(1)
	MeasureSpends(b, spenders, func(ctx context.Context, i int64) error {
		req := ledger.SpendRequest{Contract: contract, User: users[int(i)%len(users)], Entity: "hq",
			Service: "rendering", Currency: core.Cloud, Credits: one}
		_, err := svc.Consume(ctx, req, ledger.Idem{Key: fmt.Sprintf("spend-%d", i)})
		return err
	})
}

// MeasureSpends calls spend b.N times (i = 1…b.N) from `callers`
// concurrent goroutines and reports spends/s, p50-ms and p99-ms of one
// call's latency and gave-up (calls that failed; more than 2% fails the
// benchmark). BenchSpenders and the storage floor measure through it, so
// their figures are comparable.
func MeasureSpends(b *testing.B, callers int, spend func(ctx context.Context, i int64) error) {
	ctx := context.Background()
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		failures  atomic.Int64
	)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				err := spend(ctx, i)
				d := time.Since(t0)
				if err != nil {
					if failures.Add(1) == 1 {
						b.Logf("first failure: %v", err)
					}
					continue
				}
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > int64(b.N)/50 {
		b.Fatalf("%d of %d spends failed", f, b.N)
	}
	if len(latencies) == 0 {
		b.Fatal("no spend succeeded")
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "spends/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failures.Load()), "gave-up")
}
