package ledger

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Env is what a planner is given from outside: the time, a fresh id for the
// operation (entries derive theirs from it), and a rotation number that
// spreads concurrent spenders over the shards of one grant. The caller
// supplies all three; a planner never reads a clock or a random source.
type Env struct {
	At       time.Time
	OpID     string
	Rotation uint32
}

// Idem is a mutating request's idempotency key and the fingerprint of its
// body. The same key with the same fingerprint replays the first result; with
// another fingerprint it is refused.
type Idem struct {
	Key         string
	Fingerprint string
	// Scope is the key space the key lives in: the caller's contract, or the
	// vendor's or a reseller's own. Empty means the contract the request acts on.
	Scope string
}

// scopeOr returns the idempotency scope: idem's own, or the contract's.
func (idem Idem) scopeOr(contract string) string {
	if idem.Scope != "" {
		return idem.Scope
	}
	return contract
}

// ScopeOr is scopeOr for callers outside the package.
func (idem Idem) ScopeOr(contract string) string { return idem.scopeOr(contract) }

// Fingerprint is the one fingerprint of a request: what makes a second
// request with the same idempotency key the same request (a replay) or
// another one (idempotency_key_reused). It hashes the operation (the HTTP
// API names it by method and path) and the request's bytes (the body as
// received; an in-process caller's request as JSON).
func Fingerprint(operation string, request []byte) string {
	h := sha256.New()
	h.Write([]byte(operation + "\n"))
	h.Write(request)
	return hex.EncodeToString(h.Sum(nil))
}

// Decision is a planner's answer. Either Replayed with the stored Response,
// or a Tx to apply whose success makes Response the request's result. A
// refusal may still carry a Tx (the audit record of a not_eligible attempt)
// next to its error.
type Decision struct {
	Tx       Tx
	Response []byte
	Replayed bool
}

// CheckIdem validates an idempotency key: 1–255 printable ASCII characters.
func CheckIdem(key string) error {
	if key == "" {
		return core.Errorf(core.CodeIdempotencyKeyMissing, "an Idempotency-Key is required on every mutating request")
	}
	if len(key) > IdempotencyKeyMax {
		return core.Invalid("idempotency_key", "must be at most %d characters", IdempotencyKeyMax)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return core.Invalid("idempotency_key", "must be printable ASCII")
		}
	}
	return nil
}

// Replay answers a request from the record its key already has: replayed is
// true when prior is live at `at` and was made by the same request (the first
// result, byte for byte); the same key with another request is refused with
// idempotency_key_reused. With no live prior it answers replayed false and
// nil. A caller that must do work outside the ledger before planning (open a
// payment provider's session) asks first, so a retry does none of it again.
func Replay(prior *IdempotencyRecord, idem Idem, at time.Time) (d Decision, replayed bool, err error) {
	if idem.Key == "" {
		// A key's form is checked once, by the ledger service, before
		// anything is read; an empty one here is a caller's bug.
		return Decision{}, false, core.Errorf(core.CodeIdempotencyKeyMissing, "an Idempotency-Key is required on every mutating request")
	}
	if prior == nil || !prior.LiveAt(at) {
		return Decision{}, false, nil
	}
	if prior.Fingerprint != idem.Fingerprint {
		return Decision{}, false, core.Errorf(core.CodeIdempotencyKeyReused,
			"idempotency key %q was already used with a different request", idem.Key)
	}
	return Decision{Response: prior.Response, Replayed: true}, true, nil
}

// idempotent wraps a planner: it answers a replay from prior, refuses a
// reused key, and otherwise runs plan and adds the idempotency record to the
// Tx it returns. An error from plan is returned without a record, so a
// refused request can be retried with the same key once the cause is gone.
func idempotent(contract string, idem Idem, prior *IdempotencyRecord, env Env, plan func() (Tx, any, error)) (Decision, error) {
	if d, replayed, err := Replay(prior, idem, env.At); replayed || err != nil {
		return d, err
	}
	tx, result, err := plan()
	if err != nil {
		return Decision{Tx: tx}, err
	}
	resp, err := encodeJSON(result)
	if err != nil {
		return Decision{}, fmt.Errorf("encode result: %w", err)
	}
	tx.At = env.At
	tx.Ops = append(tx.Ops, PutIdempotency{At: env.At, Record: IdempotencyRecord{
		Contract:    idem.scopeOr(contract),
		Key:         idem.Key,
		Fingerprint: idem.Fingerprint,
		Response:    resp,
		CreatedAt:   env.At,
		ExpiresAt:   env.At.Add(IdempotencyRetention),
	}})
	return Decision{Tx: merged(tx), Response: resp}, nil
}

// SpendRequest asks to consume (or hold) credits for a user's job.
type SpendRequest struct {
	Contract string          `json:"contract"`
	User     string          `json:"user"`
	Entity   string          `json:"entity"`
	Project  string          `json:"project,omitempty"`
	Service  string          `json:"service,omitempty"`
	Currency core.Currency   `json:"currency"`
	Credits  decimal.Decimal `json:"credits"`
	// HoldFor is a hold's lifetime; zero means HoldTTLDefault. Ignored by
	// consumptions.
	HoldFor time.Duration `json:"hold_for,omitempty"`
}

// SpendState is what the planner needs to know about a contract to plan a
// spend, as read by the caller.
type SpendState struct {
	Contract Contract
	User     *User // nil when the user is not on the contract
	Lots     []Lot // the contract's lots (any currency, any state)
	// Budget is the project's cap in the request's currency, if any, and
	// BudgetUsed what the project already used this month.
	Budget     *Budget
	BudgetUsed decimal.Decimal
	Prior      *IdempotencyRecord
	// Sunset is the request currency's sunset, nil when it has none: from
	// its sales end a spend may continue into the successor's lots.
	Sunset *Sunset
}

// ConsumeResult is the answer to a consumption (API: POST …/consumptions).
type ConsumeResult struct {
	ConsumptionID string          `json:"consumption_id"`
	Credits       decimal.Decimal `json:"credits"`
	Currency      core.Currency   `json:"currency"`
	Debits        []Debit         `json:"debits"`
	BalanceAfter  decimal.Decimal `json:"balance_after"`
	Project       string          `json:"project,omitempty"`
	Service       string          `json:"service,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
}

// HoldResult is the answer to a hold.
type HoldResult struct {
	HoldID       string          `json:"hold_id"`
	Credits      decimal.Decimal `json:"credits"`
	Currency     core.Currency   `json:"currency"`
	ExpiresAt    time.Time       `json:"expires_at"`
	Debits       []Debit         `json:"debits"`
	BalanceAfter decimal.Decimal `json:"balance_after"`
}

// Eligibility returns why user may not spend for entity on contract at t, or
// "" when they may. The reasons are stable codes the audit groups by.
func Eligibility(c Contract, u *User, entity string, at time.Time) (reason, message string) {
	switch {
	case u == nil:
		return "unknown_user", "the user is not an authorised user of this contract"
	case !u.Active:
		return "user_removed", fmt.Sprintf("user %s is no longer current on contract %s", u.ID, c.ID)
	case u.Kind == Education:
		return "education_identity", fmt.Sprintf("user %s is an education identity and may not spend on a commercial contract", u.ID)
	case u.Kind == Guest:
		return "guest_identity", fmt.Sprintf("user %s is a guest identity and may not spend on a commercial contract", u.ID)
	case u.Kind == Contractor && !c.ContractorCoverage:
		return "contractor_without_coverage", fmt.Sprintf("user %s is a contractor and contract %s has no contractor coverage", u.ID, c.ID)
	case !u.CanSpend:
		return "no_spend_permission", fmt.Sprintf("user %s has no permission to spend credits", u.ID)
	case !c.Covers(entity):
		return "entity_not_covered", fmt.Sprintf("entity %s is not covered by contract %s", entity, c.ID)
	case !c.EndAt().IsZero() && !at.Before(c.EndAt()):
		return "contract_ended", fmt.Sprintf("contract %s ended at %s", c.ID, c.EndAt().Format(time.RFC3339))
	}
	return "", ""
}

// BurnOrder returns the lots user may spend in currency at t, in the order
// they are spent: the user's individual lots first, then the contract's
// shared lots; within each, soonest end first (no end last), then oldest
// grant, then lot id. Shards of one grant (same Grant, same end) are rotated
// by rotation so concurrent spenders start on different shards. The input is
// not modified.
func BurnOrder(lots []Lot, user string, currency core.Currency, t time.Time, rotation uint32) []Lot {
	var out []Lot
	for _, l := range lots {
		if l.Currency == currency && l.SpendableBy(user) && l.LiveAt(t) && l.Remaining.Sign() > 0 {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return burnsBefore(out[i], out[j]) })
	if rotation == 0 {
		return out
	}
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && sameShardGroup(out[i], out[j]) {
			j++
		}
		if n := j - i; n > 1 {
			group := append([]Lot(nil), out[i:j]...)
			r := int(rotation % uint32(n))
			copy(out[i:j], append(group[r:], group[:r]...))
		}
		i = j
	}
	return out
}

func burnsBefore(a, b Lot) bool {
	if a.Kind != b.Kind {
		return a.Kind == Individual
	}
	ea, eb := a.End(), b.End()
	if !ea.Equal(eb) {
		switch {
		case ea.IsZero():
			return false
		case eb.IsZero():
			return true
		}
		return ea.Before(eb)
	}
	if !a.GrantedAt.Equal(b.GrantedAt) {
		return a.GrantedAt.Before(b.GrantedAt)
	}
	return a.ID < b.ID
}

func sameShardGroup(a, b Lot) bool {
	return a.Grant != "" && a.Grant == b.Grant && a.Kind == b.Kind && a.End().Equal(b.End())
}

// Spendable is what user may spend in currency at t.
func Spendable(lots []Lot, user string, currency core.Currency, t time.Time) decimal.Decimal {
	sum := decimal.Zero
	for _, l := range BurnOrder(lots, user, currency, t, 0) {
		sum = sum.Add(l.Remaining)
	}
	return sum
}

// SpendOrder is the burn order of a spend priced in currency: BurnOrder of
// each currency Payable names, one after the other — so after a sunset's
// sales end the retiring currency's lots (which expire) go first and the
// successor's follow.
func SpendOrder(lots []Lot, user string, currency core.Currency, s *Sunset, t time.Time, rotation uint32) []Lot {
	var out []Lot
	for _, c := range Payable(currency, s, t) {
		out = append(out, BurnOrder(lots, user, c, t, rotation)...)
	}
	return out
}

// burn is one spend's burn order (SpendOrder), sorted once, and what it may
// draw on: the refusal, the debits and the balance after all read it.
type burn struct {
	order     []Lot
	available decimal.Decimal
}

func burnFor(st SpendState, req SpendRequest, env Env) burn {
	b := burn{order: SpendOrder(st.Lots, req.User, req.Currency, st.Sunset, env.At, env.Rotation), available: decimal.Zero}
	for _, l := range b.order {
		b.available = b.available.Add(l.Remaining)
	}
	return b
}

// refuseSpend returns the error for a spend that its burn order can't
// cover, or nil.
func refuseSpend(st SpendState, req SpendRequest, b burn, at time.Time) error {
	payable := Payable(req.Currency, st.Sunset, at)
	available := b.available
	if available.GreaterThanOrEqual(req.Credits) {
		return nil
	}
	takes := make([]string, len(payable))
	for i, c := range payable {
		takes[i] = c.Name()
	}
	if available.IsZero() {
		var held []string
		details := map[string]string{}
		for _, c := range core.Currencies() {
			if slices.Contains(payable, c) {
				continue
			}
			if other := Spendable(st.Lots, req.User, c, at); other.Sign() > 0 {
				held = append(held, other.String()+" "+c.Name())
				details[string(c)] = other.String()
			}
		}
		if len(held) > 0 {
			return core.Errorf(core.CodeCurrencyMismatch, "you hold %s; this service takes %s",
				strings.Join(held, " and "), strings.Join(takes, " or ")).
				WithDetail("currency", string(req.Currency)).
				WithDetail("held", details)
		}
	}
	return core.Errorf(core.CodeInsufficientCredits, "this job needs %s %s; %s are available",
		req.Credits, req.Currency.Name(), available).
		WithDetail("requested", req.Credits.String()).
		WithDetail("available", available.String()).
		WithDetail("currency", string(req.Currency))
}

// checkSpendRequest validates a spend's shape (not its feasibility).
func checkSpendRequest(req SpendRequest) error {
	var p core.Problems
	checkID(&p, "user", req.User, true)
	checkID(&p, "entity", req.Entity, true)
	checkID(&p, "project", req.Project, false)
	checkID(&p, "service", req.Service, false)
	if _, ok := core.ParseCurrency(string(req.Currency)); !ok {
		p.Add("currency", "unknown currency %q", req.Currency)
	}
	if err := core.CheckCredits("credits", req.Credits); err != nil {
		p.Merge("", err)
	}
	if req.HoldFor < 0 || req.HoldFor > HoldTTLMax {
		p.Add("expires_in_seconds", "must be between 1 and %d", int(HoldTTLMax/time.Second))
	}
	return p.Err()
}

func checkID(p *core.Problems, field, v string, required bool) {
	switch {
	case v == "" && required:
		p.Add(field, "is required")
	case len(v) > IDMax:
		p.Add(field, "must be at most %d characters", IDMax)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '#' || r == '/' }):
		p.Add(field, "must be printable ASCII without spaces, '#' or '/'")
	}
}

// debitPlan takes credits from the lots of b in burn order. kind is
// EntryConsume (remaining → spent) or EntryHold (remaining → held). Each
// debit's write is conditioned on the lot being live at env.At and holding
// enough.
func debitPlan(b burn, req SpendRequest, kind EntryKind, ref string, env Env, entrySeq *int) ([]Debit, []Op, error) {
	left := req.Credits
	var debits []Debit
	var ops []Op
	for _, l := range b.order {
		if left.Sign() == 0 {
			break
		}
		if len(debits) == LotsPerSpendMax {
			return nil, nil, core.Errorf(core.CodeConflict,
				"this spend would draw on more than %d lots; spend it in smaller parts", LotsPerSpendMax)
		}
		take := decimal.Min(left, l.Remaining)
		left = left.Sub(take)
		move := Movement{Remaining: take.Neg()}
		if kind == EntryHold {
			move.Held = take
		} else {
			move.Spent = take
		}
		d := Debit{Lot: l.ID, Credits: take}
		if l.Currency != req.Currency {
			d.Currency = l.Currency // a successor's lot, after a sunset
		}
		debits = append(debits, d)
		ops = append(ops,
			MoveLot{Lot: l.ID, Contract: l.Contract, Move: move, LiveAt: env.At, Empties: take.Equal(l.Remaining)},
			PutEntry{Entry: entry(l, kind, take, move, ref, env, entrySeq)})
	}
	if left.Sign() != 0 {
		panic("ledger: debit plan does not cover a request that refuseSpend accepted")
	}
	return debits, ops, nil
}

// ConsumeEntries are the entries PlanConsume appends for consumption c: one
// per debit, in debit order, each moving its credits from remaining to
// spent. A store may derive them from the consumption rather than write
// them beside it (the DynamoDB adapter does, through its stream).
func ConsumeEntries(c Consumption) []Entry {
	out := make([]Entry, len(c.Debits))
	for i, d := range c.Debits {
		out[i] = Entry{
			ID: fmt.Sprintf("%s.%d", c.ID, i+1), Contract: c.Contract, Lot: d.Lot, Currency: cmp.Or(d.Currency, c.Currency),
			Kind: EntryConsume, Credits: d.Credits, Move: Movement{Remaining: d.Credits.Neg(), Spent: d.Credits},
			Ref: c.ID, At: c.CreatedAt,
		}
	}
	return out
}

func entry(l Lot, kind EntryKind, credits decimal.Decimal, move Movement, ref string, env Env, seq *int) Entry {
	*seq++
	return Entry{
		ID:       fmt.Sprintf("%s.%d", env.OpID, *seq),
		Contract: l.Contract,
		Lot:      l.ID,
		Currency: l.Currency,
		Kind:     kind,
		Credits:  credits,
		Move:     move,
		Ref:      ref,
		At:       env.At,
	}
}

// admit runs the checks every spend shares: shape, eligibility, budget and
// cover. A not_eligible refusal comes with a Tx recording the attempt.
func admit(st SpendState, req SpendRequest, env Env, extra decimal.Decimal) (Tx, error) {
	if reason, msg := Eligibility(st.Contract, st.User, req.Entity, env.At); reason != "" {
		kind := UserKind("")
		if st.User != nil {
			kind = st.User.Kind
		}
		attempt := Attempt{
			ID: env.OpID, Contract: st.Contract.ID, User: req.User, Entity: req.Entity, Kind: kind,
			Service: req.Service, Currency: req.Currency, Credits: req.Credits, Reason: reason, At: env.At,
		}
		err := core.Errorf(core.CodeNotEligible, "%s", msg).WithDetail("reason", reason)
		return Tx{At: env.At, Ops: []Op{PutAttempt{Attempt: attempt}}}, err
	}
	if st.Budget != nil && req.Project != "" {
		if after := st.BudgetUsed.Add(extra); after.GreaterThan(st.Budget.MonthlyCap) {
			left := decimal.Max(decimal.Zero, st.Budget.MonthlyCap.Sub(st.BudgetUsed))
			return Tx{}, core.Errorf(core.CodeBudgetExceeded,
				"project %s may spend %s %s a month; %s are left this month and this job needs %s",
				req.Project, st.Budget.MonthlyCap, req.Currency.Name(), left, extra).
				WithDetail("monthly_cap", st.Budget.MonthlyCap.String()).
				WithDetail("used", st.BudgetUsed.String()).
				WithDetail("requested", extra.String())
		}
	}
	return Tx{}, nil
}

func budgetOp(st SpendState, req SpendRequest, month string, delta decimal.Decimal) []Op {
	if req.Project == "" || delta.IsZero() {
		return nil
	}
	op := AddBudgetUsage{Contract: req.Contract, Project: req.Project, Currency: req.Currency, Month: month, Delta: delta}
	if st.Budget != nil {
		op.Capped, op.Cap = true, st.Budget.MonthlyCap
	}
	return []Op{op}
}

func usageOp(c Consumption, at time.Time, credits decimal.Decimal, count int64) Op {
	return AddUsage{Key: UsageKey{
		Contract: c.Contract, Month: Month(at), Currency: c.Currency,
		User: c.User, Service: c.Service, Project: c.Project, Entity: c.Entity,
	}, Credits: credits, Count: count}
}

// PlanConsume plans a consumption: it debits the full amount in burn order
// or refuses with insufficient_credits, currency_mismatch, not_eligible or
// budget_exceeded.
func PlanConsume(st SpendState, req SpendRequest, idem Idem, env Env) (Decision, error) {
	return idempotent(st.Contract.ID, idem, st.Prior, env, func() (Tx, any, error) {
		if err := checkSpendRequest(req); err != nil {
			return Tx{}, nil, err
		}
		if tx, err := admit(st, req, env, req.Credits); err != nil {
			return tx, nil, err
		}
		b := burnFor(st, req, env)
		if err := refuseSpend(st, req, b, env.At); err != nil {
			return Tx{}, nil, err
		}
		seq := 0
		debits, ops, err := debitPlan(b, req, EntryConsume, env.OpID, env, &seq)
		if err != nil {
			return Tx{}, nil, err
		}
		c := Consumption{
			ID: env.OpID, Contract: st.Contract.ID, User: req.User, Entity: req.Entity, Project: req.Project,
			Service: req.Service, Currency: req.Currency, Credits: req.Credits, Debits: debits,
			CreatedAt: env.At, Refunded: decimal.Zero, Returned: zeros(len(debits)), BudgetMonth: Month(env.At),
		}
		ops = append(ops, PutConsumption{Consumption: c}, usageOp(c, env.At, req.Credits, 1))
		ops = append(ops, budgetOp(st, req, c.BudgetMonth, req.Credits)...)
		res := ConsumeResult{
			ConsumptionID: c.ID, Credits: req.Credits, Currency: req.Currency, Debits: debits,
			BalanceAfter: b.available.Sub(req.Credits),
			Project:      req.Project, Service: req.Service, CreatedAt: env.At,
		}
		return Tx{At: env.At, Ops: ops}, res, nil
	})
}

// PlanHold reserves credits: it debits lots now (remaining → held) and
// records a hold that expires after req.HoldFor (default 24 h).
func PlanHold(st SpendState, req SpendRequest, idem Idem, env Env) (Decision, error) {
	return idempotent(st.Contract.ID, idem, st.Prior, env, func() (Tx, any, error) {
		if err := checkSpendRequest(req); err != nil {
			return Tx{}, nil, err
		}
		if tx, err := admit(st, req, env, req.Credits); err != nil {
			return tx, nil, err
		}
		b := burnFor(st, req, env)
		if err := refuseSpend(st, req, b, env.At); err != nil {
			return Tx{}, nil, err
		}
		ttl := req.HoldFor
		if ttl == 0 {
			ttl = HoldTTLDefault
		}
		seq := 0
		debits, ops, err := debitPlan(b, req, EntryHold, env.OpID, env, &seq)
		if err != nil {
			return Tx{}, nil, err
		}
		h := Hold{
			ID: env.OpID, Contract: st.Contract.ID, User: req.User, Entity: req.Entity, Project: req.Project,
			Service: req.Service, Currency: req.Currency, Credits: req.Credits, Debits: debits,
			State: HoldOpen, CreatedAt: env.At, ExpiresAt: env.At.Add(ttl),
		}
		ops = append(ops, PutHold{Hold: h})
		ops = append(ops, budgetOp(st, req, Month(env.At), req.Credits)...)
		res := HoldResult{
			HoldID: h.ID, Credits: h.Credits, Currency: h.Currency, ExpiresAt: h.ExpiresAt, Debits: debits,
			BalanceAfter: b.available.Sub(req.Credits),
		}
		return Tx{At: env.At, Ops: ops}, res, nil
	})
}

func zeros(n int) []decimal.Decimal {
	z := make([]decimal.Decimal, n)
	for i := range z {
		z[i] = decimal.Zero
	}
	return z
}

func lotByID(lots []Lot, id string) (Lot, bool) {
	for _, l := range lots {
		if l.ID == id {
			return l, true
		}
	}
	return Lot{}, false
}
