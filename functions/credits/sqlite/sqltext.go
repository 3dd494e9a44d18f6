package sqlite

import (
	"fmt"
	"strings"
)

// columns splits a column list constant into names.
func columns(cols string) []string {
	var out []string
	for c := range strings.SplitSeq(cols, ",") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// insertSQL is "INSERT INTO table (cols) VALUES (?, …) suffix".
func insertSQL(table, cols, suffix string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) %s", table, cols, placeholders(len(columns(cols))), suffix)
}

// setExcluded is the SET list of an upsert that replaces every column.
func setExcluded(cols string) string {
	names := columns(cols)
	for i, c := range names {
		names[i] = c + " = excluded." + c
	}
	return strings.Join(names, ", ")
}

// updateSQL replaces every column of the row whose key is the first keyCols
// columns, taking its arguments in the same order as the insert does:
// "UPDATE t SET (a, b, c) = (?1, ?2, ?3) WHERE a = ?1".
func updateSQL(table, cols string, keyCols int) string {
	names := columns(cols)
	params := make([]string, len(names))
	for i := range names {
		params[i] = fmt.Sprintf("?%d", i+1)
	}
	where := make([]string, keyCols)
	for i := range keyCols {
		where[i] = fmt.Sprintf("%s = ?%d", names[i], i+1)
	}
	return fmt.Sprintf("UPDATE %s SET (%s) = (%s) WHERE %s", table, strings.Join(names, ", "),
		strings.Join(params, ", "), strings.Join(where, " AND "))
}

// The statements Apply runs. They are prepared once, on the writer
// connection, when the store opens: parsing SQL would otherwise be the
// largest CPU cost of a spend, and it happens while the write lock is held.
var (
	qLotRead        = "SELECT " + lotCols + " FROM lots WHERE contract = ? AND id = ?"
	qIdemRead       = "SELECT " + idempotencyCols + " FROM idempotency WHERE contract = ? AND key = ?"
	qBudgetUsedRead = "SELECT used FROM budget_usage WHERE contract = ? AND project = ? AND currency = ? AND month = ?"
	qSavepoint      = "SAVEPOINT apply"
	qRollbackTo     = "ROLLBACK TO apply"
	qRelease        = "RELEASE apply"
	// writeQueries are the writer's statements: these, and each record
	// shape's (shapes.go adds them).
	writeQueries = []string{qSavepoint, qRollbackTo, qRelease}
)

// The statements the reads run, prepared on the reader pool (database/sql
// prepares each on a connection the first time it runs there).
var (
	rContract  = "SELECT " + contractCols + " FROM contracts WHERE id = ?"
	rContracts = "SELECT id FROM contracts WHERE id > ? ORDER BY id LIMIT ?"
	rUser      = "SELECT " + userCols + " FROM users WHERE contract = ? AND id = ?"
	// A spend's contract and user in one read (ReadSpend): ?1 the
	// contract, ?2 the user.
	rContractUser = "SELECT " + contractUserCols + " FROM contracts c LEFT JOIN users u ON u.contract = c.id AND u.id = ?2 WHERE c.id = ?1"
	rUsers        = "SELECT " + userCols + " FROM users WHERE contract = ? ORDER BY id"
	rGranted      = "SELECT count(*) FROM grants WHERE contract = ? AND user = ?"
	rLots         = "SELECT " + lotCols + " FROM lots WHERE contract = ? AND id > ? ORDER BY id LIMIT ?"
	// The WHERE repeats lots_pool's, so the read uses that index and
	// never touches a used-up or retired lot.
	rSpendLots   = "SELECT " + lotCols + " FROM lots INDEXED BY lots_pool WHERE contract = ? AND owner IN ('', ?) AND remaining <> '0' AND retired = 0 AND (end_at IS NULL OR end_at > ?) ORDER BY owner = '', end_at IS NULL, end_at, granted_at, id"
	rOwnerLots   = "SELECT " + lotCols + " FROM lots INDEXED BY lots_owner WHERE contract = ? AND owner = ? AND kind = 'individual' ORDER BY id"
	rLot         = qLotRead
	rLotContract = "SELECT contract FROM lots WHERE id = ? ORDER BY contract LIMIT 2"
	rHold        = "SELECT " + holdCols + " FROM holds WHERE contract = ? AND id = ?"
	rConsumption = "SELECT " + consumptionCols + " FROM consumptions WHERE contract = ? AND id = ?"
	rBudget      = "SELECT monthly_cap FROM budgets WHERE contract = ? AND project = ? AND currency = ?"
	rBudgetUsed  = qBudgetUsedRead
	rIdempotency = qIdemRead
	// The keys are a JSON array; each is looked up on the primary key.
	rIdempotencyMany = "SELECT " + idempotencyCols + " FROM idempotency WHERE contract = ? AND key IN (SELECT value FROM json_each(?))"
	rEntries         = "SELECT " + entryCols + " FROM entries WHERE contract = ? AND lot = ? ORDER BY seq"
	rUsage           = "SELECT " + usageCols + " FROM usage WHERE contract = ? AND month >= ? AND month <= ? ORDER BY month, currency, user, service, project, entity"
	rAttempts        = "SELECT " + attemptCols + " FROM attempts WHERE contract = ? ORDER BY at, id"
	// The sweep's lists read lots_sweep; each WHERE repeats its condition.
	// EndedLots: what has credits left, and what is finished and ended
	// ?2 = ledger.RetireGrace before ?1, to retire.
	rEndedLots     = "SELECT " + lotCols + " FROM lots INDEXED BY lots_sweep WHERE end_at IS NOT NULL AND retired = 0 AND end_at <= ?1 AND (remaining <> '0' OR (held = '0' AND end_at <= ?2)) ORDER BY end_at, contract, id LIMIT ?3"
	rExpiredHolds  = "SELECT " + holdCols + " FROM holds WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at, contract, id LIMIT ?"
	rOrder         = "SELECT " + orderCols + " FROM orders WHERE contract = ? AND id = ?"
	rOrders        = "SELECT " + orderCols + " FROM orders WHERE contract = ? ORDER BY created_at, id LIMIT ?"
	rOrderContract = "SELECT contract FROM orders WHERE id = ? ORDER BY contract LIMIT 2"
	rQuoteAccepted = "SELECT " + quoteAcceptanceCols + " FROM quote_acceptances WHERE quote_id = ?"
	rSunset        = "SELECT " + sunsetCols + " FROM sunsets WHERE currency = ?"
	rSunsets       = "SELECT " + sunsetCols + " FROM sunsets ORDER BY currency"
	rLotsOutliving = "SELECT " + lotCols + " FROM lots WHERE currency = ? AND (end_at IS NULL OR end_at > ?) ORDER BY contract, id LIMIT ?"
	rLotsEnding    = "SELECT " + lotCols + " FROM lots INDEXED BY lots_sweep WHERE end_at IS NOT NULL AND retired = 0 AND remaining <> '0' AND end_at > ? AND end_at <= ? ORDER BY end_at, contract, id LIMIT ?"
	rPendingNotes  = "SELECT " + notificationCols + " FROM notifications WHERE state = 'pending' AND " + notificationDue + " <= ? ORDER BY " + notificationDue + ", id LIMIT ?"
	// +contract keeps SQLite off the contract index: the id range on the
	// primary key is the narrow one.
	rNotesPrefix   = "SELECT " + notificationCols + " FROM notifications WHERE id >= ? AND id < ? AND +contract = ? ORDER BY id LIMIT ?"
	rNotifications = "SELECT * FROM (SELECT " + notificationCols + " FROM notifications WHERE contract = ? ORDER BY created_at DESC, id DESC LIMIT ?) ORDER BY created_at, id"
	readQueries    = []string{rContractUser, rLotsEnding, rPendingNotes, rNotifications, rNotesPrefix, rSunset, rSunsets, rLotsOutliving, rContract, rContracts, rUser, rUsers, rGranted, rLots, rSpendLots, rOwnerLots, rLot, rLotContract, rHold, rConsumption, rBudget,
		rBudgetUsed, rIdempotency, rIdempotencyMany, rEntries, rUsage, rAttempts, rEndedLots, rExpiredHolds, rOrder, rOrders, rOrderContract, rQuoteAccepted}
)
