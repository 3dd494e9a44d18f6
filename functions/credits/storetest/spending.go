package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

func testBurnOrder(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	bob := h.employee("acme", "bob")
	h.grant("acme", "z-twelve-months", "100")
	h.grant("acme", "y-sunset-60d", "100", sunset(t0.Add(60*day)))
	h.grant("acme", "c-older", "100", sunset(t0.Add(90*day)))
	h.clk.Advance(time.Hour)
	h.grant("acme", "b-newer", "100", sunset(t0.Add(90*day)))
	h.grant("acme", "a-newer", "100", sunset(t0.Add(90*day)))

	steps := []struct{ credits, debits, balanceAfter string }{
		{"150", alice.ID + ":100,y-sunset-60d:50", "450"},
		{"200", "y-sunset-60d:50,c-older:100,a-newer:50", "250"},
		{"100", "a-newer:50,b-newer:50", "150"},
		{"120", "b-newer:50,z-twelve-months:70", "30"},
	}
	for _, s := range steps {
		r := h.consume(req("alice", s.credits))
		if got := debitsString(r.Debits); got != s.debits {
			t.Errorf("consume %s: debits %s, want %s", s.credits, got, s.debits)
		}
		wantEqual(t, "balance_after of "+s.credits, r.BalanceAfter, d(s.balanceAfter))
		c := h.getConsumption("acme", r.ConsumptionID)
		if got := debitsString(c.Debits); got != s.debits || !c.Credits.Equal(d(s.credits)) {
			t.Errorf("stored consumption: %s of %s, want %s of %s", got, c.Credits, s.debits, s.credits)
		}
	}
	h.wantLot("acme", bob.ID, counters{remaining: "100"})
	h.wantLot("acme", "z-twelve-months", counters{remaining: "30", spent: "70"})
	wantEqual(t, "alice's balance", h.balance("acme", "alice"), d("30"))
	wantEqual(t, "contract balance", h.balance("acme", ""), d("130"))
}

func testConsumeEntries(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	h.grant("acme", "pool", "100")
	r := h.consume(req("alice", "130"))
	for lot, want := range map[string]string{alice.ID: "100", "pool": "30"} {
		var found []ledger.Entry
		for _, e := range h.entries("acme", lot) {
			if e.Ref == r.ConsumptionID {
				found = append(found, e)
			}
		}
		if len(found) != 1 || found[0].Kind != ledger.EntryConsume || !found[0].Credits.Equal(d(want)) {
			t.Errorf("entries of %s referencing %s = %+v, want one consume entry of %s", lot, r.ConsumptionID, found, want)
			continue
		}
		wantTime(t, "entry time", found[0].At, t0)
	}
}

func testAllOrNothing(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	h.grant("acme", "pool", "50")
	before := h.dump()
	_, err := h.tryConsume(req("alice", "150.5"), h.key())
	e := wantCode(t, err, core.CodeInsufficientCredits)
	if e.Details["available"] != "150" || e.Details["requested"] != "150.5" {
		t.Errorf("details = %v, want available 150, requested 150.5", e.Details)
	}
	h.unchanged(t, "an insufficient consumption", before)

	h.consume(req("alice", "150"))
	h.wantLot("acme", alice.ID, counters{spent: "100"})
	h.wantLot("acme", "pool", counters{spent: "50"})
	before = h.dump()
	_, err = h.tryConsume(req("alice", "0.000001"), h.key())
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "0" {
		t.Errorf("available after spending everything = %v, want 0", e.Details["available"])
	}
	h.unchanged(t, "a consumption from empty lots", before)
}

func testExpiredNotDebited(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "old", "100", sunset(t0.Add(time.Hour)))
	h.grant("acme", "new", "100")
	h.clk.Advance(time.Hour)
	r := h.consume(req("alice", "60"))
	if got := debitsString(r.Debits); got != "new:60" {
		t.Errorf("debits = %s, want new:60 (old expired an instant ago)", got)
	}
	h.wantLot("acme", "old", counters{remaining: "100"})
	wantEqual(t, "balance", h.balance("acme", ""), d("40"))
	_, err := h.tryConsume(req("alice", "41"), h.key())
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "40" {
		t.Errorf("available = %v, want 40: an expired lot's remaining is not available", e.Details["available"])
	}
}

func testExpiryBoundary(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	end := t0.Add(48 * time.Hour)
	h.grant("acme", "edge", "100", sunset(end))
	h.clk.Set(end.Add(-time.Nanosecond))
	if r := h.consume(req("alice", "10")); debitsString(r.Debits) != "edge:10" {
		t.Errorf("debits at T−1ns = %s, want edge:10", debitsString(r.Debits))
	}
	h.clk.Set(end)
	before := h.dump()
	_, err := h.tryConsume(req("alice", "10"), h.key())
	if e := wantCode(t, err, core.CodeInsufficientCredits); e.Details["available"] != "0" {
		t.Errorf("available at T = %v, want 0", e.Details["available"])
	}
	h.unchanged(t, "a spend at the expiry instant", before)
	ended, err := h.st.EndedLots(h.ctx, end.Add(-time.Nanosecond), 10)
	if err != nil || len(ended) != 0 {
		t.Errorf("EndedLots at T−1ns = %v, %v; want none", ended, err)
	}
	ended, err = h.st.EndedLots(h.ctx, end, 10)
	if err != nil || len(ended) != 1 || ended[0].ID != "edge" {
		t.Errorf("EndedLots at T = %v, %v; want [edge]", ended, err)
	}
}

func testReplay(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	k := h.key()
	first, err := h.svc.Consume(h.ctx, req("alice", "30"), k)
	if err != nil || first.Replayed {
		t.Fatalf("first consumption: replayed %v, %v", first.Replayed, err)
	}
	h.consume(req("alice", "5")) // the state moves on
	h.clk.Advance(time.Hour)
	again, err := h.svc.Consume(h.ctx, req("alice", "30"), k)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if !again.Replayed || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("replay: replayed %v, body %s; want replayed with %s", again.Replayed, again.Body, first.Body)
	}
	h.wantLot("acme", alice.ID, counters{remaining: "65", spent: "35"})
	rec, ok, err := h.st.Idempotency(h.ctx, "acme", k.Key, h.clk.Now())
	if err != nil || !ok || !bytes.Equal(rec.Response, first.Body) {
		t.Errorf("stored record = %s, %v, %v; want the first body", rec.Response, ok, err)
	}
	wantTime(t, "record expiry", rec.ExpiresAt, t0.Add(ledger.IdempotencyRetention))

	// Every mutating call replays, not only consumptions.
	hr := h.hold(req("alice", "10"))
	sk := h.key()
	s1 := wantReplay(t, "settle", func() (credits.Outcome, error) {
		return h.svc.Settle(h.ctx, "acme", hr.HoldID, d("4"), sk)
	})
	var sr ledger.SettleResult
	decode(t, s1, &sr)
	rk := h.key()
	wantReplay(t, "refund", func() (credits.Outcome, error) {
		return h.svc.Refund(h.ctx, "acme", sr.ConsumptionID, d("1"), rk)
	})
	wantEqual(t, "refunded once", h.getConsumption("acme", sr.ConsumptionID).Refunded, d("1"))
	h.wantLot("acme", alice.ID, counters{remaining: "62", spent: "39", refunded: "1"})
}

// wantReplay makes a call twice (with one idempotency key) and wants the
// second to replay the first's body; it returns the first answer.
func wantReplay(t *testing.T, what string, call func() (credits.Outcome, error)) credits.Outcome {
	t.Helper()
	first, err := call()
	if err != nil {
		t.Fatal(err)
	}
	again, err := call()
	if err != nil || !again.Replayed || !bytes.Equal(first.Body, again.Body) {
		t.Errorf("%s replay: replayed %v, equal %v, %v", what, again.Replayed, bytes.Equal(first.Body, again.Body), err)
	}
	return first
}

func testKeyReused(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	k := h.key()
	if _, err := h.svc.Consume(h.ctx, req("alice", "30"), k); err != nil {
		t.Fatal(err)
	}
	for _, other := range []struct {
		what string
		call func() error
	}{
		{"another amount", func() error { _, err := h.svc.Consume(h.ctx, req("alice", "31"), k); return err }},
		{"another service", func() error {
			_, err := h.svc.Consume(h.ctx, req("alice", "30", func(r *ledger.SpendRequest) { r.Service = "cfd" }), k)
			return err
		}},
		{"a hold", func() error { _, err := h.svc.Hold(h.ctx, req("alice", "30"), k); return err }},
	} {
		before := h.dump()
		err := other.call()
		if e := wantCode(t, err, core.CodeIdempotencyKeyReused); !strings.Contains(e.Message, k.Key) {
			t.Errorf("%s: message %q does not name the key", other.what, e.Message)
		}
		h.unchanged(t, "reusing a key for "+other.what, before)
	}
}

func testIdempotencyRetention(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	k := h.key()
	first, err := h.svc.Consume(h.ctx, req("alice", "10"), k)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{t0.Add(34 * day), t0.Add(35*day - time.Nanosecond)} {
		h.clk.Set(at)
		out, err := h.svc.Consume(h.ctx, req("alice", "10"), k)
		if err != nil || !out.Replayed || !bytes.Equal(out.Body, first.Body) {
			t.Errorf("at %s: replayed %v, %v; want the first body", at.Sub(t0), out.Replayed, err)
		}
		_, err = h.svc.Consume(h.ctx, req("alice", "11"), k)
		wantCode(t, err, core.CodeIdempotencyKeyReused)
	}
	h.wantLot("acme", alice.ID, counters{remaining: "90", spent: "10"})

	gone := t0.Add(35 * day)
	h.clk.Set(gone)
	if _, ok, err := h.st.Idempotency(h.ctx, "acme", k.Key, gone); ok || err != nil {
		t.Errorf("record at 35 days: present %v, %v; want gone", ok, err)
	}
	if _, ok, err := h.st.Idempotency(h.ctx, "acme", k.Key, gone.Add(-time.Nanosecond)); !ok || err != nil {
		t.Errorf("record read as of 35 days − 1ns: present %v, %v; want present", ok, err)
	}
	out, err := h.svc.Consume(h.ctx, req("alice", "10"), k)
	if err != nil || out.Replayed || bytes.Equal(out.Body, first.Body) {
		t.Fatalf("same key after 35 days: replayed %v, same body %v, %v; want a new consumption", out.Replayed, bytes.Equal(out.Body, first.Body), err)
	}
	h.wantLot("acme", alice.ID, counters{remaining: "80", spent: "20"})
	rec, ok, err := h.st.Idempotency(h.ctx, "acme", k.Key, gone)
	if err != nil || !ok || !bytes.Equal(rec.Response, out.Body) {
		t.Errorf("the new record = %s, %v, %v; want the new body", rec.Response, ok, err)
	}
	// Both consumptions of the key outlive its records: each read by its
	// own id, the first still refundable.
	var was, now ledger.ConsumeResult
	if err := errors.Join(json.Unmarshal(first.Body, &was), json.Unmarshal(out.Body, &now)); err != nil || was.ConsumptionID == now.ConsumptionID {
		t.Fatalf("the two consumptions %q and %q (%v): want two ids", was.ConsumptionID, now.ConsumptionID, err)
	}
	for _, id := range []string{was.ConsumptionID, now.ConsumptionID} {
		if c, err := h.st.Consumption(h.ctx, "acme", id); err != nil || c.ID != id || !c.Credits.Equal(d("10")) {
			t.Errorf("consumption %s after its key was used again: %+v, %v", id, c, err)
		}
	}
	h.mustRefund("acme", was.ConsumptionID, "4")
	if c, err := h.st.Consumption(h.ctx, "acme", was.ConsumptionID); err != nil || !c.Refunded.Equal(d("4")) {
		t.Errorf("the first consumption after its refund: %+v, %v; want 4 refunded", c, err)
	}
	if c, err := h.st.Consumption(h.ctx, "acme", now.ConsumptionID); err != nil || !c.Refunded.IsZero() {
		t.Errorf("the second consumption after the first's refund: %+v, %v; want none refunded", c, err)
	}
	h.wantLot("acme", alice.ID, counters{remaining: "84", spent: "20", refunded: "4"})
	// After the record lapsed, another body under the old key is a new request.
	h.clk.Set(gone.Add(35 * day))
	if out, err := h.svc.Consume(h.ctx, req("alice", "12"), k); err != nil || out.Replayed {
		t.Errorf("another body after the record lapsed: replayed %v, %v; want accepted", out.Replayed, err)
	}
}

func testKeyMissing(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	for _, tt := range []struct {
		key  string
		code core.Code
	}{
		{"", core.CodeIdempotencyKeyMissing},
		{strings.Repeat("k", ledger.IdempotencyKeyMax+1), core.CodeInvalidRequest},
		{"tab\there", core.CodeInvalidRequest},
		{"naïve", core.CodeInvalidRequest},
	} {
		before := h.dump()
		_, err := h.svc.Consume(h.ctx, req("alice", "1"), ledger.Idem{Key: tt.key})
		wantCode(t, err, tt.code)
		_, err = h.svc.Hold(h.ctx, req("alice", "1"), ledger.Idem{Key: tt.key})
		wantCode(t, err, tt.code)
		h.unchanged(t, "a request with key "+strings.ToValidUTF8(tt.key[:min(len(tt.key), 12)], "?"), before)
	}
	if _, err := h.svc.Consume(h.ctx, req("alice", "1"), ledger.Idem{Key: strings.Repeat("k", ledger.IdempotencyKeyMax)}); err != nil {
		t.Errorf("a 255-character key: %v", err)
	}
}

func testBusyLotConserves(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "busy", "1000", sunset(t0.Add(10*day)))
	c := h.consume(req("alice", "100"))                  // spent 100
	hold := h.hold(req("alice", "200", holdFor(20*day))) // held 200
	h.mustSettle("acme", hold.HoldID, "150")             // spent 250, 50 back
	h.mustRefund("acme", c.ConsumptionID, "40")          // refunded 40
	late := h.hold(req("alice", "100", holdFor(20*day))) // held 100
	h.clk.Set(t0.Add(10 * day))                          // the lot ends
	h.mustSettle("acme", late.HoldID, "30")              // spent 280, 70 expired
	h.sweep()                                            // remaining to expired
	h.mustRefund("acme", c.ConsumptionID, "0")           // 60 lost
	// 1000 = remaining 0 + spent 280 + held 0 + expired 760 + withdrawn 0 −
	// refunded 40: spent is gross, the 40 refunded came back to remaining
	// before the lot ended and expired with it.
	h.wantLot("acme", "busy", counters{spent: "280", expired: "760", refunded: "40"})
	var lost int
	for _, e := range h.entries("acme", "busy") {
		if e.Kind == ledger.EntryRefundLost {
			lost++
			wantEqual(t, "lost refund", e.Credits, d("60"))
			if e.Ref != c.ConsumptionID {
				t.Errorf("refund_lost references %s, want %s", e.Ref, c.ConsumptionID)
			}
		}
	}
	if lost != 1 {
		t.Errorf("%d refund_lost entries, want 1", lost)
	}
}

func testCurrencyMismatch(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.grant("acme", "forma-pool", "500", currency(core.Forma))
	before := h.dump()
	_, err := h.tryConsume(req("alice", "10"), h.key())
	e := wantCode(t, err, core.CodeCurrencyMismatch)
	if want := "you hold 500 forma credits; this service takes cloud credits"; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
	h.unchanged(t, "a spend in the wrong currency", before)
	r := h.consume(req("alice", "10", func(r *ledger.SpendRequest) { r.Currency = core.Forma }))
	if debitsString(r.Debits) != "forma-pool:10" {
		t.Errorf("forma spend debits = %s", debitsString(r.Debits))
	}
}

// testReplayAfterState: a spend's key is checked by its write, so a replay
// plans first without its record; one that would now be refused — the
// credits are gone, the user removed, the hold's credits held elsewhere —
// still answers its first result, and changes nothing.
func testReplayAfterState(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	spend, hold := h.key(), h.key()
	first, err := h.svc.Consume(h.ctx, req("alice", "60"), spend)
	if err != nil {
		t.Fatal(err)
	}
	held, err := h.svc.Hold(h.ctx, req("alice", "40"), hold)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		what   string
		change func()
	}{
		{"the credits are gone", func() {}}, // 60 + 40 of alice's 100 are taken
		{"the user is removed", func() {
			if _, err := h.svc.RemoveUser(h.ctx, "acme", "alice", h.key()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, s := range steps {
		s.change()
		before := h.dump()
		for _, c := range []struct {
			name  string
			first credits.Outcome
			again func() (credits.Outcome, error)
		}{
			{"consumption", first, func() (credits.Outcome, error) { return h.svc.Consume(h.ctx, req("alice", "60"), spend) }},
			{"hold", held, func() (credits.Outcome, error) { return h.svc.Hold(h.ctx, req("alice", "40"), hold) }},
		} {
			again, err := c.again()
			if err != nil || !again.Replayed || !bytes.Equal(again.Body, c.first.Body) {
				t.Errorf("%s: replay of the %s = replayed %v, %v; want its first result", s.what, c.name, again.Replayed, err)
			}
		}
		h.unchanged(t, "replays after "+s.what, before)
	}
}
