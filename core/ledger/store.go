package ledger

import (
	"context"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Store is the ledger's storage port: the reads a planner needs and Apply,
// which performs a planned Tx atomically with every condition enforced in
// the write itself. It is declared here, beside the domain it serves; the
// adapters (functions/credits/sqlite, the embedded default, and
// functions/credits/dynamo, production) implement it, and both pass the one
// conformance suite in functions/credits/storetest unchanged. Only the
// ledger service (functions/credits) calls a Store.
//
// An adapter must never decide anything about money: it reads, and it
// applies what this package planned, translating its own failures into
// domain errors (a failed condition becomes *ConflictError, a missing item
// core.CodeNotFound). It must never return a zero value with a nil error for
// something that does not exist.
type Store interface {
	// Apply performs every op of tx or none. When a condition fails it
	// returns a *ConflictError naming the op (and applies nothing).
	Apply(ctx context.Context, tx Tx) error

	Contract(ctx context.Context, id string) (Contract, error)
	// Contracts returns the ids of contracts after `after` (the empty
	// string: from the first), in id order, at most limit of them: the
	// sweeper's directory for checks that run on every contract (alerts).
	Contracts(ctx context.Context, after string, limit int) ([]string, error)
	User(ctx context.Context, contract, user string) (User, error)
	Users(ctx context.Context, contract string) ([]User, error)
	// Granted reports whether the user's one-time individual grant was made.
	Granted(ctx context.Context, contract, user string) (bool, error)
	// Lots returns a page of a contract's lots, in any state, ordered by
	// id: at most limit of those whose id is after `after` (the empty
	// string: from the first). A contract may have any number of lots;
	// callers that need them all page through.
	Lots(ctx context.Context, contract, after string, limit int) ([]Lot, error)
	// SpendLots returns the lots a spend by user may draw on at `at`: the
	// user's individual lots and the contract's shared lots that have
	// credits remaining and end after `at` (or never), in every currency —
	// each pool in burn order (end, grant time, id). Its cost follows the
	// live lots of those two pools, never the contract's history: a lot
	// that is used up, ended or retired is not read (a store keeps an index
	// of the lots with credits left; MoveLot.Empties keeps it exact). A lot
	// not yet effective at `at` may be returned; the planner skips it.
	SpendLots(ctx context.Context, contract, user string, at time.Time) ([]Lot, error)
	// ReadSpend reads what a spend plans on — the contract (not_found when
	// it does not exist), the user (nil when not on the contract), the lots
	// SpendLots returns at q.At, and with a project its budget in
	// q.Currency and the counter of q.Month — sending the reads together
	// where the store can, so a remote store answers them in one round
	// trip. It reads neither the idempotency record nor the sunset.
	ReadSpend(ctx context.Context, q SpendQuery) (SpendState, error)
	// OwnerLots returns every individual lot of user on contract, in any
	// state, ordered by id: what removing the user must end.
	OwnerLots(ctx context.Context, contract, user string) ([]Lot, error)
	Lot(ctx context.Context, contract, id string) (Lot, error)
	// LotContract returns the contract a lot belongs to (vendor routes name
	// a lot by id alone).
	LotContract(ctx context.Context, lot string) (string, error)
	// Order reads one order of a contract.
	Order(ctx context.Context, contract, id string) (Order, error)
	// OrderContract returns the contract an order belongs to: mark-paid and
	// payment webhooks name an order by id alone. An id that more than one
	// contract uses is refused (conflict), never guessed.
	OrderContract(ctx context.Context, id string) (string, error)
	// Orders returns every order of a contract, oldest first (created_at,
	// then id), at most OrdersPerContractMax (more is too_large).
	Orders(ctx context.Context, contract string) ([]Order, error)
	// QuoteAcceptance reads the acceptance of a quote (any contract's), or
	// not_found when the quote has not been accepted.
	QuoteAcceptance(ctx context.Context, quoteID string) (QuoteAcceptance, error)
	Hold(ctx context.Context, contract, id string) (Hold, error)
	Consumption(ctx context.Context, contract, id string) (Consumption, error)
	// Budget returns the project's cap in currency; ok is false when none.
	Budget(ctx context.Context, contract, project string, currency core.Currency) (b Budget, ok bool, err error)
	// BudgetUsed returns the project's month counter (zero when absent).
	BudgetUsed(ctx context.Context, contract, project string, currency core.Currency, month string) (decimal.Decimal, error)
	// Idempotency returns the record for (contract, key) if one exists and is
	// live at `at`; records past their expiry are treated as absent even when
	// the database has not deleted them yet.
	Idempotency(ctx context.Context, contract, key string, at time.Time) (r IdempotencyRecord, ok bool, err error)
	// Entries returns a lot's ledger entries in the order they were written.
	Entries(ctx context.Context, contract, lot string) ([]Entry, error)
	// Usage returns the roll-up rows of a contract for months in [from, to]
	// ("2006-01"), read from the pre-aggregated counters.
	Usage(ctx context.Context, contract, fromMonth, toMonth string) ([]Usage, error)
	// Attempts returns the refused spend attempts recorded for the audit.
	Attempts(ctx context.Context, contract string) ([]Attempt, error)

	// EndedLots returns lots (of any contract) whose end is at or before
	// `at` and that still have remaining credits: the sweeper's work list,
	// at most limit of them. A store whose work list keeps finished lots
	// (nothing remaining or held) until they are retired returns those that
	// ended RetireGrace before `at` too, for the sweep to retire them
	// (PlanRetireLot); a read never writes.
	EndedLots(ctx context.Context, at time.Time, limit int) ([]Lot, error)
	// ExpiredHolds returns open holds whose expiry is at or before `at`, at
	// most limit of them.
	ExpiredHolds(ctx context.Context, at time.Time, limit int) ([]Hold, error)

	// Sunset reads a currency's sunset, or not_found when it has none.
	Sunset(ctx context.Context, cur core.Currency) (Sunset, error)
	// Sunsets returns every currency's sunset, ordered by currency.
	Sunsets(ctx context.Context) ([]Sunset, error)
	// LotsOutliving returns lots of currency cur (of any contract) whose end
	// is after `at` or that have no end — what a sunset must end — at most
	// limit of them, ordered by contract and id.
	LotsOutliving(ctx context.Context, cur core.Currency, at time.Time, limit int) ([]Lot, error)

	// LotsEndingWithin returns lots (of any contract) that still have
	// remaining credits and whose end is after `after` and at or before
	// `by` — the expiry warnings' work list — ordered by end, contract and
	// id, at most limit of them. Unlike EndedLots it changes nothing.
	LotsEndingWithin(ctx context.Context, after, by time.Time, limit int) ([]Lot, error)

	// PendingNotifications returns notifications (of any contract) still
	// pending delivery and due at `at` — not claimed by a sender at `at`
	// (Notification.Claimable) — by due time (the later of
	// created_at and claimed_until: a failed send's claim is its back-off),
	// then id, at most limit. So notifications that keep failing never
	// starve the ones behind them.
	PendingNotifications(ctx context.Context, at time.Time, limit int) ([]Notification, error)
	// Notifications returns a contract's newest
	// NotificationsPerContractMax notifications, oldest first
	// (created_at, then id).
	Notifications(ctx context.Context, contract string) ([]Notification, error)
	// NotificationsByPrefix returns a contract's notifications whose id
	// starts with prefix (non-empty), in id order, at most
	// NotificationsPerContractMax: the events of one kind and month
	// (alert ids lead with their month), read without the whole outbox.
	NotificationsByPrefix(ctx context.Context, contract, prefix string) ([]Notification, error)

	// Dump returns every stored item as canonical text lines, sorted. Tests
	// compare dumps to prove a refused request changed nothing.
	Dump(ctx context.Context) ([]string, error)
	Close() error
}

// NotFound returns the error a Store returns for a missing item.
func NotFound(what, id string) error {
	return core.Errorf(core.CodeNotFound, "%s %s not found", what, id)
}

// SpendQuery names what Store.ReadSpend reads.
type SpendQuery struct {
	Contract, User, Project string
	Currency                core.Currency
	// At is the spend's time (the lots live then); Month the budget
	// counter's month (a settlement charges the month its hold was taken).
	At    time.Time
	Month string
}
