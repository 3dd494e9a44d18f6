package ledger

import (
	"fmt"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Tx is what a planner decided: writes that a store applies all together or
// not at all. Every write carries its own condition, and the store enforces
// the condition in the write itself (a SQL transaction on SQLite, one
// TransactWriteItems on DynamoDB), never only in the read that planned it.
// When any condition fails the store applies nothing and returns a
// *ConflictError; the caller reads again and re-plans.
//
// A Tx writes each item at most once: a planner that touches one lot twice
// (settling a hold posts part of it and returns the rest; a refund of a
// settled hold may reach the same lot through two debits) merges the
// movements into one MoveLot carrying the strictest condition, and a Tx adds
// to a budget counter or a usage row at most once. An adapter may therefore
// write each item once per Tx — DynamoDB refuses a transaction that names
// one item twice.
type Tx struct {
	At  time.Time
	Ops []Op
}

// Op is one conditional write. The set of ops is closed: adapters switch on
// the concrete types below.
type Op interface{ isOp() }

// CreateLot puts a new lot. Condition: no lot with that id exists.
type CreateLot struct{ Lot Lot }

// MoveLot adds Move to a lot's counters. Conditions: the lot exists in
// Contract; afterwards Remaining ≥ 0 and Held ≥ 0; and when LiveAt is not
// zero, the lot is live at LiveAt (effective_from ≤ LiveAt < end).
//
// Empties says the move takes everything the lot had remaining when it was
// read, so its condition is exact: Remaining is 0 afterwards. A store that
// keeps an index of the lots with credits left (the spend's read) drops the
// lot from it in the write itself; a lot that gained credits since it was
// read fails the condition and the spend is planned again.
type MoveLot struct {
	Lot      string
	Contract string
	Move     Movement
	LiveAt   time.Time
	Empties  bool
}

// UpdateLot replaces a lot with Lot, whose Version is one more than the
// version read: how a lot's end moves (expiry, withdrawal, termination, a
// sunset). Condition: the stored lot is still at the version read — every
// move of its counters moves the version on, so a lot spent from since it
// was read is read again, never written back with old counters.
type UpdateLot struct{ Lot Lot }

// Ended is l with its end fields set (expiry, withdrawal notice, close) as
// an UpdateLot.
func (l Lot) Ended(expiresAt, noticeAt, closesAt time.Time) UpdateLot {
	l.ExpiresAt, l.WithdrawNoticeAt, l.ClosesAt, l.Version = expiresAt, noticeAt, closesAt, l.Version+1
	return UpdateLot{Lot: l}
}

// PutEntry appends a ledger entry. Condition: no entry with that id exists.
type PutEntry struct{ Entry Entry }

// PutIdempotency stores a request's first result. Condition: no record for
// (contract, key) exists, or the one that exists expired before At.
type PutIdempotency struct {
	Record IdempotencyRecord
	At     time.Time
}

// PutHold creates a hold. Condition: no hold with that id exists.
type PutHold struct{ Hold Hold }

// UpdateHold replaces a hold with Hold, whose Version is one more than the
// version read. Condition: the stored hold is still at the version read.
type UpdateHold struct{ Hold Hold }

// PutConsumption creates a consumption. Condition: none with that id exists.
type PutConsumption struct{ Consumption Consumption }

// UpdateConsumption replaces a consumption after a refund with
// Consumption, whose Version is one more than the version read. Condition:
// the stored consumption is still at the version read.
type UpdateConsumption struct{ Consumption Consumption }

// AddBudgetUsage adds Delta to a project's month counter. Condition, when
// Capped and Delta > 0: the counter after the add is at most Cap.
type AddBudgetUsage struct {
	Contract, Project string
	Currency          core.Currency
	Month             string
	Delta             decimal.Decimal
	Capped            bool
	Cap               decimal.Decimal
}

// AddUsage adds to a report roll-up row (creating it at zero). Unconditional.
type AddUsage struct {
	Key     UsageKey
	Credits decimal.Decimal
	Count   int64
}

// PutAttempt records a refused spend for the audit. Unconditional.
type PutAttempt struct{ Attempt Attempt }

// PutContract creates a contract (Version 1). Condition: none with that id.
type PutContract struct{ Contract Contract }

// UpdateContract replaces a contract. Condition: its version is
// Contract.Version − 1.
type UpdateContract struct{ Contract Contract }

// PutUser creates (Version 1) or replaces a contract user. Condition: for
// Version 1 the user does not exist; otherwise its version is Version − 1.
type PutUser struct{ User User }

// MarkGrant records that a contract user received the one-time individual
// grant. Condition: not marked before — this is what makes the grant once
// per contract and user, however often the association is repeated.
type MarkGrant struct{ Contract, User string }

// PutBudget creates or replaces a project budget. Unconditional: the last
// admin write wins, and spends condition on the cap they read.
type PutBudget struct{ Budget Budget }

func (CreateLot) isOp()         {}
func (MoveLot) isOp()           {}
func (UpdateLot) isOp()         {}
func (PutEntry) isOp()          {}
func (PutIdempotency) isOp()    {}
func (PutHold) isOp()           {}
func (UpdateHold) isOp()        {}
func (PutConsumption) isOp()    {}
func (UpdateConsumption) isOp() {}
func (AddBudgetUsage) isOp()    {}
func (AddUsage) isOp()          {}
func (PutAttempt) isOp()        {}
func (PutContract) isOp()       {}
func (UpdateContract) isOp()    {}
func (PutUser) isOp()           {}
func (MarkGrant) isOp()         {}
func (PutBudget) isOp()         {}

// ConflictError is what a store returns when a condition of a Tx failed. It
// names the op, so the caller can tell a lost race (re-plan) from a replay
// (the idempotency record now exists) and map the failure to a domain code.
type ConflictError struct {
	Op     int    // index in Tx.Ops; -1 when unknown
	Reason string // the condition that failed, for logs
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflict on write %d: %s", e.Op, e.Reason)
}

// Unwrap lets errors.As find the domain error: a conflict is reported to a
// client as conflict once re-planning gives up.
func (e *ConflictError) Unwrap() error {
	return core.Errorf(core.CodeConflict, "the ledger changed while this request was applied; retry it")
}

// Check verifies the invariants of each op before a store sees it: each
// lot movement conserves credits, each lot created conserves, and no op is
// nil. Writes runs it, and also refuses a Tx that writes one record twice.
// A planner that breaks one is a bug: the store refuses the Tx as internal.
func (tx Tx) Check() error {
	for i, op := range tx.Ops {
		switch o := op.(type) {
		case nil:
			return fmt.Errorf("op %d is nil", i)
		case MoveLot:
			m := o.Move
			net := plus(plus(plus(plus(m.Remaining, m.Held), m.Spent), m.Expired), m.Withdrawn)
			if !net.Equal(m.Refunded) {
				return fmt.Errorf("op %d moves lot %s by %s: movements must conserve credits", i, o.Lot, net.Sub(m.Refunded))
			}
		case CreateLot:
			if !o.Lot.Conserves() {
				return fmt.Errorf("op %d creates lot %s that does not conserve", i, o.Lot.ID)
			}
		}
	}
	return nil
}

// mergeMoves folds every MoveLot of one lot into the first one, summing the
// movements and keeping the strictest condition (a LiveAt, when any had one).
// Conditions on the final counters are the same as on each step, because no
// planner moves a counter down and then up again within one lot.
func mergeMoves(ops []Op) []Op {
	moves := 0
	for _, op := range ops {
		if _, ok := op.(MoveLot); ok {
			moves++
		}
	}
	if moves < 2 {
		return ops // nothing to fold
	}
	first := map[[2]string]int{}
	out := ops[:0:0]
	for _, op := range ops {
		mv, ok := op.(MoveLot)
		if !ok {
			out = append(out, op)
			continue
		}
		k := [2]string{mv.Contract, mv.Lot}
		i, seen := first[k]
		if !seen {
			first[k] = len(out)
			out = append(out, mv)
			continue
		}
		prev := out[i].(MoveLot)
		prev.Move = addMoves(prev.Move, mv.Move)
		// Two moves of one lot no longer say what it had as read: the
		// merged move is bounded below only (an index may keep the lot).
		prev.Empties = false
		if prev.LiveAt.IsZero() {
			prev.LiveAt = mv.LiveAt
		}
		out[i] = prev
	}
	return out
}

func addMoves(a, b Movement) Movement {
	return Movement{
		Remaining: plus(a.Remaining, b.Remaining),
		Held:      plus(a.Held, b.Held),
		Spent:     plus(a.Spent, b.Spent),
		Expired:   plus(a.Expired, b.Expired),
		Withdrawn: plus(a.Withdrawn, b.Withdrawn),
		Refunded:  plus(a.Refunded, b.Refunded),
	}
}

// merged folds each lot's movements into one MoveLot: the one merge of a
// planner's moves. The invariants are checked once, by Tx.Writes, on the
// way into a store.
func merged(tx Tx) Tx {
	tx.Ops = mergeMoves(tx.Ops)
	return tx
}
