package ledger_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// book is a tiny test-only store: it applies a planned Tx to lots, holds,
// consumptions and entries in memory, all or nothing, enforcing the lot
// conditions of ledger.Tx. It exists so the pure tests can run a planner's
// output and look at the lots afterwards.
type book struct {
	lots    map[string]ledger.Lot
	holds   map[string]ledger.Hold
	cons    map[string]ledger.Consumption
	entries map[string][]ledger.Entry
	budget  map[string]decimal.Decimal // project|month
}

func newBook(lots ...ledger.Lot) *book {
	b := &book{lots: map[string]ledger.Lot{}, holds: map[string]ledger.Hold{}, cons: map[string]ledger.Consumption{},
		entries: map[string][]ledger.Entry{}, budget: map[string]decimal.Decimal{}}
	for _, l := range lots {
		b.lots[l.ID] = l
		// The lot's history so far, as one entry per non-zero counter, so the
		// entries of a pre-built lot reproduce it.
		b.entries[l.ID] = append(b.entries[l.ID], ledger.Entry{Lot: l.ID, Kind: ledger.EntryGrant, Credits: l.Amount,
			Move: ledger.Movement{Remaining: l.Remaining, Held: l.Held, Spent: l.Spent, Expired: l.Expired, Withdrawn: l.Withdrawn, Refunded: l.Refunded}})
	}
	return b
}

func (b *book) lotList() []ledger.Lot {
	out := make([]ledger.Lot, 0, len(b.lots))
	for _, l := range b.lots {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (b *book) state(u string) ledger.SpendState {
	st := state(b.lotList()...)
	st.User = user(u, ledger.Employee)
	return st
}

// apply checks every condition first and then writes, so a failed Tx changes
// nothing.
func (b *book) apply(tx ledger.Tx) error {
	if err := tx.Check(); err != nil {
		return err
	}
	next := map[string]ledger.Lot{}
	get := func(id string) (ledger.Lot, bool) {
		if l, ok := next[id]; ok {
			return l, true
		}
		l, ok := b.lots[id]
		return l, ok
	}
	for i, op := range tx.Ops {
		switch o := op.(type) {
		case ledger.CreateLot:
			if _, ok := get(o.Lot.ID); ok {
				return &ledger.ConflictError{Op: i, Reason: "lot exists"}
			}
			next[o.Lot.ID] = o.Lot
		case ledger.MoveLot:
			l, ok := get(o.Lot)
			if !ok || l.Contract != o.Contract {
				return &ledger.ConflictError{Op: i, Reason: "no lot " + o.Lot}
			}
			if !o.LiveAt.IsZero() && !l.LiveAt(o.LiveAt) {
				return &ledger.ConflictError{Op: i, Reason: "lot " + o.Lot + " not live"}
			}
			l = l.Apply(o.Move)
			if l.Remaining.Sign() < 0 || l.Held.Sign() < 0 {
				return &ledger.ConflictError{Op: i, Reason: "lot " + o.Lot + " would go negative"}
			}
			l.Version++
			next[o.Lot] = l
		case ledger.UpdateLot:
			l, ok := get(o.Lot.ID)
			if !ok || l.Version != o.Lot.Version-1 {
				return &ledger.ConflictError{Op: i, Reason: "lot " + o.Lot.ID + " changed"}
			}
			next[o.Lot.ID] = o.Lot
		case ledger.UpdateHold:
			if h, ok := b.holds[o.Hold.ID]; !ok || h.Version != o.Hold.Version-1 {
				return &ledger.ConflictError{Op: i, Reason: "hold changed"}
			}
		case ledger.UpdateConsumption:
			if c, ok := b.cons[o.Consumption.ID]; !ok || c.Version != o.Consumption.Version-1 {
				return &ledger.ConflictError{Op: i, Reason: "consumption changed"}
			}
		}
	}
	for id, l := range next {
		b.lots[id] = l
	}
	for _, op := range tx.Ops {
		switch o := op.(type) {
		case ledger.PutEntry:
			b.entries[o.Entry.Lot] = append(b.entries[o.Entry.Lot], o.Entry)
		case ledger.PutHold:
			b.holds[o.Hold.ID] = o.Hold
		case ledger.UpdateHold:
			b.holds[o.Hold.ID] = o.Hold
		case ledger.PutConsumption:
			b.cons[o.Consumption.ID] = o.Consumption
		case ledger.UpdateConsumption:
			b.cons[o.Consumption.ID] = o.Consumption
		case ledger.AddBudgetUsage:
			k := o.Project + "|" + o.Month
			b.budget[k] = b.budget[k].Add(o.Delta)
		}
	}
	return nil
}

func (b *book) mustApply(t *testing.T, plan func() (ledger.Decision, error)) ledger.Decision {
	t.Helper()
	dec, err := plan()
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if err := b.apply(dec.Tx); err != nil {
		t.Fatalf("apply a Tx planned on the current state: %v", err)
	}
	return dec
}

// audit checks every lot: conservation, and its entries reproduce it.
func (b *book) audit() error {
	for _, l := range b.lotList() {
		if !l.Conserves() {
			return fmt.Errorf("lot %s does not conserve: %+v", l.ID, l)
		}
		var got ledger.Lot
		for _, e := range b.entries[l.ID] {
			got = got.Apply(e.Move)
		}
		if !got.Remaining.Equal(l.Remaining) || !got.Held.Equal(l.Held) || !got.Spent.Equal(l.Spent) ||
			!got.Expired.Equal(l.Expired) || !got.Withdrawn.Equal(l.Withdrawn) || !got.Refunded.Equal(l.Refunded) {
			return fmt.Errorf("lot %s: entries sum to %s, counters are %s", l.ID, moveString(movementOf(got)), moveString(movementOf(l)))
		}
	}
	return nil
}

func movementOf(l ledger.Lot) ledger.Movement {
	return ledger.Movement{Remaining: l.Remaining, Held: l.Held, Spent: l.Spent, Expired: l.Expired, Withdrawn: l.Withdrawn, Refunded: l.Refunded}
}

func (b *book) hold(t *testing.T, u, credits string, at time.Time, holdFor time.Duration) ledger.Hold {
	t.Helper()
	req := spend(u, credits)
	req.HoldFor = holdFor
	dec := b.mustApply(t, func() (ledger.Decision, error) { return ledger.PlanHold(b.state(u), req, key(), envAt(at)) })
	var res ledger.HoldResult
	mustDecode(t, dec.Response, &res)
	return b.holds[res.HoldID]
}
