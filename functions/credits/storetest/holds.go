package storetest

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// twoLots makes contract acme without individual grants, user alice, and
// shared lots A (30, ending in 10 days) and B (100, 12 months).
func twoLots(h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "A", "30", sunset(t0.Add(10*day)))
	h.grant("acme", "B", "100")
}

func testHoldReserves(t *testing.T, h *harness) {
	twoLots(h)
	r := h.hold(req("alice", "50", project("bridge")))
	if got := debitsString(r.Debits); got != "A:30,B:20" {
		t.Errorf("hold debits = %s, want A:30,B:20", got)
	}
	wantTime(t, "hold expiry", r.ExpiresAt, t0.Add(24*time.Hour))
	wantEqual(t, "balance_after", r.BalanceAfter, d("80"))
	x := h.getHold("acme", r.HoldID)
	if x.State != ledger.HoldOpen || !x.Credits.Equal(d("50")) || debitsString(x.Debits) != "A:30,B:20" ||
		x.User != "alice" || x.Project != "bridge" || x.Currency != core.Cloud {
		t.Errorf("stored hold = %+v", x)
	}
	wantTime(t, "stored hold created", x.CreatedAt, t0)
	wantTime(t, "stored hold expiry", x.ExpiresAt, t0.Add(24*time.Hour))
	h.wantLot("acme", "A", counters{held: "30"})
	h.wantLot("acme", "B", counters{remaining: "80", held: "20"})
	wantEqual(t, "balance", h.balance("acme", "alice"), d("80"))
	for lot, want := range map[string]string{"A": "30", "B": "20"} {
		var found []ledger.Entry
		for _, e := range h.entries("acme", lot) {
			if e.Ref == r.HoldID {
				found = append(found, e)
			}
		}
		if len(found) != 1 || found[0].Kind != ledger.EntryHold || !found[0].Credits.Equal(d(want)) {
			t.Errorf("entries of %s referencing the hold = %+v, want one hold entry of %s", lot, found, want)
		}
	}
	if hs, err := h.st.ExpiredHolds(h.ctx, x.ExpiresAt.Add(-time.Nanosecond), 10); err != nil || len(hs) != 0 {
		t.Errorf("ExpiredHolds before the expiry = %v, %v; want none", hs, err)
	}
	if hs, err := h.st.ExpiredHolds(h.ctx, x.ExpiresAt, 10); err != nil || len(hs) != 1 || hs[0].ID != r.HoldID {
		t.Errorf("ExpiredHolds at the expiry = %v, %v; want the hold", hs, err)
	}
	custom := h.hold(req("alice", "1", holdFor(90*time.Minute)))
	wantTime(t, "a hold's own expiry", custom.ExpiresAt, t0.Add(90*time.Minute))
}

func settleCase(t *testing.T, h *harness, actual, debits, released string, a, b counters) ledger.SettleResult {
	t.Helper()
	twoLots(h)
	hr := h.hold(req("alice", "50"))
	at := h.clk.Advance(time.Minute)
	res := h.mustSettle("acme", hr.HoldID, actual)
	if got := debitsString(res.Debits); got != debits {
		t.Errorf("settlement debits = %s, want %s", got, debits)
	}
	wantEqual(t, "released", res.Released, d(released))
	wantEqual(t, "held", res.Held, d("50"))
	x := h.getHold("acme", hr.HoldID)
	if x.State != ledger.HoldSettled || x.Consumption != res.ConsumptionID {
		t.Errorf("hold after settling = %+v, want settled into %s", x, res.ConsumptionID)
	}
	wantTime(t, "hold closed at", x.ClosedAt, at)
	c := h.getConsumption("acme", res.ConsumptionID)
	if c.Hold != hr.HoldID || !c.Credits.Equal(d(actual)) || debitsString(c.Debits) != debits {
		t.Errorf("consumption = %+v, want %s from the hold, debits %s", c, actual, debits)
	}
	h.wantLot("acme", "A", a)
	h.wantLot("acme", "B", b)
	return res
}

func testSettleBelow(t *testing.T, h *harness) {
	settleCase(t, h, "35", "A:30,B:5", "15", counters{spent: "30"}, counters{remaining: "95", spent: "5"})
	var rel []ledger.Entry
	for _, e := range h.entries("acme", "B") {
		if e.Kind == ledger.EntryRelease {
			rel = append(rel, e)
		}
	}
	if len(rel) != 1 || !rel[0].Credits.Equal(d("15")) {
		t.Errorf("release entries on B = %+v, want one of 15", rel)
	}
}

func testSettleEqual(t *testing.T, h *harness) {
	settleCase(t, h, "50", "A:30,B:20", "0", counters{spent: "30"}, counters{remaining: "80", spent: "20"})
}

func testSettleAbove(t *testing.T, h *harness) {
	settleCase(t, h, "70", "A:30,B:20,B:20", "0", counters{spent: "30"}, counters{remaining: "60", spent: "40"})
}

func testSettleAboveInsufficient(t *testing.T, h *harness) {
	twoLots(h)
	hr := h.hold(req("alice", "50"))
	before := h.dump()
	_, err := h.settle("acme", hr.HoldID, "130.5")
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "80" {
		t.Errorf("available = %v, want 80", e.Details["available"])
	}
	h.unchanged(t, "an insufficient settlement", before)
	if x := h.getHold("acme", hr.HoldID); x.State != ledger.HoldOpen {
		t.Errorf("hold state = %s, want still open", x.State)
	}
	h.mustSettle("acme", hr.HoldID, "130")
	h.wantLot("acme", "B", counters{spent: "100"})
}

func testRelease(t *testing.T, h *harness) {
	twoLots(h)
	hr := h.hold(req("alice", "50"))
	out, err := h.svc.Release(h.ctx, "acme", hr.HoldID, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.ReleaseResult
	decode(t, out, &res)
	wantEqual(t, "released", res.Released, d("50"))
	if x := h.getHold("acme", hr.HoldID); x.State != ledger.HoldReleased || x.Consumption != "" {
		t.Errorf("hold after release = %+v", x)
	}
	h.wantLot("acme", "A", counters{remaining: "30"})
	h.wantLot("acme", "B", counters{remaining: "100"})
}

func testHoldExpiry(t *testing.T, h *harness) {
	twoLots(h)
	early := h.hold(req("alice", "10", holdFor(time.Hour)))
	late := h.hold(req("alice", "40", holdFor(time.Hour)))
	h.clk.Set(t0.Add(time.Hour - time.Nanosecond))
	h.mustSettle("acme", early.HoldID, "10")
	h.clk.Set(t0.Add(time.Hour))
	before := h.dump()
	_, err := h.settle("acme", late.HoldID, "40")
	wantCode(t, err, core.CodeHoldExpired)
	h.unchanged(t, "settling an expired hold", before)

	rep := h.sweep()
	if rep.HoldsReleased != 1 {
		t.Errorf("sweep released %d holds, want 1", rep.HoldsReleased)
	}
	if x := h.getHold("acme", late.HoldID); x.State != ledger.HoldExpired {
		t.Errorf("hold state after the sweep = %s, want expired", x.State)
	}
	h.wantLot("acme", "A", counters{spent: "10", remaining: "20"})
	h.wantLot("acme", "B", counters{remaining: "100"})
	if rep := h.sweep(); rep.HoldsReleased != 0 {
		t.Errorf("a second sweep released %d holds", rep.HoldsReleased)
	}
}

func testHoldOutlivesLot(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "short", "100", sunset(t0.Add(time.Hour)))
	h.grant("acme", "long", "100")
	first := h.hold(req("alice", "80", holdFor(4*time.Hour)))
	second := h.hold(req("alice", "40", holdFor(3*time.Hour)))
	if debitsString(first.Debits) != "short:80" || debitsString(second.Debits) != "short:20,long:20" {
		t.Fatalf("hold debits = %s and %s", debitsString(first.Debits), debitsString(second.Debits))
	}
	h.clk.Set(t0.Add(2 * time.Hour)) // short has ended; both holds are open
	res := h.mustSettle("acme", first.HoldID, "30")
	wantEqual(t, "released to live lots", res.Released, d("0"))
	h.wantLot("acme", "short", counters{held: "20", spent: "30", expired: "50"})

	h.clk.Set(t0.Add(3 * time.Hour))
	if rep := h.sweep(); rep.HoldsReleased != 1 {
		t.Errorf("sweep released %d holds, want 1", rep.HoldsReleased)
	}
	h.wantLot("acme", "short", counters{spent: "30", expired: "70"})
	h.wantLot("acme", "long", counters{remaining: "100"})
}

func testTerminationMidHold(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "pool", "100")
	big := h.hold(req("alice", "60"))
	small := h.hold(req("alice", "10"))
	if _, err := h.svc.Terminate(h.ctx, "acme", t0.Add(time.Hour), h.key()); err != nil {
		t.Fatal(err)
	}
	h.clk.Set(t0.Add(2 * time.Hour))
	res := h.mustSettle("acme", big.HoldID, "40")
	wantEqual(t, "released", res.Released, d("0"))
	h.wantLot("acme", "pool", counters{remaining: "30", held: "10", spent: "40", expired: "20"})

	before, attempts := h.dump(), h.attempts("acme")
	_, err := h.settle("acme", small.HoldID, "15")
	if e := wantCode(t, err, core.CodeNotEligible); e.Details["reason"] != "contract_ended" {
		t.Errorf("reason = %v, want contract_ended", e.Details["reason"])
	}
	h.onlyAttemptAdded(t, "acme", before, attempts)
	before, attempts = h.dump(), h.attempts("acme")
	_, err = h.tryConsume(req("alice", "1"), h.key())
	wantCode(t, err, core.CodeNotEligible)
	h.onlyAttemptAdded(t, "acme", before, attempts)

	if rep := h.sweep(); rep.LotsClosed != 1 || rep.HoldsReleased != 0 {
		t.Errorf("sweep = %+v, want 1 lot closed and the open hold kept", rep)
	}
	h.clk.Set(t0.Add(25 * time.Hour))
	if rep := h.sweep(); rep.HoldsReleased != 1 {
		t.Errorf("sweep after the hold's expiry = %+v, want 1 hold released", rep)
	}
	h.wantLot("acme", "pool", counters{spent: "40", expired: "60"})
}

func testClosedHold(t *testing.T, h *harness) {
	twoLots(h)
	settled := h.hold(req("alice", "10"))
	released := h.hold(req("alice", "10"))
	h.mustSettle("acme", settled.HoldID, "5")
	if _, err := h.release("acme", released.HoldID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{settled.HoldID, released.HoldID} {
		before := h.dump()
		_, err := h.settle("acme", id, "5")
		wantCode(t, err, core.CodeConflict)
		_, err = h.release("acme", id)
		wantCode(t, err, core.CodeConflict)
		h.unchanged(t, "settling or releasing a closed hold", before)
	}
}
