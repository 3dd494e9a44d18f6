package ledger_test

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// holdBook is a book with two shared lots, A (30, expiring in an hour) and
// B (100, expiring in 300 days), and a hold of 50 taken now: A 30, B 20.
func holdBook(t *testing.T, holdFor time.Duration) (*book, ledger.Hold) {
	t.Helper()
	b := newBook(
		lot("A", ledger.Shared, core.Cloud, "30", expires(t0.Add(time.Hour))),
		lot("B", ledger.Shared, core.Cloud, "100", expires(t0.Add(300*24*time.Hour))),
	)
	h := b.hold(t, "alice", "50", t0, holdFor)
	if got, want := debitsString(h.Debits), "A:30,B:20"; got != want {
		t.Fatalf("hold debits = %s, want %s", got, want)
	}
	if a, bb := b.lots["A"], b.lots["B"]; !a.Held.Equal(d("30")) || !bb.Held.Equal(d("20")) || !bb.Remaining.Equal(d("80")) {
		t.Fatalf("after the hold A=%+v B=%+v, want A held 30, B held 20 remaining 80", a, bb)
	}
	ttl := holdFor
	if ttl == 0 {
		ttl = ledger.HoldTTLDefault
	}
	if !h.ExpiresAt.Equal(t0.Add(ttl)) {
		t.Fatalf("hold expires %s, want %s", h.ExpiresAt, t0.Add(ttl))
	}
	return b, h
}

type lotWant struct{ remaining, held, spent, expired string }

func checkLots(t *testing.T, b *book, want map[string]lotWant) {
	t.Helper()
	for id, w := range want {
		l := b.lots[id]
		if !l.Remaining.Equal(d(w.remaining)) || !l.Held.Equal(d(w.held)) || !l.Spent.Equal(d(w.spent)) || !l.Expired.Equal(d(w.expired)) {
			t.Errorf("lot %s: remaining %s held %s spent %s expired %s; want %s %s %s %s",
				id, l.Remaining, l.Held, l.Spent, l.Expired, w.remaining, w.held, w.spent, w.expired)
		}
	}
	if err := b.audit(); err != nil {
		t.Error(err)
	}
}

func TestSettle(t *testing.T) {
	tests := []struct {
		name     string
		actual   string
		at       time.Time
		debits   string
		released string
		lots     map[string]lotWant
	}{
		{"below the hold: post the actual, return the rest to the same lots", "35", t0.Add(time.Minute), "A:30,B:5", "15",
			map[string]lotWant{"A": {"0", "0", "30", "0"}, "B": {"95", "0", "5", "0"}}},
		{"equal to the hold: post it all", "50", t0.Add(time.Minute), "A:30,B:20", "0",
			map[string]lotWant{"A": {"0", "0", "30", "0"}, "B": {"80", "0", "20", "0"}}},
		{"above the hold: post the hold and consume the difference", "70", t0.Add(time.Minute), "A:30,B:20,B:20", "0",
			map[string]lotWant{"A": {"0", "0", "30", "0"}, "B": {"60", "0", "40", "0"}}},
		{"zero: release everything through a settlement", "0", t0.Add(time.Minute), "", "50",
			map[string]lotWant{"A": {"30", "0", "0", "0"}, "B": {"100", "0", "0", "0"}}},
		{"after its lot expired: held credits post, unused go to expired", "10", t0.Add(90 * time.Minute), "A:10", "20",
			map[string]lotWant{"A": {"0", "0", "10", "20"}, "B": {"100", "0", "0", "0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h := holdBook(t, 2*time.Hour)
			dec := b.mustApply(t, func() (ledger.Decision, error) {
				return ledger.PlanSettle(ledger.HoldInput{Hold: h, State: b.state("alice")}, d(tt.actual), key(), envAt(tt.at))
			})
			var res ledger.SettleResult
			mustDecode(t, dec.Response, &res)
			if got := debitsString(res.Debits); got != tt.debits {
				t.Errorf("settlement debits = %s, want %s", got, tt.debits)
			}
			if !res.Released.Equal(d(tt.released)) || !res.Credits.Equal(d(tt.actual)) || !res.Held.Equal(d("50")) {
				t.Errorf("result = %+v, want credits %s held 50 released %s", res, tt.actual, tt.released)
			}
			if hs := b.holds[h.ID]; hs.State != ledger.HoldSettled || hs.Consumption != res.ConsumptionID || !hs.ClosedAt.Equal(tt.at) {
				t.Errorf("hold after settling = %+v", hs)
			}
			if c, ok := b.cons[res.ConsumptionID]; tt.actual != "0" && (!c.Credits.Equal(d(tt.actual)) || c.Hold != h.ID || debitsString(c.Debits) != tt.debits) {
				t.Errorf("consumption = %+v", c)
			} else if tt.actual == "0" && (ok || res.ConsumptionID != "") {
				t.Errorf("settling at 0 recorded consumption %q = %+v; want none", res.ConsumptionID, c)
			}
			for id, mv := range moves(t, dec.Tx) {
				returns := mv.Move.Remaining.Sign() > 0
				if returns && !mv.LiveAt.Equal(tt.at) {
					t.Errorf("return to lot %s's remaining is not conditioned on the lot being live", id)
				}
				if !returns && mv.Move.Remaining.IsZero() && !mv.LiveAt.IsZero() {
					t.Errorf("posting held credits on lot %s is conditioned on the lot being live; held credits may post after it ends", id)
				}
			}
			checkLots(t, b, tt.lots)
		})
	}
}

// TestSettleAtZero: settling at 0 is a release through a settlement — every
// held credit returns, the hold is settled, and no consumption, no usage and
// no debit is recorded; the answer's debits are an empty list, never null.
func TestSettleAtZero(t *testing.T) {
	b, h := holdBook(t, 0)
	dec := b.mustApply(t, func() (ledger.Decision, error) {
		return ledger.PlanSettle(ledger.HoldInput{Hold: h, State: b.state("alice")}, d("0"), key(), envAt(t0.Add(time.Minute)))
	})
	for _, op := range dec.Tx.Ops {
		switch op.(type) {
		case ledger.PutConsumption, ledger.AddUsage:
			t.Errorf("settling at 0 writes %T", op)
		}
	}
	if body := string(dec.Response); !strings.Contains(body, `"debits":[]`) || strings.Contains(body, `"consumption_id"`) {
		t.Errorf("answer = %s; want debits [] and no consumption_id", body)
	}
	if hs := b.holds[h.ID]; hs.State != ledger.HoldSettled || hs.Consumption != "" {
		t.Errorf("hold after settling at 0 = %+v; want settled with no consumption", hs)
	}
	if len(b.cons) != 0 {
		t.Errorf("%d consumptions recorded; want none", len(b.cons))
	}
}

func TestSettleRefusals(t *testing.T) {
	t.Run("above the hold but insufficient: nothing changes", func(t *testing.T) {
		b, h := holdBook(t, 0)
		dec, err := ledger.PlanSettle(ledger.HoldInput{Hold: h, State: b.state("alice")}, d("131"), key(), envAt(t0.Add(time.Minute)))
		e := wantCode(t, err, core.CodeInsufficientCredits)
		if e.Details["available"] != "80" || len(dec.Tx.Ops) != 0 {
			t.Errorf("details %v, %d writes; want available 80 and no writes", e.Details, len(dec.Tx.Ops))
		}
	})
	t.Run("past the hold's expiry: hold_expired, exactly at the expiry too", func(t *testing.T) {
		b, h := holdBook(t, 0)
		in := ledger.HoldInput{Hold: h, State: b.state("alice")}
		if _, err := ledger.PlanSettle(in, d("10"), key(), envAt(h.ExpiresAt.Add(-time.Nanosecond))); err != nil {
			t.Errorf("settle at expiry−1ns: %v", err)
		}
		dec, err := ledger.PlanSettle(in, d("10"), key(), envAt(h.ExpiresAt))
		wantCode(t, err, core.CodeHoldExpired)
		if len(dec.Tx.Ops) != 0 {
			t.Errorf("refusal carries %d writes", len(dec.Tx.Ops))
		}
	})
	t.Run("a settled hold cannot be settled or released again", func(t *testing.T) {
		b, h := holdBook(t, 0)
		b.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanSettle(ledger.HoldInput{Hold: h, State: b.state("alice")}, d("10"), key(), env())
		})
		in := ledger.HoldInput{Hold: b.holds[h.ID], State: b.state("alice")}
		_, err := ledger.PlanSettle(in, d("10"), key(), env())
		wantCode(t, err, core.CodeConflict)
		_, err = ledger.PlanRelease(in, key(), env(), false)
		wantCode(t, err, core.CodeConflict)
	})
	t.Run("negative actual is invalid", func(t *testing.T) {
		b, h := holdBook(t, 0)
		_, err := ledger.PlanSettle(ledger.HoldInput{Hold: h, State: b.state("alice")}, d("-1"), key(), env())
		wantCode(t, err, core.CodeInvalidRequest)
	})
}

func TestRelease(t *testing.T) {
	t.Run("returns every credit to its lots", func(t *testing.T) {
		b, h := holdBook(t, 0)
		dec := b.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanRelease(ledger.HoldInput{Hold: h, State: b.state("alice")}, key(), envAt(t0.Add(time.Minute)), false)
		})
		var res ledger.ReleaseResult
		mustDecode(t, dec.Response, &res)
		if !res.Released.Equal(d("50")) || res.State != ledger.HoldReleased {
			t.Errorf("result = %+v, want 50 released", res)
		}
		checkLots(t, b, map[string]lotWant{"A": {"30", "0", "0", "0"}, "B": {"100", "0", "0", "0"}})
	})
	t.Run("the sweeper's release waits for the expiry and sends an ended lot's part to expired", func(t *testing.T) {
		b, h := holdBook(t, 2*time.Hour)
		in := ledger.HoldInput{Hold: h, State: b.state("alice")}
		_, err := ledger.PlanRelease(in, ledger.Idem{}, envAt(h.ExpiresAt.Add(-time.Nanosecond)), true)
		wantCode(t, err, core.CodeConflict)
		dec := b.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanRelease(in, ledger.Idem{}, envAt(h.ExpiresAt), true)
		})
		if _, n := opOf[ledger.PutIdempotency](dec.Tx); n != 0 {
			t.Errorf("the sweeper's release writes %d idempotency records, want 0", n)
		}
		if b.holds[h.ID].State != ledger.HoldExpired {
			t.Errorf("hold state = %s, want expired", b.holds[h.ID].State)
		}
		checkLots(t, b, map[string]lotWant{"A": {"0", "0", "0", "30"}, "B": {"100", "0", "0", "0"}})
	})
}

func TestHoldsReserveTheBudgetOfTheirMonth(t *testing.T) {
	b := newBook(lot("pool", ledger.Shared, core.Cloud, "1000"))
	req := spend("alice", "50")
	req.Project, req.HoldFor = "bridge", ledger.HoldTTLMax
	march := time.Date(2031, 3, 31, 23, 0, 0, 0, time.UTC)
	st := b.state("alice")
	st.Budget = &ledger.Budget{Contract: "acme", Project: "bridge", Currency: core.Cloud, MonthlyCap: d("100")}
	dec := b.mustApply(t, func() (ledger.Decision, error) { return ledger.PlanHold(st, req, key(), envAt(march)) })
	var hr ledger.HoldResult
	mustDecode(t, dec.Response, &hr)
	if got := b.budget["bridge|2031-03"]; !got.Equal(d("50")) {
		t.Fatalf("March counter after the hold = %s, want 50", got)
	}
	april := time.Date(2031, 4, 2, 0, 0, 0, 0, time.UTC)
	st = b.state("alice")
	st.Budget, st.BudgetUsed = &ledger.Budget{Contract: "acme", Project: "bridge", Currency: core.Cloud, MonthlyCap: d("100")}, d("50")
	dec = b.mustApply(t, func() (ledger.Decision, error) {
		return ledger.PlanSettle(ledger.HoldInput{Hold: b.holds[hr.HoldID], State: st}, d("40"), key(), envAt(april))
	})
	var sr ledger.SettleResult
	mustDecode(t, dec.Response, &sr)
	if got := b.budget["bridge|2031-03"]; !got.Equal(d("40")) {
		t.Errorf("March counter after settling 40 in April = %s, want 40", got)
	}
	c := b.cons[sr.ConsumptionID]
	if c.ChargedMonth() != "2031-03" {
		t.Errorf("settled consumption charged to %s, want the hold's month 2031-03", c.ChargedMonth())
	}
	b.mustApply(t, func() (ledger.Decision, error) {
		return ledger.PlanRefund(c, ledger.SpendState{Lots: b.lotList()}, d("15"), key(), envAt(april.Add(time.Hour)))
	})
	if got, april := b.budget["bridge|2031-03"], b.budget["bridge|2031-04"]; !got.Equal(d("25")) || !april.IsZero() {
		t.Errorf("after refunding 15: March %s, April %s; want 25 and 0 (the refund corrects the month it was charged to)", got, april)
	}
}

func TestRefund(t *testing.T) {
	newConsumption := func(t *testing.T) (*book, ledger.Consumption) {
		b := newBook(
			lot("mine", ledger.Individual, core.Cloud, "20"),
			lot("soon", ledger.Shared, core.Cloud, "30", expires(t0.Add(time.Hour))),
			lot("later", ledger.Shared, core.Cloud, "100", expires(t0.Add(300*24*time.Hour))),
		)
		dec := b.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanConsume(b.state("alice"), spend("alice", "60"), key(), env())
		})
		var res ledger.ConsumeResult
		mustDecode(t, dec.Response, &res)
		return b, b.cons[res.ConsumptionID]
	}
	refund := func(t *testing.T, b *book, id, credits string, at time.Time) (ledger.RefundResult, error) {
		t.Helper()
		dec, err := ledger.PlanRefund(b.cons[id], ledger.SpendState{Lots: b.lotList()}, d(credits), key(), envAt(at))
		if err != nil {
			return ledger.RefundResult{}, err
		}
		b.mustApply(t, func() (ledger.Decision, error) { return dec, nil })
		var res ledger.RefundResult
		mustDecode(t, dec.Response, &res)
		return res, nil
	}
	lines := func(ls []ledger.RefundLine) string {
		var ds []ledger.Debit
		for _, l := range ls {
			id := l.Lot
			if l.Lost {
				id += "(lost)"
			}
			ds = append(ds, ledger.Debit{Lot: id, Credits: l.Credits})
		}
		return debitsString(ds)
	}

	t.Run("partial refunds go back last-debited first and continue where they stopped", func(t *testing.T) {
		b, c := newConsumption(t)
		for _, step := range []struct{ credits, lines string }{
			{"15", "later:10,soon:5"}, {"20", "soon:20"}, {"0", "soon:5,mine:20"},
		} {
			res, err := refund(t, b, c.ID, step.credits, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("refund %s: %v", step.credits, err)
			}
			if got := lines(res.Lots); got != step.lines {
				t.Errorf("refund %s went to %s, want %s", step.credits, got, step.lines)
			}
		}
		checkLots(t, b, map[string]lotWant{"mine": {"20", "0", "20", "0"}, "soon": {"30", "0", "30", "0"}, "later": {"100", "0", "10", "0"}})
		if got := b.cons[c.ID].Refunded; !got.Equal(d("60")) {
			t.Errorf("consumption refunded %s, want 60", got)
		}
		_, err := refund(t, b, c.ID, "1", t0.Add(time.Minute))
		wantCode(t, err, core.CodeConflict)
	})
	t.Run("over-refund is refused", func(t *testing.T) {
		b, c := newConsumption(t)
		_, err := refund(t, b, c.ID, "60.000001", t0.Add(time.Minute))
		wantCode(t, err, core.CodeInvalidRequest)
		_, err = refund(t, b, c.ID, "-1", t0.Add(time.Minute))
		wantCode(t, err, core.CodeInvalidRequest)
	})
	t.Run("the part of an ended lot is recorded as lost, not returned", func(t *testing.T) {
		b, c := newConsumption(t)
		res, err := refund(t, b, c.ID, "0", t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := lines(res.Lots), "later:10,mine:20,soon(lost):30"; got != want {
			t.Errorf("refund lines = %s, want %s", got, want)
		}
		if !res.Returned.Equal(d("30")) || !res.Lost.Equal(d("30")) || !res.Refunded.Equal(d("60")) {
			t.Errorf("result = %+v, want returned 30, lost 30", res)
		}
		checkLots(t, b, map[string]lotWant{"soon": {"0", "0", "30", "0"}, "later": {"100", "0", "10", "0"}})
		if l := b.lots["soon"]; !l.Refunded.IsZero() {
			t.Errorf("the ended lot's refunded counter is %s, want 0", l.Refunded)
		}
		es := b.entries["soon"]
		if last := es[len(es)-1]; last.Kind != ledger.EntryRefundLost || !last.Credits.Equal(d("30")) || last.Move != (ledger.Movement{}) {
			t.Errorf("last entry of the ended lot = %+v, want refund_lost of 30 with no movement", last)
		}
	})
}

func TestTxCheck(t *testing.T) {
	ok := ledger.Movement{Remaining: d("-5"), Spent: d("5")}
	tests := []struct {
		name string
		ops  []ledger.Op
		bad  bool
	}{
		{"a conserving movement", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ok}}, false},
		{"a refund: remaining and refunded grow together", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ledger.Movement{Remaining: d("5"), Refunded: d("5")}}}, false},
		{"credits from nowhere", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ledger.Movement{Remaining: d("5")}}}, true},
		{"credits into nowhere", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ledger.Movement{Remaining: d("-5"), Spent: d("4")}}}, true},
		{"a refund that only grows remaining", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ledger.Movement{Remaining: d("5"), Spent: d("-5"), Refunded: d("5")}}}, true},
		{"the same lot moved twice", []ledger.Op{ledger.MoveLot{Lot: "a", Move: ok}, ledger.MoveLot{Lot: "a", Move: ok}}, true},
		{"a nil op", []ledger.Op{nil}, true},
		{"one budget counter added to twice", []ledger.Op{
			ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-03", Delta: d("1")},
			ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-03", Delta: d("2")}}, true},
		{"two months of one budget", []ledger.Op{
			ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-03", Delta: d("1")},
			ledger.AddBudgetUsage{Contract: "acme", Project: "p", Currency: core.Cloud, Month: "2031-04", Delta: d("2")}}, false},
		{"one usage row added to twice", []ledger.Op{
			ledger.AddUsage{Key: ledger.UsageKey{Contract: "acme", Month: "2031-03", User: "alice"}, Credits: d("1"), Count: 1},
			ledger.AddUsage{Key: ledger.UsageKey{Contract: "acme", Month: "2031-03", User: "alice"}, Credits: d("1"), Count: 1}}, true},
		{"a lot created out of balance", []ledger.Op{ledger.CreateLot{Lot: lot("a", ledger.Shared, core.Cloud, "10", func(l *ledger.Lot) { l.Remaining = d("11") })}}, true},
		{"a lot created with a negative counter", []ledger.Op{ledger.CreateLot{Lot: lot("a", ledger.Shared, core.Cloud, "10", func(l *ledger.Lot) { l.Held, l.Spent = d("-1"), d("1") })}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ledger.Tx{Ops: tt.ops}.Writes()
			if (err != nil) != tt.bad {
				t.Errorf("Writes() = %v, want error %v", err, tt.bad)
			}
		})
	}
}
