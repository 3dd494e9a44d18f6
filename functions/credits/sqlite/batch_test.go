package sqlite

import (
	"context"
	"testing"
	"time"

	"cloudcredits/functions/credits"
)

// batchOf is n one-credit consumptions of f's user, each with a fresh key.
func (f *fixture) batchOf(n int) []credits.BatchItem {
	items := make([]credits.BatchItem, n)
	for i := range items {
		items[i] = credits.BatchItem{Req: f.spend("1"), Idem: f.idem()}
	}
	return items
}

// BenchmarkConsumeBatch is a metering pipeline's batch of 100 one-credit
// consumptions through credits.Service: one read of the ledger, 100 plans,
// and one write transaction (one fsync'd commit). spends/s is the goal
// figure (20,000).
func BenchmarkConsumeBatch(b *testing.B) {
	const items = 100
	st := openTemp(b)
	f := newFixture(b, st, "c1", "1000000000000")
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		res, err := f.svc.ConsumeBatch(ctx, f.contract, f.batchOf(items))
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.Replayed {
				b.Fatalf("item %d: replayed %v, %v", i, r.Replayed, r.Err)
			}
		}
	}
	b.ReportMetric(float64(b.N*items)/time.Since(start).Seconds(), "spends/s")
}
