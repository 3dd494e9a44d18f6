package storetest

import (
	"fmt"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func testIndividualGrantOnce(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("globex"))
	first := h.addUser("acme", "alice", ledger.Employee, true)
	if first.Grant == nil {
		t.Fatal("the first association made no grant")
	}
	l := h.lot("acme", first.Grant.ID)
	if l.Kind != ledger.Individual || l.Owner != "alice" || l.Currency != core.Cloud || l.Contract != "acme" {
		t.Errorf("grant lot = %+v, want an individual cloud lot owned by alice on acme", l)
	}
	wantEqual(t, "amount", l.Amount, d("100"))
	wantEqual(t, "remaining", l.Remaining, d("100"))
	wantTime(t, "effective from", l.EffectiveFrom, t0)
	wantTime(t, "expires at (the contract's end)", l.ExpiresAt, contractEnd)
	if g, err := h.st.Granted(h.ctx, "acme", "alice"); err != nil || !g {
		t.Errorf("Granted = %v, %v; want true", g, err)
	}
	if es := h.entries("acme", l.ID); len(es) != 1 || es[0].Kind != ledger.EntryGrant || !es[0].Credits.Equal(d("100")) {
		t.Errorf("entries = %+v, want one grant entry of 100", es)
	}

	// Repeating the association, and re-adding after removal, grant nothing.
	if again := h.addUser("acme", "alice", ledger.Employee, true); again.Grant != nil {
		t.Errorf("re-adding a current user granted %+v", again.Grant)
	}
	if _, err := h.svc.RemoveUser(h.ctx, "acme", "alice", h.key()); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Hour)
	if again := h.addUser("acme", "alice", ledger.Employee, true); again.Grant != nil {
		t.Errorf("re-adding a removed user granted %+v", again.Grant)
	}
	if n := len(h.lots("acme")); n != 1 {
		t.Errorf("acme holds %d lots, want alice's one", n)
	}
	// The same person on another contract gets that contract's grant.
	if other := h.addUser("globex", "alice", ledger.Employee, true); other.Grant == nil || other.Grant.Contract != "globex" {
		t.Errorf("alice on globex: grant %+v, want one on globex", other.Grant)
	}
}

func testNoGrantForNonSpenders(t *testing.T, h *harness) {
	h.contract()
	for _, u := range []struct {
		id       string
		kind     ledger.UserKind
		canSpend bool
	}{{"edu", ledger.Education, true}, {"guest", ledger.Guest, true}, {"viewer", ledger.Employee, false}} {
		if res := h.addUser("acme", u.id, u.kind, u.canSpend); res.Grant != nil {
			t.Errorf("%s (%s, can_spend %v) received %+v", u.id, u.kind, u.canSpend, res.Grant)
		}
		if g, err := h.st.Granted(h.ctx, "acme", u.id); err != nil || g {
			t.Errorf("Granted(%s) = %v, %v; want false", u.id, g, err)
		}
	}
	if ls := h.lots("acme"); len(ls) != 0 {
		t.Errorf("acme holds %d lots, want none", len(ls))
	}
	users, err := h.st.Users(h.ctx, "acme")
	if err != nil || len(users) != 3 {
		t.Errorf("Users = %d users, %v; want 3", len(users), err)
	}
}

func testContractorGrant(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("nocov"), noContractors)
	if res := h.addUser("acme", "carl", ledger.Contractor, true); res.Grant == nil {
		t.Error("a contractor on a contract with contractor coverage received no grant")
	}
	if res := h.addUser("nocov", "carl", ledger.Contractor, true); res.Grant != nil {
		t.Errorf("a contractor without coverage received %+v", res.Grant)
	}
	if ls := h.lots("nocov"); len(ls) != 0 {
		t.Errorf("nocov holds %d lots, want none", len(ls))
	}
}

func testNoGrantWithoutPlan(t *testing.T, h *harness) {
	h.contract(noPlan)
	if res := h.addUser("acme", "alice", ledger.Employee, true); res.Grant != nil {
		t.Errorf("grant without an active plan: %+v", res.Grant)
	}
	if ls := h.lots("acme"); len(ls) != 0 {
		t.Errorf("acme holds %d lots, want none", len(ls))
	}
}

func testIndividualOnlyByOwner(t *testing.T, h *harness) {
	h.contract()
	alices := h.employee("acme", "alice")
	bobs := h.employee("acme", "bob")
	before := h.dump()
	_, err := h.tryConsume(req("bob", "101"), h.key())
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "100" {
		t.Errorf("bob's available = %v, want 100 (his own lot only)", e.Details["available"])
	}
	h.unchanged(t, "a refused spend", before)
	h.grant("acme", "pool", "50")
	res := h.consume(req("bob", "120"))
	if got, want := debitsString(res.Debits), bobs.ID+":100,pool:20"; got != want {
		t.Errorf("bob's debits = %s, want %s", got, want)
	}
	h.wantLot("acme", alices.ID, counters{remaining: "100"})
	wantEqual(t, "alice's balance", h.balance("acme", "alice"), d("130"))
	wantEqual(t, "bob's balance", h.balance("acme", "bob"), d("30"))
}

func testRemoveUserEndsLot(t *testing.T, h *harness) {
	h.contract()
	l := h.employee("acme", "alice")
	h.consume(req("alice", "30"))
	removedAt := h.clk.Advance(time.Hour)
	out, err := h.svc.RemoveUser(h.ctx, "acme", "alice", h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.RemoveResult
	decode(t, out, &res)
	if len(res.EndedLots) != 1 || res.EndedLots[0] != l.ID {
		t.Errorf("ended lots = %v, want [%s]", res.EndedLots, l.ID)
	}
	got := h.lot("acme", l.ID)
	wantTime(t, "the lot's end", got.End(), removedAt)
	if got.LiveAt(removedAt) {
		t.Error("the lot is still live at the removal")
	}
	u, err := h.st.User(h.ctx, "acme", "alice")
	if err != nil || u.Active {
		t.Errorf("user after removal = %+v, %v; want inactive", u, err)
	}
	if rep := h.sweep(); rep.LotsClosed != 1 {
		t.Errorf("sweep closed %d lots, want 1", rep.LotsClosed)
	}
	h.wantLot("acme", l.ID, counters{spent: "30", expired: "70"})
	// Re-associated, alice has no individual credits: the grant was once.
	h.addUser("acme", "alice", ledger.Employee, true)
	_, err = h.tryConsume(req("alice", "1"), h.key())
	wantCode(t, err, core.CodeInsufficientCredits)
}

func testWithdrawal(t *testing.T, h *harness) {
	h.contract()
	l := h.employee("acme", "alice")
	notice := h.clk.Advance(day)
	out, err := h.svc.WithdrawLot(h.ctx, "acme", l.ID, time.Time{}, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.Lot
	decode(t, out, &res)
	closeAt := notice.Add(90 * day)
	got := h.lot("acme", l.ID)
	wantTime(t, "withdrawal notice", got.WithdrawNoticeAt, notice)
	wantTime(t, "closes at", got.ClosesAt, closeAt)
	wantTime(t, "answered close", res.ClosesAt, closeAt)

	h.clk.Set(closeAt.Add(-time.Nanosecond))
	if r := h.consume(req("alice", "10")); debitsString(r.Debits) != l.ID+":10" {
		t.Errorf("debits at close−1ns = %s, want %s:10", debitsString(r.Debits), l.ID)
	}
	if rep := h.sweep(); rep.LotsClosed != 0 {
		t.Errorf("sweep before the close closed %d lots", rep.LotsClosed)
	}
	h.clk.Set(closeAt)
	before := h.dump()
	_, err = h.tryConsume(req("alice", "10"), h.key())
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "0" {
		t.Errorf("available at the close = %v, want 0", e.Details["available"])
	}
	h.unchanged(t, "a spend at the close", before)
	if rep := h.sweep(); rep.LotsClosed != 1 {
		t.Errorf("sweep at the close closed %d lots, want 1", rep.LotsClosed)
	}
	h.wantLot("acme", l.ID, counters{spent: "10", withdrawn: "90"})
	es := h.entries("acme", l.ID)
	if last := es[len(es)-1]; last.Kind != ledger.EntryWithdraw || !last.Credits.Equal(d("90")) {
		t.Errorf("last entry = %+v, want a withdraw entry of 90", last)
	}
}

func testWithdrawRefusals(t *testing.T, h *harness) {
	h.contract()
	l := h.employee("acme", "alice")
	h.grant("acme", "pool", "100")
	before := h.dump()
	_, err := h.svc.WithdrawLot(h.ctx, "acme", "pool", time.Time{}, h.key())
	wantCode(t, err, core.CodeInvalidRequest)
	h.unchanged(t, "withdrawing a shared lot", before)

	later := t0.Add(10 * day)
	if _, err := h.svc.WithdrawLot(h.ctx, "acme", l.ID, later, h.key()); err != nil {
		t.Fatal(err)
	}
	wantTime(t, "close of a notice dated ahead", h.lot("acme", l.ID).ClosesAt, later.Add(90*day))
	before = h.dump()
	_, err = h.svc.WithdrawLot(h.ctx, "acme", l.ID, time.Time{}, h.key())
	wantCode(t, err, core.CodeConflict)
	h.unchanged(t, "withdrawing twice", before)
}

func testSharedExpiry(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("ext"), func(c *ledger.Contract) { c.ExtensionMonths = 3 })
	l := h.grant("acme", "pool", "100")[0]
	wantTime(t, "expiry without extension", l.ExpiresAt, t0.AddDate(0, 12, 0))
	wantTime(t, "granted at", l.GrantedAt, t0)
	if l.Kind != ledger.Shared || l.Source != ledger.SourcePurchase || l.Grant != "pool" {
		t.Errorf("lot = %+v, want a shared purchase lot of grant pool", l)
	}
	e := h.grant("ext", "pool", "100")[0]
	wantTime(t, "expiry with 3 extension months", e.ExpiresAt, t0.AddDate(0, 15, 0))
}

func testSharedEndsWithContract(t *testing.T, h *harness) {
	end := time.Date(2031, 9, 1, 0, 0, 0, 0, time.UTC)
	h.contract(func(c *ledger.Contract) { c.End = end; c.ExtensionMonths = 6 })
	l := h.grant("acme", "pool", "100")[0]
	wantTime(t, "expiry", l.ExpiresAt, end)
}

func testTermination(t *testing.T, h *harness) {
	h.contract()
	ind := h.employee("acme", "alice")
	h.grant("acme", "pool", "100")
	h.grant("acme", "soon", "100", sunset(t0.Add(30*time.Minute)))
	at := t0.Add(2 * time.Hour)
	out, err := h.svc.Terminate(h.ctx, "acme", at, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.TerminateResult
	decode(t, out, &res)
	c, err := h.st.Contract(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "terminated at", c.TerminatedAt, at)
	for _, id := range []string{ind.ID, "pool"} {
		wantTime(t, id+" ends at", h.lot("acme", id).End(), at)
	}
	wantTime(t, "a lot ending before the termination keeps its end", h.lot("acme", "soon").End(), t0.Add(30*time.Minute))
	if len(res.EndedLots) != 2 {
		t.Errorf("ended lots = %v, want 2", res.EndedLots)
	}
	h.clk.Set(at.Add(-time.Nanosecond))
	h.consume(req("alice", "150")) // alice's 100, pool 50
	h.clk.Set(at)
	before, attempts := h.dump(), h.attempts("acme")
	_, err = h.tryConsume(req("alice", "1"), h.key())
	if e := wantCode(t, err, core.CodeNotEligible); e.Details["reason"] != "contract_ended" {
		t.Errorf("reason = %v, want contract_ended", e.Details["reason"])
	}
	h.onlyAttemptAdded(t, "acme", before, attempts)
	if rep := h.sweep(); rep.LotsClosed != 2 {
		t.Errorf("sweep closed %d lots, want 2 (pool and soon)", rep.LotsClosed)
	}
	h.wantLot("acme", ind.ID, counters{spent: "100"})
	h.wantLot("acme", "pool", counters{spent: "50", expired: "50"})
	h.wantLot("acme", "soon", counters{expired: "100"})
}

func testCurrencySunset(t *testing.T, h *harness) {
	h.contract()
	final := t0.Add(40 * day)
	l := h.grant("acme", "old-money", "100", sunset(final))[0]
	wantTime(t, "expiry", l.ExpiresAt, final)
	late := h.grant("acme", "far", "100", sunset(t0.AddDate(5, 0, 0)))[0]
	wantTime(t, "a sunset after 12 months changes nothing", late.ExpiresAt, t0.AddDate(0, 12, 0))
}

func testShards(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "x", ledger.Employee, true)
	made := h.grant("acme", "big", "1000", shards(4))
	if len(made) != 4 {
		t.Fatalf("%d shards, want 4", len(made))
	}
	for _, l := range made {
		wantEqual(t, l.ID+" amount", l.Amount, d("250"))
		wantTime(t, l.ID+" expiry", l.ExpiresAt, made[0].ExpiresAt)
		if l.Grant != "big" {
			t.Errorf("%s belongs to grant %q, want big", l.ID, l.Grant)
		}
	}
	first := map[string]int{}
	for range 40 {
		r := h.consume(req("x", "1"))
		first[r.Debits[0].Lot]++
	}
	if len(first) < 2 {
		t.Errorf("40 spends all started on %v; concurrent spenders should be spread over the shards", first)
	}
	wantEqual(t, "balance", h.balance("acme", ""), d("960"))
}

func testContractScope(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("globex"))
	h.employee("acme", "alice")
	h.employee("globex", "alice")
	h.grant("acme", "pool", "100")
	h.grant("globex", "gpool", "100")
	for _, c := range []string{"acme", "globex"} {
		for _, l := range h.lots(c) {
			if l.Contract != c {
				t.Errorf("Lots(%s) returned %s of %s", c, l.ID, l.Contract)
			}
		}
		if n := len(h.lots(c)); n != 2 {
			t.Errorf("Lots(%s) = %d lots, want 2", c, n)
		}
	}
	if _, err := h.st.Lot(h.ctx, "acme", "gpool"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("Lot(acme, gpool) = %v, want not_found", err)
	}
	for lot, want := range map[string]string{"pool": "acme", "gpool": "globex"} {
		if got, err := h.st.LotContract(h.ctx, lot); err != nil || got != want {
			t.Errorf("LotContract(%s) = %q, %v; want %s", lot, got, err, want)
		}
	}
	if _, err := h.st.LotContract(h.ctx, "no-such-lot"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("LotContract of a missing lot = %v, want not_found", err)
	}
	// One idempotency key means different requests in different contracts.
	k := ledger.Idem{Key: "same-key"}
	if _, err := h.svc.Consume(h.ctx, req("alice", "10"), k); err != nil {
		t.Fatal(err)
	}
	out, err := h.svc.Consume(h.ctx, req("alice", "10", in("globex")), k)
	if err != nil || out.Replayed {
		t.Errorf("the same key in another contract: replayed %v, %v; want a fresh consumption", out.Replayed, err)
	}
	wantEqual(t, "globex balance", h.balance("globex", ""), d("190"))
	for _, read := range []struct {
		what string
		err  error
	}{
		{"Contract", func() error { _, err := h.st.Contract(h.ctx, "nobody"); return err }()},
		{"User", func() error { _, err := h.st.User(h.ctx, "acme", "nobody"); return err }()},
		{"Hold", func() error { _, err := h.st.Hold(h.ctx, "acme", "nothing"); return err }()},
		{"Consumption", func() error { _, err := h.st.Consumption(h.ctx, "acme", "nothing"); return err }()},
		{"Lot", func() error { _, err := h.st.Lot(h.ctx, "acme", "nothing"); return err }()},
		{"Order", func() error { _, err := h.st.Order(h.ctx, "acme", "nothing"); return err }()},
	} {
		if core.ErrorCode(read.err) != core.CodeNotFound {
			t.Errorf("%s of a missing item = %v, want not_found", read.what, read.err)
		}
	}
	if _, ok, err := h.st.Idempotency(h.ctx, "acme", "never-used", t0); ok || err != nil {
		t.Errorf("Idempotency of an unused key = %v, %v; want absent", ok, err)
	}
	if _, ok, err := h.st.Budget(h.ctx, "acme", "none", core.Cloud); ok || err != nil {
		t.Errorf("Budget of a project without one = %v, %v; want absent", ok, err)
	}
}

func testTerminationManyLots(t *testing.T, h *harness) {
	h.contract()
	n := ledger.EndLotsPerTxMax*2 + 5
	for i := range n {
		h.grant("acme", fmt.Sprintf("lot-%03d", i), "1")
	}
	at := t0.Add(time.Hour)
	out, err := h.svc.Terminate(h.ctx, "acme", at, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.TerminateResult
	decode(t, out, &res)
	if len(res.EndedLots) != n {
		t.Errorf("ended lots = %d, want %d", len(res.EndedLots), n)
	}
	for i := range n {
		id := fmt.Sprintf("lot-%03d", i)
		wantTime(t, id+" ends at", h.lot("acme", id).End(), at)
	}
}
