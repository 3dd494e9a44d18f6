package dynamo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo/capacity"
	"cloudcredits/functions/credits/storetest"

	"github.com/shopspring/decimal"
)

// The benchmarks run the service against DynamoDB Local and report, besides
// time, per operation:
//
//   - WCU/op and RCU/op: the capacity DynamoDB reported (ReturnConsumedCapacity
//     TOTAL) for the operation's one TransactWriteItems and for the reads that
//     planned it. Against real DynamoDB (DYNAMODB_ENDPOINT) this is the bill;
//     DynamoDB Local reports figures that don't follow the pricing rules.
//   - WCU-model/op: what DynamoDB's pricing rules charge for the same
//     transaction: 2 units per started KB of each item written (Put sizes
//     exact; updated and checked items assumed under 1 KB, which lots,
//     counters and roll-ups are), plus 1 unit per sweep-index entry written or
//     deleted.
//
// The spends carry a project with a budget, so they write the budget counter
// as production spends do.

// metered counts the modelled write units of every successful Apply.
type metered struct {
	*Store
	mu    sync.Mutex
	model float64
	items int
}

func (m *metered) Apply(ctx context.Context, tx ledger.Tx) error {
	if err := m.Store.Apply(ctx, tx); err != nil {
		return err
	}
	lowered, err := tx.Writes()
	if err != nil {
		return err
	}
	writes, err := m.Store.plan(lowered, 0, nil)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.model += modelWriteUnits(tx, writes)
	m.items += len(writes)
	m.mu.Unlock()
	return nil
}

// take returns the modelled write units and the transaction items since
// the last take.
func (m *metered) take() (float64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, n := m.model, m.items
	m.model, m.items = 0, 0
	return u, n
}

func modelWriteUnits(tx ledger.Tx, writes []write) float64 {
	var u float64
	for _, w := range writes {
		switch {
		case w.item.Put != nil:
			u += 2 * float64((capacity.ItemSize(w.item.Put.Item)+1023)/1024)
			if _, indexed := w.item.Put.Item[AttrGSI1PK]; indexed {
				u++
			}
		case w.item.Update != nil && strings.HasPrefix(keyText(w.item.Update.Key, AttrSK), skLot):
			u += 2 + 1 // and the pool index's copy of the lot (all attributes projected)
		default:
			u += 2
		}
		switch o := tx.Ops[w.op].(type) {
		case ledger.UpdateHold:
			if o.Hold.State != ledger.HoldOpen {
				u++ // the hold leaves the sweep index
			}
		case ledger.UpdateLot:
			u += 2 // the lot's index entry moves: a delete and a put
		}
	}
	return u
}

func benchService(b *testing.B) (*Store, *metered, *credits.Service) {
	b.Helper()
	st := newStoreWith(b, nil, []Option{WithEntriesFromStream()}) // as deployed
	m := &metered{Store: st}
	svc := credits.New(m, nil)
	setup(b, svc, "1000000000")
	_, err := svc.SetBudget(context.Background(), "c1", "p1",
		ledger.BudgetRequest{Currency: core.Cloud, MonthlyCap: decimal.NewFromInt(core.CreditsMax)}, ledger.Idem{Key: "setup-budget"})
	if err != nil {
		b.Fatalf("SetBudget: %v", err)
	}
	m.take()
	return st, m, svc
}

func benchSpend(credits int64) ledger.SpendRequest {
	return ledger.SpendRequest{Contract: "c1", User: "u1", Entity: "e1", Project: "p1", Service: "render",
		Currency: core.Cloud, Credits: decimal.NewFromInt(credits)}
}

func report(b *testing.B, c Capacity, model float64, items, n int) {
	b.ReportMetric(c.WriteUnits/float64(n), "WCU/op")
	b.ReportMetric(model/float64(n), "WCU-model/op")
	b.ReportMetric(float64(items)/float64(n), "items/op")
	b.ReportMetric(c.ReadUnits/float64(n), "RCU/op")
}

func BenchmarkConsume(b *testing.B) { benchSpend1(b, "c", (*credits.Service).Consume) }

func BenchmarkHold(b *testing.B) { benchSpend1(b, "h", (*credits.Service).Hold) }

// benchSpend1 measures one spending call of 1 credit, each with its own
// idempotency key (prefix-<n>).
func benchSpend1(b *testing.B, prefix string, call func(*credits.Service, context.Context, ledger.SpendRequest, ledger.Idem) (credits.Outcome, error)) {
	st, m, svc := benchService(b)
	ctx := context.Background()
	st.ResetConsumed()
	n := 0
	for b.Loop() {
		if _, err := call(svc, ctx, benchSpend(1), ledger.Idem{Key: fmt.Sprintf("%s-%d", prefix, n)}); err != nil {
			b.Fatalf("%s: %v", b.Name(), err)
		}
		n++
	}
	model, items := m.take()
	report(b, st.Consumed(), model, items, n)
}

// BenchmarkSettle settles holds of 2 credits at 1: post one, return one to
// the same lot (one merged lot update), close the hold, record the
// consumption.
func BenchmarkSettle(b *testing.B) {
	st, m, svc := benchService(b)
	ctx := context.Background()
	var total Capacity
	var model float64
	items, n := 0, 0
	for b.Loop() {
		b.StopTimer()
		out, err := svc.Hold(ctx, benchSpend(2), ledger.Idem{Key: fmt.Sprintf("h-%d", n)})
		if err != nil {
			b.Fatalf("Hold: %v", err)
		}
		var h ledger.HoldResult
		if err := out.Decode(&h); err != nil {
			b.Fatal(err)
		}
		st.ResetConsumed()
		m.take()
		b.StartTimer()
		if _, err := svc.Settle(ctx, "c1", h.HoldID, decimal.NewFromInt(1), ledger.Idem{Key: fmt.Sprintf("s-%d", n)}); err != nil {
			b.Fatalf("Settle: %v", err)
		}
		c := st.Consumed()
		total.WriteUnits += c.WriteUnits
		total.ReadUnits += c.ReadUnits
		mu, mi := m.take()
		model, items = model+mu, items+mi
		n++
	}
	report(b, total, model, items, n)
}

// BenchmarkSpenders measures spends per second and latency with 1, 8 and 32
// concurrent spenders on one contract's pool (storetest.BenchSpenders).
func BenchmarkSpenders(b *testing.B) {
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("spenders=%d", n), func(b *testing.B) {
			storetest.BenchSpenders(b, newStore(b), n)
		})
	}
}

// BenchmarkContractSize measures one user's single spends on a contract of
// 1 lot and of 100,000 (storetest.BenchContractSize) on DynamoDB Local:
// the p50 of the large one stands beside the small one's, in the same run,
// with the capacity each spend consumed. Each size's table is built once
// and spent in on every round.
func BenchmarkContractSize(b *testing.B) {
	for _, lots := range []int{1, 100_000} {
		// The table belongs to this benchmark, not to one round of it; it
		// has no stream (nothing here reads usage, and a stream of 300,000
		// changes slows DynamoDB Local for the benchmarks after this one).
		st := newStore(b, WithoutStream())
		start := time.Now()
		if err := storetest.ContractOfSize(context.Background(), st, lots); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d lots written in %s", lots, time.Since(start).Round(time.Second))
		b.Run(fmt.Sprintf("lots=%d", lots), func(b *testing.B) {
			before := st.Consumed()
			storetest.BenchContractSize(b, st)
			after := st.Consumed()
			b.ReportMetric((after.ReadUnits-before.ReadUnits)/float64(b.N), "RCU/op")
			b.ReportMetric((after.WriteUnits-before.WriteUnits)/float64(b.N), "WCU/op")
		})
	}
}
