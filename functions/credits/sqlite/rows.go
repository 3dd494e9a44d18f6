package sqlite

import (
	"database/sql"
	"fmt"
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// The column lists and row codecs of each table, one place per table, so a
// read and a write can't disagree on the order.

type scanner interface{ Scan(dest ...any) error }

// How many columns the rows a spend writes have: their values are
// allocated at that size.
var (
	lenLotCols         = len(columns(lotCols))
	lenEntryCols       = len(columns(entryCols))
	lenHoldCols        = len(columns(holdCols))
	lenConsumptionCols = len(columns(consumptionCols))
	lenIdempotencyCols = len(columns(idempotencyCols))
)

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

const contractCols = `id, customer, entity, covered_entities, contractor_coverage, start_at, end_at,
	extension_months, channel, monthly_baseline, plan_active, terminated_at, version, notify_email`

func contractValues(c ledger.Contract) ([]any, error) {
	var v values
	v.add(c.ID, c.Customer, c.Entity)
	v.json(c.CoveredEntities)
	v.add(encodeBool(c.ContractorCoverage))
	v.time(c.Start)
	v.time(c.End)
	v.add(int64(c.ExtensionMonths), c.Channel)
	v.dec(c.MonthlyBaseline)
	v.add(encodeBool(c.PlanActive))
	v.time(c.TerminatedAt)
	v.add(c.Version, c.NotifyEmail)
	return v.args, v.err
}

func scanContract(s scanner) (ledger.Contract, error) {
	var c ledger.Contract
	err := s.Scan(contractDest(&c)...)
	return c, err
}

// contractDest is where a row of contractCols scans to.
func contractDest(c *ledger.Contract) []any {
	return []any{&c.ID, &c.Customer, &c.Entity, jsonCol{"covered_entities", &c.CoveredEntities}, &c.ContractorCoverage,
		timeCol{&c.Start}, timeCol{&c.End}, &c.ExtensionMonths, &c.Channel, decCol{"monthly_baseline", &c.MonthlyBaseline},
		&c.PlanActive, timeCol{&c.TerminatedAt}, &c.Version, &c.NotifyEmail}
}

// contractUserCols are a contract's columns (as c), whether the user (u,
// LEFT JOINed) exists, and the user's columns — empty text and 0 where
// there is no user, so the row scans with userDest either way.
var contractUserCols = func() string {
	var cols []string
	for _, c := range columns(contractCols) {
		cols = append(cols, "c."+c)
	}
	cols = append(cols, "u.id IS NOT NULL")
	for _, c := range columns(userCols) {
		switch c {
		case "added_at", "removed_at": // times are NULL for the zero time anyway
			cols = append(cols, "u."+c)
		case "can_spend", "active", "version":
			cols = append(cols, "coalesce(u."+c+", 0)")
		default:
			cols = append(cols, "coalesce(u."+c+", '')")
		}
	}
	return strings.Join(cols, ", ")
}()

// scanContractUser reads a row of contractUserCols: the contract, and the
// user when the contract has one by the id asked for (else nil).
func scanContractUser(s scanner) (ledger.Contract, *ledger.User, error) {
	var (
		c   ledger.Contract
		u   ledger.User
		has bool
	)
	err := s.Scan(append(append(contractDest(&c), &has), userDest(&u)...)...)
	if err != nil || !has {
		return c, nil, err
	}
	return c, &u, nil
}

const userCols = `contract, id, kind, entity, can_spend, active, added_at, removed_at, version`

func userValues(u ledger.User) ([]any, error) {
	var v values
	v.add(u.Contract, u.ID, string(u.Kind), u.Entity, encodeBool(u.CanSpend), encodeBool(u.Active))
	v.time(u.AddedAt)
	v.time(u.RemovedAt)
	v.add(u.Version)
	return v.args, v.err
}

func scanUser(s scanner) (ledger.User, error) {
	var u ledger.User
	err := s.Scan(userDest(&u)...)
	return u, err
}

// userDest is where a row of userCols scans to.
func userDest(u *ledger.User) []any {
	return []any{&u.Contract, &u.ID, textCol[ledger.UserKind]{&u.Kind}, &u.Entity, &u.CanSpend, &u.Active,
		timeCol{&u.AddedAt}, timeCol{&u.RemovedAt}, &u.Version}
}

const lotCols = `contract, id, currency, kind, owner, source, grant_id, order_id,
	amount, remaining, held, spent, expired, withdrawn, refunded,
	granted_at, effective_at, expires_at, notice_at, closes_at, end_at, version, retired`

func lotValues(l ledger.Lot) ([]any, error) {
	v := values{args: make([]any, 0, lenLotCols)}
	v.add(l.Contract, l.ID, string(l.Currency), string(l.Kind), l.Owner, string(l.Source), l.Grant, l.Order)
	v.dec(l.Amount)
	v.dec(l.Remaining)
	v.dec(l.Held)
	v.dec(l.Spent)
	v.dec(l.Expired)
	v.dec(l.Withdrawn)
	v.dec(l.Refunded)
	v.time(l.GrantedAt)
	v.time(l.EffectiveFrom)
	v.time(l.ExpiresAt)
	v.time(l.WithdrawNoticeAt)
	v.time(l.ClosesAt)
	v.time(l.End())
	v.add(l.Version, encodeBool(l.Retired))
	return v.args, v.err
}

// scanLot reads a row of lotCols. A spend reads every lot it may draw
// on, so the columns scan into plain strings and integers (the quick
// conversions database/sql has) and are decoded here.
func scanLot(s scanner) (ledger.Lot, error) {
	var (
		l                      ledger.Lot
		currency, kind, source string
		c                      [7]string // amount … refunded
		t                      [6]sql.NullInt64
	)
	if err := s.Scan(&l.Contract, &l.ID, &currency, &kind, &l.Owner, &source, &l.Grant, &l.Order,
		&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6],
		&t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &l.Version, &l.Retired); err != nil {
		return l, err
	}
	l.Currency, l.Kind, l.Source = core.Currency(currency), ledger.Kind(kind), ledger.Source(source)
	for i, d := range []*decimal.Decimal{&l.Amount, &l.Remaining, &l.Held, &l.Spent, &l.Expired, &l.Withdrawn, &l.Refunded} {
		var err error
		if *d, err = decodeDecimal(lotCounterCols[i], c[i]); err != nil {
			return l, err
		}
	}
	l.GrantedAt, l.EffectiveFrom, l.ExpiresAt = decodeTime(t[0]), decodeTime(t[1]), decodeTime(t[2])
	l.WithdrawNoticeAt, l.ClosesAt = decodeTime(t[3]), decodeTime(t[4])
	if !decodeTime(t[5]).Equal(l.End()) {
		return l, fmt.Errorf("lot %s/%s: end_at disagrees with its expiry and close", l.Contract, l.ID)
	}
	return l, nil
}

// lotCounterCols are the decimal columns of lotCols, in order.
var lotCounterCols = [7]string{"amount", "remaining", "held", "spent", "expired", "withdrawn", "refunded"}

const entryCols = `contract, id, lot, currency, kind, credits,
	move_remaining, move_held, move_spent, move_expired, move_withdrawn, move_refunded, ref, at`

func entryValues(e ledger.Entry) ([]any, error) {
	v := values{args: make([]any, 0, lenEntryCols)}
	v.add(e.Contract, e.ID, e.Lot, string(e.Currency), string(e.Kind))
	v.dec(e.Credits)
	v.dec(e.Move.Remaining)
	v.dec(e.Move.Held)
	v.dec(e.Move.Spent)
	v.dec(e.Move.Expired)
	v.dec(e.Move.Withdrawn)
	v.dec(e.Move.Refunded)
	v.add(e.Ref)
	v.time(e.At)
	return v.args, v.err
}

func scanEntry(s scanner) (ledger.Entry, error) {
	var e ledger.Entry
	m := &e.Move
	err := s.Scan(&e.Contract, &e.ID, &e.Lot, textCol[core.Currency]{&e.Currency}, textCol[ledger.EntryKind]{&e.Kind},
		decCol{"credits", &e.Credits}, decCol{"move_remaining", &m.Remaining}, decCol{"move_held", &m.Held},
		decCol{"move_spent", &m.Spent}, decCol{"move_expired", &m.Expired}, decCol{"move_withdrawn", &m.Withdrawn},
		decCol{"move_refunded", &m.Refunded}, &e.Ref, timeCol{&e.At})
	return e, err
}

const holdCols = `contract, id, user, entity, project, service, currency, credits, debits, state,
	created_at, expires_at, closed_at, consumption, version`

func holdValues(h ledger.Hold) ([]any, error) {
	v := values{args: make([]any, 0, lenHoldCols)}
	v.add(h.Contract, h.ID, h.User, h.Entity, h.Project, h.Service, string(h.Currency))
	v.dec(h.Credits)
	v.json(h.Debits)
	v.add(string(h.State))
	v.time(h.CreatedAt)
	v.time(h.ExpiresAt)
	v.time(h.ClosedAt)
	v.add(h.Consumption, h.Version)
	return v.args, v.err
}

func scanHold(s scanner) (ledger.Hold, error) {
	var h ledger.Hold
	err := s.Scan(&h.Contract, &h.ID, &h.User, &h.Entity, &h.Project, &h.Service, textCol[core.Currency]{&h.Currency},
		decCol{"credits", &h.Credits}, jsonCol{"debits", &h.Debits}, textCol[ledger.HoldState]{&h.State},
		timeCol{&h.CreatedAt}, timeCol{&h.ExpiresAt}, timeCol{&h.ClosedAt}, &h.Consumption, &h.Version)
	return h, err
}

const consumptionCols = `contract, id, user, entity, project, service, currency, credits, debits, hold,
	created_at, refunded, returned, budget_month, version`

func consumptionValues(c ledger.Consumption) ([]any, error) {
	v := values{args: make([]any, 0, lenConsumptionCols)}
	v.add(c.Contract, c.ID, c.User, c.Entity, c.Project, c.Service, string(c.Currency))
	v.dec(c.Credits)
	v.json(c.Debits)
	v.add(c.Hold)
	v.time(c.CreatedAt)
	v.dec(c.Refunded)
	v.json(c.Returned)
	v.add(c.BudgetMonth, c.Version)
	return v.args, v.err
}

func scanConsumption(s scanner) (ledger.Consumption, error) {
	var c ledger.Consumption
	err := s.Scan(&c.Contract, &c.ID, &c.User, &c.Entity, &c.Project, &c.Service, textCol[core.Currency]{&c.Currency},
		decCol{"credits", &c.Credits}, jsonCol{"debits", &c.Debits}, &c.Hold, timeCol{&c.CreatedAt},
		decCol{"refunded", &c.Refunded}, jsonCol{"returned", &c.Returned}, &c.BudgetMonth, &c.Version)
	return c, err
}

const idempotencyCols = `contract, key, fingerprint, response, created_at, expires_at`

func idempotencyValues(r ledger.IdempotencyRecord) ([]any, error) {
	v := values{args: make([]any, 0, lenIdempotencyCols)}
	response := r.Response
	if response == nil {
		response = []byte{} // the column is NOT NULL; nil and empty read back alike
	}
	v.add(r.Contract, r.Key, r.Fingerprint, response)
	v.time(r.CreatedAt)
	v.time(r.ExpiresAt)
	return v.args, v.err
}

func scanIdempotency(s scanner) (ledger.IdempotencyRecord, error) {
	var r ledger.IdempotencyRecord
	err := s.Scan(&r.Contract, &r.Key, &r.Fingerprint, &r.Response, timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt})
	return r, err
}

const usageCols = `contract, month, currency, user, service, project, entity, credits, count`

func scanUsage(s scanner) (ledger.Usage, error) {
	var u ledger.Usage
	k := &u.Key
	err := s.Scan(&k.Contract, &k.Month, textCol[core.Currency]{&k.Currency}, &k.User, &k.Service, &k.Project, &k.Entity,
		decCol{"credits", &u.Credits}, &u.Count)
	return u, err
}

const attemptCols = `contract, id, user, entity, kind, service, currency, credits, reason, at`

func attemptValues(a ledger.Attempt) ([]any, error) {
	var v values
	v.add(a.Contract, a.ID, a.User, a.Entity, string(a.Kind), a.Service, string(a.Currency))
	v.dec(a.Credits)
	v.add(a.Reason)
	v.time(a.At)
	return v.args, v.err
}

func scanAttempt(s scanner) (ledger.Attempt, error) {
	var a ledger.Attempt
	err := s.Scan(&a.Contract, &a.ID, &a.User, &a.Entity, textCol[ledger.UserKind]{&a.Kind}, &a.Service,
		textCol[core.Currency]{&a.Currency}, decCol{"credits", &a.Credits}, &a.Reason, timeCol{&a.At})
	return a, err
}

const orderCols = `contract, id, status, currency, credits, packs, channel, unit_price, total, money_currency,
	price_book_version, payment, provider, session_id, checkout_url, test_mode, quote_id, lot,
	created_at, paid_at, fulfilled_at, cancelled_at, version`

func orderValues(o ledger.Order) ([]any, error) {
	var v values
	v.add(o.Contract, o.ID, string(o.Status), string(o.Currency))
	v.dec(o.Credits)
	v.dec(o.Packs)
	v.add(o.Channel)
	v.dec(o.UnitPrice)
	v.dec(o.Total)
	v.add(o.MoneyCurrency, o.PriceBookVersion, string(o.Payment), o.Provider, o.SessionID, o.CheckoutURL,
		encodeBool(o.TestMode), o.Quote, o.Lot)
	v.time(o.CreatedAt)
	v.time(o.PaidAt)
	v.time(o.FulfilledAt)
	v.time(o.CancelledAt)
	v.add(o.Version)
	return v.args, v.err
}

func scanOrder(s scanner) (ledger.Order, error) {
	var o ledger.Order
	err := s.Scan(&o.Contract, &o.ID, textCol[ledger.OrderStatus]{&o.Status}, textCol[core.Currency]{&o.Currency},
		decCol{"credits", &o.Credits}, decCol{"packs", &o.Packs}, &o.Channel, decCol{"unit_price", &o.UnitPrice},
		decCol{"total", &o.Total}, &o.MoneyCurrency, &o.PriceBookVersion, textCol[ledger.Payment]{&o.Payment},
		&o.Provider, &o.SessionID, &o.CheckoutURL, &o.TestMode, &o.Quote, &o.Lot,
		timeCol{&o.CreatedAt}, timeCol{&o.PaidAt}, timeCol{&o.FulfilledAt}, timeCol{&o.CancelledAt}, &o.Version)
	return o, err
}

const quoteAcceptanceCols = "quote_id, contract, order_id, accepted_at"

func quoteAcceptanceValues(a ledger.QuoteAcceptance) ([]any, error) {
	at, err := encodeTime(a.AcceptedAt)
	return []any{a.QuoteID, a.Contract, a.Order, at}, err
}

func scanQuoteAcceptance(s scanner) (ledger.QuoteAcceptance, error) {
	var a ledger.QuoteAcceptance
	err := s.Scan(&a.QuoteID, &a.Contract, &a.Order, timeCol{&a.AcceptedAt})
	return a, err
}

const sunsetCols = "currency, sales_end_at, final_expiry_at, successor, updated_at, version"

func sunsetValues(x ledger.Sunset) ([]any, error) {
	var v values
	v.add(string(x.Currency))
	v.time(x.SalesEnd)
	v.time(x.FinalExpiry)
	v.add(string(x.Successor))
	v.time(x.UpdatedAt)
	v.add(x.Version)
	return v.args, v.err
}

func scanSunset(s scanner) (ledger.Sunset, error) {
	var x ledger.Sunset
	err := s.Scan(textCol[core.Currency]{&x.Currency}, timeCol{&x.SalesEnd}, timeCol{&x.FinalExpiry},
		textCol[core.Currency]{&x.Successor}, timeCol{&x.UpdatedAt}, &x.Version)
	return x, err
}

const notificationCols = "id, contract, kind, recipient, subject, body, created_at, state, sent_at, claimed_until, version"

func notificationValues(n ledger.Notification) ([]any, error) {
	var v values
	v.add(n.ID, n.Contract, string(n.Kind), n.To, n.Subject, n.Body)
	v.time(n.CreatedAt)
	v.add(string(n.State))
	v.time(n.SentAt)
	v.time(n.ClaimedUntil)
	v.add(n.Version)
	return v.args, v.err
}

func scanNotification(s scanner) (ledger.Notification, error) {
	var n ledger.Notification
	err := s.Scan(&n.ID, &n.Contract, textCol[ledger.NotificationKind]{&n.Kind}, &n.To, &n.Subject, &n.Body,
		timeCol{&n.CreatedAt}, textCol[ledger.NotificationState]{&n.State}, timeCol{&n.SentAt}, timeCol{&n.ClaimedUntil}, &n.Version)
	return n, err
}
