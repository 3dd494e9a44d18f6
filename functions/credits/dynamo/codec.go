package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"
)

// item is one DynamoDB item being built. Optional values (empty strings, zero
// times, nil lists) are left out, so an absent attribute reads back as the
// zero value it came from.
type item map[string]types.AttributeValue

func keyOf(pk, sk string) item { return item{AttrPK: str(pk), AttrSK: str(sk)} }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// num writes a decimal as a DynamoDB number from its exact text, never
// through a float.
func num(d decimal.Decimal) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: d.String()}
}

func intNum(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// timeText is the one text form of a time in items: UTC RFC 3339 with
// nanoseconds, so equal instants have equal text.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (it item) s(name, v string) {
	if v != "" {
		it[name] = str(v)
	}
}

func (it item) n(name string, d decimal.Decimal) { it[name] = num(d) }

func (it item) i(name string, v int64) { it[name] = intNum(v) }

func (it item) b(name string, v bool) { it[name] = boolean(v) }

func (it item) t(name string, v time.Time) {
	if !v.IsZero() {
		it[name] = str(timeText(v))
	}
}

func (it item) strs(name string, v []string) { setList(it, name, v, str) }

func (it item) decs(name string, v []decimal.Decimal) { setList(it, name, v, num) }

func (it item) debits(name string, v []ledger.Debit) {
	setList(it, name, v, func(d ledger.Debit) types.AttributeValue {
		m := map[string]types.AttributeValue{AttrLot: str(d.Lot), AttrCredits: num(d.Credits)}
		if d.Currency != "" {
			m[AttrCurrency] = str(string(d.Currency))
		}
		return &types.AttributeValueMemberM{Value: m}
	})
}

// setList writes v as a list, each element as value makes it; a nil v is
// left out.
func setList[T any](it item, name string, v []T, value func(T) types.AttributeValue) {
	if v == nil {
		return
	}
	l := make([]types.AttributeValue, len(v))
	for i, x := range v {
		l[i] = value(x)
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}

func (it item) move(name string, m ledger.Movement) {
	it[name] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		AttrRemaining: num(m.Remaining), AttrHeld: num(m.Held), AttrSpent: num(m.Spent),
		AttrExpired: num(m.Expired), AttrWithdrawn: num(m.Withdrawn), AttrRefunded: num(m.Refunded),
	}}
}

// reader decodes one item, remembering the first problem so a decode
// function reads straight through and checks once.
type reader struct {
	it  map[string]types.AttributeValue
	err error
}

func (r *reader) fail(name, format string, args ...any) {
	if r.err == nil {
		pk, _ := r.it[AttrPK].(*types.AttributeValueMemberS)
		sk, _ := r.it[AttrSK].(*types.AttributeValueMemberS)
		where := "item"
		if pk != nil && sk != nil {
			where = pk.Value + "|" + sk.Value
		}
		r.err = fmt.Errorf("dynamo: %s: attribute %s: %s", where, name, fmt.Sprintf(format, args...))
	}
}

func (r *reader) s(name string) string {
	switch v := r.it[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		r.fail(name, "want a string, got %T", v)
		return ""
	}
}

func (r *reader) n(name string) decimal.Decimal { return r.decOf(name, r.it[name]) }

func (r *reader) decOf(name string, av types.AttributeValue) decimal.Decimal {
	switch v := av.(type) {
	case nil:
		return decimal.Zero
	case *types.AttributeValueMemberN:
		d, err := decimal.NewFromString(v.Value)
		if err != nil {
			r.fail(name, "bad number %q", v.Value)
		}
		return d
	default:
		r.fail(name, "want a number, got %T", v)
		return decimal.Zero
	}
}

// version is a record's version; items written before records carried one
// are at version 1, as a new record is.
func (r *reader) version() int64 {
	if _, ok := r.it[AttrVersion]; !ok {
		return 1
	}
	return r.i(AttrVersion)
}

func (r *reader) i(name string) int64 {
	switch v := r.it[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			r.fail(name, "bad integer %q", v.Value)
		}
		return n
	default:
		r.fail(name, "want a number, got %T", v)
		return 0
	}
}

func (r *reader) b(name string) bool {
	switch v := r.it[name].(type) {
	case nil:
		return false
	case *types.AttributeValueMemberBOOL:
		return v.Value
	default:
		r.fail(name, "want a boolean, got %T", v)
		return false
	}
}

func (r *reader) bytes(name string) []byte {
	switch v := r.it[name].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberB:
		return v.Value
	default:
		r.fail(name, "want binary, got %T", v)
		return nil
	}
}

func (r *reader) t(name string) time.Time {
	s := r.s(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.fail(name, "bad time %q", s)
	}
	return t
}

func (r *reader) list(name string) ([]types.AttributeValue, bool) {
	switch v := r.it[name].(type) {
	case nil:
		return nil, false
	case *types.AttributeValueMemberL:
		return v.Value, true
	default:
		r.fail(name, "want a list, got %T", v)
		return nil, false
	}
}

func (r *reader) strs(name string) []string {
	return readList(r, name, func(i int, av types.AttributeValue) string {
		s, ok := av.(*types.AttributeValueMemberS)
		if !ok {
			r.fail(name, "element %d is %T, not a string", i, av)
			return ""
		}
		return s.Value
	})
}

func (r *reader) decs(name string) []decimal.Decimal {
	return readList(r, name, func(_ int, av types.AttributeValue) decimal.Decimal { return r.decOf(name, av) })
}

func (r *reader) debits(name string) []ledger.Debit {
	return readList(r, name, func(i int, av types.AttributeValue) ledger.Debit {
		m, ok := av.(*types.AttributeValueMemberM)
		if !ok {
			r.fail(name, "element %d is %T, not a map", i, av)
			return ledger.Debit{}
		}
		sub := reader{it: m.Value}
		d := ledger.Debit{Lot: sub.s(AttrLot), Credits: sub.n(AttrCredits), Currency: core.Currency(sub.s(AttrCurrency))}
		if sub.err != nil && r.err == nil {
			r.err = fmt.Errorf("dynamo: attribute %s[%d]: %w", name, i, sub.err)
		}
		return d
	})
}

// readList reads a list attribute, each element as value reads it; an
// absent one reads as nil.
func readList[T any](r *reader, name string, value func(i int, av types.AttributeValue) T) []T {
	l, ok := r.list(name)
	if !ok {
		return nil
	}
	out := make([]T, len(l))
	for i, av := range l {
		out[i] = value(i, av)
	}
	return out
}

func (r *reader) move(name string) ledger.Movement {
	m, ok := r.it[name].(*types.AttributeValueMemberM)
	if !ok {
		if r.it[name] != nil {
			r.fail(name, "want a map, got %T", r.it[name])
		}
		return ledger.Movement{Remaining: decimal.Zero, Held: decimal.Zero, Spent: decimal.Zero,
			Expired: decimal.Zero, Withdrawn: decimal.Zero, Refunded: decimal.Zero}
	}
	sub := reader{it: m.Value}
	mv := ledger.Movement{
		Remaining: sub.n(AttrRemaining), Held: sub.n(AttrHeld), Spent: sub.n(AttrSpent),
		Expired: sub.n(AttrExpired), Withdrawn: sub.n(AttrWithdrawn), Refunded: sub.n(AttrRefunded),
	}
	if sub.err != nil && r.err == nil {
		r.err = fmt.Errorf("dynamo: attribute %s: %w", name, sub.err)
	}
	return mv
}

// ---- entities ----

func contractItem(c ledger.Contract) item {
	it := keyOf(contractPK(c.ID), skContract)
	it.s(AttrID, c.ID)
	it.s(AttrCustomer, c.Customer)
	it.s(AttrEntity, c.Entity)
	it.strs(AttrCoveredEntities, c.CoveredEntities)
	it.b(AttrContractorCoverage, c.ContractorCoverage)
	it.t(AttrStart, c.Start)
	it.t(AttrEnd, c.End)
	it.i(AttrExtensionMonths, int64(c.ExtensionMonths))
	it.s(AttrChannel, c.Channel)
	it.n(AttrMonthlyBaseline, c.MonthlyBaseline)
	it.b(AttrPlanActive, c.PlanActive)
	it.t(AttrTerminatedAt, c.TerminatedAt)
	it.i(AttrVersion, c.Version)
	it.s(AttrNotifyEmail, c.NotifyEmail)
	// The contract directory (Contracts): every contract item is in the
	// sweep index under one partition, by id.
	it.s(AttrGSI1PK, gsiContracts)
	it.s(AttrGSI1SK, c.ID)
	return it
}

func decodeContract(m map[string]types.AttributeValue) (ledger.Contract, error) {
	r := reader{it: m}
	c := ledger.Contract{
		ID: r.s(AttrID), Customer: r.s(AttrCustomer), Entity: r.s(AttrEntity),
		CoveredEntities: r.strs(AttrCoveredEntities), ContractorCoverage: r.b(AttrContractorCoverage),
		Start: r.t(AttrStart), End: r.t(AttrEnd), ExtensionMonths: int(r.i(AttrExtensionMonths)),
		Channel: r.s(AttrChannel), MonthlyBaseline: r.n(AttrMonthlyBaseline), PlanActive: r.b(AttrPlanActive),
		TerminatedAt: r.t(AttrTerminatedAt), Version: r.i(AttrVersion), NotifyEmail: r.s(AttrNotifyEmail),
	}
	return c, r.err
}

func userItem(u ledger.User) item {
	it := keyOf(contractPK(u.Contract), userSK(u.ID))
	it.s(AttrContract, u.Contract)
	it.s(AttrUser, u.ID)
	it.s(AttrKind, string(u.Kind))
	it.s(AttrEntity, u.Entity)
	it.b(AttrCanSpend, u.CanSpend)
	it.b(AttrActive, u.Active)
	it.t(AttrAddedAt, u.AddedAt)
	it.t(AttrRemovedAt, u.RemovedAt)
	it.i(AttrVersion, u.Version)
	return it
}

func decodeUser(m map[string]types.AttributeValue) (ledger.User, error) {
	r := reader{it: m}
	u := ledger.User{
		Contract: r.s(AttrContract), ID: r.s(AttrUser), Kind: ledger.UserKind(r.s(AttrKind)),
		Entity: r.s(AttrEntity), CanSpend: r.b(AttrCanSpend), Active: r.b(AttrActive),
		AddedAt: r.t(AttrAddedAt), RemovedAt: r.t(AttrRemovedAt), Version: r.i(AttrVersion),
	}
	return u, r.err
}

// lotEndNs is AttrEndNs of a lot whose end is end (zero: none).
func lotEndNs(end time.Time) int64 {
	if end.IsZero() {
		return EndNsNone
	}
	return clampNs(end)
}

// lotIndex returns the sweep-index keys of a lot that ends at end. A lot
// with no end is indexed at lotEndKeyNone, after every time EndedLots asks
// about, so only LotsOutliving (a sunset's work list) finds it. ok is
// always true; the result keeps the shape of the other index keys.
func lotIndex(contract, id string, end time.Time) (pk, sk string, ok bool) {
	key := lotEndKeyNone
	if !end.IsZero() {
		key = timeKey(end)
	}
	return gsiLotEnd + indexShard(contractPK(contract), lotSK(id)), key + "#" + contract + "#" + id, true
}

// lotEndKeyNone is the index time key of a lot with no end: EndNsNone.
var lotEndKeyNone = fmt.Sprintf("%0*d", timeKeyDigits, int64(EndNsNone))

func lotItem(l ledger.Lot) item {
	it := keyOf(contractPK(l.Contract), lotSK(l.ID))
	it.s(AttrID, l.ID)
	it.s(AttrContract, l.Contract)
	it.s(AttrCurrency, string(l.Currency))
	it.s(AttrKind, string(l.Kind))
	it.s(AttrOwner, l.Owner)
	it.s(AttrSource, string(l.Source))
	it.s(AttrGrant, l.Grant)
	it.s(AttrOrder, l.Order)
	it.n(AttrAmount, l.Amount)
	it.n(AttrRemaining, l.Remaining)
	it.n(AttrHeld, l.Held)
	it.n(AttrSpent, l.Spent)
	it.n(AttrExpired, l.Expired)
	it.n(AttrWithdrawn, l.Withdrawn)
	it.n(AttrRefunded, l.Refunded)
	it.t(AttrGrantedAt, l.GrantedAt)
	it.t(AttrEffectiveFrom, l.EffectiveFrom)
	it.t(AttrExpiresAt, l.ExpiresAt)
	it.t(AttrWithdrawNoticeAt, l.WithdrawNoticeAt)
	it.t(AttrClosesAt, l.ClosesAt)
	it.i(AttrEffNs, clampNs(l.EffectiveFrom))
	it.i(AttrEndNs, lotEndNs(l.End()))
	it.i(AttrVersion, l.Version)
	if l.Retired {
		// A retired lot is out of the sweep index: EndedLots reads only
		// what the sweep still has work on.
		it.b(AttrRetired, true)
		return it
	}
	if pk, sk, ok := lotIndex(l.Contract, l.ID, l.End()); ok {
		it.s(AttrGSI1PK, pk)
		it.s(AttrGSI1SK, sk)
	}
	pk, sk := poolPK(l.Contract), poolSK(l)
	it.s(AttrPoolPK, pk)
	it.s(AttrPoolSK, sk)
	if l.Remaining.Sign() > 0 {
		it.s(AttrGSI2PK, pk)
		it.s(AttrGSI2SK, sk)
	}
	return it
}

// poolSK is a lot's key in IndexPool: its pool (S for the shared pool,
// U#<owner> for an owner's individual lots), then its burn order within
// the pool — end (EndNsNone: none), grant time, id — so a spend's Query
// reads one pool's lots ending after its time, in burn order.
func poolSK(l ledger.Lot) string {
	pool := "S"
	if l.Kind == ledger.Individual {
		pool = "U#" + l.Owner
	}
	return pool + "#" + fmt.Sprintf("%0*d", timeKeyDigits, lotEndNs(l.End())) + "#" + timeKey(l.GrantedAt) + "#" + l.ID
}

// poolRange is the IndexPool sort-key range of a pool's lots that end
// after at: pool is "S" or "U#<owner>" (ids never contain '#', and '~'
// sorts after every digit).
func poolRange(pool string, at time.Time) (from, to string) {
	return pool + "#" + timeKey(at) + "#~", pool + "#~"
}

// ownsItem records that user owns an individual lot, beside the user in
// the contract's partition: OwnerLots reads a user's lots by it.
func ownsItem(contract, user, lot string) item {
	it := keyOf(contractPK(contract), ownsSK(user, lot))
	it.s(AttrContract, contract)
	it.s(AttrUser, user)
	it.s(AttrLot, lot)
	return it
}

func decodeLot(m map[string]types.AttributeValue) (ledger.Lot, error) {
	r := reader{it: m}
	l := ledger.Lot{
		ID: r.s(AttrID), Contract: r.s(AttrContract), Currency: core.Currency(r.s(AttrCurrency)),
		Kind: ledger.Kind(r.s(AttrKind)), Owner: r.s(AttrOwner), Source: ledger.Source(r.s(AttrSource)),
		Grant: r.s(AttrGrant), Order: r.s(AttrOrder),
		Amount: r.n(AttrAmount), Remaining: r.n(AttrRemaining), Held: r.n(AttrHeld), Spent: r.n(AttrSpent),
		Expired: r.n(AttrExpired), Withdrawn: r.n(AttrWithdrawn), Refunded: r.n(AttrRefunded),
		GrantedAt: r.t(AttrGrantedAt), EffectiveFrom: r.t(AttrEffectiveFrom), ExpiresAt: r.t(AttrExpiresAt),
		WithdrawNoticeAt: r.t(AttrWithdrawNoticeAt), ClosesAt: r.t(AttrClosesAt), Version: r.version(),
		Retired: r.b(AttrRetired),
	}
	return l, r.err
}

// lotDirItem records which contract a lot id belongs to (lot ids are
// unique within a contract only).
func lotDirItem(contract, lot string) item {
	it := keyOf(lotDirPK(lot), contractPK(contract))
	it.s(AttrContract, contract)
	it.s(AttrLot, lot)
	return it
}

// entryItem is an entry written by the Apply stamped stamp (see Store.stamp).
func entryItem(e ledger.Entry, stamp int64) item {
	it := keyOf(entriesPK(e.Contract, e.Lot), entrySK(e.ID))
	it.i(AttrWrittenNs, stamp)
	it.s(AttrID, e.ID)
	it.s(AttrContract, e.Contract)
	it.s(AttrLot, e.Lot)
	it.s(AttrCurrency, string(e.Currency))
	it.s(AttrKind, string(e.Kind))
	it.n(AttrCredits, e.Credits)
	it.move(AttrMove, e.Move)
	it.s(AttrRef, e.Ref)
	it.t(AttrAt, e.At)
	return it
}

func decodeEntry(m map[string]types.AttributeValue) (ledger.Entry, error) {
	r := reader{it: m}
	e := ledger.Entry{
		ID: r.s(AttrID), Contract: r.s(AttrContract), Lot: r.s(AttrLot), Currency: core.Currency(r.s(AttrCurrency)),
		Kind: ledger.EntryKind(r.s(AttrKind)), Credits: r.n(AttrCredits), Move: r.move(AttrMove),
		Ref: r.s(AttrRef), At: r.t(AttrAt),
	}
	return e, r.err
}

func holdItem(h ledger.Hold) item {
	it := keyOf(holdPK(h.Contract, h.ID), skHold)
	it.s(AttrID, h.ID)
	it.s(AttrContract, h.Contract)
	it.s(AttrUser, h.User)
	it.s(AttrEntity, h.Entity)
	it.s(AttrProject, h.Project)
	it.s(AttrService, h.Service)
	it.s(AttrCurrency, string(h.Currency))
	it.n(AttrCredits, h.Credits)
	it.debits(AttrDebits, h.Debits)
	it.s(AttrState, string(h.State))
	it.t(AttrCreatedAt, h.CreatedAt)
	it.t(AttrExpiresAt, h.ExpiresAt)
	it.t(AttrClosedAt, h.ClosedAt)
	it.s(AttrConsumption, h.Consumption)
	it.i(AttrVersion, h.Version)
	if h.State == ledger.HoldOpen {
		// Only open holds are in the sweep index.
		it.s(AttrGSI1PK, gsiHoldExpiry+indexShard(holdPK(h.Contract, h.ID), skHold))
		it.s(AttrGSI1SK, timeKey(h.ExpiresAt)+"#"+h.Contract+"#"+h.ID)
	}
	return it
}

func decodeHold(m map[string]types.AttributeValue) (ledger.Hold, error) {
	r := reader{it: m}
	h := ledger.Hold{
		ID: r.s(AttrID), Contract: r.s(AttrContract), User: r.s(AttrUser), Entity: r.s(AttrEntity),
		Project: r.s(AttrProject), Service: r.s(AttrService), Currency: core.Currency(r.s(AttrCurrency)),
		Credits: r.n(AttrCredits), Debits: r.debits(AttrDebits), State: ledger.HoldState(r.s(AttrState)),
		CreatedAt: r.t(AttrCreatedAt), ExpiresAt: r.t(AttrExpiresAt), ClosedAt: r.t(AttrClosedAt),
		Consumption: r.s(AttrConsumption), Version: r.version(),
	}
	return h, r.err
}

func consumptionItem(c ledger.Consumption) item {
	it := keyOf(consumptionPK(c.Contract, c.ID), skConsumption)
	it.s(AttrID, c.ID)
	it.s(AttrContract, c.Contract)
	it.s(AttrUser, c.User)
	it.s(AttrEntity, c.Entity)
	it.s(AttrProject, c.Project)
	it.s(AttrService, c.Service)
	it.s(AttrCurrency, string(c.Currency))
	it.n(AttrCredits, c.Credits)
	it.debits(AttrDebits, c.Debits)
	it.s(AttrHold, c.Hold)
	it.t(AttrCreatedAt, c.CreatedAt)
	it.n(AttrRefunded, c.Refunded)
	it.decs(AttrReturned, c.Returned)
	it.s(AttrBudgetMonth, c.BudgetMonth)
	it.i(AttrVersion, c.Version)
	return it
}

func decodeConsumption(m map[string]types.AttributeValue) (ledger.Consumption, error) {
	r := reader{it: m}
	c := ledger.Consumption{
		ID: r.s(AttrID), Contract: r.s(AttrContract), User: r.s(AttrUser), Entity: r.s(AttrEntity),
		Project: r.s(AttrProject), Service: r.s(AttrService), Currency: core.Currency(r.s(AttrCurrency)),
		Credits: r.n(AttrCredits), Debits: r.debits(AttrDebits), Hold: r.s(AttrHold),
		CreatedAt: r.t(AttrCreatedAt), Refunded: r.n(AttrRefunded), Returned: r.decs(AttrReturned),
		BudgetMonth: r.s(AttrBudgetMonth), Version: r.version(),
	}
	return c, r.err
}

func budgetItem(b ledger.Budget) item {
	it := keyOf(contractPK(b.Contract), budgetSK(b.Project, string(b.Currency)))
	it.s(AttrContract, b.Contract)
	it.s(AttrProject, b.Project)
	it.s(AttrCurrency, string(b.Currency))
	it.n(AttrMonthlyCap, b.MonthlyCap)
	return it
}

func decodeBudget(m map[string]types.AttributeValue) (ledger.Budget, error) {
	r := reader{it: m}
	b := ledger.Budget{Contract: r.s(AttrContract), Project: r.s(AttrProject),
		Currency: core.Currency(r.s(AttrCurrency)), MonthlyCap: r.n(AttrMonthlyCap)}
	return b, r.err
}

func usageSK(k ledger.UsageKey) string {
	return skUsage + k.Month + "#" + string(k.Currency) + "#" + k.User + "#" + k.Service + "#" + k.Project + "#" + k.Entity
}

// usageItem is a usage row (or, under a family's sort key sk, a usage sum)
// as an item.
func usageItem(u ledger.Usage, sk string) item {
	k := u.Key
	it := keyOf(contractPK(k.Contract), sk)
	for _, f := range []struct{ attr, v string }{
		{AttrContract, k.Contract}, {AttrMonth, k.Month}, {AttrCurrency, string(k.Currency)},
		{AttrUser, k.User}, {AttrService, k.Service}, {AttrProject, k.Project}, {AttrEntity, k.Entity},
	} {
		it.s(f.attr, f.v)
	}
	it.n(AttrCredits, u.Credits)
	it.i(AttrCount, u.Count)
	return it
}

func decodeUsage(m map[string]types.AttributeValue) (ledger.Usage, error) {
	r := reader{it: m}
	u := ledger.Usage{
		Key: ledger.UsageKey{
			Contract: r.s(AttrContract), Month: r.s(AttrMonth), Currency: core.Currency(r.s(AttrCurrency)),
			User: r.s(AttrUser), Service: r.s(AttrService), Project: r.s(AttrProject), Entity: r.s(AttrEntity),
		},
		Credits: r.n(AttrCredits), Count: r.i(AttrCount),
	}
	return u, r.err
}

func attemptItem(a ledger.Attempt) item {
	it := keyOf(contractPK(a.Contract), attemptSK(a.At, a.ID))
	it.s(AttrID, a.ID)
	it.s(AttrContract, a.Contract)
	it.s(AttrUser, a.User)
	it.s(AttrEntity, a.Entity)
	it.s(AttrKind, string(a.Kind))
	it.s(AttrService, a.Service)
	it.s(AttrCurrency, string(a.Currency))
	it.n(AttrCredits, a.Credits)
	it.s(AttrReason, a.Reason)
	it.t(AttrAt, a.At)
	return it
}

func decodeAttempt(m map[string]types.AttributeValue) (ledger.Attempt, error) {
	r := reader{it: m}
	a := ledger.Attempt{
		ID: r.s(AttrID), Contract: r.s(AttrContract), User: r.s(AttrUser), Entity: r.s(AttrEntity),
		Kind: ledger.UserKind(r.s(AttrKind)), Service: r.s(AttrService), Currency: core.Currency(r.s(AttrCurrency)),
		Credits: r.n(AttrCredits), Reason: r.s(AttrReason), At: r.t(AttrAt),
	}
	return a, r.err
}

// ttlSeconds is the TTL attribute for a record that stops answering at t:
// epoch seconds, rounded up so TTL never deletes a record early.
func ttlSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func idemItem(rec ledger.IdempotencyRecord) item {
	it := keyOf(keyPK(rec.Contract, rec.Key), skIdem)
	idemAttrs(it, rec)
	it.i(AttrTTL, ttlSeconds(rec.ExpiresAt))
	return it
}

func idemAttrs(it item, rec ledger.IdempotencyRecord) {
	it.s(AttrContract, rec.Contract)
	it.s(AttrKey, rec.Key)
	it.s(AttrFingerprint, rec.Fingerprint)
	if rec.Response != nil {
		it[AttrResponse] = &types.AttributeValueMemberB{Value: rec.Response}
	}
	it.t(AttrCreatedAt, rec.CreatedAt)
	it.t(AttrExpiresAt, rec.ExpiresAt)
	it.i(AttrExpiresNs, clampNs(rec.ExpiresAt))
}

// keptItem is a consumption kept in its key's record (see kept in
// apply.go): one item that is both, under the key's record's key. It has
// no TTL, since the consumption outlives the record's expiry; the record's
// own expiry (AttrExpiresNs) still says when the key may be used again.
func keptItem(rec ledger.IdempotencyRecord, c ledger.Consumption) item {
	it := consumptionItem(c)
	it[AttrPK], it[AttrSK] = str(keyPK(rec.Contract, rec.Key)), str(skIdem)
	idemAttrs(it, rec)
	return it
}

// keepsConsumption reports whether an item is a consumption: its own item,
// or a key's record that keeps one (it then has the consumption's id).
func keepsConsumption(it map[string]types.AttributeValue) bool {
	switch keyText(it, AttrSK) {
	case skConsumption:
		return strings.HasPrefix(keyText(it, AttrPK), pfxConsumption)
	case skIdem:
		return keyText(it, AttrID) != ""
	}
	return false
}

func decodeIdem(m map[string]types.AttributeValue) (ledger.IdempotencyRecord, error) {
	r := reader{it: m}
	rec := ledger.IdempotencyRecord{
		Contract: r.s(AttrContract), Key: r.s(AttrKey), Fingerprint: r.s(AttrFingerprint),
		Response: r.bytes(AttrResponse), CreatedAt: r.t(AttrCreatedAt), ExpiresAt: r.t(AttrExpiresAt),
	}
	return rec, r.err
}

func orderItem(o ledger.Order) item {
	it := keyOf(contractPK(o.Contract), orderSK(o.ID))
	it.s(AttrID, o.ID)
	it.s(AttrContract, o.Contract)
	it.s(AttrStatus, string(o.Status))
	it.s(AttrCurrency, string(o.Currency))
	it.n(AttrCredits, o.Credits)
	it.n(AttrPacks, o.Packs)
	it.s(AttrChannel, o.Channel)
	it.n(AttrUnitPrice, o.UnitPrice)
	it.n(AttrTotal, o.Total)
	it.s(AttrMoneyCurrency, o.MoneyCurrency)
	it.s(AttrPriceBookVersion, o.PriceBookVersion)
	it.s(AttrPayment, string(o.Payment))
	it.s(AttrProvider, o.Provider)
	it.s(AttrSessionID, o.SessionID)
	it.s(AttrCheckoutURL, o.CheckoutURL)
	it.b(AttrTestMode, o.TestMode)
	it.s(AttrQuote, o.Quote)
	it.s(AttrLot, o.Lot)
	it.t(AttrCreatedAt, o.CreatedAt)
	it.t(AttrPaidAt, o.PaidAt)
	it.t(AttrFulfilledAt, o.FulfilledAt)
	it.t(AttrCancelledAt, o.CancelledAt)
	it.i(AttrVersion, o.Version)
	return it
}

func decodeOrder(m map[string]types.AttributeValue) (ledger.Order, error) {
	r := reader{it: m}
	o := ledger.Order{
		ID: r.s(AttrID), Contract: r.s(AttrContract), Status: ledger.OrderStatus(r.s(AttrStatus)),
		Currency: core.Currency(r.s(AttrCurrency)), Credits: r.n(AttrCredits), Packs: r.n(AttrPacks),
		Channel: r.s(AttrChannel), UnitPrice: r.n(AttrUnitPrice), Total: r.n(AttrTotal),
		MoneyCurrency: r.s(AttrMoneyCurrency), PriceBookVersion: r.s(AttrPriceBookVersion),
		Payment: ledger.Payment(r.s(AttrPayment)), Provider: r.s(AttrProvider), SessionID: r.s(AttrSessionID),
		CheckoutURL: r.s(AttrCheckoutURL), TestMode: r.b(AttrTestMode), Quote: r.s(AttrQuote), Lot: r.s(AttrLot),
		CreatedAt: r.t(AttrCreatedAt), PaidAt: r.t(AttrPaidAt), FulfilledAt: r.t(AttrFulfilledAt),
		CancelledAt: r.t(AttrCancelledAt), Version: r.version(),
	}
	return o, r.err
}

// orderDirItem records which contract an order id belongs to, for
// OrderContract (mark-paid and payment webhooks name an order by id alone).
func orderDirItem(contract, order string) item {
	it := keyOf(orderDirPK(order), contractPK(contract))
	it.s(AttrContract, contract)
	it.s(AttrID, order)
	return it
}

// quoteAcceptanceItem is a quote's acceptance, in the quote's own partition:
// its attribute_not_exists condition is what makes a quote accepted once.
func quoteAcceptanceItem(a ledger.QuoteAcceptance) item {
	it := keyOf(quotePK(a.QuoteID), skAcceptance)
	it.s(AttrQuote, a.QuoteID)
	it.s(AttrContract, a.Contract)
	it.s(AttrOrder, a.Order)
	it.t(AttrAt, a.AcceptedAt)
	return it
}

func decodeQuoteAcceptance(m map[string]types.AttributeValue) (ledger.QuoteAcceptance, error) {
	r := reader{it: m}
	a := ledger.QuoteAcceptance{QuoteID: r.s(AttrQuote), Contract: r.s(AttrContract), Order: r.s(AttrOrder), AcceptedAt: r.t(AttrAt)}
	return a, r.err
}

// sunsetItem is a currency's sunset; all of them share one partition, so
// Sunsets is one query.
func sunsetItem(x ledger.Sunset) item {
	it := keyOf(pkSunsets, sunsetSK(string(x.Currency)))
	it.s(AttrCurrency, string(x.Currency))
	it.t(AttrSalesEnd, x.SalesEnd)
	it.t(AttrFinalExpiry, x.FinalExpiry)
	it.s(AttrSuccessor, string(x.Successor))
	it.t(AttrUpdatedAt, x.UpdatedAt)
	it.i(AttrVersion, x.Version)
	return it
}

func decodeSunset(m map[string]types.AttributeValue) (ledger.Sunset, error) {
	r := reader{it: m}
	x := ledger.Sunset{Currency: core.Currency(r.s(AttrCurrency)), SalesEnd: r.t(AttrSalesEnd),
		FinalExpiry: r.t(AttrFinalExpiry), Successor: core.Currency(r.s(AttrSuccessor)),
		UpdatedAt: r.t(AttrUpdatedAt), Version: r.i(AttrVersion)}
	return x, r.err
}

// notificationItem is one notification, in its contract's partition. While
// it is pending it carries sweep-index keys (NOTIFYPENDING#<shard>, by
// creation time), so PendingNotifications finds it across contracts
// without a Scan; a sent one has none.
func notificationItem(n ledger.Notification) item {
	it := keyOf(contractPK(n.Contract), notificationSK(n.ID))
	it.s(AttrID, n.ID)
	it.s(AttrContract, n.Contract)
	it.s(AttrKind, string(n.Kind))
	it.s(AttrTo, n.To)
	it.s(AttrSubject, n.Subject)
	it.s(AttrBody, n.Body)
	it.t(AttrCreatedAt, n.CreatedAt)
	it.s(AttrState, string(n.State))
	it.t(AttrSentAt, n.SentAt)
	it.i(AttrVersion, n.Version)
	if !n.ClaimedUntil.IsZero() { // a number (Unix ns)
		it.i(AttrClaimedUntil, n.ClaimedUntil.UnixNano())
	}
	if n.State == ledger.NotificationPending {
		pk, sk := keyText(it, AttrPK), keyText(it, AttrSK)
		it.s(AttrGSI1PK, gsiPending+indexShard(pk, sk))
		it.s(AttrGSI1SK, pendingSK(n.Contract, n.ID, n.DueAt()))
	}
	return it
}

// pendingSK is a pending notification's sweep-index sort key: its due time
// (ledger.Notification.DueAt), then contract and id.
func pendingSK(contract, id string, due time.Time) string {
	return timeKey(due) + "#" + contract + "#" + id
}

func decodeNotification(m map[string]types.AttributeValue) (ledger.Notification, error) {
	r := reader{it: m}
	n := ledger.Notification{ID: r.s(AttrID), Contract: r.s(AttrContract), Kind: ledger.NotificationKind(r.s(AttrKind)),
		To: r.s(AttrTo), Subject: r.s(AttrSubject), Body: r.s(AttrBody), CreatedAt: r.t(AttrCreatedAt),
		State: ledger.NotificationState(r.s(AttrState)), SentAt: r.t(AttrSentAt), Version: r.version()}
	if ns := r.i(AttrClaimedUntil); ns != 0 {
		n.ClaimedUntil = time.Unix(0, ns).UTC()
	}
	return n, r.err
}

// recordItem is the item a record is stored as, and the items that exist
// exactly when it does (directory entries, written with it): the one codec
// switch over record shapes. stamp orders entries by their Apply.
func recordItem(r ledger.Record, stamp int64) (it item, extras []item, err error) {
	switch r := r.(type) {
	case ledger.Lot:
		extras := []item{lotDirItem(r.Contract, r.ID)}
		if r.Kind == ledger.Individual {
			extras = append(extras, ownsItem(r.Contract, r.Owner, r.ID))
		}
		return lotItem(r), extras, nil
	case ledger.Entry:
		return entryItem(r, stamp), nil, nil
	case ledger.IdempotencyRecord:
		return idemItem(r), nil, nil
	case ledger.Hold:
		return holdItem(r), nil, nil
	case ledger.Consumption:
		return consumptionItem(r), nil, nil
	case ledger.BudgetUsed:
		it := keyOf(contractPK(r.Contract), budgetUsedSK(r.Project, string(r.Currency), r.Month))
		it.s(AttrContract, r.Contract)
		it.s(AttrProject, r.Project)
		it.s(AttrCurrency, string(r.Currency))
		it.s(AttrMonth, r.Month)
		it.n(AttrUsed, r.Used)
		return it, nil, nil
	case ledger.Usage:
		return usageItem(r, usageSK(r.Key)), nil, nil
	case ledger.Attempt:
		return attemptItem(r), nil, nil
	case ledger.Contract:
		// Every usage of a contract made now is summed (usagesum.go).
		return contractItem(r), []item{usageSumsMarker(r.ID)}, nil
	case ledger.User:
		return userItem(r), nil, nil
	case ledger.Grant:
		it := keyOf(contractPK(r.Contract), grantSK(r.User))
		it.s(AttrContract, r.Contract)
		it.s(AttrUser, r.User)
		return it, nil, nil
	case ledger.Budget:
		return budgetItem(r), nil, nil
	case ledger.Notification:
		return notificationItem(r), nil, nil
	case ledger.Order:
		return orderItem(r), []item{orderDirItem(r.Contract, r.ID)}, nil
	case ledger.QuoteAcceptance:
		return quoteAcceptanceItem(r), nil, nil
	case ledger.Sunset:
		return sunsetItem(r), nil, nil
	}
	return nil, nil, fmt.Errorf("dynamo: no item for %T", r)
}

// counterAttr is the attribute an Add's counter is stored in.
var counterAttr = map[ledger.Counter]string{
	ledger.CounterRemaining: AttrRemaining, ledger.CounterHeld: AttrHeld, ledger.CounterSpent: AttrSpent,
	ledger.CounterExpired: AttrExpired, ledger.CounterWithdrawn: AttrWithdrawn, ledger.CounterRefunded: AttrRefunded,
	ledger.CounterUsed: AttrUsed, ledger.CounterCredits: AttrCredits, ledger.CounterCount: AttrCount,
}
