package ledger

import (
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Limits, named so that every list and retry in the ledger has a bound.
const (
	// LotsPerSpendMax caps the lots one spend may debit. On DynamoDB a spend
	// writes two items per lot (the debit and its entry) plus a handful of
	// others, and a transaction holds at most 100 items.
	LotsPerSpendMax = 25
	// LotsPageMax is the most lots one page of Store.Lots holds.
	LotsPageMax = 1000
	// HoldTTLDefault is how long a hold lives when the request names no expiry.
	HoldTTLDefault = 24 * time.Hour
	// HoldTTLMax is the longest hold a service may take.
	HoldTTLMax = 30 * 24 * time.Hour
	// IdempotencyRetention is how long a request's first result is kept for
	// replay. PRODUCT.md asks for at least 35 days.
	IdempotencyRetention = 35 * 24 * time.Hour
	// WithdrawalNotice is the least notice the vendor gives before an
	// individual lot closes.
	WithdrawalNotice = 90 * 24 * time.Hour
	// IndividualGrantCredits is the one-time grant to each authorised user.
	IndividualGrantCredits = 100
	// SharedLifeMonths is how long a shared lot lives after purchase, before
	// any negotiated extension and never past the contract's end.
	SharedLifeMonths = 12
	// IdempotencyKeyMax is the longest idempotency key accepted.
	IdempotencyKeyMax = 255
	// IDMax bounds every identifier (contract, user, entity, project, lot).
	IDMax = 128
)

// Kind tells who may spend a lot.
type Kind string

const (
	Individual Kind = "individual" // one named user of a contract
	Shared     Kind = "shared"     // any authorised user of the contract
)

// Source tells where a lot's credits came from.
type Source string

const (
	SourcePurchase     Source = "purchase"
	SourceSubscription Source = "subscription"
	SourceTrial        Source = "trial"
	SourceMigration    Source = "migration"
	SourceAdjustment   Source = "adjustment"
)

// ParseSource accepts the sources of PRODUCT.md.
func ParseSource(s string) (Source, bool) {
	switch v := Source(s); v {
	case SourcePurchase, SourceSubscription, SourceTrial, SourceMigration, SourceAdjustment:
		return v, true
	}
	return "", false
}

// Lot is one grant of credits. Its counters obey conservation at all times:
//
//	Amount = Remaining + Spent + Held + Expired + Withdrawn − Refunded
//
// Spent is gross (what was ever consumed from the lot); a refund moves credits
// back to Remaining and counts them in Refunded, so no counter is ever
// rewritten downwards except Remaining and Held.
type Lot struct {
	ID       string        `json:"id"`
	Contract string        `json:"contract"`
	Currency core.Currency `json:"currency"`
	Kind     Kind          `json:"kind"`
	Owner    string        `json:"owner,omitempty"` // the user, for individual lots
	Source   Source        `json:"source"`
	// Grant names the grant the lot belongs to. A large grant may be stored
	// as several equal shards sharing Grant and expiry; burn order rotates
	// among them so concurrent spenders don't all write the same lot.
	Grant string `json:"grant"`
	// Order is the purchase order that created the lot, if any.
	Order string `json:"order,omitempty"`

	Amount    decimal.Decimal `json:"amount"`
	Remaining decimal.Decimal `json:"remaining"`
	Held      decimal.Decimal `json:"held"`
	Spent     decimal.Decimal `json:"spent"`
	Expired   decimal.Decimal `json:"expired"`
	Withdrawn decimal.Decimal `json:"withdrawn"`
	Refunded  decimal.Decimal `json:"refunded"`

	GrantedAt     time.Time `json:"granted_at"`
	EffectiveFrom time.Time `json:"effective_from"`
	// ExpiresAt is the natural end (12 months, contract end, termination,
	// a currency's sunset, the owner leaving the contract). Zero: none.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// WithdrawNoticeAt and ClosesAt record a vendor withdrawal of an
	// individual lot: it closes at notice + 90 days. Zero: not withdrawn.
	WithdrawNoticeAt time.Time `json:"withdraw_notice_at,omitzero"`
	ClosesAt         time.Time `json:"closes_at,omitzero"`

	// Version counts the lot's writes (1: created); every move and every
	// change of its end moves it on.
	Version int64 `json:"-"`
	// Retired marks a lot the sweep has nothing left to do with: ended
	// RetireGrace ago with nothing remaining or held (PlanRetireLot). After
	// its end a lot's remaining and held only fall, so it stays finished; a
	// store may leave it out of its sweep work lists.
	Retired bool `json:"-"`
}

// End is the instant the lot stops being spendable: the earlier of its expiry
// and its withdrawal close. Zero means it has no end.
func (l Lot) End() time.Time {
	switch {
	case l.ExpiresAt.IsZero():
		return l.ClosesAt
	case l.ClosesAt.IsZero():
		return l.ExpiresAt
	case l.ClosesAt.Before(l.ExpiresAt):
		return l.ClosesAt
	}
	return l.ExpiresAt
}

// EndsByWithdrawal reports whether the lot's end is a withdrawal rather than
// an expiry, which decides the counter its leftover credits move to.
func (l Lot) EndsByWithdrawal() bool {
	return !l.ClosesAt.IsZero() && (l.ExpiresAt.IsZero() || l.ClosesAt.Before(l.ExpiresAt))
}

// LiveAt reports whether the lot may be debited at t: effective at or before
// t and ending strictly after t. A lot expiring at T is spendable at T−1ns and
// not at T.
func (l Lot) LiveAt(t time.Time) bool {
	if t.Before(l.EffectiveFrom) {
		return false
	}
	end := l.End()
	return end.IsZero() || t.Before(end)
}

// SpendableBy reports whether user may spend from the lot at all (ignoring
// time): shared lots by any authorised user, individual lots by the owner.
func (l Lot) SpendableBy(user string) bool {
	return l.Kind == Shared || l.Owner == user
}

// Conserves reports whether the lot's counters obey conservation and none is
// negative.
func (l Lot) Conserves() bool {
	for _, d := range []decimal.Decimal{l.Remaining, l.Held, l.Spent, l.Expired, l.Withdrawn, l.Refunded} {
		if d.Sign() < 0 {
			return false
		}
	}
	sum := plus(plus(plus(plus(l.Remaining, l.Spent), l.Held), l.Expired), l.Withdrawn)
	return sum.Sub(l.Refunded).Equal(l.Amount)
}

// Apply returns the lot with a movement added to its counters.
func (l Lot) Apply(m Movement) Lot {
	l.Remaining = plus(l.Remaining, m.Remaining)
	l.Held = plus(l.Held, m.Held)
	l.Spent = plus(l.Spent, m.Spent)
	l.Expired = plus(l.Expired, m.Expired)
	l.Withdrawn = plus(l.Withdrawn, m.Withdrawn)
	l.Refunded = plus(l.Refunded, m.Refunded)
	return l
}

// plus is a + b. A movement or a lot's counters are mostly zeros, and
// adding a zero is the other operand: plus skips that addition (and its
// allocations) and returns the same value.
func plus(a, b decimal.Decimal) decimal.Decimal {
	switch {
	case b.IsZero():
		return a
	case a.IsZero():
		return b
	}
	return a.Add(b)
}

// Movement is a change to a lot's counters. Every movement the planner makes
// keeps conservation: what leaves one counter enters another.
type Movement struct {
	Remaining decimal.Decimal `json:"remaining"`
	Held      decimal.Decimal `json:"held"`
	Spent     decimal.Decimal `json:"spent"`
	Expired   decimal.Decimal `json:"expired"`
	Withdrawn decimal.Decimal `json:"withdrawn"`
	Refunded  decimal.Decimal `json:"refunded"`
}

// UserKind is the kind of identity a contract user is.
type UserKind string

const (
	Employee   UserKind = "employee"
	Contractor UserKind = "contractor"
	Education  UserKind = "education"
	Guest      UserKind = "guest"
)

// ParseUserKind accepts the kinds of API.md.
func ParseUserKind(s string) (UserKind, bool) {
	switch k := UserKind(s); k {
	case Employee, Contractor, Education, Guest:
		return k, true
	}
	return "", false
}

// Contract is a customer's agreement: who is covered and how long it lasts.
type Contract struct {
	ID                 string          `json:"id"`
	Customer           string          `json:"customer"`
	Entity             string          `json:"entity"`
	CoveredEntities    []string        `json:"covered_entities"`
	ContractorCoverage bool            `json:"contractor_coverage"`
	Start              time.Time       `json:"start"`
	End                time.Time       `json:"end"`
	ExtensionMonths    int             `json:"extension_months"`
	Channel            string          `json:"channel"`
	MonthlyBaseline    decimal.Decimal `json:"monthly_baseline"`
	PlanActive         bool            `json:"plan_active"`
	TerminatedAt       time.Time       `json:"terminated_at,omitzero"`
	// NotifyEmail is the contract admin's address for notifications
	// (expiry warnings, withdrawal notices); optional.
	NotifyEmail string `json:"notify_email,omitempty"`
	Version     int64  `json:"version"`
}

// Covers reports whether the contract covers entity: its own entity or one
// listed in CoveredEntities.
func (c Contract) Covers(entity string) bool {
	if entity == c.Entity {
		return true
	}
	for _, e := range c.CoveredEntities {
		if e == entity {
			return true
		}
	}
	return false
}

// EndAt is when the contract stops: the earlier of its end and termination.
func (c Contract) EndAt() time.Time {
	if !c.TerminatedAt.IsZero() && (c.End.IsZero() || c.TerminatedAt.Before(c.End)) {
		return c.TerminatedAt
	}
	return c.End
}

// User is a named identity associated with a contract.
type User struct {
	Contract string    `json:"contract"`
	ID       string    `json:"user"`
	Kind     UserKind  `json:"kind"`
	Entity   string    `json:"entity"`
	CanSpend bool      `json:"can_spend"`
	Active   bool      `json:"active"`
	AddedAt  time.Time `json:"added_at"`
	// RemovedAt is when the user stopped being current; zero while active.
	RemovedAt time.Time `json:"removed_at,omitzero"`
	Version   int64     `json:"version"`
}

// HoldState is where a hold is in its life.
type HoldState string

const (
	HoldOpen     HoldState = "open"
	HoldSettled  HoldState = "settled"
	HoldReleased HoldState = "released"
	HoldExpired  HoldState = "expired" // released by the sweeper past its expiry
)

// Debit is the credits one operation took from (or returned to) one lot.
type Debit struct {
	Lot     string          `json:"lot"`
	Credits decimal.Decimal `json:"credits"`
	// Currency is the lot's currency when it is not the operation's own: a
	// successor's lot drawn on after a sunset. Empty means the operation's
	// currency (and records made before sunsets existed have none).
	Currency core.Currency `json:"currency,omitempty"`
}

// Hold reserves credits for a variable-cost job.
type Hold struct {
	ID        string          `json:"hold_id"`
	Contract  string          `json:"contract"`
	User      string          `json:"user"`
	Entity    string          `json:"entity"`
	Project   string          `json:"project,omitempty"`
	Service   string          `json:"service,omitempty"`
	Currency  core.Currency   `json:"currency"`
	Credits   decimal.Decimal `json:"credits"`
	Debits    []Debit         `json:"debits"`
	State     HoldState       `json:"state"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	// ClosedAt and Consumption are set when the hold is settled or released.
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Consumption string    `json:"consumption_id,omitempty"`
	// Version counts the hold's writes (1: created).
	Version int64 `json:"-"`
}

// Consumption is credits spent for a job, directly or by settling a hold.
type Consumption struct {
	ID        string          `json:"consumption_id"`
	Contract  string          `json:"contract"`
	User      string          `json:"user"`
	Entity    string          `json:"entity"`
	Project   string          `json:"project,omitempty"`
	Service   string          `json:"service,omitempty"`
	Currency  core.Currency   `json:"currency"`
	Credits   decimal.Decimal `json:"credits"`
	Debits    []Debit         `json:"debits"`
	Hold      string          `json:"hold_id,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	// Refunded is the credits reversed so far (returned plus lost).
	Refunded decimal.Decimal `json:"refunded"`
	// Returned is, per debit, the part already reversed, index-aligned with
	// Debits, so a second partial refund continues where the first stopped.
	Returned []decimal.Decimal `json:"returned"`
	// BudgetMonth is the month ("2006-01") whose project budget counter the
	// consumption was charged to: its own month, or for a settled hold the
	// month the hold was taken in (the hold reserved the budget then). A
	// refund lowers that month's counter. Empty means Month(CreatedAt).
	BudgetMonth string `json:"budget_month,omitempty"`
	// Version counts the consumption's writes (1: created; each refund
	// moves it on).
	Version int64 `json:"-"`
}

// ChargedMonth is the month whose budget counter the consumption counts in.
func (c Consumption) ChargedMonth() string {
	if c.BudgetMonth != "" {
		return c.BudgetMonth
	}
	return Month(c.CreatedAt)
}

// EntryKind names what an entry did to a lot.
type EntryKind string

const (
	EntryGrant      EntryKind = "grant"       // lot created: +amount
	EntryConsume    EntryKind = "consume"     // remaining → spent
	EntryHold       EntryKind = "hold"        // remaining → held
	EntrySettle     EntryKind = "settle"      // held → spent
	EntryRelease    EntryKind = "release"     // held → remaining (or expired, when the lot has ended)
	EntryRefund     EntryKind = "refund"      // spent credits returned: refunded and remaining grow
	EntryRefundLost EntryKind = "refund_lost" // refund whose lot had ended: recorded, not returned
	EntryExpire     EntryKind = "expire"      // remaining → expired
	EntryWithdraw   EntryKind = "withdraw"    // remaining → withdrawn
)

// Entry is one append-only line of the ledger: a movement on one lot. Entries
// are never rewritten; a correction is a new entry. Summing a lot's entries'
// movements from zero gives its counters, and Amount is the sum of its grant
// entries.
type Entry struct {
	ID       string          `json:"id"`
	Contract string          `json:"contract"`
	Lot      string          `json:"lot"`
	Currency core.Currency   `json:"currency"`
	Kind     EntryKind       `json:"kind"`
	Credits  decimal.Decimal `json:"credits"`
	Move     Movement        `json:"move"`
	// Ref is the operation the entry belongs to (consumption, hold, order).
	Ref string    `json:"ref,omitempty"`
	At  time.Time `json:"at"`
}

// Budget caps what one project of a contract spends in one currency per
// calendar month (UTC).
type Budget struct {
	Contract   string          `json:"contract"`
	Project    string          `json:"project"`
	Currency   core.Currency   `json:"currency"`
	MonthlyCap decimal.Decimal `json:"monthly_cap"`
}

// Month is the budget and report period of t: its UTC calendar month, "2006-01".
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// UsageKey identifies one roll-up counter: the finest grain reports group by.
// A report aggregates these rows, so its cost is proportional to the distinct
// keys of the period, never to the number of consumptions.
type UsageKey struct {
	Contract string        `json:"contract"`
	Month    string        `json:"month"`
	Currency core.Currency `json:"currency"`
	User     string        `json:"user"`
	Service  string        `json:"service"`
	Project  string        `json:"project"`
	Entity   string        `json:"entity"`
}

// Usage is one roll-up row.
type Usage struct {
	Key     UsageKey        `json:"key"`
	Credits decimal.Decimal `json:"credits"`
	Count   int64           `json:"count"`
}

// Attempt records a refused spend for the entity-coverage audit.
type Attempt struct {
	ID       string          `json:"id"`
	Contract string          `json:"contract"`
	User     string          `json:"user"`
	Entity   string          `json:"entity"`
	Kind     UserKind        `json:"kind,omitempty"`
	Service  string          `json:"service,omitempty"`
	Currency core.Currency   `json:"currency"`
	Credits  decimal.Decimal `json:"credits"`
	Reason   string          `json:"reason"`
	At       time.Time       `json:"at"`
}

// IdempotencyRecord keeps a mutating request's first result, scoped to the
// caller's contract, for at least IdempotencyRetention.
type IdempotencyRecord struct {
	Contract    string    `json:"contract"`
	Key         string    `json:"key"`
	Fingerprint string    `json:"fingerprint"`
	Response    []byte    `json:"response"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// LiveAt reports whether the record still answers replays at t.
func (r IdempotencyRecord) LiveAt(t time.Time) bool { return t.Before(r.ExpiresAt) }
