package sqlite

// migrations[i] takes the schema from version i to i+1 (PRAGMA user_version).
// Append only: a migration that has shipped is never edited, because
// databases in the field have already run it.
//
// Conventions: decimals are TEXT in canonical form; times are INTEGER Unix
// nanoseconds (UTC), NULL for the zero time, and every time column is named
// "at" or "*_at" (Dump renders those as RFC 3339); booleans are INTEGER 0/1;
// lists are JSON TEXT.
var migrations = []string{
	// 1: the ledger.
	`
CREATE TABLE contracts (
	id                  TEXT    NOT NULL PRIMARY KEY,
	customer            TEXT    NOT NULL,
	entity              TEXT    NOT NULL,
	covered_entities    TEXT    NOT NULL, -- JSON array
	contractor_coverage INTEGER NOT NULL,
	start_at            INTEGER,
	end_at              INTEGER,
	extension_months    INTEGER NOT NULL,
	channel             TEXT    NOT NULL,
	monthly_baseline    TEXT    NOT NULL,
	plan_active         INTEGER NOT NULL,
	terminated_at       INTEGER,
	version             INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
	contract   TEXT    NOT NULL,
	id         TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	entity     TEXT    NOT NULL,
	can_spend  INTEGER NOT NULL,
	active     INTEGER NOT NULL,
	added_at   INTEGER,
	removed_at INTEGER,
	version    INTEGER NOT NULL,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;

-- One row per (contract, user) that received the one-time individual grant.
CREATE TABLE grants (
	contract TEXT NOT NULL,
	user     TEXT NOT NULL,
	PRIMARY KEY (contract, user)
) STRICT, WITHOUT ROWID;

CREATE TABLE lots (
	contract     TEXT NOT NULL,
	id           TEXT NOT NULL,
	currency     TEXT NOT NULL,
	kind         TEXT NOT NULL,
	owner        TEXT NOT NULL,
	source       TEXT NOT NULL,
	grant_id     TEXT NOT NULL,
	order_id     TEXT NOT NULL,
	amount       TEXT NOT NULL,
	remaining    TEXT NOT NULL,
	held         TEXT NOT NULL,
	spent        TEXT NOT NULL,
	expired      TEXT NOT NULL,
	withdrawn    TEXT NOT NULL,
	refunded     TEXT NOT NULL,
	granted_at   INTEGER,
	effective_at INTEGER,
	expires_at   INTEGER,
	notice_at    INTEGER,
	closes_at    INTEGER,
	-- end_at is ledger.Lot.End() (the earlier of expires_at and closes_at),
	-- kept so the sweeper's query can use an index.
	end_at       INTEGER,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;

-- LotContract finds a lot by id alone (vendor routes name a lot that way).
CREATE INDEX lots_id ON lots (id);

-- The sweeper's work list: ended lots that still hold credits. Canonical
-- decimal text makes remaining <> '0' the same test as Sign() != 0.
CREATE INDEX lots_ended ON lots (end_at) WHERE end_at IS NOT NULL AND remaining <> '0';

-- Entries are append-only; seq keeps the order they were written in.
CREATE TABLE entries (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	contract       TEXT NOT NULL,
	id             TEXT NOT NULL,
	lot            TEXT NOT NULL,
	currency       TEXT NOT NULL,
	kind           TEXT NOT NULL,
	credits        TEXT NOT NULL,
	move_remaining TEXT NOT NULL,
	move_held      TEXT NOT NULL,
	move_spent     TEXT NOT NULL,
	move_expired   TEXT NOT NULL,
	move_withdrawn TEXT NOT NULL,
	move_refunded  TEXT NOT NULL,
	ref            TEXT NOT NULL,
	at             INTEGER,
	UNIQUE (contract, id)
) STRICT;

CREATE INDEX entries_lot ON entries (contract, lot, seq);

CREATE TABLE holds (
	contract    TEXT NOT NULL,
	id          TEXT NOT NULL,
	user        TEXT NOT NULL,
	entity      TEXT NOT NULL,
	project     TEXT NOT NULL,
	service     TEXT NOT NULL,
	currency    TEXT NOT NULL,
	credits     TEXT NOT NULL,
	debits      TEXT NOT NULL, -- JSON array of ledger.Debit
	state       TEXT NOT NULL,
	created_at  INTEGER,
	expires_at  INTEGER,
	closed_at   INTEGER,
	consumption TEXT NOT NULL,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;

-- The sweeper's other work list: open holds by expiry.
CREATE INDEX holds_open_expiry ON holds (expires_at) WHERE state = 'open';

CREATE TABLE consumptions (
	contract   TEXT NOT NULL,
	id         TEXT NOT NULL,
	user       TEXT NOT NULL,
	entity     TEXT NOT NULL,
	project    TEXT NOT NULL,
	service    TEXT NOT NULL,
	currency   TEXT NOT NULL,
	credits    TEXT NOT NULL,
	debits     TEXT NOT NULL, -- JSON array of ledger.Debit
	hold       TEXT NOT NULL,
	created_at INTEGER,
	refunded   TEXT NOT NULL,
	returned   TEXT NOT NULL, -- JSON array of decimal strings
	budget_month TEXT NOT NULL,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE idempotency (
	contract    TEXT NOT NULL,
	key         TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	response    BLOB NOT NULL,
	created_at  INTEGER,
	expires_at  INTEGER,
	PRIMARY KEY (contract, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE budgets (
	contract    TEXT NOT NULL,
	project     TEXT NOT NULL,
	currency    TEXT NOT NULL,
	monthly_cap TEXT NOT NULL,
	PRIMARY KEY (contract, project, currency)
) STRICT, WITHOUT ROWID;

CREATE TABLE budget_usage (
	contract TEXT NOT NULL,
	project  TEXT NOT NULL,
	currency TEXT NOT NULL,
	month    TEXT NOT NULL,
	used     TEXT NOT NULL,
	PRIMARY KEY (contract, project, currency, month)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage (
	contract TEXT    NOT NULL,
	month    TEXT    NOT NULL,
	currency TEXT    NOT NULL,
	user     TEXT    NOT NULL,
	service  TEXT    NOT NULL,
	project  TEXT    NOT NULL,
	entity   TEXT    NOT NULL,
	credits  TEXT    NOT NULL,
	count    INTEGER NOT NULL,
	PRIMARY KEY (contract, month, currency, user, service, project, entity)
) STRICT, WITHOUT ROWID;

CREATE TABLE attempts (
	contract TEXT NOT NULL,
	id       TEXT NOT NULL,
	user     TEXT NOT NULL,
	entity   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	service  TEXT NOT NULL,
	currency TEXT NOT NULL,
	credits  TEXT NOT NULL,
	reason   TEXT NOT NULL,
	at       INTEGER,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;
`,

	// 2: orders (checkout). A migration of its own rather than an edit of 1,
	// so a database made before orders existed is brought up to date.
	`
CREATE TABLE orders (
	contract           TEXT    NOT NULL,
	id                 TEXT    NOT NULL,
	status             TEXT    NOT NULL,
	currency           TEXT    NOT NULL,
	credits            TEXT    NOT NULL,
	packs              TEXT    NOT NULL,
	channel            TEXT    NOT NULL,
	unit_price         TEXT    NOT NULL,
	total              TEXT    NOT NULL,
	money_currency     TEXT    NOT NULL,
	price_book_version TEXT    NOT NULL,
	payment            TEXT    NOT NULL,
	provider           TEXT    NOT NULL,
	session_id         TEXT    NOT NULL,
	checkout_url       TEXT    NOT NULL,
	test_mode          INTEGER NOT NULL,
	quote_id           TEXT    NOT NULL,
	lot                TEXT    NOT NULL,
	created_at         INTEGER,
	paid_at            INTEGER,
	fulfilled_at       INTEGER,
	cancelled_at       INTEGER,
	PRIMARY KEY (contract, id)
) STRICT, WITHOUT ROWID;

-- OrderContract finds an order by id alone (mark-paid, payment webhooks).
CREATE INDEX orders_id ON orders (id);
`,

	// 3: quote acceptances: at most one row per quote id, written in the
	// same transaction as the order the acceptance made.
	`
CREATE TABLE quote_acceptances (
	quote_id    TEXT NOT NULL PRIMARY KEY,
	contract    TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	accepted_at INTEGER
) STRICT, WITHOUT ROWID;
`,

	// 4: currency sunsets, and the index that finds the lots a sunset must
	// end (a currency's lots ending after its final expiry, or never).
	`
CREATE TABLE sunsets (
	currency        TEXT    NOT NULL PRIMARY KEY,
	sales_end_at    INTEGER,
	final_expiry_at INTEGER,
	successor       TEXT    NOT NULL,
	updated_at      INTEGER,
	version         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX lots_currency_end ON lots (currency, end_at);
`,

	// 5: the notification outbox, and the contract's notification address.
	// A notification's id names its event, so it is the whole key: the same
	// event is recorded once. notifications_pending is partial (only what
	// the sender still has to deliver), like lots_ended.
	`
ALTER TABLE contracts ADD COLUMN notify_email TEXT NOT NULL DEFAULT '';

CREATE TABLE notifications (
	id         TEXT NOT NULL PRIMARY KEY,
	contract   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER,
	state      TEXT NOT NULL,
	sent_at    INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX notifications_contract ON notifications (contract, created_at, id);
CREATE INDEX notifications_pending ON notifications (created_at, id) WHERE state = 'pending';
`,

	// 6: a sender's claim on a pending notification (Notification.Claim), so
	// two sweepers never both send one. The pending index moves to the due
	// time, so failing sends wait at the back.
	`
ALTER TABLE notifications ADD COLUMN claimed_until INTEGER;

DROP INDEX notifications_pending;
CREATE INDEX notifications_due ON notifications (coalesce(claimed_until, created_at), id) WHERE state = 'pending';
`,

	// 7: the due time is the later of created_at and claimed_until
	// (notificationDue, as ledger.Notification.DueAt says), also for a claim
	// that would end before its notification's creation; the pending read
	// uses exactly this expression.
	`
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (max(created_at, coalesce(claimed_until, created_at)), id) WHERE state = 'pending';
`,

	// 8: every record a write replaces carries a version, and a replace is
	// conditioned on the version it read (ledger.WriteReplace). Rows written
	// before are at version 1, as a new record is. A lot records whether the
	// sweep retired it (ledger.Lot.Retired).
	`
ALTER TABLE lots ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE holds ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE consumptions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE orders ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE lots ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
`,

	// 9: a spend reads only the lots it may draw on (Store.SpendLots): the
	// live lots of two pools — the user's individual lots (owner = the
	// user) and the shared pool (owner = '') — through an index that holds
	// only lots with credits left, in burn order within each pool. Removing
	// a user reads the user's individual lots through their own index.
	`
CREATE INDEX lots_pool ON lots (contract, owner, end_at, granted_at, id) WHERE remaining <> '0' AND retired = 0;
CREATE INDEX lots_owner ON lots (contract, owner) WHERE kind = 'individual';
`,

	// 10: the sweep's work list keeps a lot from its end until the sweep
	// retires it (ledger.Store.EndedLots), not only while it has credits
	// left: an index whose condition names remaining is rewritten by every
	// debit of a lot that has an end — one more page each spend writes —
	// while end_at and retired change only when a lot's life does. The
	// finished lots in it are handed to the sweep to retire once
	// ledger.RetireGrace has passed.
	`
DROP INDEX lots_ended;
CREATE INDEX lots_sweep ON lots (end_at) WHERE end_at IS NOT NULL AND retired = 0;
`,
}

// notificationDue is a notification's due time, the later of created_at
// and claimed_until (ledger.Notification.DueAt), exactly as the index
// notifications_due writes it, so the pending read can use that index.
const notificationDue = "max(created_at, coalesce(claimed_until, created_at))"

// tables lists every table Dump writes, in the order it reads them.
var tables = []string{
	"contracts", "users", "grants", "lots", "entries", "holds", "consumptions",
	"idempotency", "budgets", "budget_usage", "usage", "attempts", "orders",
	"quote_acceptances", "sunsets", "notifications",
}
