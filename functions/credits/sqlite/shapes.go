package sqlite

import (
	"fmt"
	"strings"

	"cloudcredits/core/ledger"
)

// shape is how one record shape (ledger.Record) is stored: its table, its
// columns (the first keyCols of them are its key) and its row codec. The
// four write primitives are written once, over shapes; the statements each
// shape needs are built from it and prepared when the store opens.
type shape struct {
	table   string
	cols    string
	ncols   int // how many cols names (set by build)
	keyCols int
	// versioned: the table has a version column (ledger.WriteReplace and
	// ledger.WriteCheck compare it; an Add moves it on).
	versioned bool
	// counters are the columns an Add may change (ledger.Counter names
	// them), read and written back together; integer ones hold whole
	// numbers, the rest decimal text.
	counters []string
	integer  map[string]bool
	// expires is the column a Create's ExpiredBy compares ("" when none).
	expires string
	// createsMany: a batch's creates of this shape are written several
	// rows to an INSERT (qCreateMany; see deferred), as the records a
	// spend creates are.
	createsMany bool
	values      func(ledger.Record) ([]any, error)
	// key, when set, is values' first keyCols without the rest: the
	// shapes an Add names (only by key) have one.
	key func(ledger.Record) []any

	// The statements, built by build.
	qCreate, qCreateExpired, qReplace, qUpsert, qVersion, qCounters, qSetCounters, qInsertCounters string
	// qCreateMany[n] is qCreate of n rows, for n a power of two from 2 to
	// createRowsMax (createChunk picks them).
	qCreateMany map[int]string
}

// createRowsMax bounds the rows of one multi-row INSERT.
const createRowsMax = 64

// createChunk is how many of n rows (n > 0) the next INSERT takes: the
// largest power of two at most n and createRowsMax, so a few prepared
// statements write any number of rows.
func createChunk(n int) int {
	c := 1
	for c*2 <= min(n, createRowsMax) {
		c *= 2
	}
	return c
}

// shapeOf returns the shape of a record.
func shapeOf(r ledger.Record) (*shape, error) {
	var name string
	switch r.(type) {
	case ledger.Lot:
		name = "lots"
	case ledger.Entry:
		name = "entries"
	case ledger.IdempotencyRecord:
		name = "idempotency"
	case ledger.Hold:
		name = "holds"
	case ledger.Consumption:
		name = "consumptions"
	case ledger.BudgetUsed:
		name = "budget_usage"
	case ledger.Usage:
		name = "usage"
	case ledger.Attempt:
		name = "attempts"
	case ledger.Contract:
		name = "contracts"
	case ledger.User:
		name = "users"
	case ledger.Grant:
		name = "grants"
	case ledger.Budget:
		name = "budgets"
	case ledger.Notification:
		name = "notifications"
	case ledger.Order:
		name = "orders"
	case ledger.QuoteAcceptance:
		name = "quote_acceptances"
	case ledger.Sunset:
		name = "sunsets"
	default:
		return nil, fmt.Errorf("sqlite: no table for %T", r)
	}
	return shapes[name], nil
}

// keyOf is a record's key columns' values.
func (sh *shape) keyOf(r ledger.Record) ([]any, error) {
	if sh.key != nil {
		return sh.key(r), nil
	}
	args, err := sh.values(r)
	if err != nil {
		return nil, err
	}
	return args[:sh.keyCols], nil
}

var shapes = map[string]*shape{
	"lots": {table: "lots", cols: lotCols, keyCols: 2, versioned: true,
		counters: []string{"amount", "remaining", "held", "spent", "expired", "withdrawn", "refunded"},
		values:   func(r ledger.Record) ([]any, error) { return lotValues(r.(ledger.Lot)) },
		key:      func(r ledger.Record) []any { l := r.(ledger.Lot); return []any{l.Contract, l.ID} }},
	"entries": {table: "entries", cols: entryCols, keyCols: 2, createsMany: true,
		values: func(r ledger.Record) ([]any, error) { return entryValues(r.(ledger.Entry)) }},
	"idempotency": {table: "idempotency", cols: idempotencyCols, keyCols: 2, expires: "expires_at", createsMany: true,
		values: func(r ledger.Record) ([]any, error) { return idempotencyValues(r.(ledger.IdempotencyRecord)) }},
	"holds": {table: "holds", cols: holdCols, keyCols: 2, versioned: true, createsMany: true,
		values: func(r ledger.Record) ([]any, error) { return holdValues(r.(ledger.Hold)) }},
	"consumptions": {table: "consumptions", cols: consumptionCols, keyCols: 2, versioned: true, createsMany: true,
		values: func(r ledger.Record) ([]any, error) { return consumptionValues(r.(ledger.Consumption)) }},
	"budget_usage": {table: "budget_usage", cols: budgetUsedCols, keyCols: 4, counters: []string{"used"},
		values: func(r ledger.Record) ([]any, error) { return budgetUsedValues(r.(ledger.BudgetUsed)), nil },
		key:    func(r ledger.Record) []any { return budgetUsedValues(r.(ledger.BudgetUsed))[:4] }},
	"usage": {table: "usage", cols: usageCols, keyCols: 7, counters: []string{"credits", "count"},
		integer: map[string]bool{"count": true},
		values:  func(r ledger.Record) ([]any, error) { return usageValues(r.(ledger.Usage)), nil },
		key:     func(r ledger.Record) []any { return usageValues(r.(ledger.Usage))[:7] }},
	"attempts": {table: "attempts", cols: attemptCols, keyCols: 2,
		values: func(r ledger.Record) ([]any, error) { return attemptValues(r.(ledger.Attempt)) }},
	"contracts": {table: "contracts", cols: contractCols, keyCols: 1, versioned: true,
		values: func(r ledger.Record) ([]any, error) { return contractValues(r.(ledger.Contract)) }},
	"users": {table: "users", cols: userCols, keyCols: 2, versioned: true,
		values: func(r ledger.Record) ([]any, error) { return userValues(r.(ledger.User)) }},
	"grants": {table: "grants", cols: "contract, user", keyCols: 2,
		values: func(r ledger.Record) ([]any, error) { g := r.(ledger.Grant); return []any{g.Contract, g.User}, nil }},
	"budgets": {table: "budgets", cols: budgetCols, keyCols: 3,
		values: func(r ledger.Record) ([]any, error) { return budgetValues(r.(ledger.Budget)), nil }},
	"notifications": {table: "notifications", cols: notificationCols, keyCols: 2, versioned: true,
		values: func(r ledger.Record) ([]any, error) { return notificationValues(r.(ledger.Notification)) }},
	"orders": {table: "orders", cols: orderCols, keyCols: 2, versioned: true,
		values: func(r ledger.Record) ([]any, error) { return orderValues(r.(ledger.Order)) }},
	"quote_acceptances": {table: "quote_acceptances", cols: quoteAcceptanceCols, keyCols: 1,
		values: func(r ledger.Record) ([]any, error) { return quoteAcceptanceValues(r.(ledger.QuoteAcceptance)) }},
	"sunsets": {table: "sunsets", cols: sunsetCols, keyCols: 1, versioned: true,
		values: func(r ledger.Record) ([]any, error) { return sunsetValues(r.(ledger.Sunset)) }},
}

func init() {
	for _, sh := range shapes {
		sh.build()
		writeQueries = append(writeQueries, sh.statements()...)
	}
}

// build writes the shape's statements.
func (sh *shape) build() {
	names := columns(sh.cols)
	sh.ncols = len(names)
	where := make([]string, sh.keyCols)
	for i, c := range names[:sh.keyCols] {
		where[i] = c + " = ?"
	}
	key := strings.Join(where, " AND ")
	sh.qCreate = insertSQL(sh.table, sh.cols, "ON CONFLICT DO NOTHING")
	if sh.createsMany {
		sh.qCreateMany = map[int]string{}
		row := "(" + placeholders(len(names)) + ")"
		for n := 2; n <= createRowsMax; n *= 2 {
			sh.qCreateMany[n] = fmt.Sprintf("INSERT INTO %s (%s) VALUES %s ON CONFLICT DO NOTHING",
				sh.table, sh.cols, strings.TrimSuffix(strings.Repeat(row+",", n), ","))
		}
	}
	sh.qUpsert = insertSQL(sh.table, sh.cols, "ON CONFLICT DO UPDATE SET "+setExcluded(sh.cols))
	if sh.expires != "" {
		sh.qCreateExpired = insertSQL(sh.table, sh.cols,
			fmt.Sprintf("ON CONFLICT DO UPDATE SET %s WHERE %s.%s <= ?%d", setExcluded(sh.cols), sh.table, sh.expires, len(names)+1))
	}
	if sh.versioned {
		// The key is compared through the first keyCols parameters, as
		// updateSQL does; the version read is the parameter after the row.
		sh.qReplace = fmt.Sprintf("%s AND version = ?%d", updateSQL(sh.table, sh.cols, sh.keyCols), len(names)+1)
		sh.qVersion = fmt.Sprintf("SELECT version FROM %s WHERE %s", sh.table, key)
	}
	if len(sh.counters) > 0 {
		cols := strings.Join(sh.counters, ", ")
		if sh.table == "lots" {
			cols += ", effective_at, end_at" // a LiveAt condition reads them
		}
		sh.qCounters = fmt.Sprintf("SELECT %s FROM %s WHERE %s", cols, sh.table, key)
		set := make([]string, len(sh.counters))
		for i, c := range sh.counters {
			set[i] = c + " = ?"
		}
		if sh.versioned {
			// One per Add the write carries (writeTx.writeCounters).
			set = append(set, "version = version + ?")
		}
		sh.qSetCounters = fmt.Sprintf("UPDATE %s SET %s WHERE %s", sh.table, strings.Join(set, ", "), key)
		sh.qInsertCounters = insertSQL(sh.table, strings.Join(append(names[:sh.keyCols:sh.keyCols], sh.counters...), ", "), "")
	}
}

func (sh *shape) statements() []string {
	var out []string
	for _, q := range []string{sh.qCreate, sh.qCreateExpired, sh.qReplace, sh.qUpsert, sh.qVersion, sh.qCounters, sh.qSetCounters, sh.qInsertCounters} {
		if q != "" {
			out = append(out, q)
		}
	}
	for n := 2; n <= createRowsMax && sh.qCreateMany != nil; n *= 2 {
		out = append(out, sh.qCreateMany[n])
	}
	return out
}

const budgetUsedCols = "contract, project, currency, month, used"

func budgetUsedValues(b ledger.BudgetUsed) []any {
	return []any{b.Contract, b.Project, string(b.Currency), b.Month, encodeDecimal(b.Used)}
}

const budgetCols = "contract, project, currency, monthly_cap"

func budgetValues(b ledger.Budget) []any {
	return []any{b.Contract, b.Project, string(b.Currency), encodeDecimal(b.MonthlyCap)}
}

func usageValues(u ledger.Usage) []any {
	k := u.Key
	return []any{k.Contract, k.Month, string(k.Currency), k.User, k.Service, k.Project, k.Entity, encodeDecimal(u.Credits), u.Count}
}
