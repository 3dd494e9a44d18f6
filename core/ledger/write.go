package ledger

import (
	"fmt"
	"strings"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// A store sees a Tx as Writes: four kinds of conditional write that every
// store can do atomically, each on one record. The planners speak in ops
// (CreateLot, MoveLot, UpdateHold, …), which say what the ledger decided;
// Tx.Writes lowers them, once, to these primitives, which say what a store
// must do. An adapter therefore has one switch of four cases and one codec
// per record shape, and every law is still enforced in the write's own
// condition.
//
//   - Create puts a new record. Condition: no record has its key — or, when
//     ExpiredBy is set, the one there expired at or before it (an
//     idempotency record outlives its expiry until the store deletes it).
//   - Replace puts a whole record. Condition: the stored record is at version
//     Was (0: no record has its key); AnyVersion: no condition (the last
//     write wins). The record written carries version Was + 1.
//   - Add adds to a record's counters. Conditions: each counter after the add
//     is within its bounds; the record exists when MustExist (otherwise a
//     missing record counts as all zero and is created); and when LiveAt is
//     set, the record (a lot) is live at LiveAt. An Add to a versioned record
//     (a lot) moves its version on too, so a Replace planned on a lot read
//     before a spend fails instead of writing back the old counters.
//   - Check writes nothing. Condition: the record is at version Was (0: no
//     record has its key).
type WriteKind uint8

const (
	WriteCreate WriteKind = iota + 1
	WriteReplace
	WriteAdd
	WriteCheck
)

func (k WriteKind) String() string {
	switch k {
	case WriteCreate:
		return "create"
	case WriteReplace:
		return "replace"
	case WriteAdd:
		return "add"
	case WriteCheck:
		return "check"
	}
	return fmt.Sprintf("WriteKind(%d)", uint8(k))
}

// AnyVersion is a Replace's Was when it is unconditional.
const AnyVersion int64 = -1

// Record is a stored record's shape: Lot, Entry, IdempotencyRecord, Hold,
// Consumption, BudgetUsed, Usage, Attempt, Contract, User, Grant, Budget,
// Notification, Order, QuoteAcceptance or Sunset. The set is closed: an
// adapter's codec switches on these types.
type Record interface{ isRecord() }

func (Lot) isRecord()               {}
func (Entry) isRecord()             {}
func (IdempotencyRecord) isRecord() {}
func (Hold) isRecord()              {}
func (Consumption) isRecord()       {}
func (BudgetUsed) isRecord()        {}
func (Usage) isRecord()             {}
func (Attempt) isRecord()           {}
func (Contract) isRecord()          {}
func (User) isRecord()              {}
func (Grant) isRecord()             {}
func (Budget) isRecord()            {}
func (Notification) isRecord()      {}
func (Order) isRecord()             {}
func (QuoteAcceptance) isRecord()   {}
func (Sunset) isRecord()            {}

// BudgetUsed is a project's spend counter for one currency and month.
type BudgetUsed struct {
	Contract, Project string
	Currency          core.Currency
	Month             string
	Used              decimal.Decimal
}

// Grant records that a contract user received the one-time individual grant.
type Grant struct{ Contract, User string }

// Counter names a counter an Add may change. Stores name their columns and
// attributes after these.
type Counter string

const (
	CounterRemaining Counter = "remaining" // Lot
	CounterHeld      Counter = "held"      // Lot
	CounterSpent     Counter = "spent"     // Lot
	CounterExpired   Counter = "expired"   // Lot
	CounterWithdrawn Counter = "withdrawn" // Lot
	CounterRefunded  Counter = "refunded"  // Lot
	CounterUsed      Counter = "used"      // BudgetUsed
	CounterCredits   Counter = "credits"   // Usage
	CounterCount     Counter = "count"     // Usage (a whole number)
)

// Add is one counter of an Add write: By is added, and when AtLeast or
// AtMost is set, the counter after the add must be within it.
type Add struct {
	Counter Counter
	By      decimal.Decimal
	AtLeast *decimal.Decimal
	AtMost  *decimal.Decimal
}

// Write is one primitive write of a Tx (see WriteKind).
type Write struct {
	Kind WriteKind
	// Rec is the record written (Create, Replace), or the record whose key
	// an Add or a Check names (only its key fields are read).
	Rec Record
	// Was is the version a Replace or a Check requires (see WriteKind).
	Was int64
	// ExpiredBy lets a Create replace a record that expired by then.
	ExpiredBy time.Time
	// Adds, MustExist and LiveAt are an Add's counters and conditions.
	Adds      []Add
	MustExist bool
	LiveAt    time.Time
	// Op is the index in Tx.Ops of the op the write came from, which a
	// *ConflictError names; What is its condition in words, for logs.
	Op   int
	What string
}

// Writes checks tx's invariants (Check) and lowers its ops to the writes a
// store applies, in order, one per record. It is the one place both are
// done: every Tx passes through it on its way into a store.
func (tx Tx) Writes() ([]Write, error) {
	if err := tx.Check(); err != nil {
		return nil, err
	}
	out := make([]Write, 0, len(tx.Ops))
	written := make(map[RecordKey]int, len(tx.Ops))
	for i, op := range tx.Ops {
		w, err := lower(op)
		if err != nil {
			return nil, fmt.Errorf("op %d: %w", i, err)
		}
		w.Op = i
		k := KeyOf(w.Rec)
		if j, seen := written[k]; seen {
			return nil, fmt.Errorf("ops %d and %d both write %s %s: a Tx writes each record once", j, i, k.Shape, k.ID)
		}
		written[k] = i
		out = append(out, w)
	}
	return out, nil
}

// RecordKey identifies a stored record: its shape and its key fields joined.
type RecordKey struct{ Shape, ID string }

// KeyOf returns the key of a record (only its key fields are read).
func KeyOf(r Record) RecordKey {
	join := func(parts ...string) string {
		for i, p := range parts {
			parts[i] = EventIDPart(p)
		}
		return strings.Join(parts, ":")
	}
	switch r := r.(type) {
	case Lot:
		return RecordKey{"lot", join(r.Contract, r.ID)}
	case Entry:
		return RecordKey{"entry", join(r.Contract, r.ID)}
	case IdempotencyRecord:
		return RecordKey{"idempotency", join(r.Contract, r.Key)}
	case Hold:
		return RecordKey{"hold", join(r.Contract, r.ID)}
	case Consumption:
		return RecordKey{"consumption", join(r.Contract, r.ID)}
	case BudgetUsed:
		return RecordKey{"budget_used", join(r.Contract, r.Project, string(r.Currency), r.Month)}
	case Usage:
		k := r.Key
		return RecordKey{"usage", join(k.Contract, k.Month, string(k.Currency), k.User, k.Service, k.Project, k.Entity)}
	case Attempt:
		return RecordKey{"attempt", join(r.Contract, r.ID)}
	case Contract:
		return RecordKey{"contract", join(r.ID)}
	case User:
		return RecordKey{"user", join(r.Contract, r.ID)}
	case Grant:
		return RecordKey{"grant", join(r.Contract, r.User)}
	case Budget:
		return RecordKey{"budget", join(r.Contract, r.Project, string(r.Currency))}
	case Notification:
		return RecordKey{"notification", join(r.ID)}
	case Order:
		return RecordKey{"order", join(r.Contract, r.ID)}
	case QuoteAcceptance:
		return RecordKey{"quote_acceptance", join(r.QuoteID)}
	case Sunset:
		return RecordKey{"sunset", join(string(r.Currency))}
	}
	panic(fmt.Sprintf("ledger: %T is not a record", r))
}

func zeroAtLeast() *decimal.Decimal { z := decimal.Zero; return &z }

// replace is the Replace of a versioned record whose Version is the one it
// is written with: the stored one must be one less.
func replace(rec Record, version int64, what string) Write {
	return Write{Kind: WriteReplace, Rec: rec, Was: version - 1, What: fmt.Sprintf("%s is at version %d", what, version-1)}
}

// put creates a versioned record at version 1, or replaces it (PutUser,
// PutSunset: one op for both).
func put(rec Record, version int64, what string) Write {
	if version == 1 {
		return create(rec, what+" does not exist")
	}
	return replace(rec, version, what)
}

// create is the Create of a new record, at version 1 where the record
// carries one.
func create(rec Record, what string) Write {
	switch r := rec.(type) {
	case Lot:
		r.Version = 1
		rec = r
	case Hold:
		r.Version = 1
		rec = r
	case Consumption:
		r.Version = 1
		rec = r
	case Contract:
		r.Version = 1
		rec = r
	case Notification:
		r.Version = 1
		rec = r
	case Order:
		r.Version = 1
		rec = r
	}
	return Write{Kind: WriteCreate, Rec: rec, What: what}
}

func lower(op Op) (Write, error) {
	switch o := op.(type) {
	case CreateLot:
		return create(o.Lot, "lot "+o.Lot.ID+" does not exist"), nil
	case MoveLot:
		m := o.Move
		w := Write{Kind: WriteAdd, Rec: Lot{ID: o.Lot, Contract: o.Contract}, MustExist: true, LiveAt: o.LiveAt,
			What: "lot " + o.Lot + " exists"}
		for _, c := range []struct {
			counter Counter
			by      decimal.Decimal
			bounded bool
		}{
			{CounterRemaining, m.Remaining, true}, {CounterHeld, m.Held, true}, {CounterSpent, m.Spent, false},
			{CounterExpired, m.Expired, false}, {CounterWithdrawn, m.Withdrawn, false}, {CounterRefunded, m.Refunded, false},
		} {
			if c.by.IsZero() {
				continue
			}
			a := Add{Counter: c.counter, By: c.by}
			// Only a decrease can take a counter below zero.
			if c.bounded && c.by.Sign() < 0 {
				a.AtLeast = zeroAtLeast()
				w.What += ", " + string(c.counter) + " ≥ " + strings.TrimPrefix(c.by.String(), "-") // c.by.Neg()
				if c.counter == CounterRemaining && o.Empties {
					a.AtMost = zeroAtLeast()
					w.What += " (exactly: the lot empties)"
				}
			}
			w.Adds = append(w.Adds, a)
		}
		if !o.LiveAt.IsZero() {
			w.What += ", live at " + o.LiveAt.UTC().Format(time.RFC3339Nano)
		}
		return w, nil
	case UpdateLot:
		return replace(o.Lot, o.Lot.Version, "lot "+o.Lot.ID), nil
	case PutEntry:
		return create(o.Entry, "entry "+o.Entry.ID+" does not exist"), nil
	case PutIdempotency:
		return Write{Kind: WriteCreate, Rec: o.Record, ExpiredBy: o.At,
			What: "no live idempotency record for key " + o.Record.Key}, nil
	case PutHold:
		return create(o.Hold, "hold "+o.Hold.ID+" does not exist"), nil
	case UpdateHold:
		return replace(o.Hold, o.Hold.Version, "hold "+o.Hold.ID), nil
	case PutConsumption:
		return create(o.Consumption, "consumption "+o.Consumption.ID+" does not exist"), nil
	case UpdateConsumption:
		return replace(o.Consumption, o.Consumption.Version, "consumption "+o.Consumption.ID), nil
	case AddBudgetUsage:
		a := Add{Counter: CounterUsed, By: o.Delta}
		what := "project " + o.Project + " budget counter " + o.Month
		if o.Capped && o.Delta.Sign() > 0 {
			limit := o.Cap
			a.AtMost = &limit
			what += " stays within " + o.Cap.String()
		}
		return Write{Kind: WriteAdd, Rec: BudgetUsed{Contract: o.Contract, Project: o.Project, Currency: o.Currency, Month: o.Month},
			Adds: []Add{a}, What: what}, nil
	case AddUsage:
		return Write{Kind: WriteAdd, Rec: Usage{Key: o.Key}, What: "usage row " + o.Key.Month,
			Adds: []Add{{Counter: CounterCredits, By: o.Credits}, {Counter: CounterCount, By: decimal.NewFromInt(o.Count)}}}, nil
	case PutAttempt:
		return Write{Kind: WriteReplace, Rec: o.Attempt, Was: AnyVersion}, nil
	case PutContract:
		return create(o.Contract, "contract "+o.Contract.ID+" does not exist"), nil
	case UpdateContract:
		return replace(o.Contract, o.Contract.Version, "contract "+o.Contract.ID), nil
	case PutUser:
		return put(o.User, o.User.Version, "user "+o.User.ID), nil
	case MarkGrant:
		return create(Grant{Contract: o.Contract, User: o.User}, "user "+o.User+" was not granted before"), nil
	case PutBudget:
		return Write{Kind: WriteReplace, Rec: o.Budget, Was: AnyVersion}, nil
	case PutNotification:
		return create(o.Notification, "notification "+o.Notification.ID+" was not recorded before"), nil
	case UpdateNotification:
		return replace(o.Notification, o.Notification.Version, "notification "+o.Notification.ID), nil
	case ContractIs:
		return Write{Kind: WriteCheck, Rec: Contract{ID: o.Contract}, Was: o.Version,
			What: fmt.Sprintf("contract %s is at version %d", o.Contract, o.Version)}, nil
	case PutOrder:
		return create(o.Order, "order "+o.Order.ID+" does not exist"), nil
	case UpdateOrder:
		return replace(o.Order, o.Order.Version, "order "+o.Order.ID), nil
	case PutQuoteAcceptance:
		return create(o.Acceptance, "quote "+o.Acceptance.QuoteID+" was not accepted before"), nil
	case PutSunset:
		return put(o.Sunset, o.Sunset.Version, "sunset of "+string(o.Sunset.Currency)), nil
	case SunsetIs:
		return Write{Kind: WriteCheck, Rec: Sunset{Currency: o.Currency}, Was: o.Version,
			What: fmt.Sprintf("sunset of %s is at version %d", o.Currency, o.Version)}, nil
	case nil:
		return Write{}, fmt.Errorf("nil op")
	}
	return Write{}, fmt.Errorf("unknown op %T", op)
}
