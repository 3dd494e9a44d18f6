package ledger

import (
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// HoldInput bundles a hold with what settling it needs: the lots it drew on
// (and, for a settlement above the hold, every lot the user may spend).
type HoldInput struct {
	Hold  Hold
	State SpendState
}

// SettleResult is the answer to settling a hold.
type SettleResult struct {
	HoldID        string          `json:"hold_id"`
	ConsumptionID string          `json:"consumption_id,omitempty"` // none when settled at 0
	Credits       decimal.Decimal `json:"credits"`
	Held          decimal.Decimal `json:"held"`
	Released      decimal.Decimal `json:"released"`
	Currency      core.Currency   `json:"currency"`
	Debits        []Debit         `json:"debits"`
}

// ReleaseResult is the answer to releasing a hold.
type ReleaseResult struct {
	HoldID   string          `json:"hold_id"`
	Released decimal.Decimal `json:"released"`
	Currency core.Currency   `json:"currency"`
	State    HoldState       `json:"state"`
}

// checkOpen refuses a hold that is not open, or, when settling, past its
// expiry. A hold past expiry is released by the sweeper (or a release call);
// settling it fails with hold_expired and changes nothing.
func checkOpen(h Hold, at time.Time, settling bool) error {
	if h.State != HoldOpen {
		return core.Errorf(core.CodeConflict, "hold %s is already %s", h.ID, h.State).WithDetail("state", string(h.State))
	}
	if settling && !at.Before(h.ExpiresAt) {
		return core.Errorf(core.CodeHoldExpired, "hold %s expired at %s", h.ID, h.ExpiresAt.Format(time.RFC3339)).
			WithDetail("expires_at", h.ExpiresAt.Format(time.RFC3339Nano))
	}
	return nil
}

// returnHeld moves credits held on lot l back: to remaining while the lot is
// live at the time, otherwise to expired or withdrawn, as its end says. A
// return to remaining is conditioned on the lot still being live at `at`
// (liveAt is set), so a lot ended between the read and the write makes the
// write fail and the re-plan sends the credits to expired instead of reviving
// a dead lot's remaining.
func returnHeld(l Lot, credits decimal.Decimal, at time.Time) (m Movement, kind EntryKind, liveAt time.Time) {
	m = Movement{Held: credits.Neg()}
	switch {
	case l.LiveAt(at):
		m.Remaining = credits
		return m, EntryRelease, at
	case l.EndsByWithdrawal():
		m.Withdrawn = credits
		return m, EntryWithdraw, time.Time{}
	}
	m.Expired = credits
	return m, EntryExpire, time.Time{}
}

// PlanSettle settles a hold with the actual cost. Actual ≤ held: the actual
// is posted against the held credits in the order they were reserved and the
// rest is returned to the same lots (to expired where a lot has since ended:
// the hold kept those credits reserved while the lot was live, so posting them
// is allowed, but returning them must not revive a dead lot). Actual > held:
// the hold is posted in full and the difference consumed in burn order, or
// the settlement fails without change.
func PlanSettle(in HoldInput, actual decimal.Decimal, idem Idem, env Env) (Decision, error) {
	h, st := in.Hold, in.State
	return idempotent(h.Contract, idem, st.Prior, env, func() (Tx, any, error) {
		if actual.Sign() < 0 || actual.GreaterThan(decimal.NewFromInt(core.CreditsMax)) || !actual.Equal(actual.Truncate(core.CreditsScaleMax)) {
			return Tx{}, nil, core.Invalid("credits", "must be between 0 and %d with at most %d decimal places", core.CreditsMax, core.CreditsScaleMax)
		}
		if err := checkOpen(h, env.At, true); err != nil {
			return Tx{}, nil, err
		}
		var ops []Op
		seq := 0
		left := actual
		debits := []Debit{}
		released := decimal.Zero
		for _, d := range h.Debits {
			l, ok := lotByID(st.Lots, d.Lot)
			if !ok {
				return Tx{}, nil, core.Errorf(core.CodeInternal, "hold %s names lot %s that does not exist", h.ID, d.Lot)
			}
			post := decimal.Min(left, d.Credits)
			left = left.Sub(post)
			if post.Sign() > 0 {
				m := Movement{Held: post.Neg(), Spent: post}
				ops = append(ops, MoveLot{Lot: l.ID, Contract: l.Contract, Move: m},
					PutEntry{Entry: entry(l, EntrySettle, post, m, h.ID, env, &seq)})
				debits = append(debits, Debit{Lot: l.ID, Credits: post})
			}
			if back := d.Credits.Sub(post); back.Sign() > 0 {
				m, kind, live := returnHeld(l, back, env.At)
				if kind == EntryRelease {
					released = released.Add(back)
				}
				ops = append(ops, MoveLot{Lot: l.ID, Contract: l.Contract, Move: m, LiveAt: live},
					PutEntry{Entry: entry(l, kind, back, m, h.ID, env, &seq)})
			}
		}
		req := SpendRequest{Contract: h.Contract, User: h.User, Entity: h.Entity, Project: h.Project,
			Service: h.Service, Currency: h.Currency, Credits: left}
		if left.Sign() > 0 {
			// Above the hold: the difference is a new spend with every check
			// a consumption has, against the lots as they are now.
			if tx, err := admit(st, req, env, left); err != nil {
				return tx, nil, err
			}
			b := burnFor(st, req, env)
			if err := refuseSpend(st, req, b, env.At); err != nil {
				return Tx{}, nil, err
			}
			more, moreOps, err := debitPlan(b, req, EntryConsume, h.ID, env, &seq)
			if err != nil {
				return Tx{}, nil, err
			}
			debits = append(debits, more...)
			ops = append(ops, moreOps...)
		}
		c := Consumption{
			ID: env.OpID, Contract: h.Contract, User: h.User, Entity: h.Entity, Project: h.Project,
			Service: h.Service, Currency: h.Currency, Credits: actual, Debits: debits, Hold: h.ID,
			CreatedAt: env.At, Refunded: decimal.Zero, Returned: zeros(len(debits)), BudgetMonth: Month(h.CreatedAt),
		}
		closed := h
		closed.State, closed.ClosedAt, closed.Version = HoldSettled, env.At, h.Version+1
		// At 0 the job cost nothing: the settlement is a release, and no
		// zero-credit consumption or usage is recorded (see doc.go).
		if actual.Sign() > 0 {
			closed.Consumption = c.ID
		}
		ops = append(ops, UpdateHold{Hold: closed})
		if actual.Sign() > 0 {
			ops = append(ops, PutConsumption{Consumption: c}, usageOp(c, env.At, actual, 1))
		}
		// The hold reserved budget in the month it was taken; the settlement
		// corrects that month's counter by the difference.
		ops = append(ops, budgetOp(st, req, c.BudgetMonth, actual.Sub(h.Credits))...)
		res := SettleResult{
			HoldID: h.ID, ConsumptionID: closed.Consumption, Credits: actual, Held: h.Credits, Released: released,
			Currency: h.Currency, Debits: debits,
		}
		return Tx{At: env.At, Ops: ops}, res, nil
	})
}

// PlanRelease returns every credit of an open hold to its lots (to expired
// where a lot has since ended). expired marks a release by the sweeper after
// the hold's expiry; it needs no idempotency key (the hold's state is the
// condition that makes it happen once).
func PlanRelease(in HoldInput, idem Idem, env Env, expired bool) (Decision, error) {
	h, st := in.Hold, in.State
	plan := func() (Tx, any, error) {
		if err := checkOpen(h, env.At, false); err != nil {
			return Tx{}, nil, err
		}
		if expired && env.At.Before(h.ExpiresAt) {
			return Tx{}, nil, core.Errorf(core.CodeConflict, "hold %s has not expired", h.ID)
		}
		var ops []Op
		seq := 0
		released := decimal.Zero
		for _, d := range h.Debits {
			l, ok := lotByID(st.Lots, d.Lot)
			if !ok {
				return Tx{}, nil, core.Errorf(core.CodeInternal, "hold %s names lot %s that does not exist", h.ID, d.Lot)
			}
			m, kind, live := returnHeld(l, d.Credits, env.At)
			if kind == EntryRelease {
				released = released.Add(d.Credits)
			}
			ops = append(ops, MoveLot{Lot: l.ID, Contract: l.Contract, Move: m, LiveAt: live},
				PutEntry{Entry: entry(l, kind, d.Credits, m, h.ID, env, &seq)})
		}
		closed := h
		closed.State, closed.ClosedAt, closed.Version = HoldReleased, env.At, h.Version+1
		if expired {
			closed.State = HoldExpired
		}
		ops = append(ops, UpdateHold{Hold: closed})
		req := SpendRequest{Contract: h.Contract, Project: h.Project, Currency: h.Currency}
		ops = append(ops, budgetOp(SpendState{}, req, Month(h.CreatedAt), h.Credits.Neg())...)
		res := ReleaseResult{HoldID: h.ID, Released: released, Currency: h.Currency, State: closed.State}
		return Tx{At: env.At, Ops: ops}, res, nil
	}
	if expired {
		tx, res, err := plan()
		if err != nil {
			return Decision{}, err
		}
		tx.At = env.At
		return Decision{Tx: merged(tx), Response: mustJSON(res)}, nil
	}
	return idempotent(h.Contract, idem, st.Prior, env, plan)
}

// RefundResult is the answer to a refund.
type RefundResult struct {
	ConsumptionID string          `json:"consumption_id,omitempty"` // none when settled at 0
	Refunded      decimal.Decimal `json:"refunded"`
	Returned      decimal.Decimal `json:"returned"`
	Lost          decimal.Decimal `json:"lost"`
	Currency      core.Currency   `json:"currency"`
	Lots          []RefundLine    `json:"lots"`
}

// RefundLine is the part of a refund that one lot took back (or lost).
type RefundLine struct {
	Lot     string          `json:"lot"`
	Credits decimal.Decimal `json:"credits"`
	Lost    bool            `json:"lost,omitempty"`
}

// PlanRefund reverses credits of a consumption (all that is left to refund
// when credits is zero). Credits go back to the lots they came from: first to
// the lots that are still live, last-debited first, so a partial refund loses
// as little as possible; the part whose lot has since ended is recorded as
// lost (an entry, no counter change), not re-issued. The usage roll-up of the
// consumption's month and the project budget counter the consumption was
// charged to (ChargedMonth: the hold's month for a settled hold) are reduced
// by the refund.
func PlanRefund(c Consumption, st SpendState, credits decimal.Decimal, idem Idem, env Env) (Decision, error) {
	return idempotent(c.Contract, idem, st.Prior, env, func() (Tx, any, error) {
		refundable := c.Credits.Sub(c.Refunded)
		if credits.IsZero() {
			credits = refundable
		}
		switch {
		case credits.Sign() < 0 || !credits.Equal(credits.Truncate(core.CreditsScaleMax)):
			return Tx{}, nil, core.Invalid("credits", "must be a positive number with at most %d decimal places", core.CreditsScaleMax)
		case refundable.Sign() == 0:
			return Tx{}, nil, core.Errorf(core.CodeConflict, "consumption %s is already fully refunded", c.ID)
		case credits.GreaterThan(refundable):
			return Tx{}, nil, core.Invalid("credits", "at most %s of consumption %s can still be refunded", refundable, c.ID)
		}
		left := credits
		returned := append([]decimal.Decimal(nil), c.Returned...)
		for len(returned) < len(c.Debits) {
			returned = append(returned, decimal.Zero)
		}
		var ops []Op
		var lines []RefundLine
		seq := 0
		back, lost := decimal.Zero, decimal.Zero
		for pass := 0; pass < 2 && left.Sign() > 0; pass++ {
			for i := len(c.Debits) - 1; i >= 0 && left.Sign() > 0; i-- {
				d := c.Debits[i]
				l, ok := lotByID(st.Lots, d.Lot)
				if !ok {
					return Tx{}, nil, core.Errorf(core.CodeInternal, "consumption %s names lot %s that does not exist", c.ID, d.Lot)
				}
				live := l.LiveAt(env.At)
				if live != (pass == 0) {
					continue
				}
				take := decimal.Min(left, d.Credits.Sub(returned[i]))
				if take.Sign() <= 0 {
					continue
				}
				left = left.Sub(take)
				returned[i] = returned[i].Add(take)
				if live {
					m := Movement{Remaining: take, Refunded: take}
					ops = append(ops, MoveLot{Lot: l.ID, Contract: l.Contract, Move: m, LiveAt: env.At},
						PutEntry{Entry: entry(l, EntryRefund, take, m, c.ID, env, &seq)})
					back = back.Add(take)
					lines = append(lines, RefundLine{Lot: l.ID, Credits: take})
				} else {
					ops = append(ops, PutEntry{Entry: entry(l, EntryRefundLost, take, Movement{}, c.ID, env, &seq)})
					lost = lost.Add(take)
					lines = append(lines, RefundLine{Lot: l.ID, Credits: take, Lost: true})
				}
			}
		}
		if left.Sign() != 0 {
			panic("ledger: refund plan does not cover a refundable amount")
		}
		after := c
		after.Refunded = c.Refunded.Add(credits)
		after.Returned = returned
		after.Version = c.Version + 1
		ops = append(ops, UpdateConsumption{Consumption: after}, usageOp(c, c.CreatedAt, credits.Neg(), 0))
		req := SpendRequest{Contract: c.Contract, Project: c.Project, Currency: c.Currency}
		ops = append(ops, budgetOp(SpendState{}, req, c.ChargedMonth(), credits.Neg())...)
		res := RefundResult{ConsumptionID: c.ID, Refunded: credits, Returned: back, Lost: lost, Currency: c.Currency, Lots: lines}
		return Tx{At: env.At, Ops: ops}, res, nil
	})
}
