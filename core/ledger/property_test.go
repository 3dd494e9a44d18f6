package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// TestPlannedTxsKeepEveryLotConserved runs random sequences of consumptions,
// holds, settlements, releases, refunds, withdrawals, removals, time passing
// and sweeps through the planners, applies each planned Tx to an in-memory
// book, and checks after every step that every lot conserves credits, that
// its entries reproduce its counters, and that a Tx planned on the current
// state always satisfies its own conditions.
func TestPlannedTxsKeepEveryLotConserved(t *testing.T) {
	seeds, steps := 150, 80
	if testing.Short() {
		seeds = 50
	}
	for seed := range seeds {
		if !runSequence(t, uint64(seed), steps) {
			return
		}
	}
}

func runSequence(t *testing.T, seed uint64, steps int) bool {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	at := t0
	b := newBook(
		lot("alice-ind", ledger.Individual, core.Cloud, "100", owner("alice")),
		lot("bob-ind", ledger.Individual, core.Cloud, "100", owner("bob"), expires(contract().End)),
		lot("A", ledger.Shared, core.Cloud, "300", expires(t0.Add(3*24*time.Hour))),
		lot("B", ledger.Shared, core.Cloud, "500", expires(t0.Add(30*24*time.Hour))),
		lot("C.s1", ledger.Shared, core.Cloud, "200", expires(t0.Add(60*24*time.Hour)), grantOf("C")),
		lot("C.s2", ledger.Shared, core.Cloud, "200", expires(t0.Add(60*24*time.Hour)), grantOf("C")),
		lot("C.s3", ledger.Shared, core.Cloud, "200", expires(t0.Add(60*24*time.Hour)), grantOf("C")),
		lot("F", ledger.Shared, core.Forma, "100"),
	)
	users := []string{"alice", "bob"}
	removed := map[string]bool{}
	amount := func() decimal.Decimal {
		if rng.IntN(5) == 0 {
			return decimal.New(int64(1+rng.IntN(4000)), -2) // fractional credits
		}
		return decimal.NewFromInt(int64(1 + rng.IntN(60)))
	}
	openHolds := func() []ledger.Hold {
		var hs []ledger.Hold
		for _, h := range b.holds {
			if h.State == ledger.HoldOpen {
				hs = append(hs, h)
			}
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i].ID < hs[j].ID })
		return hs
	}
	stateOf := func(u string) ledger.SpendState {
		st := b.state(u)
		if removed[u] {
			st.User.Active = false
		}
		return st
	}
	for step := range steps {
		e := envAt(at)
		e.Rotation = rng.Uint32()
		u := users[rng.IntN(len(users))]
		var what string
		var dec ledger.Decision
		var err error
		switch k := rng.IntN(20); {
		case k < 6:
			req := spend(u, "1")
			req.Credits = amount()
			if rng.IntN(10) == 0 {
				req.Currency = core.Forma
			}
			what = fmt.Sprintf("consume %s %s by %s", req.Credits, req.Currency, u)
			dec, err = ledger.PlanConsume(stateOf(u), req, key(), e)
			if err == nil && !consumeEntriesDerive(dec.Tx) {
				t.Errorf("seed %d step %d: %s: its entries are not ConsumeEntries of its consumption", seed, step, what)
				return false
			}
		case k < 10:
			req := spend(u, "1")
			req.Credits = amount()
			req.HoldFor = time.Duration(1+rng.IntN(72)) * time.Hour
			what = fmt.Sprintf("hold %s by %s for %s", req.Credits, u, req.HoldFor)
			dec, err = ledger.PlanHold(stateOf(u), req, key(), e)
		case k < 13:
			hs := openHolds()
			if len(hs) == 0 {
				continue
			}
			h := hs[rng.IntN(len(hs))]
			actual := decimal.NewFromInt(int64(rng.IntN(int(h.Credits.IntPart()) + 30)))
			what = fmt.Sprintf("settle hold %s (%s) at %s", h.ID, h.Credits, actual)
			dec, err = ledger.PlanSettle(ledger.HoldInput{Hold: h, State: stateOf(h.User)}, actual, key(), e)
		case k < 14:
			hs := openHolds()
			if len(hs) == 0 {
				continue
			}
			h := hs[rng.IntN(len(hs))]
			what = "release hold " + h.ID
			dec, err = ledger.PlanRelease(ledger.HoldInput{Hold: h, State: stateOf(h.User)}, key(), e, false)
		case k < 16:
			var cs []ledger.Consumption
			for _, c := range b.cons {
				cs = append(cs, c)
			}
			if len(cs) == 0 {
				continue
			}
			sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
			c := cs[rng.IntN(len(cs))]
			credits := decimal.Zero
			if rng.IntN(2) == 0 {
				credits = decimal.NewFromInt(int64(1 + rng.IntN(30)))
			}
			what = fmt.Sprintf("refund %s of %s (%s, %s refunded)", credits, c.ID, c.Credits, c.Refunded)
			dec, err = ledger.PlanRefund(c, ledger.SpendState{Lots: b.lotList()}, credits, key(), e)
		case k < 18:
			at = at.Add(time.Duration(rng.IntN(36*60)) * time.Minute)
			what = "time passes to " + at.String()
			dec, err = ledger.Decision{}, nil
		case k < 19:
			// Sweep: release expired holds, close ended lots.
			what = "sweep"
			for _, h := range openHolds() {
				if !at.Before(h.ExpiresAt) {
					d, err := ledger.PlanRelease(ledger.HoldInput{Hold: h, State: stateOf(h.User)}, ledger.Idem{}, envAt(at), true)
					if err != nil {
						t.Fatalf("seed %d step %d: sweeper release of %s: %v", seed, step, h.ID, err)
					}
					if err := b.apply(d.Tx); err != nil {
						t.Fatalf("seed %d step %d: sweeper release of %s: %v", seed, step, h.ID, err)
					}
				}
			}
			for _, l := range b.lotList() {
				if err := b.apply(ledger.PlanExpireLot(l, envAt(at))); err != nil {
					t.Fatalf("seed %d step %d: expire %s: %v", seed, step, l.ID, err)
				}
			}
		default:
			if rng.IntN(2) == 0 {
				l := b.lots[u+"-ind"]
				what = "withdraw " + l.ID
				dec, err = ledger.PlanWithdrawLot(l, "", at, nil, key(), e)
			} else if !removed[u] {
				what = "remove " + u
				dec, err = ledger.PlanRemoveUser(*stateOf(u).User, b.lotList(), nil, key(), e)
				if err == nil {
					removed[u] = true
				}
			}
		}
		if err != nil {
			switch core.ErrorCode(err) {
			case core.CodeInsufficientCredits, core.CodeCurrencyMismatch, core.CodeHoldExpired, core.CodeConflict, core.CodeNotEligible, core.CodeInvalidRequest:
			default:
				t.Fatalf("seed %d step %d: %s: unexpected %v", seed, step, what, err)
			}
			if len(dec.Tx.Ops) > 0 && core.ErrorCode(err) != core.CodeNotEligible {
				t.Fatalf("seed %d step %d: %s: refusal %v carries %d writes", seed, step, what, err, len(dec.Tx.Ops))
			}
		}
		before := movements(b)
		if err := b.apply(dec.Tx); err != nil {
			t.Fatalf("seed %d step %d: %s: a Tx planned on the current state failed its own conditions: %v", seed, step, what, err)
		}
		if err := b.audit(); err != nil {
			t.Errorf("seed %d step %d: after %s: %v", seed, step, what, err)
			return false
		}
		for id, l := range b.lots {
			if l.Remaining.GreaterThan(before[id].Remaining) && !l.LiveAt(at) {
				t.Errorf("seed %d step %d: %s revived ended lot %s: remaining %s → %s", seed, step, what, id, before[id].Remaining, l.Remaining)
				return false
			}
		}
	}
	// Nothing was created or destroyed: every lot's amount is its grant.
	for _, l := range b.lotList() {
		if !l.Amount.Equal(b.entries[l.ID][0].Credits) {
			t.Errorf("seed %d: lot %s amount %s, granted %s", seed, l.ID, l.Amount, b.entries[l.ID][0].Credits)
			return false
		}
	}
	return true
}

func movements(b *book) map[string]ledger.Movement {
	out := map[string]ledger.Movement{}
	for id, l := range b.lots {
		out[id] = movementOf(l)
	}
	return out
}

// TestSpendingInTwoCallsEqualsSpendingInOne: with the deterministic burn
// order, consuming x and then y leaves every lot as consuming x+y does.
func TestSpendingInTwoCallsEqualsSpendingInOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 200 {
		lots := []ledger.Lot{
			lot("mine", ledger.Individual, core.Cloud, "100"),
			lot("A", ledger.Shared, core.Cloud, "70", expires(t0.Add(24*time.Hour))),
			lot("B", ledger.Shared, core.Cloud, "90"),
		}
		x := decimal.NewFromInt(int64(1 + rng.IntN(130)))
		y := decimal.NewFromInt(int64(1 + rng.IntN(130)))
		one, two := newBook(lots...), newBook(lots...)
		_, errOne := ledger.PlanConsume(one.state("alice"), spend("alice", x.Add(y).String()), key(), env())
		if errOne == nil {
			one.mustApply(t, func() (ledger.Decision, error) {
				return ledger.PlanConsume(one.state("alice"), spend("alice", x.Add(y).String()), key(), env())
			})
		}
		two.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanConsume(two.state("alice"), spend("alice", x.String()), key(), env())
		})
		_, errTwo := ledger.PlanConsume(two.state("alice"), spend("alice", y.String()), key(), env())
		if (errOne == nil) != (errTwo == nil) {
			t.Fatalf("case %d: x=%s y=%s: one call err %v, two calls err %v", i, x, y, errOne, errTwo)
		}
		if errTwo != nil {
			continue
		}
		two.mustApply(t, func() (ledger.Decision, error) {
			return ledger.PlanConsume(two.state("alice"), spend("alice", y.String()), key(), env())
		})
		for id := range one.lots {
			if a, b := one.lots[id], two.lots[id]; !a.Remaining.Equal(b.Remaining) || !a.Spent.Equal(b.Spent) {
				t.Errorf("case %d: x=%s y=%s: lot %s: one call leaves %s, two calls %s", i, x, y, id, a.Remaining, b.Remaining)
			}
		}
	}
}

// consumeEntriesDerive reports whether a consumption's Tx appends exactly
// the entries ledger.ConsumeEntries derives from its consumption.
func consumeEntriesDerive(tx ledger.Tx) bool {
	var es []ledger.Entry
	var c *ledger.Consumption
	for _, op := range tx.Ops {
		switch op := op.(type) {
		case ledger.PutEntry:
			es = append(es, op.Entry)
		case ledger.PutConsumption:
			c = &op.Consumption
		}
	}
	if c == nil {
		return false
	}
	derived := ledger.ConsumeEntries(*c)
	if len(derived) != len(es) {
		return false
	}
	for i, e := range es {
		g := derived[i]
		if g.ID != e.ID || g.Contract != e.Contract || g.Lot != e.Lot || g.Currency != e.Currency || g.Kind != e.Kind ||
			!g.Credits.Equal(e.Credits) || g.Ref != e.Ref || !g.At.Equal(e.At) || moveString(g.Move) != moveString(e.Move) {
			return false
		}
	}
	return true
}
