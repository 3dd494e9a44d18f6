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
	pct := percentiles(latencies)
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "spends/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(failures.Load()), "gave-up")
}

// sizeAt is the time of the contract-size benchmark's world.
var sizeAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ContractOfSize fills st (a fresh, empty store) with the world
// BenchContractSize spends in: contract "big" holding lots lots — one
// shared pool and lots−1 individual lots of 100 credits of other users (a
// vendor's enterprise customer with thousands of named users, one lot
// each) — and alice, a user without a lot of her own. Building a large one
// takes a while, so a benchmark builds it once and spends in it on every
// round.
func ContractOfSize(ctx context.Context, st ledger.Store, lots int) error {
	at := sizeAt
	c := ledger.Contract{ID: "big", Customer: "Big", Entity: "big-hq", Start: at.AddDate(0, -1, 0), End: at.AddDate(2, 0, 0),
		Channel: "list", PlanActive: true, Version: 1}
	u := ledger.User{Contract: "big", ID: "alice", Kind: ledger.Employee, Entity: "big-hq", CanSpend: true, Active: true,
		AddedAt: at.AddDate(0, -1, 0), Version: 1}
	if err := st.Apply(ctx, ledger.Tx{At: at, Ops: []ledger.Op{ledger.PutContract{Contract: c}, ledger.PutUser{User: u}}}); err != nil {
		return err
	}
	pool := largeLot(0, "", stateLive, at)
	pool.Amount, pool.Remaining, pool.ExpiresAt = decimal.NewFromInt(1_000_000_000), decimal.NewFromInt(1_000_000_000), time.Time{}
	all := []ledger.Lot{pool}
	for i := 1; i < lots; i++ {
		l := largeLot(i, fmt.Sprintf("u%06d", i), stateLive, at)
		l.ID = fmt.Sprintf("i%06d", i)
		l.Amount, l.Remaining = decimal.NewFromInt(ledger.IndividualGrantCredits), decimal.NewFromInt(ledger.IndividualGrantCredits)
		all = append(all, l)
	}
	return createLots(ctx, st, at, all)
}

// sizeSpends numbers the contract-size benchmark's spends across rounds,
// so every spend has a key of its own.
var sizeSpends atomic.Int64

// BenchContractSize measures single spends of one credit by alice in the
// world ContractOfSize made on st, through credits.Service. It reports
// p50-ms and p99-ms: a spend's cost must follow the lots it may draw on,
// so the figure at 100,000 lots should stand beside the one-lot
// contract's.
func BenchContractSize(b *testing.B, st ledger.Store) {
	ctx := context.Background()
	svc := credits.New(st, func() time.Time { return sizeAt.Add(time.Duration(sizeSpends.Load()) * time.Microsecond) })
	one := decimal.NewFromInt(1)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := ledger.SpendRequest{Contract: "big", User: "alice", Entity: "big-hq", Service: "rendering", Currency: core.Cloud, Credits: one}
		t0 := time.Now()
		if _, err := svc.Consume(ctx, req, ledger.Idem{Key: fmt.Sprintf("spend-%d", sizeSpends.Add(1))}); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(t0))
	}
	b.StopTimer()
	pct := percentiles(latencies)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// percentiles sorts latencies and returns the function that reads the
// p-th (0..1) of them in milliseconds.
func percentiles(latencies []time.Duration) func(p float64) float64 {
	slices.Sort(latencies)
	return func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
}
