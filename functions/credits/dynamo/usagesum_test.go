package dynamo

import (
	"context"
	"fmt"
	"testing"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

var _ credits.UsageSummer = (*Store)(nil)

// TestUsageSumsRead: a report whose grouping a family serves reads that
// family's items — fewer than the raw rows, each summed over what the
// family leaves out — once the contract's sums are complete (its marker,
// written with the contract); without the marker it reads the raw rows.
func TestUsageSumsRead(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := ledger.Contract{ID: "c1", Customer: "Acme", Entity: "e1", CoveredEntities: []string{}, Start: t0,
		Channel: "list", MonthlyBaseline: dec("1000")}
	if err := st.Apply(ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutContract{Contract: c}}}); err != nil {
		t.Fatal(err)
	}
	for _, contract := range []string{"c1", "c2"} { // c2 was never created: no marker
		var ops []ledger.Op
		for i := range 12 { // 12 distinct raw rows, each counting 2
			ops = append(ops, ledger.AddUsage{Key: ledger.UsageKey{Contract: contract, Month: "2026-03", Currency: core.Cloud,
				User: fmt.Sprintf("u%d", i%2), Service: fmt.Sprintf("s%d", i%3), Project: fmt.Sprintf("p%d", i%4), Entity: "e1"},
				Credits: dec("1.5"), Count: 2})
		}
		if err := st.Apply(ctx, ledger.Tx{At: t0, Ops: ops}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		contract string
		groupBy  []string
		rows     int // items read: raw rows are (user, service, project): 12
	}{
		{"c1", []string{governance.DimUser, governance.DimService}, 6},
		{"c1", []string{governance.DimService}, 6},
		{"c1", []string{governance.DimMonth}, 2}, // one per user shard (u0 and u1 hash apart)
		{"c1", []string{governance.DimProject}, 12},
		{"c2", []string{governance.DimUser, governance.DimService}, 12},
	} {
		rows, err := st.UsageSums(ctx, c.contract, "2026-01", "2026-12", c.groupBy)
		if err != nil {
			t.Fatal(err)
		}
		var count int64
		for _, r := range rows {
			count += r.Count
		}
		if len(rows) != c.rows || count != 24 {
			t.Errorf("%s by %v: %d rows counting %d, want %d counting 24", c.contract, c.groupBy, len(rows), count, c.rows)
		}
	}
}
