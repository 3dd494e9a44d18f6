package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/storetest"
)

// TestConcurrentConsumeOneLot: 32 spenders drain one lot at once through
// credits.Service, half of them through a second Store on the same file (a
// second process, as far as SQLite can tell). The lot never goes below
// zero, every credit is accounted for, and only insufficient_credits stops
// a spender.
func TestConcurrentConsumeOneLot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := newFixture(t, a, "c1", "1000")

	const spenders = 32
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range spenders {
		var st ledger.Store = a
		if i%2 == 1 {
			st = b
		}
		g := &fixture{svc: newFixtureService(st), contract: f.contract, user: f.user, prefix: string(rune('A' + i))}
		wg.Go(func() {
			for {
				_, err := g.svc.Consume(context.Background(), g.spend("3"), g.idem())
				switch {
				case err == nil:
					ok.Add(1)
					continue
				case !isCode(err, core.CodeInsufficientCredits):
					t.Errorf("spender %d: %v", i, err)
				}
				return
			}
		})
	}
	wg.Wait()

	l, err := a.Lot(context.Background(), "c1", "L1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Remaining.Sign() < 0 {
		t.Fatalf("remaining = %s: below zero", l.Remaining)
	}
	// 1000 = 333 × 3 + 1: exactly 333 spends fit, and 1 credit is left.
	if ok.Load() != 333 || !l.Remaining.Equal(dec("1")) || !l.Spent.Equal(dec("999")) {
		t.Errorf("%d spends succeeded, lot remaining %s spent %s; want 333, 1, 999", ok.Load(), l.Remaining, l.Spent)
	}
	checkLedger(t, a, "c1")
	checkTotals(t, a)
}

// BenchmarkConsume is one consumption through credits.Service: the reads it
// plans on and one Apply (an fsync'd WAL commit).
func BenchmarkConsume(b *testing.B) {
	st := openTemp(b)
	f := newFixture(b, st, "c1", "1000000000000")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.svc.Consume(ctx, f.spend("1"), f.idem()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsumeParallel is many spenders on one contract: writers queue
// on the one writer connection while their reads run beside it.
func BenchmarkConsumeParallel(b *testing.B) {
	st := openTemp(b)
	f := newFixture(b, st, "c1", "1000000000000")
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16) // 16 × GOMAXPROCS spenders, like a busy API
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.Consume(ctx, f.spend("1"), f.idem()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(st.committedTxs.Load())/float64(max(st.commits.Load(), 1)), "txs/commit")
}

// TestGroupCommitIsolation: Txs that reach the writer together share one
// commit, but each is still all-or-nothing on its own: the ones whose
// condition fails leave no trace, the others are all written.
func TestGroupCommitIsolation(t *testing.T) {
	st := openTemp(t)
	seed(t, st) // marks the grant of c1/u1
	ctx := context.Background()
	const txs = 48
	errs := make([]error, txs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range txs {
		wg.Go(func() {
			user := fmt.Sprintf("v%d", i)
			if i%2 == 1 {
				user = "u1" // marked before: this Tx must fail at op 1
			}
			<-start
			errs[i] = st.Apply(ctx, ledger.Tx{At: t0, Ops: []ledger.Op{
				ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03", User: fmt.Sprintf("v%d", i)}, Credits: dec("1"), Count: 1},
				ledger.MarkGrant{Contract: "c1", User: user},
			}})
		})
	}
	commitsBefore := st.commits.Load()
	close(start)
	wg.Wait()
	usage := must(st.Usage(ctx, "c1", "2025-03", "2025-03"))
	written := map[string]bool{}
	for _, u := range usage {
		written[u.Key.User] = true
	}
	for i, err := range errs {
		user := fmt.Sprintf("v%d", i)
		if i%2 == 0 {
			if err != nil || !written[user] {
				t.Errorf("Tx %d: err %v, usage written %v; want success", i, err, written[user])
			}
			continue
		}
		if c, ok := asConflict(err); !ok || c.Op != 1 || written[user] {
			t.Errorf("Tx %d: err %v, usage written %v; want a conflict on op 1 and nothing written", i, err, written[user])
		}
	}
	t.Logf("%d Txs in %d commits", txs, st.commits.Load()-commitsBefore)
}

// TestApplyCancelledAndClosed: a caller that gave up before its Tx started
// gets its context's error and writes nothing; Apply after Close fails.
func TestApplyCancelledAndClosed(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	op := ledger.MarkGrant{Contract: "c", User: "u"}
	if err := st.Apply(ctx, ledger.Tx{Ops: []ledger.Op{op}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply(cancelled) = %v, want context.Canceled", err)
	}
	if g, _ := st.Granted(context.Background(), "c", "u"); g {
		t.Error("a cancelled Apply wrote")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := st.Apply(context.Background(), ledger.Tx{Ops: []ledger.Op{op}}); err == nil {
		t.Error("Apply after Close succeeded")
	}
}

// BenchmarkSpenders measures spends per second and latency with 1, 8 and 32
// concurrent spenders on one contract's pool (storetest.BenchSpenders).
func BenchmarkSpenders(b *testing.B) {
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("spenders=%d", n), func(b *testing.B) {
			st, err := Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			storetest.BenchSpenders(b, st, n)
		})
	}
}

// BenchmarkContractSize measures one user's single spends on a contract of
// 1 lot and of 100,000 (storetest.BenchContractSize): the p50 of the large
// one stands beside the small one's, in the same run. Each size's store is
// built once, in this benchmark's temporary folder, and spent in on every
// round.
func BenchmarkContractSize(b *testing.B) {
	dir := b.TempDir()
	for _, lots := range []int{1, 100_000} {
		var st *Store
		b.Run(fmt.Sprintf("lots=%d", lots), func(b *testing.B) {
			if st == nil {
				var err error
				if st, err = Open(filepath.Join(dir, fmt.Sprintf("lots-%d.db", lots))); err != nil {
					b.Fatal(err)
				}
				if err := storetest.ContractOfSize(context.Background(), st, lots); err != nil {
					b.Fatal(err)
				}
			}
			storetest.BenchContractSize(b, st)
		})
		if st != nil {
			st.Close()
		}
	}
}
