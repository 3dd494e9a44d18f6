package ledger_test

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// TestWritesLowerOpsToPrimitives: every op becomes one of the four write
// kinds, with the version condition its record asks for.
func TestWritesLowerOpsToPrimitives(t *testing.T) {
	l := lot("other", ledger.Shared, core.Cloud, "100")
	l.Version = 4
	h := ledger.Hold{ID: "h1", Contract: "acme", Version: 2}
	tx := ledger.Tx{At: t0, Ops: []ledger.Op{
		ledger.CreateLot{Lot: lot("new", ledger.Shared, core.Cloud, "5")},
		ledger.MoveLot{Lot: "pool", Contract: "acme", Move: ledger.Movement{Remaining: d("-3"), Spent: d("3")}, LiveAt: t0},
		ledger.UpdateHold{Hold: h},
		ledger.PutBudget{Budget: ledger.Budget{Contract: "acme", Project: "p", Currency: core.Cloud, MonthlyCap: d("9")}},
		ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2030-01", Delta: d("3"), Capped: true, Cap: d("9")},
		ledger.ContractIs{Contract: "acme", Version: 7},
		l.Ended(t0.Add(time.Hour), time.Time{}, time.Time{}),
	}}
	ws, err := tx.Writes()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind ledger.WriteKind
		was  int64
	}{
		{ledger.WriteCreate, 0}, {ledger.WriteAdd, 0}, {ledger.WriteReplace, 1}, {ledger.WriteReplace, ledger.AnyVersion},
		{ledger.WriteAdd, 0}, {ledger.WriteCheck, 7}, {ledger.WriteReplace, 4},
	}
	for i, w := range ws {
		if w.Kind != want[i].kind || w.Was != want[i].was || w.Op != i {
			t.Errorf("write %d = %v at %d (op %d), want %v at %d", i, w.Kind, w.Was, w.Op, want[i].kind, want[i].was)
		}
	}
	if c := ws[0].Rec.(ledger.Lot); c.Version != 1 {
		t.Errorf("a created lot is at version %d, want 1", c.Version)
	}
	if mv := ws[1]; !mv.MustExist || !mv.LiveAt.Equal(t0) || len(mv.Adds) != 2 || mv.Adds[0].AtLeast == nil || mv.Adds[1].AtLeast != nil {
		t.Errorf("a debit = %+v, want remaining bounded at zero, spent unbounded, live at t0", mv)
	}
	if b := ws[4]; b.MustExist || b.Adds[0].AtMost == nil || !b.Adds[0].AtMost.Equal(d("9")) {
		t.Errorf("a capped budget add = %+v, want at most the cap, created at zero", b)
	}
}

// TestWritesRefuseARecordWrittenTwice: a store applies each record once per
// Tx (DynamoDB refuses two actions on one item), so a Tx that writes one
// twice is refused before it reaches a store.
func TestWritesRefuseARecordWrittenTwice(t *testing.T) {
	l := lot("pool", ledger.Shared, core.Cloud, "100")
	move := ledger.MoveLot{Lot: "pool", Contract: "acme", Move: ledger.Movement{Remaining: d("-1"), Spent: d("1")}}
	for _, ops := range [][]ledger.Op{
		{ledger.CreateLot{Lot: l}, move},
		{move, move},
		{ledger.MarkGrant{Contract: "acme", User: "u"}, ledger.MarkGrant{Contract: "acme", User: "u"}},
	} {
		if _, err := (ledger.Tx{At: t0, Ops: ops}).Writes(); err == nil || !strings.Contains(err.Error(), "once") {
			t.Errorf("Writes(%T, %T) = %v, want a refusal", ops[0], ops[1], err)
		}
	}
}
