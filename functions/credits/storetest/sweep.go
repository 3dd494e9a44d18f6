package storetest

import (
	"testing"
	"time"

	"cloudcredits/core/ledger"
)

func testSweep(t *testing.T, h *harness) {
	h.contract()
	ind := h.employee("acme", "alice")
	h.grant("acme", "short", "100", sunset(t0.Add(time.Hour)))
	h.grant("acme", "long", "100")
	h.consume(req("alice", "130")) // ind 100, short 30
	hr := h.hold(req("alice", "20", holdFor(2*time.Hour)))
	if _, err := h.svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	if debitsString(hr.Debits) != "short:20" {
		t.Fatalf("hold debits = %s, want short:20", debitsString(hr.Debits))
	}
	at := t0.Add(91 * day)
	h.clk.Set(at)
	lots, err := h.st.EndedLots(h.ctx, at, 10)
	if err != nil {
		t.Fatal(err)
	}
	// alice's lot is empty: the sweeper has nothing to close there (a store
	// may list it to be retired).
	if lots := withRemaining(lots); len(lots) != 1 || lots[0].ID != "short" {
		t.Errorf("EndedLots with credits = %v, want [short]", lots)
	}
	holds, err := h.st.ExpiredHolds(h.ctx, at, 10)
	if err != nil || len(holds) != 1 || holds[0].ID != hr.HoldID {
		t.Errorf("ExpiredHolds = %v, %v; want the hold", holds, err)
	}
	rep := h.sweep()
	if rep.HoldsReleased != 1 || rep.LotsClosed != 1 {
		t.Errorf("sweep = %+v, want 1 hold released and 1 lot closed", rep)
	}
	h.wantLot("acme", "short", counters{spent: "30", expired: "70"})
	h.wantLot("acme", "long", counters{remaining: "100"})
	h.wantLot("acme", ind.ID, counters{spent: "100"})
	if x := h.getHold("acme", hr.HoldID); x.State != ledger.HoldExpired {
		t.Errorf("hold state = %s, want expired", x.State)
	}

	before := h.dump()
	if rep := h.sweep(); rep.HoldsReleased != 0 || rep.LotsClosed != 0 {
		t.Errorf("second sweep = %+v, want nothing", rep)
	}
	h.unchanged(t, "a second sweep", before)
	if lots, err := h.st.EndedLots(h.ctx, at, 10); err != nil || len(lots) != 0 {
		t.Errorf("EndedLots after the sweep = %v, %v; want none", lots, err)
	}
	if holds, err := h.st.ExpiredHolds(h.ctx, at, 10); err != nil || len(holds) != 0 {
		t.Errorf("ExpiredHolds after the sweep = %v, %v; want none", holds, err)
	}
}

func testSweepNothing(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	h.grant("acme", "pool", "100", sunset(t0.Add(time.Hour)))
	h.hold(req("alice", "150", holdFor(time.Hour)))
	h.clk.Set(t0.Add(time.Hour - time.Nanosecond))
	// The pool ends within 90 days: the first sweep records its expiry
	// warning (and nothing else); after that a sweep has nothing to do.
	if rep := h.sweep(); rep.HoldsReleased != 0 || rep.LotsClosed != 0 || rep.WarningsRecorded != 1 {
		t.Errorf("sweep = %+v, want one expiry warning and nothing else", rep)
	}
	before := h.dump()
	if rep := h.sweep(); rep.HoldsReleased != 0 || rep.LotsClosed != 0 || rep.WarningsRecorded != 0 {
		t.Errorf("sweep = %+v, want nothing", rep)
	}
	h.unchanged(t, "a sweep with nothing due", before)
}

func testSweepRetires(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	h.grant("acme", "short", "100", sunset(t0.Add(time.Hour)))
	h.consume(req("alice", "130")) // alice's own 100 first, then 30 of short
	ended := t0.Add(2 * time.Hour)
	h.clk.Set(ended)
	if rep := h.sweep(); rep.LotsClosed != 1 {
		t.Fatalf("sweep at the end = %+v, want short closed", rep)
	}
	graced := ended.Add(ledger.RetireGrace)
	h.clk.Set(graced)
	before := h.dump()
	lots, err := h.st.EndedLots(h.ctx, graced, 10)
	if err != nil {
		t.Fatal(err)
	}
	h.unchanged(t, "reading the sweep's work list", before)
	// A store may hand the finished lot to the sweep to retire; then the
	// sweep retires it, once, and it is never read again.
	rep := h.sweep()
	if len(lots) != rep.LotsRetired || rep.LotsClosed != 0 {
		t.Errorf("sweep after the grace = %+v; the work list had %d lots", rep, len(lots))
	}
	if again := h.sweep(); again.LotsRetired != 0 || again.LotsClosed != 0 {
		t.Errorf("a second sweep = %+v, want nothing to do", again)
	}
	if lots, err := h.st.EndedLots(h.ctx, graced.Add(time.Hour), 10); err != nil || len(lots) != 0 {
		t.Errorf("EndedLots after the sweep = %v, %v; want none", lots, err)
	}
	if l := h.lot("acme", "short"); !l.Remaining.IsZero() || !l.Expired.Add(l.Spent).Equal(l.Amount) || !l.Conserves() {
		t.Errorf("short = %+v, want what was not spent expired", l)
	}
}

// withRemaining keeps the lots that hold credits.
func withRemaining(lots []ledger.Lot) []ledger.Lot {
	var out []ledger.Lot
	for _, l := range lots {
		if l.Remaining.Sign() > 0 {
			out = append(out, l)
		}
	}
	return out
}
