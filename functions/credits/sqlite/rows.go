package sqlite

import (
	"database/sql"
	"fmt"
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// The column lists and row codecs of each table, one place per table, so a
// read and a write can't disagree on the order.

type scanner interface{ Scan(dest ...any) error }

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
	var (
		c                      ledger.Contract
		covered, baseline      string
		start, end, terminated sql.NullInt64
		extension              int64
		coverage, active       bool
	)
	if err := s.Scan(&c.ID, &c.Customer, &c.Entity, &covered, &coverage, &start, &end,
		&extension, &c.Channel, &baseline, &active, &terminated, &c.Version, &c.NotifyEmail); err != nil {
		return c, err
	}
	var d decoder
	d.json("covered_entities", covered, &c.CoveredEntities)
	c.MonthlyBaseline = d.dec("monthly_baseline", baseline)
	c.ContractorCoverage, c.PlanActive = coverage, active
	c.Start, c.End, c.TerminatedAt = decodeTime(start), decodeTime(end), decodeTime(terminated)
	c.ExtensionMonths = int(extension)
	return c, d.err
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
	var (
		u              ledger.User
		kind           string
		added, removed sql.NullInt64
	)
	if err := s.Scan(&u.Contract, &u.ID, &kind, &u.Entity, &u.CanSpend, &u.Active, &added, &removed, &u.Version); err != nil {
		return u, err
	}
	u.Kind, u.AddedAt, u.RemovedAt = ledger.UserKind(kind), decodeTime(added), decodeTime(removed)
	return u, nil
}

const lotCols = `contract, id, currency, kind, owner, source, grant_id, order_id,
	amount, remaining, held, spent, expired, withdrawn, refunded,
	granted_at, effective_at, expires_at, notice_at, closes_at, end_at, version, retired`

func lotValues(l ledger.Lot) ([]any, error) {
	var v values
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

func scanLot(s scanner) (ledger.Lot, error) {
	var (
		l                                         ledger.Lot
		currency, kind, source                    string
		amount, remaining, held, spent            string
		expired, withdrawn, refunded              string
		granted, effective, expires, notice, ends sql.NullInt64
		end                                       sql.NullInt64
	)
	if err := s.Scan(&l.Contract, &l.ID, &currency, &kind, &l.Owner, &source, &l.Grant, &l.Order,
		&amount, &remaining, &held, &spent, &expired, &withdrawn, &refunded,
		&granted, &effective, &expires, &notice, &ends, &end, &l.Version, &l.Retired); err != nil {
		return l, err
	}
	l.Currency, l.Kind, l.Source = core.Currency(currency), ledger.Kind(kind), ledger.Source(source)
	var d decoder
	l.Amount = d.dec("amount", amount)
	l.Remaining = d.dec("remaining", remaining)
	l.Held = d.dec("held", held)
	l.Spent = d.dec("spent", spent)
	l.Expired = d.dec("expired", expired)
	l.Withdrawn = d.dec("withdrawn", withdrawn)
	l.Refunded = d.dec("refunded", refunded)
	l.GrantedAt, l.EffectiveFrom = decodeTime(granted), decodeTime(effective)
	l.ExpiresAt, l.WithdrawNoticeAt, l.ClosesAt = decodeTime(expires), decodeTime(notice), decodeTime(ends)
	if d.err == nil && !decodeTime(end).Equal(l.End()) {
		d.err = fmt.Errorf("lot %s/%s: end_at disagrees with its expiry and close", l.Contract, l.ID)
	}
	return l, d.err
}

const entryCols = `contract, id, lot, currency, kind, credits,
	move_remaining, move_held, move_spent, move_expired, move_withdrawn, move_refunded, ref, at`

func entryValues(e ledger.Entry) ([]any, error) {
	var v values
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
	var (
		e                                  ledger.Entry
		currency, kind, credits            string
		rem, held, spent, exp, wdr, refund string
		at                                 sql.NullInt64
	)
	if err := s.Scan(&e.Contract, &e.ID, &e.Lot, &currency, &kind, &credits,
		&rem, &held, &spent, &exp, &wdr, &refund, &e.Ref, &at); err != nil {
		return e, err
	}
	e.Currency, e.Kind, e.At = core.Currency(currency), ledger.EntryKind(kind), decodeTime(at)
	var d decoder
	e.Credits = d.dec("credits", credits)
	e.Move = ledger.Movement{
		Remaining: d.dec("move_remaining", rem), Held: d.dec("move_held", held),
		Spent: d.dec("move_spent", spent), Expired: d.dec("move_expired", exp),
		Withdrawn: d.dec("move_withdrawn", wdr), Refunded: d.dec("move_refunded", refund),
	}
	return e, d.err
}

const holdCols = `contract, id, user, entity, project, service, currency, credits, debits, state,
	created_at, expires_at, closed_at, consumption, version`

func holdValues(h ledger.Hold) ([]any, error) {
	var v values
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
	var (
		h                                ledger.Hold
		currency, credits, debits, state string
		created, expires, closed         sql.NullInt64
	)
	if err := s.Scan(&h.Contract, &h.ID, &h.User, &h.Entity, &h.Project, &h.Service, &currency, &credits,
		&debits, &state, &created, &expires, &closed, &h.Consumption, &h.Version); err != nil {
		return h, err
	}
	h.Currency, h.State = core.Currency(currency), ledger.HoldState(state)
	h.CreatedAt, h.ExpiresAt, h.ClosedAt = decodeTime(created), decodeTime(expires), decodeTime(closed)
	var d decoder
	h.Credits = d.dec("credits", credits)
	d.json("debits", debits, &h.Debits)
	return h, d.err
}

const consumptionCols = `contract, id, user, entity, project, service, currency, credits, debits, hold,
	created_at, refunded, returned, budget_month, version`

func consumptionValues(c ledger.Consumption) ([]any, error) {
	var v values
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
	var (
		c                                   ledger.Consumption
		currency, credits, debits, refunded string
		returned                            string
		created                             sql.NullInt64
	)
	if err := s.Scan(&c.Contract, &c.ID, &c.User, &c.Entity, &c.Project, &c.Service, &currency, &credits,
		&debits, &c.Hold, &created, &refunded, &returned, &c.BudgetMonth, &c.Version); err != nil {
		return c, err
	}
	c.Currency, c.CreatedAt = core.Currency(currency), decodeTime(created)
	var d decoder
	c.Credits = d.dec("credits", credits)
	c.Refunded = d.dec("refunded", refunded)
	d.json("debits", debits, &c.Debits)
	d.json("returned", returned, &c.Returned)
	return c, d.err
}

const idempotencyCols = `contract, key, fingerprint, response, created_at, expires_at`

func idempotencyValues(r ledger.IdempotencyRecord) ([]any, error) {
	var v values
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
	var (
		r                ledger.IdempotencyRecord
		created, expires sql.NullInt64
	)
	if err := s.Scan(&r.Contract, &r.Key, &r.Fingerprint, &r.Response, &created, &expires); err != nil {
		return r, err
	}
	r.CreatedAt, r.ExpiresAt = decodeTime(created), decodeTime(expires)
	return r, nil
}

const usageCols = `contract, month, currency, user, service, project, entity, credits, count`

func scanUsage(s scanner) (ledger.Usage, error) {
	var (
		u                 ledger.Usage
		currency, credits string
	)
	k := &u.Key
	if err := s.Scan(&k.Contract, &k.Month, &currency, &k.User, &k.Service, &k.Project, &k.Entity, &credits, &u.Count); err != nil {
		return u, err
	}
	k.Currency = core.Currency(currency)
	var d decoder
	u.Credits = d.dec("credits", credits)
	return u, d.err
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
	var (
		a                       ledger.Attempt
		kind, currency, credits string
		at                      sql.NullInt64
	)
	if err := s.Scan(&a.Contract, &a.ID, &a.User, &a.Entity, &kind, &a.Service, &currency, &credits, &a.Reason, &at); err != nil {
		return a, err
	}
	a.Kind, a.Currency, a.At = ledger.UserKind(kind), core.Currency(currency), decodeTime(at)
	var d decoder
	a.Credits = d.dec("credits", credits)
	return a, d.err
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
	var (
		o                                   ledger.Order
		status, currency, payment           string
		credits, packs, unitPrice, total    string
		testMode                            bool
		created, paid, fulfilled, cancelled sql.NullInt64
	)
	if err := s.Scan(&o.Contract, &o.ID, &status, &currency, &credits, &packs, &o.Channel, &unitPrice, &total,
		&o.MoneyCurrency, &o.PriceBookVersion, &payment, &o.Provider, &o.SessionID, &o.CheckoutURL, &testMode,
		&o.Quote, &o.Lot, &created, &paid, &fulfilled, &cancelled, &o.Version); err != nil {
		return o, err
	}
	o.Status, o.Currency, o.Payment, o.TestMode = ledger.OrderStatus(status), core.Currency(currency), ledger.Payment(payment), testMode
	var d decoder
	o.Credits = d.dec("credits", credits)
	o.Packs = d.dec("packs", packs)
	o.UnitPrice = d.dec("unit_price", unitPrice)
	o.Total = d.dec("total", total)
	o.CreatedAt, o.PaidAt, o.FulfilledAt, o.CancelledAt = decodeTime(created), decodeTime(paid), decodeTime(fulfilled), decodeTime(cancelled)
	return o, d.err
}

const quoteAcceptanceCols = "quote_id, contract, order_id, accepted_at"

func quoteAcceptanceValues(a ledger.QuoteAcceptance) ([]any, error) {
	at, err := encodeTime(a.AcceptedAt)
	return []any{a.QuoteID, a.Contract, a.Order, at}, err
}

func scanQuoteAcceptance(s scanner) (ledger.QuoteAcceptance, error) {
	var (
		a  ledger.QuoteAcceptance
		at sql.NullInt64
	)
	err := s.Scan(&a.QuoteID, &a.Contract, &a.Order, &at)
	a.AcceptedAt = decodeTime(at)
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
	var (
		x                        ledger.Sunset
		currency, successor      string
		salesEnd, final, updated sql.NullInt64
	)
	err := s.Scan(&currency, &salesEnd, &final, &successor, &updated, &x.Version)
	x.Currency, x.Successor = core.Currency(currency), core.Currency(successor)
	x.SalesEnd, x.FinalExpiry, x.UpdatedAt = decodeTime(salesEnd), decodeTime(final), decodeTime(updated)
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
	var (
		n                      ledger.Notification
		kind, state            string
		created, sent, claimed sql.NullInt64
	)
	err := s.Scan(&n.ID, &n.Contract, &kind, &n.To, &n.Subject, &n.Body, &created, &state, &sent, &claimed, &n.Version)
	n.Kind, n.State = ledger.NotificationKind(kind), ledger.NotificationState(state)
	n.CreatedAt, n.SentAt, n.ClaimedUntil = decodeTime(created), decodeTime(sent), decodeTime(claimed)
	return n, err
}
