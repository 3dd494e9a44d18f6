package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/storetest"

	"github.com/shopspring/decimal"
)

// TestConformance runs the suite every adapter must pass unchanged, each
// subtest on a fresh file. The tests after it are this adapter's own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ledger.Store {
		st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if n := st.unprepared.Load(); n > 0 {
				t.Errorf("%d queries ran without a prepared statement", n)
			}
			if n := st.committedTxs.Load(); n > 1000 { // the concurrency test
				t.Logf("%d Txs in %d group commits", n, st.commits.Load())
			}
		})
		return st
	}, storetest.Parallel())
}

const day = 24 * time.Hour

// orderAt is the fulfilled order as an update written at version.
func orderAt(contract, id string, version int64) ledger.UpdateOrder {
	o := order(contract, id)
	o.Version = version
	return ledger.UpdateOrder{Order: o}
}

// seed writes the state the condition tests start from, in contract c1.
func seed(t *testing.T, st ledger.Store) {
	t.Helper()
	l1 := lot("c1", "L1", "100", t0.Add(-day), t0.Add(365*day))
	future := lot("c1", "L2", "50", t0.Add(day), time.Time{})
	closed := lot("c1", "L3", "20", t0.Add(-200*day), time.Time{})
	closed.WithdrawNoticeAt, closed.ClosesAt = t0.Add(-100*day), t0.Add(-10*day)
	m := ledger.Movement{Remaining: dec("-10"), Held: dec("10")}
	apply(t, st,
		ledger.PutContract{Contract: ledger.Contract{ID: "c1", Customer: "Acme", Entity: "acme",
			CoveredEntities: []string{"acme-eu"}, Start: t0.AddDate(-1, 0, 0), MonthlyBaseline: dec("500"), PlanActive: true, Version: 1}},
		ledger.PutUser{User: ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Employee, Entity: "acme",
			CanSpend: true, Active: true, AddedAt: t0.Add(-day), Version: 1}},
		ledger.MarkGrant{Contract: "c1", User: "u1"},
		ledger.CreateLot{Lot: l1},
		ledger.CreateLot{Lot: future},
		ledger.CreateLot{Lot: closed})
	// A Tx writes each record once: the move is a Tx of its own.
	apply(t, st,
		ledger.MoveLot{Lot: "L1", Contract: "c1", Move: m, LiveAt: t0},
		ledger.PutEntry{Entry: ledger.Entry{ID: "E1", Contract: "c1", Lot: "L1", Currency: core.Cloud,
			Kind: ledger.EntryHold, Credits: dec("10"), Move: m, Ref: "H1", At: t0}},
		ledger.PutHold{Hold: ledger.Hold{ID: "H1", Contract: "c1", User: "u1", Entity: "acme", Currency: core.Cloud,
			Credits: dec("10"), Debits: []ledger.Debit{{Lot: "L1", Credits: dec("10")}}, State: ledger.HoldOpen,
			CreatedAt: t0, ExpiresAt: t0.Add(day)}},
		ledger.PutConsumption{Consumption: ledger.Consumption{ID: "C1", Contract: "c1", User: "u1", Entity: "acme",
			Currency: core.Cloud, Credits: dec("5"), Debits: []ledger.Debit{{Lot: "L1", Credits: dec("5")}},
			CreatedAt: t0, Refunded: decimal.Zero, Returned: []decimal.Decimal{decimal.Zero}}},
		ledger.PutIdempotency{At: t0, Record: ledger.IdempotencyRecord{Contract: "c1", Key: "live",
			Fingerprint: "f", Response: []byte(`{}`), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}},
		ledger.PutIdempotency{At: t0.Add(-time.Hour), Record: ledger.IdempotencyRecord{Contract: "c1", Key: "stale",
			Fingerprint: "f", Response: []byte(`{}`), CreatedAt: t0.Add(-time.Hour), ExpiresAt: t0}},
		ledger.PutBudget{Budget: ledger.Budget{Contract: "c1", Project: "p1", Currency: core.Cloud, MonthlyCap: dec("100")}},
		ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud, Month: "2025-03", Delta: dec("90"),
			Capped: true, Cap: dec("100")},
		ledger.PutOrder{Order: pendingOrder("O1")},
	)
}

// pendingOrder is an invoice order of c1 waiting to be paid.
func pendingOrder(id string) ledger.Order {
	return ledger.Order{ID: id, Contract: "c1", Status: ledger.OrderPending, Currency: core.Cloud, Credits: dec("100"),
		Packs: dec("1"), Channel: "eba", UnitPrice: dec("1.25"), Total: dec("125"), MoneyCurrency: ledger.USD,
		PriceBookVersion: "cloud-2024-01", Payment: ledger.PayInvoice, CreatedAt: t0}
}

// TestApplyConditionFails checks every op's condition: when it fails, Apply
// returns a *ledger.ConflictError naming that op and writes nothing — not
// even the unconditional writes placed before it in the same Tx.
func TestApplyConditionFails(t *testing.T) {
	user := func(version int64) ledger.User {
		return ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Employee, Entity: "acme", Active: true, Version: version}
	}
	contract := func(id string, version int64) ledger.Contract {
		return ledger.Contract{ID: id, Customer: "Acme", Entity: "acme", Start: t0, Version: version}
	}
	spend := func(lot, credits string, at time.Time) ledger.MoveLot {
		d := dec(credits)
		return ledger.MoveLot{Lot: lot, Contract: "c1", Move: ledger.Movement{Remaining: d.Neg(), Spent: d}, LiveAt: at}
	}
	release := func(lot, credits string) ledger.MoveLot {
		d := dec(credits)
		return ledger.MoveLot{Lot: lot, Contract: "c1", Move: ledger.Movement{Remaining: d, Held: d.Neg()}}
	}
	ended := func(contract, id string, version int64) ledger.UpdateLot {
		l := lot(contract, id, "100", t0.Add(-day), t0)
		l.Version = version
		return ledger.UpdateLot{Lot: l}
	}
	tests := []struct {
		name string
		ops  []ledger.Op // the last one fails
	}{
		{"CreateLot: id exists", []ledger.Op{ledger.CreateLot{Lot: lot("c1", "L1", "1", t0, time.Time{})}}},
		{"MoveLot: no such lot", []ledger.Op{spend("nope", "1", t0)}},
		{"MoveLot: lot of another contract", []ledger.Op{ledger.MoveLot{Lot: "L1", Contract: "c2",
			Move: ledger.Movement{Remaining: dec("-1"), Spent: dec("1")}}}},
		{"MoveLot: remaining below zero", []ledger.Op{spend("L1", "90.000001", t0)}},
		{"MoveLot: remaining below zero without LiveAt", []ledger.Op{spend("L1", "91", time.Time{})}},
		{"MoveLot: held below zero", []ledger.Op{release("L1", "10.5")}},
		{"MoveLot: merged settle and spend, a little short", []ledger.Op{ledger.MoveLot{Lot: "L1", Contract: "c1",
			Move: ledger.Movement{Held: dec("-10"), Remaining: dec("-90.000000001"), Spent: dec("100.000000001")}, LiveAt: t0}}},
		{"MoveLot: not yet effective", []ledger.Op{spend("L2", "1", t0)}},
		{"MoveLot: effective a nanosecond later", []ledger.Op{spend("L2", "1", t0.Add(day-1))}},
		{"MoveLot: at its expiry", []ledger.Op{spend("L1", "1", t0.Add(365*day))}},
		{"MoveLot: closed by withdrawal", []ledger.Op{spend("L3", "1", t0)}},
		{"UpdateLot: no such lot", []ledger.Op{ended("c1", "nope", 2)}},
		{"UpdateLot: read before a move", []ledger.Op{ended("c1", "L1", 2)}},
		{"UpdateLot: version ahead", []ledger.Op{ended("c1", "L1", 4)}},
		{"UpdateLot: lot of another contract", []ledger.Op{ended("c2", "L1", 3)}},
		{"PutEntry: id exists", []ledger.Op{ledger.PutEntry{Entry: ledger.Entry{ID: "E1", Contract: "c1", Lot: "L1",
			Currency: core.Cloud, Kind: ledger.EntryConsume, Credits: dec("1"), At: t0}}}},
		{"PutIdempotency: live record", []ledger.Op{ledger.PutIdempotency{At: t0.Add(time.Hour - 1), Record: ledger.IdempotencyRecord{
			Contract: "c1", Key: "live", Fingerprint: "g", Response: []byte(`{"x":1}`), CreatedAt: t0, ExpiresAt: t0.Add(day)}}}},
		{"PutHold: id exists", []ledger.Op{ledger.PutHold{Hold: ledger.Hold{ID: "H1", Contract: "c1", State: ledger.HoldOpen,
			Credits: dec("1"), CreatedAt: t0, ExpiresAt: t0.Add(day)}}}},
		{"UpdateHold: version moved", []ledger.Op{ledger.UpdateHold{Hold: ledger.Hold{ID: "H1", Contract: "c1",
			State: ledger.HoldReleased, Credits: dec("10"), Version: 3}}}},
		{"UpdateHold: no such hold", []ledger.Op{ledger.UpdateHold{Hold: ledger.Hold{ID: "H9", Contract: "c1",
			State: ledger.HoldReleased, Credits: dec("10"), Version: 2}}}},
		{"PutConsumption: id exists", []ledger.Op{ledger.PutConsumption{Consumption: ledger.Consumption{ID: "C1", Contract: "c1",
			Credits: dec("1"), Refunded: decimal.Zero}}}},
		{"UpdateConsumption: version moved", []ledger.Op{ledger.UpdateConsumption{Consumption: ledger.Consumption{ID: "C1",
			Contract: "c1", Credits: dec("5"), Refunded: dec("2"), Version: 3}}}},
		{"UpdateConsumption: no such consumption", []ledger.Op{ledger.UpdateConsumption{Consumption: ledger.Consumption{ID: "C9",
			Contract: "c1", Credits: dec("5"), Refunded: dec("2"), Version: 2}}}},
		{"AddBudgetUsage: over the cap", []ledger.Op{ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud,
			Month: "2025-03", Delta: dec("10.000001"), Capped: true, Cap: dec("100")}}},
		{"AddBudgetUsage: over the cap from nothing", []ledger.Op{ledger.AddBudgetUsage{Contract: "c1", Project: "p2", Currency: core.Cloud,
			Month: "2025-03", Delta: dec("11"), Capped: true, Cap: dec("10")}}},
		{"PutContract: id exists", []ledger.Op{ledger.PutContract{Contract: contract("c1", 1)}}},
		{"UpdateContract: version moved", []ledger.Op{ledger.UpdateContract{Contract: contract("c1", 3)}}},
		{"UpdateContract: same version", []ledger.Op{ledger.UpdateContract{Contract: contract("c1", 1)}}},
		{"UpdateContract: no such contract", []ledger.Op{ledger.UpdateContract{Contract: contract("c9", 2)}}},
		{"PutUser: version 1 exists", []ledger.Op{ledger.PutUser{User: user(1)}}},
		{"PutUser: version moved", []ledger.Op{ledger.PutUser{User: user(3)}}},
		{"PutUser: no such user", []ledger.Op{ledger.PutUser{User: ledger.User{Contract: "c1", ID: "u9", Version: 2}}}},
		{"MarkGrant: marked before", []ledger.Op{ledger.MarkGrant{Contract: "c1", User: "u1"}}},
		{"PutOrder: id exists", []ledger.Op{ledger.PutOrder{Order: pendingOrder("O1")}}},
		{"UpdateOrder: version moved", []ledger.Op{orderAt("c1", "O1", 3)}},
		{"UpdateOrder: no such order", []ledger.Op{orderAt("c1", "O9", 2)}},
		{"UpdateOrder: order of another contract", []ledger.Op{orderAt("c2", "O1", 2)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openTemp(t)
			seed(t, st)
			before := dump(t, st)
			// Unconditional writes first: they must be rolled back too.
			ops := append([]ledger.Op{
				ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03", Currency: core.Cloud, User: "u1"},
					Credits: dec("1"), Count: 1},
				ledger.PutAttempt{Attempt: ledger.Attempt{ID: "A1", Contract: "c1", User: "u9", Currency: core.Cloud,
					Credits: dec("1"), Reason: "unknown_user", At: t0}},
				ledger.PutBudget{Budget: ledger.Budget{Contract: "c1", Project: "p1", Currency: core.Cloud, MonthlyCap: dec("1")}},
			}, tc.ops...)
			err := st.Apply(context.Background(), ledger.Tx{At: t0, Ops: ops})
			c, ok := asConflict(err)
			if !ok {
				t.Fatalf("Apply = %v, want a *ledger.ConflictError", err)
			}
			if want := len(ops) - 1; c.Op != want {
				t.Errorf("ConflictError.Op = %d (%s), want %d", c.Op, c.Reason, want)
			}
			if !isCode(err, core.CodeConflict) {
				t.Errorf("code = %s, want conflict", core.ErrorCode(err))
			}
			if d := diff(before, dump(t, st)); d != "" {
				t.Errorf("a refused Tx changed the store:%s", d)
			}
		})
	}
}

// TestApplyConditionHolds checks the other side of each condition: the
// boundary case is accepted and written (each op in a Tx of its own).
func TestApplyConditionHolds(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		ops   []ledger.Op
		check func(t *testing.T, st *Store)
	}{
		{"MoveLot: spend to exactly zero at effective_from", []ledger.Op{
			ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-90"), Spent: dec("90")}, LiveAt: t0.Add(-day)},
		}, func(t *testing.T, st *Store) {
			l, _ := st.Lot(ctx, "c1", "L1")
			if l.Remaining.Sign() != 0 || !l.Spent.Equal(dec("90")) {
				t.Errorf("L1 = remaining %s spent %s, want 0 and 90", l.Remaining, l.Spent)
			}
		}},
		{"MoveLot: a nanosecond before expiry", []ledger.Op{
			ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-0.000001"), Spent: dec("0.000001")},
				LiveAt: t0.Add(365*day - 1)},
		}, func(t *testing.T, st *Store) {
			l, _ := st.Lot(ctx, "c1", "L1")
			if want := dec("89.999999"); !l.Remaining.Equal(want) {
				t.Errorf("remaining = %s, want %s", l.Remaining, want)
			}
		}},
		{"MoveLot: a dead lot's held returns to expired without LiveAt", []ledger.Op{
			ledger.CreateLot{Lot: lot("c1", "L9", "5", t0.Add(-2*day), t0.Add(-day))},
			ledger.MoveLot{Lot: "L9", Contract: "c1", Move: ledger.Movement{Remaining: dec("-5"), Expired: dec("5")}},
		}, func(t *testing.T, st *Store) {
			l, _ := st.Lot(ctx, "c1", "L9")
			if !l.Expired.Equal(dec("5")) || !l.Conserves() {
				t.Errorf("L9 = %+v", l)
			}
		}},
		{"UpdateLot: the version read", []ledger.Op{
			func() ledger.Op {
				l := lot("c1", "L1", "100", t0.Add(-day), t0.Add(2*day))
				l.Remaining, l.Held, l.Version = dec("90"), dec("10"), 3 // as the seed's move left it
				return ledger.UpdateLot{Lot: l}
			}(),
			func() ledger.Op {
				l := lot("c1", "L2", "50", t0.Add(day), time.Time{})
				l.WithdrawNoticeAt, l.ClosesAt, l.Version = t0, t0.Add(90*day), 2
				return ledger.UpdateLot{Lot: l}
			}(),
		}, func(t *testing.T, st *Store) {
			l1, _ := st.Lot(ctx, "c1", "L1")
			l2, _ := st.Lot(ctx, "c1", "L2")
			if !l1.End().Equal(t0.Add(2*day)) || !l2.End().Equal(t0.Add(90*day)) || !l2.WithdrawNoticeAt.Equal(t0) || l1.Version != 3 || l2.Version != 2 {
				t.Errorf("ends = %v, %v (versions %d, %d)", l1.End(), l2.End(), l1.Version, l2.Version)
			}
		}},
		{"PutIdempotency: replaces a record that expired at At", []ledger.Op{
			ledger.PutIdempotency{At: t0, Record: ledger.IdempotencyRecord{Contract: "c1", Key: "stale", Fingerprint: "new",
				Response: []byte(`{"n":2}`), CreatedAt: t0, ExpiresAt: t0.Add(day)}},
		}, func(t *testing.T, st *Store) {
			r, ok, err := st.Idempotency(ctx, "c1", "stale", t0)
			if err != nil || !ok || r.Fingerprint != "new" || string(r.Response) != `{"n":2}` {
				t.Errorf("Idempotency = %+v, %v, %v", r, ok, err)
			}
		}},
		{"UpdateHold and UpdateConsumption: the version read", []ledger.Op{
			ledger.UpdateHold{Hold: ledger.Hold{ID: "H1", Contract: "c1", User: "u1", Currency: core.Cloud, Credits: dec("10"),
				State: ledger.HoldSettled, CreatedAt: t0, ExpiresAt: t0.Add(day), ClosedAt: t0, Consumption: "C2", Version: 2}},
			ledger.UpdateConsumption{Consumption: ledger.Consumption{ID: "C1", Contract: "c1", Currency: core.Cloud, Credits: dec("5"),
				Refunded: dec("2"), Returned: []decimal.Decimal{dec("2")}, Version: 2}},
		}, func(t *testing.T, st *Store) {
			h, _ := st.Hold(ctx, "c1", "H1")
			c, _ := st.Consumption(ctx, "c1", "C1")
			if h.State != ledger.HoldSettled || h.Consumption != "C2" || !c.Refunded.Equal(dec("2")) {
				t.Errorf("hold %+v, consumption %+v", h, c)
			}
		}},
		{"AddBudgetUsage: exactly to the cap, a refund past it, uncapped past it", []ledger.Op{
			ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud, Month: "2025-03", Delta: dec("10"), Capped: true, Cap: dec("100")},
			ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud, Month: "2025-03", Delta: dec("-1"), Capped: true, Cap: dec("50")},
			ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud, Month: "2025-03", Delta: dec("1000")},
		}, func(t *testing.T, st *Store) {
			used, _ := st.BudgetUsed(ctx, "c1", "p1", core.Cloud, "2025-03")
			if want := dec("1099"); !used.Equal(want) {
				t.Errorf("used = %s, want %s", used, want)
			}
		}},
		{"AddUsage, PutAttempt, PutBudget: unconditional", []ledger.Op{
			ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03", Currency: core.Cloud, User: "u1"}, Credits: dec("1.5"), Count: 1},
			ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03", Currency: core.Cloud, User: "u1"}, Credits: dec("2.5"), Count: 1},
			ledger.PutAttempt{Attempt: ledger.Attempt{ID: "A1", Contract: "c1", Credits: dec("1"), Reason: "r1", At: t0}},
			ledger.PutAttempt{Attempt: ledger.Attempt{ID: "A1", Contract: "c1", Credits: dec("1"), Reason: "r2", At: t0}},
			ledger.PutBudget{Budget: ledger.Budget{Contract: "c1", Project: "p1", Currency: core.Cloud, MonthlyCap: dec("7")}},
		}, func(t *testing.T, st *Store) {
			u, _ := st.Usage(ctx, "c1", "2025-03", "2025-03")
			a, _ := st.Attempts(ctx, "c1")
			b, ok, _ := st.Budget(ctx, "c1", "p1", core.Cloud)
			if len(u) != 1 || !u[0].Credits.Equal(dec("4")) || u[0].Count != 2 || len(a) != 1 || a[0].Reason != "r2" || !ok || !b.MonthlyCap.Equal(dec("7")) {
				t.Errorf("usage %+v, attempts %+v, budget %+v", u, a, b)
			}
		}},
		{"UpdateOrder: the version read", []ledger.Op{
			orderAt("c1", "O1", 2),
			ledger.PutOrder{Order: pendingOrder("O2")},
		}, func(t *testing.T, st *Store) {
			o1, _ := st.Order(ctx, "c1", "O1")
			o2, _ := st.Order(ctx, "c1", "O2")
			if o1.Status != ledger.OrderFulfilled || o1.Lot != "lot_O1" || o2.Status != ledger.OrderPending {
				t.Errorf("orders %+v, %+v", o1, o2)
			}
		}},
		{"PutUser and UpdateContract: the next version", []ledger.Op{
			ledger.PutUser{User: ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Employee, Entity: "acme", Active: false,
				RemovedAt: t0, Version: 2}},
			ledger.UpdateContract{Contract: ledger.Contract{ID: "c1", Customer: "Acme", Entity: "acme", Start: t0, TerminatedAt: t0, Version: 2}},
			ledger.PutUser{User: ledger.User{Contract: "c1", ID: "u2", Kind: ledger.Guest, Entity: "acme", Version: 1}},
			ledger.MarkGrant{Contract: "c1", User: "u2"},
		}, func(t *testing.T, st *Store) {
			u, _ := st.User(ctx, "c1", "u1")
			c, _ := st.Contract(ctx, "c1")
			g, _ := st.Granted(ctx, "c1", "u2")
			if u.Active || u.Version != 2 || !c.TerminatedAt.Equal(t0) || c.Version != 2 || !g {
				t.Errorf("user %+v, contract %+v, granted %v", u, c, g)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openTemp(t)
			seed(t, st)
			for _, op := range tc.ops { // one Tx each: a Tx adds to a counter once
				apply(t, st, op)
			}
			tc.check(t, st)
		})
	}
}

// TestApplyRefusesBrokenInvariants: a Tx whose movement doesn't conserve,
// or a lot row that no longer conserves, fails the whole Apply with an
// internal error (not a conflict to retry) and writes nothing.
func TestApplyRefusesBrokenInvariants(t *testing.T) {
	st := openTemp(t)
	seed(t, st)
	ctx := context.Background()
	usage := ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: "2025-03"}, Credits: dec("1"), Count: 1}

	before := dump(t, st)
	for name, ops := range map[string][]ledger.Op{
		"non-conserving move": {usage, ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-1")}}},
		"one lot moved twice": {usage,
			ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-1"), Spent: dec("1")}},
			ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-1"), Spent: dec("1")}}},
		"nil op": {usage, nil},
	} {
		err := st.Apply(ctx, ledger.Tx{Ops: ops})
		if _, conflict := asConflict(err); err == nil || conflict || !isCode(err, core.CodeInternal) {
			t.Errorf("%s: Apply = %v, want an internal error", name, err)
		}
		if d := diff(before, dump(t, st)); d != "" {
			t.Errorf("%s changed the store:%s", name, d)
		}
	}

	// Corrupt a lot behind the store's back: the next write to it must see
	// that what it would write does not conserve, and refuse.
	if _, err := st.writer.ExecContext(ctx, "UPDATE lots SET amount = '99' WHERE id = 'L1'"); err != nil {
		t.Fatal(err)
	}
	before = dump(t, st)
	err := st.Apply(ctx, ledger.Tx{Ops: []ledger.Op{usage,
		ledger.MoveLot{Lot: "L1", Contract: "c1", Move: ledger.Movement{Remaining: dec("-1"), Spent: dec("1")}, LiveAt: t0}}})
	if _, conflict := asConflict(err); err == nil || conflict || !isCode(err, core.CodeInternal) {
		t.Errorf("write to a corrupt lot: Apply = %v, want an internal error", err)
	}
	if d := diff(before, dump(t, st)); d != "" {
		t.Errorf("changed the store:%s", d)
	}

	// A time the column can't hold is refused, not wrapped around.
	before = dump(t, st)
	far := lot("c1", "L8", "1", t0, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
	err = st.Apply(ctx, ledger.Tx{Ops: []ledger.Op{usage, ledger.CreateLot{Lot: far}}})
	if !isCode(err, core.CodeInvalidRequest) {
		t.Errorf("year 9999: Apply = %v, want invalid_request", err)
	}
	if d := diff(before, dump(t, st)); d != "" {
		t.Errorf("changed the store:%s", d)
	}
}

func TestReadsRoundTrip(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	c := ledger.Contract{ID: "c1", Customer: "Acme | Co", Entity: "acme", CoveredEntities: []string{"a", "b"},
		ContractorCoverage: true, Start: t0, End: t0.AddDate(2, 0, 0), ExtensionMonths: 3, Channel: "reseller",
		MonthlyBaseline: dec("1234.5"), PlanActive: true, Version: 1}
	l := lot("c1", "L1", "1000000000000", t0, time.Time{})
	l.Kind, l.Owner, l.Order, l.Grant = ledger.Individual, "u1", "o1", "g1"
	h := ledger.Hold{ID: "H1", Contract: "c1", User: "u1", Entity: "acme", Project: "p", Service: "s", Currency: core.Forma,
		Credits: dec("0.000001"), Debits: []ledger.Debit{{Lot: "L1", Credits: dec("0.000001")}}, State: ledger.HoldOpen,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Nanosecond)}
	cons := ledger.Consumption{ID: "C1", Contract: "c1", User: "u1", Entity: "acme", Currency: core.Flex, Credits: dec("3"),
		Debits: []ledger.Debit{{Lot: "L1", Credits: dec("1")}, {Lot: "L2", Credits: dec("2")}}, Hold: "H0", CreatedAt: t0,
		Refunded: dec("1"), Returned: []decimal.Decimal{dec("1"), decimal.Zero}}
	u := ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Contractor, Entity: "acme", CanSpend: true, Active: true, AddedAt: t0, Version: 1}
	o := order("c1", "O1")
	later := order("c1", "O0")
	later.CreatedAt = t0.Add(time.Second) // created later, sorts first by id
	apply(t, st, ledger.PutContract{Contract: c}, ledger.CreateLot{Lot: l}, ledger.PutHold{Hold: h},
		ledger.PutConsumption{Consumption: cons}, ledger.PutUser{User: u}, ledger.PutOrder{Order: o}, ledger.PutOrder{Order: later})

	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"contract", must(st.Contract(ctx, "c1")), c},
		{"lot", must(st.Lot(ctx, "c1", "L1")), l},
		{"lots", must(st.Lots(ctx, "c1", "", ledger.LotsPageMax)), []ledger.Lot{l}},
		{"hold", must(st.Hold(ctx, "c1", "H1")), h},
		{"consumption", must(st.Consumption(ctx, "c1", "C1")), cons},
		{"user", must(st.User(ctx, "c1", "u1")), u},
		{"users", must(st.Users(ctx, "c1")), []ledger.User{u}},
		{"order", must(st.Order(ctx, "c1", "O1")), o},
		{"orders, oldest first", must(st.Orders(ctx, "c1")), []ledger.Order{o, later}},
		{"orders of a contract with none", must(st.Orders(ctx, "c2")), []ledger.Order{}},
	} {
		// JSON, because decimals that are Equal need not be DeepEqual
		// (decimal.Zero has exponent 1; "0" parses with exponent 0).
		if got, want := jsonText(t, tc.got), jsonText(t, tc.want); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
	}

	if lots, err := st.Lots(ctx, "nope", "", ledger.LotsPageMax); err != nil || lots == nil || len(lots) != 0 {
		t.Errorf("Lots(nope) = %#v, %v; want an empty list", lots, err)
	}
	if _, ok, err := st.Budget(ctx, "c1", "p", core.Cloud); ok || err != nil {
		t.Errorf("Budget(absent) = ok %v, %v", ok, err)
	}
	if used, err := st.BudgetUsed(ctx, "c1", "p", core.Cloud, "2025-03"); err != nil || !used.IsZero() {
		t.Errorf("BudgetUsed(absent) = %s, %v", used, err)
	}
	if g, err := st.Granted(ctx, "c1", "u1"); g || err != nil {
		t.Errorf("Granted(absent) = %v, %v", g, err)
	}

	if c, err := st.LotContract(ctx, "L1"); c != "c1" || err != nil {
		t.Errorf("LotContract(L1) = %q, %v; want c1", c, err)
	}
	if _, err := st.LotContract(ctx, "nope"); !isCode(err, core.CodeNotFound) {
		t.Errorf("LotContract(nope) = %v, want not_found", err)
	}
	apply(t, st, ledger.CreateLot{Lot: lot("c2", "L1", "1", t0, time.Time{})})
	if c, err := st.LotContract(ctx, "L1"); err == nil {
		t.Errorf("LotContract(L1 of c1 and c2) = %q, want an error", c)
	}

	if c, err := st.OrderContract(ctx, "O1"); c != "c1" || err != nil {
		t.Errorf("OrderContract(O1) = %q, %v; want c1", c, err)
	}
	if _, err := st.OrderContract(ctx, "nope"); !isCode(err, core.CodeNotFound) {
		t.Errorf("OrderContract(nope) = %v, want not_found", err)
	}
	apply(t, st, ledger.PutOrder{Order: order("c2", "O1")})
	if c, err := st.OrderContract(ctx, "O1"); !isCode(err, core.CodeConflict) {
		t.Errorf("OrderContract(O1 of c1 and c2) = %q, %v; want a conflict", c, err)
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func second[T any](_ T, err error) error { return err }

func TestIdempotencyExpiry(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	r := ledger.IdempotencyRecord{Contract: "c1", Key: "k", Fingerprint: "f", Response: []byte(`{"a":1}`), CreatedAt: t0, ExpiresAt: t0.Add(day)}
	apply(t, st, ledger.PutIdempotency{At: t0, Record: r})
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{t0, true}, {t0.Add(day - 1), true}, {t0.Add(day), false}, {t0.Add(2 * day), false}} {
		got, ok, err := st.Idempotency(ctx, "c1", "k", tc.at)
		if err != nil || ok != tc.want || (ok && !reflect.DeepEqual(got, r)) {
			t.Errorf("Idempotency at %v = %+v, %v, %v; want ok %v", tc.at, got, ok, err, tc.want)
		}
	}
	if _, ok, _ := st.Idempotency(ctx, "c2", "k", t0); ok {
		t.Error("a key of c1 answered for c2")
	}
}

// TestIdempotencyMany: the one read of many keys answers exactly what
// Idempotency answers for each: a live record, nothing for an expired one,
// another scope's or a key without one.
func TestIdempotencyMany(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	rec := func(scope, key string, expires time.Time) ledger.IdempotencyRecord {
		return ledger.IdempotencyRecord{Contract: scope, Key: key, Fingerprint: "f-" + key, Response: []byte(`{"k":"` + key + `"}`),
			CreatedAt: t0.Add(-time.Hour), ExpiresAt: expires}
	}
	live, expired, other := rec("c1", "live", t0.Add(day)), rec("c1", "expired", t0), rec("c2", "other", t0.Add(day))
	for _, r := range []ledger.IdempotencyRecord{live, expired, other} {
		apply(t, st, ledger.PutIdempotency{At: t0.Add(-time.Hour), Record: r})
	}
	got, err := st.IdempotencyMany(ctx, "c1", []string{"live", "expired", "other", "none", `"q"\`}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got["live"], live) {
		t.Errorf("IdempotencyMany = %+v; want only the live record of c1", got)
	}
	for _, key := range []string{"live", "expired", "other", "none"} {
		one, ok, err := st.Idempotency(ctx, "c1", key, t0)
		if many, inMany := got[key]; err != nil || ok != inMany || !reflect.DeepEqual(one, many) {
			t.Errorf("key %s: Idempotency %+v, %v, %v; IdempotencyMany %+v, %v", key, one, ok, err, many, inMany)
		}
	}
	if got, err := st.IdempotencyMany(ctx, "c1", nil, t0); err != nil || len(got) != 0 {
		t.Errorf("no keys: %v, %v; want an empty answer", got, err)
	}
}

func TestSweeperLists(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	ended := lot("c1", "ended", "5", t0.Add(-2*day), t0.Add(-day))
	atNow := lot("c2", "atnow", "5", t0.Add(-2*day), t0)
	// Finished lots (nothing left): handed to the sweep to retire once
	// ledger.RetireGrace has passed since their end, and nothing held.
	empty := lot("c1", "empty", "5", t0.Add(-2*day), t0.Add(-ledger.RetireGrace))
	empty.Remaining, empty.Spent = decimal.Zero, dec("5")
	recent := lot("c1", "recent", "5", t0.Add(-2*day), t0.Add(1-ledger.RetireGrace))
	recent.Remaining, recent.Spent = decimal.Zero, dec("5")
	holding := lot("c1", "holding", "5", t0.Add(-2*day), t0.Add(-2*ledger.RetireGrace))
	holding.Remaining, holding.Held = decimal.Zero, dec("5")
	retired := lot("c1", "retired", "5", t0.Add(-3*day), t0.Add(-2*ledger.RetireGrace))
	retired.Remaining, retired.Spent, retired.Retired = decimal.Zero, dec("5"), true
	closed := lot("c2", "closed", "5", t0.Add(-2*day), time.Time{})
	closed.WithdrawNoticeAt, closed.ClosesAt = t0.Add(-3*day), t0.Add(-time.Hour)
	later := lot("c1", "later", "5", t0.Add(-2*day), t0.Add(1))
	never := lot("c1", "never", "5", t0.Add(-2*day), time.Time{})
	hold := func(id string, state ledger.HoldState, expires time.Time) ledger.Op {
		return ledger.PutHold{Hold: ledger.Hold{ID: id, Contract: "c1", State: state, Credits: dec("1"), CreatedAt: t0.Add(-day), ExpiresAt: expires}}
	}
	apply(t, st, ledger.CreateLot{Lot: ended}, ledger.CreateLot{Lot: atNow}, ledger.CreateLot{Lot: empty},
		ledger.CreateLot{Lot: recent}, ledger.CreateLot{Lot: holding}, ledger.CreateLot{Lot: retired},
		ledger.CreateLot{Lot: closed}, ledger.CreateLot{Lot: later}, ledger.CreateLot{Lot: never},
		hold("h-past", ledger.HoldOpen, t0.Add(-time.Hour)), hold("h-now", ledger.HoldOpen, t0),
		hold("h-later", ledger.HoldOpen, t0.Add(1)), hold("h-settled", ledger.HoldSettled, t0.Add(-time.Hour)))

	var ids []string
	for _, l := range must(st.EndedLots(ctx, t0, 100)) {
		ids = append(ids, l.Contract+"/"+l.ID)
	}
	if want := []string{"c1/empty", "c1/ended", "c2/closed", "c2/atnow"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("EndedLots = %v, want %v", ids, want)
	}
	if got := must(st.EndedLots(ctx, t0, 1)); len(got) != 1 {
		t.Errorf("EndedLots limit 1 = %d lots", len(got))
	}
	ids = nil
	for _, h := range must(st.ExpiredHolds(ctx, t0, 100)) {
		ids = append(ids, h.ID)
	}
	if want := []string{"h-past", "h-now"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ExpiredHolds = %v, want %v", ids, want)
	}

	// The lists are served by their partial indexes, in their order: no
	// table scan, no sort.
	wantPlans(t, st, "TEMP B-TREE", []planCase{
		{"EndedLots", rEndedLots, "USING INDEX lots_sweep", []any{0, 0, 1}},
		{"LotsEndingWithin", rLotsEnding, "USING INDEX lots_sweep", []any{0, 1, 1}},
		{"ExpiredHolds", rExpiredHolds, "USING INDEX holds_open_expiry", []any{0, 1}},
	})
}

func queryPlan(t *testing.T, st *Store, q string, args ...any) string {
	t.Helper()
	rows, err := st.reader.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "; ")
}

func TestEntriesAndUsageOrder(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	l := lot("c1", "L1", "10", t0, time.Time{})
	var ops []ledger.Op
	ops = append(ops, ledger.CreateLot{Lot: l})
	// Ids that sort differently from the order they were written in.
	for _, id := range []string{"z", "a", "m", "b"} {
		ops = append(ops, ledger.PutEntry{Entry: ledger.Entry{ID: id, Contract: "c1", Lot: "L1", Currency: core.Cloud,
			Kind: ledger.EntryConsume, Credits: dec("1"), At: t0}})
	}
	for _, m := range []string{"2025-01", "2025-02", "2025-03", "2025-04"} {
		ops = append(ops, ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: m, Currency: core.Cloud}, Credits: dec("1"), Count: 1})
	}
	apply(t, st, ops...)
	var ids []string
	for _, e := range must(st.Entries(ctx, "c1", "L1")) {
		ids = append(ids, e.ID)
	}
	if want := []string{"z", "a", "m", "b"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Entries = %v, want %v (write order)", ids, want)
	}
	var months []string
	for _, u := range must(st.Usage(ctx, "c1", "2025-02", "2025-03")) {
		months = append(months, u.Key.Month)
	}
	if want := []string{"2025-02", "2025-03"}; !reflect.DeepEqual(months, want) {
		t.Errorf("Usage months = %v, want %v", months, want)
	}
}

func TestDump(t *testing.T) {
	st := openTemp(t)
	seed(t, st)
	apply(t, st, ledger.PutAttempt{Attempt: ledger.Attempt{ID: "A1", Contract: "c1", User: "u9", Currency: core.Cloud,
		Credits: dec("1"), Reason: "unknown_user", At: t0}})
	d := dump(t, st)
	if !sortedStrings(d) {
		t.Error("Dump is not sorted")
	}
	seen := map[string]bool{}
	for _, l := range d {
		table, _, _ := strings.Cut(l, "|")
		seen[table] = true
	}
	for _, table := range []string{"contracts", "users", "grants", "lots", "entries", "holds", "consumptions",
		"idempotency", "budgets", "budget_usage", "attempts", "orders"} {
		if !seen[table] {
			t.Errorf("Dump has no %s line", table)
		}
	}
	want := "lots|contract=c1|id=L1|currency=cloud|kind=shared|owner=\"\"|source=purchase|grant_id=L1|order_id=\"\"|" +
		"amount=100|remaining=90|held=10|spent=0|expired=0|withdrawn=0|refunded=0|" +
		"granted_at=2025-03-13T09:26:53.589793238Z|effective_at=2025-03-13T09:26:53.589793238Z|" +
		"expires_at=2026-03-14T09:26:53.589793238Z|notice_at=null|closes_at=null|end_at=2026-03-14T09:26:53.589793238Z|version=2|retired=0"
	wantOrder := "orders|contract=c1|id=O1|status=pending|currency=cloud|credits=100|packs=1|channel=eba|unit_price=1.25|" +
		"total=125|money_currency=usd|price_book_version=cloud-2024-01|payment=invoice|provider=\"\"|session_id=\"\"|" +
		"checkout_url=\"\"|test_mode=0|quote_id=\"\"|lot=\"\"|created_at=2025-03-14T09:26:53.589793238Z|paid_at=null|" +
		"fulfilled_at=null|cancelled_at=null|version=1"
	for _, w := range []string{want, wantOrder} {
		found := false
		for _, l := range d {
			found = found || l == w
		}
		if !found {
			t.Errorf("Dump has no line\n%s\nin\n%s", w, strings.Join(d, "\n"))
		}
	}
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] > s[i] {
			return false
		}
	}
	return true
}

// TestOpen checks the settings the package promises, the migration
// bookkeeping, and that a database from a newer program is refused.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	var sync, version, fk int
	row := st.writer.QueryRow("SELECT * FROM pragma_journal_mode, pragma_synchronous, pragma_user_version, pragma_foreign_keys")
	if err := row.Scan(&mode, &sync, &version, &fk); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || sync != 2 || version != len(migrations) || fk != 1 {
		t.Errorf("journal_mode %s, synchronous %d, user_version %d, foreign_keys %d; want wal, 2, %d, 1", mode, sync, version, fk, len(migrations))
	}
	if _, err := st.reader.Exec("INSERT INTO grants VALUES ('c', 'u')"); err == nil {
		t.Error("a reader connection accepted a write")
	}
	apply(t, st, ledger.MarkGrant{Contract: "c", User: "u"})
	st.Close()

	// Reopening keeps the data and runs no migration again.
	st, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if g, _ := st.Granted(context.Background(), "c", "u"); !g {
		t.Error("reopened store lost a write")
	}
	if _, err := st.writer.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(newer schema) = %v, want a refusal", err)
	}

	for _, bad := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "a?b.db")} {
		if _, err := Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil && !os.IsNotExist(err) {
		t.Error(err)
	}
}

// TestBeginImmediate proves the writer's transactions take the write lock at
// BEGIN (the DSN's _txlock=immediate): while one is open, another
// connection's BEGIN IMMEDIATE is refused at once, before it has written
// anything. With a deferred BEGIN both would start and one would fail later,
// at its first write, after having read.
func TestBeginImmediate(t *testing.T) {
	st := openTemp(t)
	tx, err := st.writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	impatient := strings.Replace(dsn(st.Path(), false), "busy_timeout%2810000%29", "busy_timeout%280%29", 1)
	if impatient == dsn(st.Path(), false) {
		t.Fatal("could not lower the busy timeout in the DSN")
	}
	other, err := sql.Open("sqlite", impatient)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx2, err := other.Begin()
	if err == nil {
		tx2.Rollback()
		t.Fatal("a second BEGIN IMMEDIATE succeeded while the first transaction was open")
	}
	if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
		t.Errorf("second BEGIN: %v, want SQLITE_BUSY", err)
	}
}

// TestMigratesAVersion1Database: a database made before orders existed
// (schema version 1, with data) opens at the current version, keeps its
// data, and takes orders.
func TestMigratesAVersion1Database(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations[0], "INSERT INTO grants VALUES ('c1', 'u1')", "PRAGMA user_version = 1"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	db.Close()

	st, err := Open(path)
	if err != nil {
		t.Fatalf("Open(version 1): %v", err)
	}
	defer st.Close()
	var version int
	if err := st.writer.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != len(migrations) {
		t.Errorf("user_version = %d, %v; want %d", version, err, len(migrations))
	}
	if g, err := st.Granted(context.Background(), "c1", "u1"); !g || err != nil {
		t.Errorf("Granted after migration = %v, %v; want the version 1 row", g, err)
	}
	apply(t, st, ledger.PutOrder{Order: pendingOrder("O1")})
	if o, err := st.Order(context.Background(), "c1", "O1"); err != nil || o.Status != ledger.OrderPending {
		t.Errorf("Order after migration = %+v, %v", o, err)
	}
}

// TestMigratesTheSweepIndex: a database made at schema version 9 (whose
// sweep list was lots_ended, lots with credits left) opens with lots_sweep
// in its place, and the sweep finds the lots it held before.
func TestMigratesTheSweepIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := lotValues(lot("c1", "ended", "5", t0.Add(-2*day), t0.Add(-day)))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(slices.Clone(migrations[:9]), "PRAGMA user_version = 9") {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	if _, err := db.Exec(insertSQL("lots", lotCols, ""), vals...); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st, err := Open(path)
	if err != nil {
		t.Fatalf("Open(version 9): %v", err)
	}
	defer st.Close()
	indexes := must(many(context.Background(), st, scanText, "indexes", unbounded,
		"SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'lots' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
	if want := "[lots_currency_end lots_id lots_owner lots_pool lots_sweep]"; fmt.Sprint(indexes) != want {
		t.Errorf("indexes on lots after migrating: %v; want %s", indexes, want)
	}
	if got := must(st.EndedLots(context.Background(), t0, 10)); len(got) != 1 || got[0].ID != "ended" {
		t.Errorf("EndedLots after migrating = %v; want the ended lot", got)
	}
}

// TestReadSpendContractAndUser: the one read of a spend's contract and
// user answers as Contract and User do: the user when on the contract
// (another contract's user of that id is not), nil when not, and
// not_found for a contract that does not exist.
func TestReadSpendContractAndUser(t *testing.T) {
	st := openTemp(t)
	seed(t, st)
	ctx := context.Background()
	other := ledger.Contract{ID: "c2", Customer: "Other", Entity: "o", CoveredEntities: []string{}, MonthlyBaseline: dec("1"), Version: 1}
	apply(t, st, ledger.PutContract{Contract: other},
		ledger.PutUser{User: ledger.User{Contract: "c2", ID: "u2", Kind: ledger.Contractor, Entity: "o", Active: true, Version: 1}})
	for _, tc := range []struct{ contract, user string }{{"c1", "u1"}, {"c1", "u2"}, {"c2", "u2"}, {"c2", "u1"}} {
		got, err := st.ReadSpend(ctx, ledger.SpendQuery{Contract: tc.contract, User: tc.user, Currency: core.Cloud, At: t0})
		if err != nil {
			t.Fatalf("ReadSpend(%s, %s): %v", tc.contract, tc.user, err)
		}
		wantC := must(st.Contract(ctx, tc.contract))
		wantU, uerr := st.User(ctx, tc.contract, tc.user)
		if !reflect.DeepEqual(got.Contract, wantC) {
			t.Errorf("ReadSpend(%s, %s) contract %+v; want %+v", tc.contract, tc.user, got.Contract, wantC)
		}
		switch {
		case uerr == nil && (got.User == nil || !reflect.DeepEqual(*got.User, wantU)):
			t.Errorf("ReadSpend(%s, %s) user %+v; want %+v", tc.contract, tc.user, got.User, wantU)
		case uerr != nil && got.User != nil:
			t.Errorf("ReadSpend(%s, %s) user %+v; want none (%v)", tc.contract, tc.user, *got.User, uerr)
		}
	}
	if _, err := st.ReadSpend(ctx, ledger.SpendQuery{Contract: "c9", User: "u1", Currency: core.Cloud, At: t0}); !isCode(err, core.CodeNotFound) {
		t.Errorf("ReadSpend of a contract that does not exist: %v; want not_found", err)
	}
}
