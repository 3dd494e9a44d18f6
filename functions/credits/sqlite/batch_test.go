package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
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

// TestApplyEachIsOneCommitOfSeparateTxs: ApplyEach commits many Txs at once,
// each still all-or-nothing on its own and seeing the ones before it: a Tx
// whose condition fails (a grant marked before, or by an earlier Tx of the
// call) leaves no trace and takes no other with it; a Tx that breaks an
// invariant is refused alone; an empty one is nothing to do.
func TestApplyEachIsOneCommitOfSeparateTxs(t *testing.T) {
	st := openTemp(t)
	seed(t, st) // marks the grant of c1/u1
	ctx := context.Background()
	usage := func(user string) ledger.Op {
		return ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03", User: user}, Credits: dec("1"), Count: 1}
	}
	mark := func(user string) ledger.Op { return ledger.MarkGrant{Contract: "c1", User: user} }
	txs := []ledger.Tx{
		{At: t0, Ops: []ledger.Op{usage("a"), mark("a")}},
		{At: t0, Ops: []ledger.Op{usage("b"), mark("u1")}}, // marked by seed
		{At: t0, Ops: []ledger.Op{usage("c"), mark("a")}},  // marked by Tx 0
		{At: t0, Ops: []ledger.Op{usage("d"), ledger.MoveLot{Contract: "c1", Lot: "L1", Move: ledger.Movement{Remaining: dec("-1")}}}},
		{At: t0},
		{At: t0, Ops: []ledger.Op{usage("e"), mark("e")}},
	}
	commits := st.commits.Load()
	errs := st.ApplyEach(ctx, txs)
	if len(errs) != len(txs) {
		t.Fatalf("%d outcomes for %d Txs", len(errs), len(txs))
	}
	for i, want := range []string{"", "conflict", "conflict", "internal", "", ""} {
		got := ""
		if c, ok := asConflict(errs[i]); ok && c.Op == 1 {
			got = "conflict"
		} else if errs[i] != nil {
			got = string(core.ErrorCode(errs[i]))
		}
		if got != want {
			t.Errorf("Tx %d: %v; want %q", i, errs[i], want)
		}
	}
	written := map[string]bool{}
	for _, u := range must(st.Usage(ctx, "c1", "2025-03", "2025-03")) {
		written[u.Key.User] = true
	}
	if fmt.Sprint(written) != "map[a:true e:true]" {
		t.Errorf("usage written for %v; want a and e only", written)
	}
	if n := st.commits.Load() - commits; n != 1 {
		t.Errorf("%d commits; want 1", n)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for i, err := range st.ApplyEach(cancelled, []ledger.Tx{{At: t0, Ops: []ledger.Op{mark("f")}}, {At: t0, Ops: []ledger.Op{mark("g")}}}) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Tx %d: %v; want context.Canceled", i, err)
		}
	}
}
