package storetest

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func budgetWorld(h *harness, monthlyCap string) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "pool", "10000")
	h.budget("acme", "bridge", monthlyCap)
}

func testBudgetCap(t *testing.T, h *harness) {
	budgetWorld(h, "100")
	b, ok, err := h.st.Budget(h.ctx, "acme", "bridge", core.Cloud)
	if err != nil || !ok || !b.MonthlyCap.Equal(d("100")) {
		t.Fatalf("Budget = %+v, %v, %v; want a cap of 100", b, ok, err)
	}
	h.consume(req("alice", "60", project("bridge")))
	before := h.dump()
	_, err = h.tryConsume(req("alice", "41", project("bridge")), h.key())
	e := wantCode(t, err, core.CodeBudgetExceeded)
	if e.Details["used"] != "60" || e.Details["monthly_cap"] != "100" {
		t.Errorf("details = %v, want used 60 of 100", e.Details)
	}
	h.unchanged(t, "a spend over budget", before)
	h.consume(req("alice", "40", project("bridge"))) // exactly to the cap
	h.consume(req("alice", "5"))                     // untagged: no cap
	h.consume(req("alice", "5", project("tunnel")))  // another project: no cap
	wantEqual(t, "bridge's usage", h.budgetUsed("acme", "bridge", "2031-03"), d("100"))
	wantEqual(t, "tunnel's usage", h.budgetUsed("acme", "tunnel", "2031-03"), d("5"))
	_, err = h.tryConsume(req("alice", "0.000001", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)

	// A cap lowered below the usage refuses everything; raised, it admits.
	h.budget("acme", "bridge", "50")
	_, err = h.tryConsume(req("alice", "1", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)
	h.budget("acme", "bridge", "101")
	h.consume(req("alice", "1", project("bridge")))
}

func testBudgetMonthBoundary(t *testing.T, h *harness) {
	budgetWorld(h, "100")
	h.clk.Set(time.Date(2031, 3, 31, 23, 59, 59, 999999999, time.UTC))
	h.consume(req("alice", "100", project("bridge")))
	_, err := h.tryConsume(req("alice", "1", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)
	h.clk.Set(time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC))
	h.consume(req("alice", "100", project("bridge")))
	wantEqual(t, "March usage", h.budgetUsed("acme", "bridge", "2031-03"), d("100"))
	wantEqual(t, "April usage", h.budgetUsed("acme", "bridge", "2031-04"), d("100"))
	wantEqual(t, "May usage (no counter yet)", h.budgetUsed("acme", "bridge", "2031-05"), d("0"))
}

func testBudgetRefund(t *testing.T, h *harness) {
	budgetWorld(h, "100")
	c := h.consume(req("alice", "100", project("bridge")))
	h.mustRefund("acme", c.ConsumptionID, "30")
	wantEqual(t, "usage after refunding 30", h.budgetUsed("acme", "bridge", "2031-03"), d("70"))
	h.consume(req("alice", "30", project("bridge")))
	_, err := h.tryConsume(req("alice", "1", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)
}

func testBudgetHolds(t *testing.T, h *harness) {
	budgetWorld(h, "100")
	hr := h.hold(req("alice", "80", project("bridge")))
	wantEqual(t, "usage with the hold", h.budgetUsed("acme", "bridge", "2031-03"), d("80"))
	before := h.dump()
	_, err := h.tryConsume(req("alice", "21", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)
	h.unchanged(t, "a spend over a reserved budget", before)

	before = h.dump()
	_, err = h.settle("acme", hr.HoldID, "121")
	wantCode(t, err, core.CodeBudgetExceeded)
	h.unchanged(t, "a settlement over budget", before)

	h.mustSettle("acme", hr.HoldID, "50")
	wantEqual(t, "usage after settling 50", h.budgetUsed("acme", "bridge", "2031-03"), d("50"))
	other := h.hold(req("alice", "50", project("bridge")))
	if _, err := h.release("acme", other.HoldID); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "usage after a released hold", h.budgetUsed("acme", "bridge", "2031-03"), d("50"))
	h.consume(req("alice", "50", project("bridge")))
}

func testBudgetAcrossMonths(t *testing.T, h *harness) {
	budgetWorld(h, "100")
	h.clk.Set(time.Date(2031, 3, 31, 12, 0, 0, 0, time.UTC))
	hr := h.hold(req("alice", "60", project("bridge"), holdFor(3*day)))
	h.clk.Set(time.Date(2031, 4, 1, 12, 0, 0, 0, time.UTC))
	h.consume(req("alice", "100", project("bridge"))) // April's own cap
	s := h.mustSettle("acme", hr.HoldID, "40")
	wantEqual(t, "March usage after settling in April", h.budgetUsed("acme", "bridge", "2031-03"), d("40"))
	wantEqual(t, "April usage", h.budgetUsed("acme", "bridge", "2031-04"), d("100"))
	h.mustRefund("acme", s.ConsumptionID, "15")
	wantEqual(t, "March usage after the refund", h.budgetUsed("acme", "bridge", "2031-03"), d("25"))
	wantEqual(t, "April usage after the refund", h.budgetUsed("acme", "bridge", "2031-04"), d("100"))
	_, err := h.tryConsume(req("alice", "1", project("bridge")), h.key())
	wantCode(t, err, core.CodeBudgetExceeded)
}
