package storetest

import (
	"errors"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// planned returns the Tx of a hand-made plan.
func (h *harness) planned(dec ledger.Decision, err error) ledger.Tx {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("plan: %v", err)
	}
	if len(dec.Tx.Ops) == 0 {
		h.t.Fatal("plan produced no writes")
	}
	return dec.Tx
}

func poolWorld(h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "pool", "100")
}

func testStaleTerminated(t *testing.T, h *harness) {
	poolWorld(h)
	r := req("alice", "10")
	tx := h.planned(ledger.PlanConsume(h.stale(r), r, h.key(), h.env()))
	if _, err := h.svc.Terminate(h.ctx, "acme", h.clk.Now(), h.key()); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "a debit of a lot ended by termination", tx)
	h.wantLot("acme", "pool", counters{remaining: "100"})
}

func testStaleRemoved(t *testing.T, h *harness) {
	h.contract()
	ind := h.employee("acme", "alice")
	r := req("alice", "10")
	tx := h.planned(ledger.PlanConsume(h.stale(r), r, h.key(), h.env()))
	if _, err := h.svc.RemoveUser(h.ctx, "acme", "alice", h.key()); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "a debit of a lot whose owner was removed", tx)
	h.wantLot("acme", ind.ID, counters{remaining: "100"})
}

func testStaleNotEffective(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.clk.Set(t0.Add(time.Hour))
	h.grant("acme", "future", "100") // effective from t0+1h
	r := req("alice", "10")
	st := h.stale(r)
	for i := range st.Lots {
		st.Lots[i].EffectiveFrom = t0 // a misread: pretend it was effective earlier
	}
	env := h.env()
	env.At = t0.Add(30 * time.Minute)
	tx := h.planned(ledger.PlanConsume(st, r, h.key(), env))
	h.wantConflict(t, "a debit before the lot is effective", tx)
}

func testStaleBalance(t *testing.T, h *harness) {
	poolWorld(h)
	r := req("alice", "80")
	tx := h.planned(ledger.PlanConsume(h.stale(r), r, h.key(), h.env()))
	h.consume(req("alice", "30"))
	h.wantConflict(t, "a debit planned on a stale balance", tx)
	h.wantLot("acme", "pool", counters{remaining: "70", spent: "30"})
	// Re-planned by the Service, the same request is refused cleanly.
	_, err := h.tryConsume(r, h.key())
	wantCode(t, err, core.CodeInsufficientCredits)
}

func testStaleIdempotency(t *testing.T, h *harness) {
	poolWorld(h)
	r := req("alice", "10")
	k := ledger.Idem{Key: "twice", Fingerprint: ledger.Fingerprint("consume", []byte(r.User+" "+r.Credits.String()))}
	st := h.stale(r)
	first := h.planned(ledger.PlanConsume(st, r, k, h.env()))
	second := h.planned(ledger.PlanConsume(st, r, k, h.env()))
	if err := h.st.Apply(h.ctx, first); err != nil {
		t.Fatalf("apply the first: %v", err)
	}
	h.wantConflict(t, "a second Tx under the same key", second)
	h.wantLot("acme", "pool", counters{remaining: "90", spent: "10"})
}

func testStaleSettle(t *testing.T, h *harness) {
	poolWorld(h)
	hr := h.hold(req("alice", "10"))
	in := ledger.HoldInput{Hold: h.getHold("acme", hr.HoldID), State: h.stale(req("alice", "1"))}
	tx := h.planned(ledger.PlanSettle(in, d("5"), h.key(), h.env()))
	if _, err := h.release("acme", hr.HoldID); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "settling a released hold", tx)
	h.wantLot("acme", "pool", counters{remaining: "100"})
}

func testStaleRelease(t *testing.T, h *harness) {
	poolWorld(h)
	hr := h.hold(req("alice", "10"))
	in := ledger.HoldInput{Hold: h.getHold("acme", hr.HoldID), State: h.stale(req("alice", "1"))}
	tx := h.planned(ledger.PlanRelease(in, h.key(), h.env(), false))
	if _, err := h.svc.Terminate(h.ctx, "acme", h.clk.Now(), h.key()); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "a release into a lot that has ended", tx)
	// Re-planned now, the release sends the credits to expired.
	if _, err := h.release("acme", hr.HoldID); err != nil {
		t.Fatal(err)
	}
	h.wantLot("acme", "pool", counters{remaining: "90", expired: "10"})
}

func testStaleRefund(t *testing.T, h *harness) {
	poolWorld(h)
	c := h.consume(req("alice", "50"))
	stale := h.getConsumption("acme", c.ConsumptionID)
	tx := h.planned(ledger.PlanRefund(stale, ledger.SpendState{Lots: h.lots("acme")}, decimal.Zero, h.key(), h.env()))
	h.mustRefund("acme", c.ConsumptionID, "10")
	h.wantConflict(t, "a refund planned before another refund", tx)
	wantEqual(t, "refunded", h.getConsumption("acme", c.ConsumptionID).Refunded, d("10"))
}

func testStaleBudget(t *testing.T, h *harness) {
	poolWorld(h)
	h.budget("acme", "bridge", "100")
	r := req("alice", "60", project("bridge"))
	st := h.stale(r)
	first := h.planned(ledger.PlanConsume(st, r, h.key(), h.env()))
	second := h.planned(ledger.PlanConsume(st, r, h.key(), h.env()))
	if err := h.st.Apply(h.ctx, first); err != nil {
		t.Fatalf("apply the first: %v", err)
	}
	h.wantConflict(t, "a second spend over the cap", second)
	wantEqual(t, "usage", h.budgetUsed("acme", "bridge", "2031-03"), d("60"))
}

func testStaleGrant(t *testing.T, h *harness) {
	c := h.contract()
	ur := ledger.UserRequest{User: "alice", Kind: ledger.Employee, Entity: "acme-us", CanSpend: true}
	if err := h.st.Apply(h.ctx, h.planned(ledger.PlanAddUser(c, nil, false, ur, nil, h.key(), h.env()))); err != nil {
		t.Fatal(err)
	}
	u, err := h.st.User(h.ctx, "acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Planned as if the grant had not been made: the user's version is
	// current, so only the grant mark's condition can stop it.
	h.wantConflict(t, "a second individual grant", h.planned(ledger.PlanAddUser(c, &u, false, ur, nil, h.key(), h.env())))
	if n := len(h.lots("acme")); n != 1 {
		t.Errorf("%d lots, want 1", n)
	}
}

func testStaleWithdraw(t *testing.T, h *harness) {
	h.contract()
	ind := h.employee("acme", "alice")
	tx := h.planned(ledger.PlanWithdrawLot(h.lot("acme", ind.ID), "", h.clk.Now(), nil, h.key(), h.env()))
	h.clk.Advance(time.Minute)
	if _, err := h.svc.RemoveUser(h.ctx, "acme", "alice", h.key()); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "a withdrawal of a lot ended meanwhile", tx)
}

func testConditions(t *testing.T, h *harness) {
	w := newConditionsWorld(t, h)
	for _, f := range w.failingOps(t, h) {
		w.wantWholeTxRefused(t, h, f.what, f.op)
	}
	w.goodWritesApply(t, h)
}

// conditionsWorld is a contract with one of every record, read back as
// stored, for hand-made ops against it.
type conditionsWorld struct {
	individual string // alice's individual lot
	hold       ledger.Hold
	cons       ledger.Consumption
	consKey    ledger.Idem
	contract   ledger.Contract
	user       ledger.User
	entry      ledger.Entry
	lot        ledger.Lot // the shared pool
	at         time.Time
	spend      ledger.Movement // one credit from remaining to spent
}

func newConditionsWorld(t *testing.T, h *harness) conditionsWorld {
	h.contract()
	ind := h.employee("acme", "alice")
	h.grant("acme", "pool", "100")
	hr := h.hold(req("alice", "10"))
	w := conditionsWorld{individual: ind.ID, consKey: h.key(), spend: ledger.Movement{Remaining: d("-1"), Spent: d("1")}}
	c, err := h.tryConsume(req("alice", "10"), w.consKey)
	if err != nil {
		t.Fatal(err)
	}
	w.hold = h.getHold("acme", hr.HoldID)
	w.cons = h.getConsumption("acme", c.ConsumptionID)
	if w.contract, err = h.st.Contract(h.ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if w.user, err = h.st.User(h.ctx, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	w.entry = h.entries("acme", "pool")[0]
	w.lot = h.lot("acme", "pool")
	w.at = h.clk.Now()
	return w
}

// failingOps are the ops whose condition fails against the world, one of
// each kind of write.
func (w conditionsWorld) failingOps(t *testing.T, h *harness) []struct {
	what string
	op   ledger.Op
} {
	spend, at, lot := w.spend, w.at, w.lot
	closedHold := w.hold
	closedHold.State, closedHold.Version = ledger.HoldReleased, w.hold.Version+2
	refunded := w.cons
	refunded.Refunded, refunded.Version = d("1"), w.cons.Version+2
	endedLot := lot
	endedLot.ExpiresAt, endedLot.Version = at, lot.Version // not the version after the read: a stale write
	missingLot := lot
	missingLot.ID, missingLot.Version = "nope", 2
	newer := w.contract
	newer.Version += 2
	later := w.user
	later.Version += 2
	return []struct {
		what string
		op   ledger.Op
	}{
		{"creating a contract that exists", ledger.PutContract{Contract: w.contract}},
		{"updating a contract from a version that is not current", ledger.UpdateContract{Contract: newer}},
		{"creating a user that exists", ledger.PutUser{User: func() ledger.User { u := w.user; u.Version = 1; return u }()}},
		{"updating a user from a version that is not current", ledger.PutUser{User: later}},
		{"marking a grant twice", ledger.MarkGrant{Contract: "acme", User: "alice"}},
		{"creating a lot that exists", ledger.CreateLot{Lot: lot}},
		{"moving a lot that does not exist", ledger.MoveLot{Lot: "nope", Contract: "acme", Move: spend}},
		{"moving a lot in the wrong contract", ledger.MoveLot{Lot: "pool", Contract: "globex", Move: spend}},
		{"moving a lot's remaining below zero", ledger.MoveLot{Lot: "pool", Contract: "acme", Move: ledger.Movement{Remaining: d("-1000"), Spent: d("1000")}}},
		{"moving a lot's held below zero", ledger.MoveLot{Lot: "pool", Contract: "acme", Move: ledger.Movement{Held: d("-1000"), Remaining: d("1000")}}},
		{"debiting a lot at its end", ledger.MoveLot{Lot: "pool", Contract: "acme", Move: spend, LiveAt: lot.ExpiresAt}},
		{"debiting a lot before it is effective", ledger.MoveLot{Lot: "pool", Contract: "acme", Move: spend, LiveAt: lot.EffectiveFrom.Add(-time.Nanosecond)}},
		{"ending a lot that changed since it was read", ledger.UpdateLot{Lot: endedLot}},
		{"ending a lot that does not exist", ledger.UpdateLot{Lot: missingLot}},
		{"appending an entry that exists", ledger.PutEntry{Entry: w.entry}},
		{"creating a hold that exists", ledger.PutHold{Hold: w.hold}},
		{"updating a hold from a version it is not at", ledger.UpdateHold{Hold: closedHold}},
		{"creating a consumption that exists", ledger.PutConsumption{Consumption: w.cons}},
		{"updating a consumption from a version it is not at", ledger.UpdateConsumption{Consumption: refunded}},
		{"storing a result under a live key", func() ledger.Op {
			rec, ok, err := h.st.Idempotency(h.ctx, "acme", w.consKey.Key, at)
			if err != nil || !ok {
				t.Fatalf("the consumption's record: %v, %v", ok, err)
			}
			rec.Fingerprint = "other"
			return ledger.PutIdempotency{Record: rec, At: at}
		}()},
		{"a capped budget counter crossing its cap", ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-03", Delta: d("5"), Capped: true, Cap: d("4")}},
	}
}

// debitAndEntry are writes that succeed alone: a debit of alice's
// individual lot and its entry.
func (w conditionsWorld) debitAndEntry() []ledger.Op {
	return []ledger.Op{
		ledger.MoveLot{Lot: w.individual, Contract: "acme", Move: w.spend, LiveAt: w.at},
		ledger.PutEntry{Entry: ledger.Entry{ID: "hand-entry", Contract: "acme", Lot: w.individual, Currency: core.Cloud,
			Kind: ledger.EntryConsume, Credits: d("1"), Move: w.spend, Ref: "hand", At: w.at}},
	}
}

// wantWholeTxRefused applies failing last, after writes that would succeed
// alone (a debit, its entry and a roll-up): the Tx must be refused as a
// conflict naming the failing op, and change nothing.
func (w conditionsWorld) wantWholeTxRefused(t *testing.T, h *harness, what string, failing ledger.Op) {
	good := append(w.debitAndEntry(),
		ledger.AddUsage{Key: ledger.UsageKey{Contract: "acme", Month: "2031-03", Currency: core.Cloud, User: "alice"}, Credits: d("1"), Count: 1},
		ledger.AddBudgetUsage{Contract: "acme", Project: "q", Currency: core.Cloud, Month: "2031-03", Delta: d("1")},
	)
	tx := ledger.Tx{At: w.at, Ops: append(good, failing)}
	before := h.dump()
	err := h.st.Apply(h.ctx, tx)
	var conflict *ledger.ConflictError
	if !errors.As(err, &conflict) {
		t.Errorf("%s: Apply = %v, want a *ledger.ConflictError", what, err)
	} else if conflict.Op != len(good) && conflict.Op != -1 {
		t.Errorf("%s: the conflict names op %d, want %d (or -1 when unknown)", what, conflict.Op, len(good))
	}
	h.unchanged(t, what, before)
}

// goodWritesApply: the same good writes alone apply, so the refusals above
// were the failing op's doing; a capped counter may reach its cap exactly.
func (w conditionsWorld) goodWritesApply(t *testing.T, h *harness) {
	before := h.dump()
	ops := append(w.debitAndEntry(),
		ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-03", Delta: d("4"), Capped: true, Cap: d("4")})
	if err := h.st.Apply(h.ctx, ledger.Tx{At: w.at, Ops: ops}); err != nil {
		t.Fatalf("the good writes alone: %v", err)
	}
	if equalLines(before, h.dump()) {
		t.Error("the good writes changed nothing")
	}
	h.wantLot("acme", w.individual, counters{remaining: "79", held: "10", spent: "11"})
	wantEqual(t, "a counter exactly at its cap", h.budgetUsed("acme", "p", "2031-03"), d("4"))
}

func equalLines(a, b []string) bool {
	added, removed := diffLines(a, b)
	return len(added)+len(removed) == 0
}
