package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/internal/directory"

	"github.com/shopspring/decimal"
)

// readRow and readRows run one of readQueries on its prepared statement.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.prepared(s.readStmts, query); ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.reader.QueryRowContext(ctx, query, args...)
}

func (s *Store) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.prepared(s.readStmts, query); ok {
		return st.QueryContext(ctx, args...)
	}
	return s.reader.QueryContext(ctx, query, args...)
}

// one reads a single row; a missing row becomes ledger.NotFound(what, id).
func one[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what, id, query string, args ...any) (T, error) {
	v, err := scan(s.readRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, ledger.NotFound(what, id)
	}
	if err != nil {
		return v, fmt.Errorf("sqlite: read %s %s: %w", what, id, err)
	}
	return v, nil
}

// many reads every row of a query, refusing more than limit of them.
func many[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what string, limit int, query string, args ...any) ([]T, error) {
	rows, err := s.readRows(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		if len(out) == limit {
			return nil, core.Errorf(core.CodeTooLarge, "more than %d %s", limit, what)
		}
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read %s: %w", what, err)
	}
	return out, nil
}

// scanText reads a row of one text column.
func scanText(r scanner) (string, error) {
	var c string
	return c, r.Scan(&c)
}

// unbounded is the limit of reads the port does not page (see the report on
// the port: Users, Entries, Usage and Attempts grow with the contract).
const unbounded = -1

func (s *Store) Contract(ctx context.Context, id string) (ledger.Contract, error) {
	return one(ctx, s, scanContract, "contract", id,
		rContract, id)
}

// Contracts reads contract ids after `after` on the primary key.
func (s *Store) Contracts(ctx context.Context, after string, limit int) ([]string, error) {
	return many(ctx, s, scanText, "contracts", unbounded, rContracts, after, clampLimit(limit))
}

func (s *Store) User(ctx context.Context, contract, user string) (ledger.User, error) {
	return one(ctx, s, scanUser, "user", contract+"/"+user,
		rUser, contract, user)
}

func (s *Store) Users(ctx context.Context, contract string) ([]ledger.User, error) {
	return many(ctx, s, scanUser, "users", unbounded,
		rUsers, contract)
}

func (s *Store) Granted(ctx context.Context, contract, user string) (bool, error) {
	var n int
	err := s.readRow(ctx, rGranted, contract, user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: read grant %s/%s: %w", contract, user, err)
	}
	return n > 0, nil
}

// Lots returns a page of a contract's lots by id (the primary key).
func (s *Store) Lots(ctx context.Context, contract, after string, limit int) ([]ledger.Lot, error) {
	return many(ctx, s, scanLot, "lots in contract "+contract, unbounded,
		rLots, contract, after, min(max(limit, 0), ledger.LotsPageMax))
}

// SpendLots reads the partial index lots_pool: the live lots, with credits
// left, of the user's individual pool and the shared pool.
func (s *Store) SpendLots(ctx context.Context, contract, user string, at time.Time) ([]ledger.Lot, error) {
	t, err := timeArg("spendable lots", at)
	if err != nil {
		return nil, err
	}
	return many(ctx, s, scanLot, "spendable lots", unbounded, rSpendLots, contract, user, t)
}

// OwnerLots reads the index lots_owner: a user's individual lots.
func (s *Store) OwnerLots(ctx context.Context, contract, user string) ([]ledger.Lot, error) {
	return many(ctx, s, scanLot, "lots of user "+user, unbounded, rOwnerLots, contract, user)
}

func (s *Store) Lot(ctx context.Context, contract, id string) (ledger.Lot, error) {
	return one(ctx, s, scanLot, "lot", contract+"/"+id,
		rLot, contract, id)
}

// LotContract returns the contract of the lot with this id.
func (s *Store) LotContract(ctx context.Context, lot string) (string, error) {
	return directoryContract(ctx, s, "lot", lot, rLotContract)
}

// directoryContract reads the one contract that uses a lot or order id.
func directoryContract(ctx context.Context, s *Store, kind, id, query string) (string, error) {
	cs, err := many(ctx, s, scanText, "contracts of "+kind+" "+id, unbounded, query, id)
	if err != nil {
		return "", err
	}
	return directory.OneContract(kind, id, cs)
}

func (s *Store) Order(ctx context.Context, contract, id string) (ledger.Order, error) {
	return one(ctx, s, scanOrder, "order", contract+"/"+id,
		rOrder, contract, id)
}

// QuoteAcceptance reads a quote's acceptance; not_found when it has none.
func (s *Store) QuoteAcceptance(ctx context.Context, quoteID string) (ledger.QuoteAcceptance, error) {
	return one(ctx, s, scanQuoteAcceptance, "acceptance of quote", quoteID, rQuoteAccepted, quoteID)
}

// Orders returns a contract's orders, oldest first; more than
// ledger.OrdersPerContractMax is an error, not a silent cut.
func (s *Store) Orders(ctx context.Context, contract string) ([]ledger.Order, error) {
	return many(ctx, s, scanOrder, "orders of contract "+contract, ledger.OrdersPerContractMax,
		rOrders, contract, ledger.OrdersPerContractMax+1)
}

// OrderContract returns the contract of the order with this id.
func (s *Store) OrderContract(ctx context.Context, id string) (string, error) {
	return directoryContract(ctx, s, "order", id, rOrderContract)
}

func (s *Store) Hold(ctx context.Context, contract, id string) (ledger.Hold, error) {
	return one(ctx, s, scanHold, "hold", contract+"/"+id,
		rHold, contract, id)
}

func (s *Store) Consumption(ctx context.Context, contract, id string) (ledger.Consumption, error) {
	return one(ctx, s, scanConsumption, "consumption", contract+"/"+id,
		rConsumption, contract, id)
}

func (s *Store) Budget(ctx context.Context, contract, project string, currency core.Currency) (ledger.Budget, bool, error) {
	b := ledger.Budget{Contract: contract, Project: project, Currency: currency}
	var text string
	err := s.readRow(ctx, rBudget, contract, project, string(currency)).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return ledger.Budget{}, false, nil
	}
	if err == nil {
		b.MonthlyCap, err = decodeDecimal("monthly_cap", text)
	}
	if err != nil {
		return ledger.Budget{}, false, fmt.Errorf("sqlite: read budget %s/%s/%s: %w", contract, project, currency, err)
	}
	return b, true, nil
}

func (s *Store) BudgetUsed(ctx context.Context, contract, project string, currency core.Currency, month string) (decimal.Decimal, error) {
	var text string
	err := s.readRow(ctx, rBudgetUsed, contract, project, string(currency), month).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return decimal.Zero, nil
	}
	var used decimal.Decimal
	if err == nil {
		used, err = decodeDecimal("used", text)
	}
	if err != nil {
		return decimal.Zero, fmt.Errorf("sqlite: read budget usage %s/%s/%s/%s: %w", contract, project, currency, month, err)
	}
	return used, nil
}

// Idempotency returns the record live at `at`; one past its expiry reads as
// absent (Apply replaces it), using the same ledger.IdempotencyRecord.LiveAt
// as Apply's condition, so the read and the write never disagree.
func (s *Store) Idempotency(ctx context.Context, contract, key string, at time.Time) (ledger.IdempotencyRecord, bool, error) {
	r, err := scanIdempotency(s.readRow(ctx, rIdempotency, contract, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ledger.IdempotencyRecord{}, false, nil
	case err != nil:
		return ledger.IdempotencyRecord{}, false, fmt.Errorf("sqlite: read idempotency record %s/%q: %w", contract, key, err)
	case !r.LiveAt(at):
		return ledger.IdempotencyRecord{}, false, nil
	}
	return r, true, nil
}

var _ ledger.IdempotencyLister = (*Store)(nil)

// IdempotencyMany reads the records of keys in one query (the keys go in
// as one JSON array), each judged live at `at` as Idempotency judges it.
func (s *Store) IdempotencyMany(ctx context.Context, scope string, keys []string, at time.Time) (map[string]ledger.IdempotencyRecord, error) {
	if len(keys) == 0 {
		return map[string]ledger.IdempotencyRecord{}, nil
	}
	list, err := encodeJSON(keys)
	if err != nil {
		return nil, err
	}
	records, err := many(ctx, s, scanIdempotency, "idempotency records", len(keys), rIdempotencyMany, scope, list)
	if err != nil {
		return nil, err
	}
	out := make(map[string]ledger.IdempotencyRecord, len(records))
	for _, r := range records {
		if r.LiveAt(at) {
			out[r.Key] = r
		}
	}
	return out, nil
}

func (s *Store) Entries(ctx context.Context, contract, lot string) ([]ledger.Entry, error) {
	return many(ctx, s, scanEntry, "entries", unbounded,
		rEntries, contract, lot)
}

func (s *Store) Usage(ctx context.Context, contract, fromMonth, toMonth string) ([]ledger.Usage, error) {
	return many(ctx, s, scanUsage, "usage rows", unbounded,
		rUsage, contract, fromMonth, toMonth)
}

func (s *Store) Attempts(ctx context.Context, contract string) ([]ledger.Attempt, error) {
	return many(ctx, s, scanAttempt, "attempts", unbounded,
		rAttempts, contract)
}

// clampLimit bounds a caller's page size; a non-positive limit asks for
// nothing.
func clampLimit(limit int) int { return min(max(limit, 0), listMax) }

// timeArg is at as a query argument for a read of what; the zero time and
// times out of range are refused.
func timeArg(what string, at time.Time) (any, error) {
	t, err := encodeTime(at)
	if err != nil || t == nil {
		return nil, fmt.Errorf("sqlite: %s at %v: need a time in range: %w", what, at, err)
	}
	return t, nil
}

// EndedLots reads the partial index lots_sweep: the lots ended by `at`
// with credits left, and the finished ones (nothing left, nothing held)
// that ended ledger.RetireGrace before it, for the sweep to retire. A
// retired lot leaves the index, so a read follows the sweep's work, not
// the table's history.
func (s *Store) EndedLots(ctx context.Context, at time.Time, limit int) ([]ledger.Lot, error) {
	t, err1 := encodeTime(at)
	graced, err2 := encodeTime(at.Add(-ledger.RetireGrace))
	if err := errors.Join(err1, err2); err != nil || t == nil || graced == nil {
		return nil, fmt.Errorf("sqlite: ended lots at %v: need a time in range: %w", at, err)
	}
	return many(ctx, s, scanLot, "ended lots", unbounded, rEndedLots, t, graced, clampLimit(limit))
}

// ExpiredHolds reads the partial index holds_open_expiry.
func (s *Store) ExpiredHolds(ctx context.Context, at time.Time, limit int) ([]ledger.Hold, error) {
	return dueBy(ctx, s, scanHold, "expired holds", rExpiredHolds, at, limit)
}

// dueBy runs a sweep work list's query: what is due at `at`, at most limit.
func dueBy[T any](ctx context.Context, s *Store, scan func(scanner) (T, error), what, query string, at time.Time, limit int) ([]T, error) {
	t, err := timeArg(what, at)
	if err != nil {
		return nil, err
	}
	return many(ctx, s, scan, what, unbounded, query, t, clampLimit(limit))
}

// Sunset reads a currency's sunset; not_found when it has none.
func (s *Store) Sunset(ctx context.Context, cur core.Currency) (ledger.Sunset, error) {
	return one(ctx, s, scanSunset, "sunset of currency", string(cur), rSunset, string(cur))
}

// Sunsets reads every sunset, ordered by currency.
func (s *Store) Sunsets(ctx context.Context) ([]ledger.Sunset, error) {
	return many(ctx, s, scanSunset, "sunsets", unbounded, rSunsets)
}

// LotsOutliving reads the index lots_currency_end: a currency's lots that
// end after `at` or never.
func (s *Store) LotsOutliving(ctx context.Context, cur core.Currency, at time.Time, limit int) ([]ledger.Lot, error) {
	t, err := timeArg("lots outliving", at)
	if err != nil {
		return nil, err
	}
	return many(ctx, s, scanLot, "lots outliving", unbounded, rLotsOutliving, string(cur), t, clampLimit(limit))
}

// PendingNotifications reads the partial index notifications_due: what the
// sender still has to deliver and may claim at `at`, by due time.
func (s *Store) PendingNotifications(ctx context.Context, at time.Time, limit int) ([]ledger.Notification, error) {
	t, err := timeArg("pending notifications", at)
	if err != nil {
		return nil, err
	}
	return many(ctx, s, scanNotification, "pending notifications", unbounded, rPendingNotes, t, clampLimit(limit))
}

// Notifications reads a contract's newest
// ledger.NotificationsPerContractMax notifications, oldest first.
func (s *Store) Notifications(ctx context.Context, contract string) ([]ledger.Notification, error) {
	return many(ctx, s, scanNotification, "notifications", unbounded, rNotifications, contract, ledger.NotificationsPerContractMax)
}

// NotificationsByPrefix reads a range of the notifications' primary key
// (the id): [prefix, prefix + U+10FFFF).
func (s *Store) NotificationsByPrefix(ctx context.Context, contract, prefix string) ([]ledger.Notification, error) {
	if prefix == "" {
		return nil, fmt.Errorf("sqlite: notifications by prefix: the prefix is empty")
	}
	return many(ctx, s, scanNotification, "notifications by prefix", unbounded, rNotesPrefix,
		prefix, prefix+string(utf8.MaxRune), contract, ledger.NotificationsPerContractMax)
}

// LotsEndingWithin reads the partial index lots_sweep for ends in
// (after, by].
func (s *Store) LotsEndingWithin(ctx context.Context, after, by time.Time, limit int) ([]ledger.Lot, error) {
	a, err1 := encodeTime(after)
	b, err2 := encodeTime(by)
	if err := errors.Join(err1, err2); err != nil || a == nil || b == nil {
		return nil, fmt.Errorf("sqlite: lots ending in (%v, %v]: need times in range: %w", after, by, err)
	}
	return many(ctx, s, scanLot, "lots ending", unbounded, rLotsEnding, a, b, clampLimit(limit))
}

// ReadSpend reads what a spend plans on: the contract with the user in
// one read (a join on both primary keys), then the lots; each is a local
// index lookup (see ledger.Store.ReadSpend).
func (s *Store) ReadSpend(ctx context.Context, q ledger.SpendQuery) (ledger.SpendState, error) {
	var st ledger.SpendState
	var err error
	st.Contract, st.User, err = scanContractUser(s.readRow(ctx, rContractUser, q.Contract, q.User))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return st, ledger.NotFound("contract", q.Contract)
	case err != nil:
		return st, fmt.Errorf("sqlite: read contract %s with user %s: %w", q.Contract, q.User, err)
	}
	if st.Lots, err = s.SpendLots(ctx, q.Contract, q.User, q.At); err != nil || q.Project == "" {
		return st, err
	}
	b, ok, err := s.Budget(ctx, q.Contract, q.Project, q.Currency)
	if err != nil {
		return st, err
	}
	if ok {
		st.Budget = &b
	}
	st.BudgetUsed, err = s.BudgetUsed(ctx, q.Contract, q.Project, q.Currency, q.Month)
	return st, err
}
