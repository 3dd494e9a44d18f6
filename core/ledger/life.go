package ledger

import (
	"fmt"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

func mustJSON(v any) []byte {
	b, err := encodeJSON(v)
	if err != nil {
		panic("ledger: encode result: " + err.Error())
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// The range of dates the ledger accepts: every store can hold them exactly.
var (
	timeMin = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	timeMax = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckContract validates a contract's fields, collecting every problem.
func CheckContract(c Contract) error {
	var p core.Problems
	checkID(&p, "id", c.ID, true)
	checkID(&p, "entity", c.Entity, true)
	if c.Customer == "" || len(c.Customer) > 200 {
		p.Add("customer", "is required, at most 200 characters")
	}
	if len(c.CoveredEntities) > 100 {
		p.Add("covered_entities", "at most 100 entities")
	}
	for i, e := range c.CoveredEntities {
		checkID(&p, fmt.Sprintf("covered_entities[%d]", i), e, true)
	}
	if c.Start.IsZero() {
		p.Add("start", "is required")
	} else if c.Start.Before(timeMin) || c.Start.After(timeMax) {
		p.Add("start", "must be between %d and %d", timeMin.Year(), timeMax.Year())
	}
	if !c.End.IsZero() && c.End.After(timeMax) {
		p.Add("end", "must be before %d", timeMax.Year())
	}
	if !c.End.IsZero() && !c.End.After(c.Start) {
		p.Add("end", "must be after start")
	}
	if c.ExtensionMonths < 0 || c.ExtensionMonths > 24 {
		p.Add("extension_months", "must be between 0 and 24")
	}
	if c.MonthlyBaseline.Sign() < 0 || c.MonthlyBaseline.GreaterThan(decimal.NewFromInt(core.CreditsMax)) {
		p.Add("monthly_baseline", "must be between 0 and %d", core.CreditsMax)
	}
	if err := CheckNotifyEmail(c.NotifyEmail); err != nil {
		p.Add("notify_email", "%s", err.Error())
	}
	return p.Err()
}

// PlanCreateContract creates a contract.
func PlanCreateContract(c Contract, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if err := CheckContract(c); err != nil {
			return Tx{}, nil, err
		}
		c.Version = 1
		return Tx{Ops: []Op{PutContract{Contract: c}}}, c, nil
	})
}

// UserRequest associates a user with a contract (API: POST …/users).
type UserRequest struct {
	User     string   `json:"user"`
	Kind     UserKind `json:"kind"`
	Entity   string   `json:"entity"`
	CanSpend bool     `json:"can_spend"`
	// CurrencyEnd is the final expiry of the grant's currency (cloud) after
	// a sunset, if any: the service sets it from the stored sunset, never a
	// client, and it caps the individual lot's end.
	CurrencyEnd time.Time `json:"-"`
}

// UserResult is the answer to associating a user: the user and, the first
// time an eligible user is associated, the one-time individual grant.
type UserResult struct {
	User  User `json:"user"`
	Grant *Lot `json:"grant"`
}

// GrantEligible reports whether associating u with c earns the one-time
// individual grant: a user who may spend (an employee, or a contractor where
// the contract covers contractors) on a contract with an active plan that has
// not ended. Education and guest identities get none.
func GrantEligible(c Contract, u User, at time.Time) bool {
	if !c.PlanActive || !u.CanSpend {
		return false
	}
	if end := c.EndAt(); !end.IsZero() && !at.Before(end) {
		return false
	}
	return u.Kind == Employee || (u.Kind == Contractor && c.ContractorCoverage)
}

// PlanAddUser associates (or re-associates) a user with a contract. The first
// association that is grant-eligible creates an individual lot of
// IndividualGrantCredits cloud credits, once per contract and user however
// often the association is repeated (the MarkGrant condition enforces it).
// The lot has no fixed expiry; it ends when the user stops being current,
// which the contract's end bounds.
func PlanAddUser(c Contract, existing *User, granted bool, req UserRequest, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		var p core.Problems
		checkID(&p, "user", req.User, true)
		checkID(&p, "entity", req.Entity, true)
		if _, ok := ParseUserKind(string(req.Kind)); !ok {
			p.Add("kind", "must be one of employee, contractor, education, guest")
		}
		if err := p.Err(); err != nil {
			return Tx{}, nil, err
		}
		u := User{Contract: c.ID, ID: req.User, Kind: req.Kind, Entity: req.Entity, CanSpend: req.CanSpend,
			Active: true, AddedAt: env.At, Version: 1}
		if existing != nil {
			u.AddedAt, u.Version = existing.AddedAt, existing.Version+1
			if !existing.Active {
				u.AddedAt = env.At
			}
		}
		ops := []Op{PutUser{User: u}}
		res := UserResult{User: u}
		if !granted && GrantEligible(c, u, env.At) {
			amount := decimal.NewFromInt(IndividualGrantCredits)
			lot := newLot(env.OpID, c.ID, core.Cloud, Individual, SourceSubscription, amount, env.At)
			lot.Owner = u.ID
			lot.ExpiresAt = earlier(c.EndAt(), req.CurrencyEnd)
			seq := 0
			ops = append(ops, MarkGrant{Contract: c.ID, User: u.ID}, CreateLot{Lot: lot},
				PutEntry{Entry: entry(lot, EntryGrant, amount, Movement{Remaining: amount}, lot.ID, env, &seq)})
			res.Grant = &lot
		}
		return Tx{Ops: ops}, res, nil
	})
}

func newLot(id, contract string, cur core.Currency, kind Kind, src Source, amount decimal.Decimal, at time.Time) Lot {
	return Lot{
		ID: id, Contract: contract, Currency: cur, Kind: kind, Source: src, Grant: id,
		Amount: amount, Remaining: amount, Held: decimal.Zero, Spent: decimal.Zero,
		Expired: decimal.Zero, Withdrawn: decimal.Zero, Refunded: decimal.Zero,
		GrantedAt: at, EffectiveFrom: at,
	}
}

// RemoveResult is the answer to removing a user.
type RemoveResult struct {
	User      User     `json:"user"`
	EndedLots []string `json:"ended_lots"`
}

// PlanRemoveUser ends a user's association: the user stops being current, so
// their individual lots end now.
func PlanRemoveUser(u User, lots []Lot, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(u.Contract, idem, prior, env, func() (Tx, any, error) {
		if !u.Active {
			return Tx{}, nil, core.Errorf(core.CodeNotFound, "user %s is not current on contract %s", u.ID, u.Contract)
		}
		after := u
		after.Active, after.RemovedAt, after.Version = false, env.At, u.Version+1
		ops := []Op{PutUser{User: after}}
		res := RemoveResult{User: after, EndedLots: []string{}}
		for _, l := range lots {
			if l.Kind == Individual && l.Owner == u.ID && l.Contract == u.Contract {
				if op, ok := endLotAt(l, env.At); ok {
					ops = append(ops, op)
					res.EndedLots = append(res.EndedLots, l.ID)
				}
			}
		}
		return Tx{Ops: ops}, res, nil
	})
}

// endLotAt moves a lot's expiry to at when it would otherwise end later.
func endLotAt(l Lot, at time.Time) (UpdateLot, bool) {
	if end := l.End(); !end.IsZero() && !end.After(at) {
		return UpdateLot{}, false
	}
	return l.Ended(earlier(l.ExpiresAt, at), l.WithdrawNoticeAt, l.ClosesAt), true
}

// PlanWithdrawLot records the vendor's withdrawal of an individual lot: the
// notice is recorded and the lot closes at notice + 90 days. A notice may not
// be dated in the past, and a lot is withdrawn once.
//
// The withdrawal's notice (PlanWithdrawalNotice, to notifyTo: the
// contract's NotifyEmail) is put in the same Tx, so the notice is recorded
// exactly when the withdrawal is.
func PlanWithdrawLot(l Lot, notifyTo string, noticeAt time.Time, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(l.Contract, idem, prior, env, func() (Tx, any, error) {
		switch {
		case l.Kind != Individual:
			return Tx{}, nil, core.Invalid("lot", "only individual lots are withdrawn; shared lots expire with their contract")
		case !l.WithdrawNoticeAt.IsZero():
			return Tx{}, nil, core.Errorf(core.CodeConflict, "lot %s was already withdrawn on notice of %s", l.ID, l.WithdrawNoticeAt.Format(time.RFC3339))
		case noticeAt.Before(env.At.Add(-time.Minute)):
			return Tx{}, nil, core.Invalid("notice_at", "must not be in the past")
		}
		op := l.Ended(l.ExpiresAt, noticeAt, noticeAt.Add(WithdrawalNotice))
		after := op.Lot
		notice := PutNotification{Notification: PlanWithdrawalNotice(after, notifyTo, env.At)}
		return Tx{Ops: []Op{op, notice}}, after, nil
	})
}

// TerminateResult is the answer to terminating a contract.
type TerminateResult struct {
	Contract  Contract `json:"contract"`
	EndedLots []string `json:"ended_lots"`
}

// PlanTerminate ends a contract at `at` (now or later, never in the past):
// every lot that would outlive it, shared and individual (its users stop being
// current), now ends at `at`. Open holds keep their reservation; settling one
// posts the held credits and returns the rest to expired.
func PlanTerminate(c Contract, lots []Lot, at time.Time, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if at.Before(env.At.Add(-time.Minute)) {
			return Tx{}, nil, core.Invalid("at", "must not be in the past")
		}
		// A minute's grace absorbs a caller's clock skew, but lots never end
		// before the request: a spend applied in between was made while they
		// were live, and ending them retroactively would contradict it.
		if at.Before(env.At) {
			at = env.At
		}
		if end := c.EndAt(); !end.IsZero() && !end.After(at) {
			return Tx{}, nil, core.Errorf(core.CodeConflict, "contract %s already ends at %s", c.ID, end.Format(time.RFC3339))
		}
		after := c
		after.TerminatedAt, after.Version = at, c.Version+1
		ops := []Op{UpdateContract{Contract: after}}
		res := TerminateResult{Contract: after, EndedLots: []string{}}
		for _, op := range EndLotsAfter(after, lots) {
			// The rest of a large contract's lots end in follow-up Txs
			// (EndLotsAfter again): a store's transaction is bounded.
			if len(ops) <= EndLotsPerTxMax {
				ops = append(ops, op)
			}
			res.EndedLots = append(res.EndedLots, op.Lot.ID)
		}
		return Tx{Ops: ops}, res, nil
	})
}

// EndLotsPerTxMax bounds the lot ends one Tx carries, under DynamoDB's
// 100-item transaction with room for the contract and idempotency record.
const EndLotsPerTxMax = 80

// EndLotsAfter returns the writes that end every lot of c that would
// outlive c's end (its termination). Applying them is idempotent: each is
// conditioned on the lot as read, and a lot already ending in
// time yields no write. A terminated contract's spends are refused by
// eligibility from its end on, whether or not these writes have landed; they
// make balances, the calendar and the sweeper agree with it.
func EndLotsAfter(c Contract, lots []Lot) []UpdateLot {
	end := c.EndAt()
	if end.IsZero() {
		return nil
	}
	var ops []UpdateLot
	for _, l := range lots {
		if l.Contract != c.ID {
			continue
		}
		if op, ok := endLotAt(l, end); ok {
			ops = append(ops, op)
		}
	}
	return ops
}

// GrantRequest adds a shared lot to a contract: a fulfilled purchase, or a
// subscription, trial, migration or adjustment grant.
type GrantRequest struct {
	Lot      string          `json:"lot"`
	Currency core.Currency   `json:"currency"`
	Credits  decimal.Decimal `json:"credits"`
	Source   Source          `json:"source"`
	Order    string          `json:"order,omitempty"`
	// Shards stores a large grant as this many equal lots (0 or 1: one lot).
	Shards int `json:"shards,omitempty"`
	// CurrencyEnd is the currency's final expiry after a sunset, if any.
	CurrencyEnd time.Time `json:"currency_end,omitzero"`
}

// SharedExpiry is when a shared lot bought at `at` expires: the earlier of
// 12 months plus the contract's extension months and the contract's end (and
// the currency's final expiry after a sunset).
func SharedExpiry(c Contract, at, currencyEnd time.Time) time.Time {
	return earlier(earlier(at.AddDate(0, SharedLifeMonths+c.ExtensionMonths, 0), c.EndAt()), currencyEnd)
}

// ShardsMax bounds how many lots one grant may be split into.
const ShardsMax = 16

// PlanGrantShared creates a contract's shared lot (or its shards), with its
// grant entries.
func PlanGrantShared(c Contract, req GrantRequest, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		tx, lots, err := grantShared(c, req, env)
		return tx, lots, err
	})
}

func grantShared(c Contract, req GrantRequest, env Env) (Tx, []Lot, error) {
	var p core.Problems
	checkID(&p, "lot", req.Lot, true)
	if _, ok := core.ParseCurrency(string(req.Currency)); !ok {
		p.Add("currency", "unknown currency %q", req.Currency)
	}
	if _, ok := ParseSource(string(req.Source)); !ok {
		p.Add("source", "must be one of purchase, subscription, trial, migration, adjustment")
	}
	p.Merge("", core.CheckCredits("credits", req.Credits))
	if req.Shards < 0 || req.Shards > ShardsMax {
		p.Add("shards", "must be between 1 and %d", ShardsMax)
	}
	if err := p.Err(); err != nil {
		return Tx{}, nil, err
	}
	if end := c.EndAt(); !end.IsZero() && !env.At.Before(end) {
		return Tx{}, nil, core.Errorf(core.CodeConflict, "contract %s ended at %s; it can receive no credits", c.ID, end.Format(time.RFC3339))
	}
	n := max(req.Shards, 1)
	expires := SharedExpiry(c, env.At, req.CurrencyEnd)
	share := req.Credits.Div(decimal.NewFromInt(int64(n))).Truncate(core.CreditsScaleMax)
	first := req.Credits.Sub(share.Mul(decimal.NewFromInt(int64(n - 1))))
	if share.Sign() <= 0 {
		return Tx{}, nil, core.Invalid("shards", "%s credits cannot be split into %d shards of at least %s", req.Credits, n, decimal.New(1, -core.CreditsScaleMax))
	}
	var ops []Op
	var lots []Lot
	seq := 0
	ref := req.Lot // a purchase's entries name the order that paid for them
	if req.Order != "" {
		ref = req.Order
	}
	for i := range n {
		amount := share
		if i == 0 {
			amount = first
		}
		id := req.Lot
		if n > 1 {
			id = fmt.Sprintf("%s.s%d", req.Lot, i+1)
		}
		lot := newLot(id, c.ID, req.Currency, Shared, req.Source, amount, env.At)
		lot.Grant, lot.Order, lot.ExpiresAt = req.Lot, req.Order, expires
		lots = append(lots, lot)
		ops = append(ops, CreateLot{Lot: lot},
			PutEntry{Entry: entry(lot, EntryGrant, amount, Movement{Remaining: amount}, ref, env, &seq)})
	}
	return Tx{Ops: ops}, lots, nil
}

// BudgetRequest sets a project's monthly cap (API: PUT …/budget).
type BudgetRequest struct {
	Currency   core.Currency   `json:"currency"`
	MonthlyCap decimal.Decimal `json:"monthly_cap"`
}

// PlanSetBudget creates or replaces a project's monthly cap in a currency.
func PlanSetBudget(contract, project string, req BudgetRequest, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(contract, idem, prior, env, func() (Tx, any, error) {
		var p core.Problems
		checkID(&p, "project", project, true)
		if _, ok := core.ParseCurrency(string(req.Currency)); !ok {
			p.Add("currency", "unknown currency %q", req.Currency)
		}
		if req.MonthlyCap.Sign() < 0 || req.MonthlyCap.GreaterThan(decimal.NewFromInt(core.CreditsMax)) {
			p.Add("monthly_cap", "must be between 0 and %d", core.CreditsMax)
		}
		if err := p.Err(); err != nil {
			return Tx{}, nil, err
		}
		b := Budget{Contract: contract, Project: project, Currency: req.Currency, MonthlyCap: req.MonthlyCap}
		return Tx{Ops: []Op{PutBudget{Budget: b}}}, b, nil
	})
}

// PlanExpireLot closes out a lot that has ended: its remaining credits move
// to expired (or withdrawn, when the end is a withdrawal), with an entry. It
// returns an empty Tx when there is nothing to do. The sweeper runs it on the
// lot as read; the write is conditioned on that version, so a second run, or
// a hold settled on the lot meanwhile, makes it plan again. A lot closed with
// nothing held that ended RetireGrace ago is retired in the same write.
func PlanExpireLot(l Lot, env Env) Tx {
	end := l.End()
	if end.IsZero() || env.At.Before(end) || l.Remaining.Sign() == 0 {
		return Tx{}
	}
	m := Movement{Remaining: l.Remaining.Neg()}
	kind := EntryExpire
	if l.EndsByWithdrawal() {
		m.Withdrawn, kind = l.Remaining, EntryWithdraw
	} else {
		m.Expired = l.Remaining
	}
	seq := 0
	closed := l.Apply(m)
	closed.Version = l.Version + 1
	closed.Retired = closed.Held.IsZero() && !end.After(env.At.Add(-RetireGrace))
	return Tx{At: env.At, Ops: []Op{
		UpdateLot{Lot: closed},
		PutEntry{Entry: entry(l, kind, l.Remaining, m, l.ID, env, &seq)},
	}}
}

// RetireGrace is how long after its end a finished lot is retired.
const RetireGrace = 24 * time.Hour

// PlanRetireLot retires a lot that ended at least RetireGrace before
// env.At with nothing remaining or held (Lot.Retired); ok is false when it
// is not such a lot, or is retired already. Conditioned on the version read,
// like every UpdateLot.
func PlanRetireLot(l Lot, env Env) (Tx, bool) {
	end := l.End()
	if l.Retired || end.IsZero() || end.After(env.At.Add(-RetireGrace)) || l.Remaining.Sign() != 0 || l.Held.Sign() != 0 {
		return Tx{}, false
	}
	l.Retired, l.Version = true, l.Version+1
	return Tx{At: env.At, Ops: []Op{UpdateLot{Lot: l}}}, true
}

// BalanceView is a balance of one currency.
type BalanceView struct {
	Total      decimal.Decimal `json:"total"`
	Individual decimal.Decimal `json:"individual"`
	Shared     decimal.Decimal `json:"shared"`
}

// Balances sums what is spendable at t by currency. With user empty it is the
// whole contract (every user's individual lots and the shared pool); with a
// user, that user's own individual lots and the shared pool.
func Balances(lots []Lot, user string, t time.Time) map[core.Currency]BalanceView {
	out := map[core.Currency]BalanceView{}
	for _, l := range lots {
		if !l.LiveAt(t) || (user != "" && !l.SpendableBy(user)) {
			continue
		}
		b, ok := out[l.Currency]
		if !ok {
			b = BalanceView{Total: decimal.Zero, Individual: decimal.Zero, Shared: decimal.Zero}
		}
		b.Total = b.Total.Add(l.Remaining)
		if l.Kind == Individual {
			b.Individual = b.Individual.Add(l.Remaining)
		} else {
			b.Shared = b.Shared.Add(l.Remaining)
		}
		out[l.Currency] = b
	}
	return out
}
