package storetest

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func refundLines(ls []ledger.RefundLine) string {
	var s []string
	for _, l := range ls {
		x := l.Lot + ":" + l.Credits.String()
		if l.Lost {
			x += "(lost)"
		}
		s = append(s, x)
	}
	return strings.Join(s, ",")
}

// threeLots: alice's individual lot (100), soon (30, ending in an hour),
// later (100); a consumption of 150 took ind:100, soon:30, later:20.
func threeLots(t *testing.T, h *harness) (ledger.Lot, ledger.ConsumeResult) {
	t.Helper()
	h.contract()
	ind := h.employee("acme", "alice")
	h.grant("acme", "soon", "30", sunset(t0.Add(time.Hour)))
	h.grant("acme", "later", "100")
	c := h.consume(req("alice", "150"))
	if got, want := debitsString(c.Debits), ind.ID+":100,soon:30,later:20"; got != want {
		t.Fatalf("consumption debits = %s, want %s", got, want)
	}
	return ind, c
}

func testPartialRefunds(t *testing.T, h *harness) {
	ind, c := threeLots(t, h)
	steps := []struct{ credits, lines string }{
		{"25", "later:20,soon:5"},
		{"20", "soon:20"},
		{"0", "soon:5," + ind.ID + ":100"},
	}
	for _, s := range steps {
		res := h.mustRefund("acme", c.ConsumptionID, s.credits)
		if got := refundLines(res.Lots); got != s.lines {
			t.Errorf("refund %s went to %s, want %s", s.credits, got, s.lines)
		}
		wantEqual(t, "lost", res.Lost, d("0"))
	}
	x := h.getConsumption("acme", c.ConsumptionID)
	wantEqual(t, "consumption refunded", x.Refunded, d("150"))
	h.wantLot("acme", ind.ID, counters{remaining: "100", spent: "100", refunded: "100"})
	h.wantLot("acme", "soon", counters{remaining: "30", spent: "30", refunded: "30"})
	h.wantLot("acme", "later", counters{remaining: "100", spent: "20", refunded: "20"})
	var refunds int
	for _, e := range h.entries("acme", "soon") {
		if e.Kind == ledger.EntryRefund {
			refunds++
			if e.Ref != c.ConsumptionID {
				t.Errorf("refund entry references %s, want %s", e.Ref, c.ConsumptionID)
			}
		}
	}
	if refunds != 3 {
		t.Errorf("%d refund entries on soon, want 3", refunds)
	}
}

func testOverRefund(t *testing.T, h *harness) {
	_, c := threeLots(t, h)
	h.mustRefund("acme", c.ConsumptionID, "100")
	before := h.dump()
	_, err := h.refund("acme", c.ConsumptionID, "50.000001")
	wantCode(t, err, core.CodeInvalidRequest)
	h.unchanged(t, "an over-refund", before)
	h.mustRefund("acme", c.ConsumptionID, "50")
	before = h.dump()
	_, err = h.refund("acme", c.ConsumptionID, "0")
	wantCode(t, err, core.CodeConflict)
	h.unchanged(t, "refunding a fully refunded consumption", before)
}

func testRefundLost(t *testing.T, h *harness) {
	ind, c := threeLots(t, h)
	h.clk.Set(t0.Add(time.Hour)) // soon ends
	res := h.mustRefund("acme", c.ConsumptionID, "0")
	if got, want := refundLines(res.Lots), "later:20,"+ind.ID+":100,soon:30(lost)"; got != want {
		t.Errorf("refund lines = %s, want %s", got, want)
	}
	wantEqual(t, "returned", res.Returned, d("120"))
	wantEqual(t, "lost", res.Lost, d("30"))
	wantEqual(t, "consumption refunded", h.getConsumption("acme", c.ConsumptionID).Refunded, d("150"))
	h.wantLot("acme", "soon", counters{spent: "30"})
	h.wantLot("acme", "later", counters{remaining: "100", spent: "20", refunded: "20"})
	es := h.entries("acme", "soon")
	last := es[len(es)-1]
	if last.Kind != ledger.EntryRefundLost || !last.Credits.Equal(d("30")) || last.Ref != c.ConsumptionID {
		t.Errorf("last entry of the ended lot = %+v, want refund_lost of 30 referencing the consumption", last)
	}
	wantEqual(t, "balance", h.balance("acme", "alice"), d("200"))
}

func testRefundSettledHold(t *testing.T, h *harness) {
	twoLots(h)
	hr := h.hold(req("alice", "50"))
	s := h.mustSettle("acme", hr.HoldID, "70") // A:30, B:20, B:20
	res := h.mustRefund("acme", s.ConsumptionID, "45")
	if got := refundLines(res.Lots); got != "B:20,B:20,A:5" {
		t.Errorf("refund lines = %s, want B:20,B:20,A:5", got)
	}
	h.wantLot("acme", "A", counters{remaining: "5", spent: "30", refunded: "5"})
	h.wantLot("acme", "B", counters{remaining: "100", spent: "40", refunded: "40"})
}
