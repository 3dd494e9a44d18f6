package dynamo

import (
	"context"
	"fmt"
	"testing"

	"cloudcredits/core/ledger"
)

// TestApplyEachWritesSharedItemsInOrder: 30 Txs that all debit one lot and
// add to one usage row, through one ApplyEach. DynamoDB cancels a
// transaction that meets another in flight on an item, so ApplyEach must
// run them one after another on those items: every one applies, none
// conflicts, and the lot's entries are in the order given. A Tx whose own
// condition fails is refused alone.
func TestApplyEachWritesSharedItemsInOrder(t *testing.T) {
	st := newStore(t)
	apply(t, st, ledger.CreateLot{Lot: lot("L1", "30", "30")}, ledger.CreateLot{Lot: lot("L2", "5", "5")})
	usage := ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2026-03", User: "u1"}, Credits: dec("1"), Count: 1}
	var txs []ledger.Tx
	for i := range 30 {
		txs = append(txs, ledger.Tx{At: t0, Ops: []ledger.Op{debit("L1", "1", t0), entry(fmt.Sprintf("e%02d", i), "L1", "1", t0), usage}})
	}
	// Debits of another lot run beside them; the last one takes it below zero.
	for i := range 6 {
		txs = append(txs, ledger.Tx{At: t0, Ops: []ledger.Op{debit("L2", "1", t0), entry(fmt.Sprintf("f%02d", i), "L2", "1", t0)}})
	}
	errs := st.ApplyEach(context.Background(), txs)
	for i, err := range errs[:35] {
		if err != nil {
			t.Errorf("Tx %d: %v", i, err)
		}
	}
	if c, ok := errs[35].(*ledger.ConflictError); !ok || c.Op != 0 {
		t.Errorf("Tx 35: %v; want a conflict on its debit", errs[35])
	}
	if l := mustLot(t, st, "L1"); !l.Remaining.IsZero() || !l.Spent.Equal(dec("30")) {
		t.Errorf("L1: remaining %s spent %s; want 0 and 30", l.Remaining, l.Spent)
	}
	es, err := st.Entries(context.Background(), "c1", "L1")
	if err != nil || len(es) != 30 {
		t.Fatalf("L1 entries: %d, %v; want 30", len(es), err)
	}
	for i, e := range es {
		if want := fmt.Sprintf("e%02d", i); e.ID != want {
			t.Errorf("entry %d is %s; want %s (the order given)", i, e.ID, want)
		}
	}
	u, err := st.Usage(context.Background(), "c1", "2026-03", "2026-03")
	if err != nil || len(u) != 1 || u[0].Count != 30 {
		t.Errorf("usage %+v, %v; want one row counting 30", u, err)
	}
}
