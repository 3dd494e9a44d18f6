package ledger

import (
	"context"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Batches of spends.
//
// A batch plans its items one after another on one read of the ledger and
// applies them together. Item 2 must see what item 1 will debit without
// reading the store again, so the caller carries every planned Tx forward
// in a Carry and plans each item on its state as the Carry says it will be.
// Each item stays its own Tx: all-or-nothing, with its own conditions, so
// a refused or conflicting item never takes the others with it.

// EachApplier is a Store that applies several Txs in one call: each
// all-or-nothing as Apply would (a failed condition is that Tx's
// *ConflictError and changes nothing of it), with one error per Tx in the
// order given. The SQLite adapter applies them in one transaction (one
// commit); the DynamoDB adapter as one TransactWriteItems each, several at
// once. A Store that is not one gets its Txs applied one Apply each.
type EachApplier interface {
	ApplyEach(ctx context.Context, txs []Tx) []error
}

// IdempotencyLister is a Store that reads the records of many keys of one
// scope in one read: IdempotencyMany answers, for each key of keys that
// has a record live at `at`, that record (as Store.Idempotency would);
// keys without one are absent from the map. A batch reads its items' keys
// so; a Store that is not one gets one Idempotency read per key.
type IdempotencyLister interface {
	IdempotencyMany(ctx context.Context, scope string, keys []string, at time.Time) (map[string]IdempotencyRecord, error)
}

// Carry is what the earlier items of a batch planned and have not applied
// yet: each lot's movements and how often it moved, and what each project's
// month counter gains. The zero value carries nothing.
type Carry struct {
	moves  map[lotKey]carriedMove
	budget map[budgetKey]decimal.Decimal
}

type lotKey struct{ contract, lot string }

type carriedMove struct {
	move  Movement
	count int64 // the MoveLots carried: each moves the lot's version on
}

type budgetKey struct {
	contract, project string
	currency          core.Currency
	month             string
}

// Add carries tx's lot movements and budget usage forward; its other ops
// (records created, usage roll-ups) change nothing a later spend plans on.
func (c *Carry) Add(tx Tx) {
	for _, op := range tx.Ops {
		switch o := op.(type) {
		case MoveLot:
			if c.moves == nil {
				c.moves = map[lotKey]carriedMove{}
			}
			k := lotKey{o.Contract, o.Lot}
			m := c.moves[k]
			c.moves[k] = carriedMove{move: addMoves(m.move, o.Move), count: m.count + 1}
		case AddBudgetUsage:
			if c.budget == nil {
				c.budget = map[budgetKey]decimal.Decimal{}
			}
			k := budgetKey{o.Contract, o.Project, o.Currency, o.Month}
			c.budget[k] = c.budget[k].Add(o.Delta)
		}
	}
}

// Over returns st as it will be once everything carried is applied: its
// lots moved (a copy; st's own slice is not changed) and, for a spend
// tagged with project in currency, the month's counter raised. st must
// have been read before any of the carried Txs was applied.
func (c *Carry) Over(st SpendState, project string, currency core.Currency, month string) SpendState {
	if len(c.moves) > 0 {
		lots := make([]Lot, len(st.Lots))
		for i, l := range st.Lots {
			if m, ok := c.moves[lotKey{l.Contract, l.ID}]; ok {
				l = l.Apply(m.move)
				l.Version += m.count
			}
			lots[i] = l
		}
		st.Lots = lots
	}
	if project != "" {
		if add, ok := c.budget[budgetKey{st.Contract.ID, project, currency, month}]; ok {
			st.BudgetUsed = st.BudgetUsed.Add(add)
		}
	}
	return st
}
