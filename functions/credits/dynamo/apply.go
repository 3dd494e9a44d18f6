package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"cloudcredits/core/ledger"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"
)

// Store is the DynamoDB adapter of ledger.Store. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string

	// now is the clock that stamps entries with their write order.
	now func() time.Time

	mu        sync.Mutex
	consumed  Capacity
	last      Capacity
	lastStamp int64
}

var _ ledger.Store = (*Store)(nil)

// New returns a Store on table, which CreateTable (or the deploy template)
// made. Its transient failures carry core.CodeUnavailable (transient.go).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: withUnavailable(client), table: table, now: time.Now}
}

// stamp returns the write-order stamp of one Apply: the clock in Unix
// nanoseconds, strictly increasing within this Store. Entries sort by it, so
// an Apply that starts after another has returned sorts after it (across
// processes, up to their clock skew); concurrent Applies sort in some fixed
// order.
func (s *Store) stamp() int64 {
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now <= s.lastStamp {
		now = s.lastStamp + 1
	}
	s.lastStamp = now
	return now
}

// Capacity is capacity DynamoDB reported as consumed.
type Capacity struct {
	// Applies counts successful Apply calls.
	Applies int64
	// WriteUnits are the write capacity units of successful Apply calls
	// (transactional writes cost twice a plain write) and of sweep-index
	// upkeep. Cancelled transactions are charged by DynamoDB too, but it
	// does not report how much.
	WriteUnits float64
	// ReadUnits are the read capacity units of every read.
	ReadUnits float64
}

// Consumed returns the capacity consumed since New (or ResetConsumed).
func (s *Store) Consumed() Capacity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consumed
}

// LastApply returns the capacity the most recent successful Apply consumed.
func (s *Store) LastApply() Capacity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// ResetConsumed zeroes the counters Consumed returns.
func (s *Store) ResetConsumed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consumed = Capacity{}
}

// total sums the capacity units DynamoDB reported (ReturnConsumedCapacity
// TOTAL: one figure per table, indexes included).
func total(cc ...types.ConsumedCapacity) float64 {
	var u float64
	for _, c := range cc {
		u += aws.ToFloat64(c.CapacityUnits)
	}
	return u
}

func (s *Store) addRead(cc ...*types.ConsumedCapacity) {
	var u float64
	for _, c := range cc {
		if c != nil {
			u += total(*c)
		}
	}
	s.mu.Lock()
	s.consumed.ReadUnits += u
	s.mu.Unlock()
}

func (s *Store) addWrite(apply bool, cc ...types.ConsumedCapacity) {
	u := total(cc...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consumed.WriteUnits += u
	if apply {
		s.consumed.Applies++
		s.last = Capacity{Applies: 1, WriteUnits: u}
	}
}

// Close releases nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

// expr collects the placeholders of one expression's names and values.
type expr struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

// n returns the placeholder of attribute name a.
func (e *expr) n(a string) string {
	if e.names == nil {
		e.names = map[string]string{}
	}
	p := "#" + a
	e.names[p] = a
	return p
}

// v returns a new placeholder for value av.
func (e *expr) v(av types.AttributeValue) string {
	if e.values == nil {
		e.values = map[string]types.AttributeValue{}
	}
	p := fmt.Sprintf(":v%d", len(e.values))
	e.values[p] = av
	return p
}

// write is one item of the transaction and the op it enforces.
type write struct {
	op    int    // index in Tx.Ops of the (first) op it came from
	blame int    // the op to name when its condition fails; -1: ambiguous
	pk    string // the item's key, to refuse two actions on one item
	sk    string
	what  string // the condition, for ConflictError.Reason
	item  types.TransactWriteItem
}

func (s *Store) put(op int, what string, it item, cond string, e *expr) write {
	p := &types.Put{TableName: &s.table, Item: it}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames, p.ExpressionAttributeValues = e.names, e.values
	}
	return write{op: op, blame: op, pk: keyText(it, AttrPK), sk: keyText(it, AttrSK), what: what,
		item: types.TransactWriteItem{Put: p}}
}

func (s *Store) update(op int, what, pk, sk, update, cond string, e *expr) write {
	u := &types.Update{
		TableName: &s.table, Key: keyOf(pk, sk), UpdateExpression: aws.String(update),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	}
	if cond != "" {
		u.ConditionExpression = aws.String(cond)
	}
	return write{op: op, blame: op, pk: pk, sk: sk, what: what, item: types.TransactWriteItem{Update: u}}
}

func (s *Store) check(op int, what, pk, sk, cond string, e *expr) write {
	c := &types.ConditionCheck{
		TableName: &s.table, Key: keyOf(pk, sk), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	}
	return write{op: op, blame: op, pk: pk, sk: sk, what: what, item: types.TransactWriteItem{ConditionCheck: c}}
}

func keyText(it item, name string) string {
	if s, ok := it[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// notExists is the condition of every create.
func notExists(e *expr) string { return "attribute_not_exists(" + e.n(AttrPK) + ")" }

// recipientIs is the condition that a notification's recipient is to (an
// empty recipient is stored as no attribute).
func recipientIs(e *expr, to string) string {
	if to == "" {
		return "attribute_not_exists(" + e.n(AttrTo) + ")"
	}
	return e.n(AttrTo) + " = " + e.v(str(to))
}

// Apply performs every op of tx in one TransactWriteItems call, or none.
func (s *Store) Apply(ctx context.Context, tx ledger.Tx) error {
	if len(tx.Ops) == 0 {
		return nil
	}
	writes, err := s.plan(tx, s.stamp())
	if err != nil {
		return err
	}
	items := make([]types.TransactWriteItem, len(writes))
	for i, w := range writes {
		items[i] = w.item
	}
	out, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          items,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return cancelled(err, writes)
	}
	s.addWrite(true, out.ConsumedCapacity...)
	return nil
}

// cancelled translates a failed TransactWriteItems into the port's errors: a
// failed condition, or a conflict with another transaction on one of the
// items, becomes a *ledger.ConflictError naming the op.
func cancelled(err error, writes []write) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return fmt.Errorf("dynamo: transact write: %w", err)
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
	}
	for _, want := range []string{"ConditionalCheckFailed", "TransactionConflict"} {
		for i, code := range codes {
			if code == want && i < len(writes) {
				return &ledger.ConflictError{Op: writes[i].blame, Reason: code + ": " + writes[i].what}
			}
		}
	}
	return fmt.Errorf("dynamo: transaction cancelled (reasons %s): %w", strings.Join(codes, ","), err)
}

// itemKey is the table key of the item an op writes, for the ops that may
// meet another op on the same item and are merged with it: lot moves (a
// settlement posts part of a hold and returns the rest from one lot), budget
// counters and usage roll-ups. ok is false for every other op.
func itemKey(op ledger.Op) (key [2]string, ok bool) {
	switch o := op.(type) {
	case ledger.MoveLot:
		return [2]string{contractPK(o.Contract), lotSK(o.Lot)}, true
	case ledger.AddBudgetUsage:
		return [2]string{contractPK(o.Contract), budgetUsedSK(o.Project, string(o.Currency), o.Month)}, true
	case ledger.AddUsage:
		return [2]string{contractPK(o.Key.Contract), usageSK(o.Key)}, true
	}
	return key, false
}

// groups maps the index of each mergeable op that comes first on its item to
// the indexes of every op on that item, in order; later ops map to nil.
func groups(tx ledger.Tx) map[int][]int {
	first := map[[2]string]int{}
	out := map[int][]int{}
	for i, op := range tx.Ops {
		k, ok := itemKey(op)
		if !ok {
			continue
		}
		if j, seen := first[k]; seen {
			out[j] = append(out[j], i)
			out[i] = nil
			continue
		}
		first[k] = i
		out[i] = []int{i}
	}
	return out
}

func addMove(a, b ledger.Movement) ledger.Movement {
	return ledger.Movement{
		Remaining: a.Remaining.Add(b.Remaining), Held: a.Held.Add(b.Held), Spent: a.Spent.Add(b.Spent),
		Expired: a.Expired.Add(b.Expired), Withdrawn: a.Withdrawn.Add(b.Withdrawn), Refunded: a.Refunded.Add(b.Refunded),
	}
}

// merged is tx with each lot's moves folded into its first, as they are
// applied. core/ledger's planners already emit one move per lot; a Tx built
// elsewhere may not, and DynamoDB would refuse it.
func merged(tx ledger.Tx, grouped map[int][]int) ledger.Tx {
	ops := make([]ledger.Op, 0, len(tx.Ops))
	for i, op := range tx.Ops {
		if g, ok := grouped[i]; ok {
			if g == nil {
				continue
			}
			if o, isMove := op.(ledger.MoveLot); isMove {
				for _, j := range g[1:] {
					o.Move = addMove(o.Move, tx.Ops[j].(ledger.MoveLot).Move)
				}
				op = o
			}
		}
		ops = append(ops, op)
	}
	return ledger.Tx{At: tx.At, Ops: ops}
}

// plan turns tx into transaction items, one per item written, each carrying
// the conditions of the ops that write it. stamp orders the Tx's entries
// after every earlier Apply's.
func (s *Store) plan(tx ledger.Tx, stamp int64) ([]write, error) {
	grouped := groups(tx)
	if err := merged(tx, grouped).Check(); err != nil {
		return nil, fmt.Errorf("dynamo: refusing a transaction that breaks an invariant: %w", err)
	}
	writes := make([]write, 0, len(tx.Ops))
	for i, op := range tx.Ops {
		if g, ok := grouped[i]; ok {
			if g != nil {
				writes = append(writes, s.mergedWrite(tx, g))
			}
			continue
		}
		var w write
		e := &expr{}
		switch o := op.(type) {
		case ledger.CreateLot:
			w = s.put(i, "lot "+o.Lot.ID+" does not exist", lotItem(o.Lot), notExists(e), e)
			// The lot's directory entry, for LotContract; it exists exactly
			// when the lot does, so it needs no condition of its own.
			writes = append(writes, s.put(i, "", lotDirItem(o.Lot.Contract, o.Lot.ID), "", &expr{}))
		case ledger.EndLot:
			w = s.endLot(i, o)
		case ledger.PutEntry:
			w = s.put(i, "entry "+o.Entry.ID+" does not exist", entryItem(o.Entry, stamp), notExists(e), e)
		case ledger.PutIdempotency:
			it := idemItem(o.Record)
			cond := notExists(e) + " OR " + e.n(AttrExpiresNs) + " <= " + e.v(intNum(clampNs(o.At)))
			w = s.put(i, "no live idempotency record for key "+o.Record.Key, it, cond, e)
		case ledger.PutHold:
			w = s.put(i, "hold "+o.Hold.ID+" does not exist", holdItem(o.Hold), notExists(e), e)
		case ledger.UpdateHold:
			cond := e.n(AttrState) + " = " + e.v(str(string(o.WasState)))
			w = s.put(i, "hold "+o.Hold.ID+" is "+string(o.WasState), holdItem(o.Hold), cond, e)
		case ledger.PutConsumption:
			w = s.put(i, "consumption "+o.Consumption.ID+" does not exist", consumptionItem(o.Consumption), notExists(e), e)
		case ledger.UpdateConsumption:
			cond := e.n(AttrRefunded) + " = " + e.v(num(o.WasRefunded))
			w = s.put(i, "consumption "+o.Consumption.ID+" has refunded "+o.WasRefunded.String(),
				consumptionItem(o.Consumption), cond, e)
		case ledger.PutAttempt:
			w = s.put(i, "", attemptItem(o.Attempt), "", e)
		case ledger.PutContract:
			w = s.put(i, "contract "+o.Contract.ID+" does not exist", contractItem(o.Contract), notExists(e), e)
		case ledger.UpdateContract:
			prev := o.Contract.Version - 1
			cond := e.n(AttrVersion) + " = " + e.v(intNum(prev))
			w = s.put(i, fmt.Sprintf("contract %s is at version %d", o.Contract.ID, prev), contractItem(o.Contract), cond, e)
		case ledger.PutUser:
			if o.User.Version == 1 {
				w = s.put(i, "user "+o.User.ID+" does not exist", userItem(o.User), notExists(e), e)
				break
			}
			prev := o.User.Version - 1
			cond := e.n(AttrVersion) + " = " + e.v(intNum(prev))
			w = s.put(i, fmt.Sprintf("user %s is at version %d", o.User.ID, prev), userItem(o.User), cond, e)
		case ledger.MarkGrant:
			it := keyOf(contractPK(o.Contract), grantSK(o.User))
			it.s(AttrContract, o.Contract)
			it.s(AttrUser, o.User)
			w = s.put(i, "user "+o.User+" was not granted before", it, notExists(e), e)
		case ledger.PutBudget:
			w = s.put(i, "", budgetItem(o.Budget), "", e)
		case ledger.PutOrder:
			w = s.put(i, "order "+o.Order.ID+" does not exist", orderItem(o.Order), notExists(e), e)
			// The order's directory entry, for OrderContract; it exists
			// exactly when the order does, so it needs no condition of its own.
			writes = append(writes, s.put(i, "", orderDirItem(o.Order.Contract, o.Order.ID), "", &expr{}))
		case ledger.PutQuoteAcceptance:
			w = s.put(i, "quote "+o.Acceptance.QuoteID+" was not accepted before", quoteAcceptanceItem(o.Acceptance), notExists(e), e)
		case ledger.PutSunset:
			if o.Sunset.Version == 1 {
				w = s.put(i, "currency "+string(o.Sunset.Currency)+" has no sunset", sunsetItem(o.Sunset), notExists(e), e)
				break
			}
			prev := o.Sunset.Version - 1
			cond := e.n(AttrVersion) + " = " + e.v(intNum(prev))
			w = s.put(i, fmt.Sprintf("sunset of %s is at version %d", o.Sunset.Currency, prev), sunsetItem(o.Sunset), cond, e)
		case ledger.SunsetIs:
			var cond string
			if o.Version == 0 {
				cond = notExists(e)
			} else {
				cond = e.n(AttrVersion) + " = " + e.v(intNum(o.Version))
			}
			w = s.check(i, fmt.Sprintf("sunset of %s is at version %d", o.Currency, o.Version), pkSunsets, sunsetSK(string(o.Currency)), cond, e)
		case ledger.PutNotification:
			w = s.put(i, "notification "+o.Notification.ID+" was not recorded before", notificationItem(o.Notification), notExists(e), e)
		case ledger.MarkSent:
			// Fails on a missing notification too: an absent state is not pending.
			cond := e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationPending)))
			update := "SET " + e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationSent))) + ", " +
				e.n(AttrSentAt) + " = " + e.v(str(timeText(o.At))) + " REMOVE " + e.n(AttrGSI1PK) + ", " + e.n(AttrGSI1SK)
			w = s.update(i, "notification "+o.ID+" is pending", contractPK(o.Contract), notificationSK(o.ID), update, cond, e)
		case ledger.Readdress:
			pk, sk := contractPK(o.Contract), notificationSK(o.ID)
			cond := "(" + e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationPending))) + " OR " +
				e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationUnaddressed))) + ") AND " + recipientIs(e, o.WasTo) +
				" AND (attribute_not_exists(" + e.n(AttrClaimedUntil) + ") OR " + e.n(AttrClaimedUntil) + " <= " + e.v(intNum(o.At.UnixNano())) + ")"
			var update string
			if o.To != "" {
				// Queued: the pending index keys notificationItem gives a
				// pending notification, at its due time.
				update = "SET " + e.n(AttrTo) + " = " + e.v(str(o.To)) + ", " + e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationPending))) + ", " +
					e.n(AttrGSI1PK) + " = " + e.v(str(gsiPending+indexShard(pk, sk))) + ", " +
					e.n(AttrGSI1SK) + " = " + e.v(str(pendingSK(o.Contract, o.ID, o.Due)))
			} else {
				update = "SET " + e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationUnaddressed))) +
					" REMOVE " + e.n(AttrTo) + ", " + e.n(AttrGSI1PK) + ", " + e.n(AttrGSI1SK)
			}
			w = s.update(i, "notification "+o.ID+" is waiting unclaimed", pk, sk, update, cond, e)
		case ledger.ContractIs:
			cond := e.n(AttrVersion) + " = " + e.v(intNum(o.Version))
			w = s.check(i, fmt.Sprintf("contract %s is at version %d", o.Contract, o.Version), contractPK(o.Contract), skContract, cond, e)
		case ledger.ClaimNotification:
			// Fails on a missing notification too: an absent state is not pending.
			cond := e.n(AttrState) + " = " + e.v(str(string(ledger.NotificationPending))) + " AND " + recipientIs(e, o.To) +
				" AND (attribute_not_exists(" + e.n(AttrClaimedUntil) + ") OR " + e.n(AttrClaimedUntil) + " <= " + e.v(intNum(o.At.UnixNano())) + ")"
			// The index key moves to the claim's end: PendingNotifications
			// reads keys due by its time, so a claimed one waits at the back.
			update := "SET " + e.n(AttrClaimedUntil) + " = " + e.v(intNum(o.Until.UnixNano())) + ", " +
				e.n(AttrGSI1SK) + " = " + e.v(str(pendingSK(o.Contract, o.ID, o.Until)))
			w = s.update(i, "notification "+o.ID+" is pending and not claimed", contractPK(o.Contract), notificationSK(o.ID), update, cond, e)
		case ledger.UpdateOrder:
			// Fails on a missing order too: an absent status equals nothing.
			cond := e.n(AttrStatus) + " = " + e.v(str(string(o.WasStatus)))
			w = s.put(i, "order "+o.Order.ID+" is "+string(o.WasStatus), orderItem(o.Order), cond, e)
		case nil:
			return nil, fmt.Errorf("dynamo: op %d is nil", i)
		default:
			return nil, fmt.Errorf("dynamo: op %d: unknown op type %T", i, op)
		}
		writes = append(writes, w)
	}
	if len(writes) > TransactItemsMax {
		return nil, fmt.Errorf("dynamo: a transaction of %d items exceeds DynamoDB's limit of %d (ledger.LotsPerSpendMax should prevent this)",
			len(writes), TransactItemsMax)
	}
	seen := make(map[[2]string]int, len(writes))
	for _, w := range writes {
		k := [2]string{w.pk, w.sk}
		if j, dup := seen[k]; dup {
			return nil, fmt.Errorf("dynamo: ops %d and %d write the same item %s|%s; DynamoDB refuses that in one transaction",
				j, w.op, w.pk, w.sk)
		}
		seen[k] = w.op
	}
	return writes, nil
}

// mergedWrite builds the one write of the ops g (indexes into tx.Ops, all on
// one item, of one type).
func (s *Store) mergedWrite(tx ledger.Tx, g []int) write {
	switch tx.Ops[g[0]].(type) {
	case ledger.MoveLot:
		moves := make([]ledger.MoveLot, len(g))
		for k, i := range g {
			moves[k] = tx.Ops[i].(ledger.MoveLot)
		}
		return s.moveLot(g, moves)
	case ledger.AddBudgetUsage:
		adds := make([]ledger.AddBudgetUsage, len(g))
		for k, i := range g {
			adds[k] = tx.Ops[i].(ledger.AddBudgetUsage)
		}
		return s.addBudgetUsage(g, adds)
	default:
		adds := make([]ledger.AddUsage, len(g))
		for k, i := range g {
			adds[k] = tx.Ops[i].(ledger.AddUsage)
		}
		return s.addUsage(g[0], adds)
	}
}

// moveLot adds the summed movement of a lot's moves to its counters with ADD,
// conditioned on the lot existing in its contract, remaining and held
// staying ≥ 0 after the sum (the ops' conditions are on the state
// afterwards), and the lot being live at every LiveAt asked for:
// effective_from ≤ the earliest and end > the latest. A movement that sums to
// zero still checks its conditions.
func (s *Store) moveLot(g []int, moves []ledger.MoveLot) write {
	first := moves[0]
	var sum ledger.Movement
	var liveFrom, liveTo time.Time
	for _, m := range moves {
		sum = addMove(sum, m.Move)
		if m.LiveAt.IsZero() {
			continue
		}
		if liveFrom.IsZero() || m.LiveAt.Before(liveFrom) {
			liveFrom = m.LiveAt
		}
		if m.LiveAt.After(liveTo) {
			liveTo = m.LiveAt
		}
	}
	e := &expr{}
	conds := []string{"attribute_exists(" + e.n(AttrPK) + ")"}
	what := []string{"lot " + first.Lot + " exists"}
	if sum.Remaining.Sign() < 0 {
		need := sum.Remaining.Neg()
		conds = append(conds, e.n(AttrRemaining)+" >= "+e.v(num(need)))
		what = append(what, "remaining ≥ "+need.String())
	}
	if sum.Held.Sign() < 0 {
		need := sum.Held.Neg()
		conds = append(conds, e.n(AttrHeld)+" >= "+e.v(num(need)))
		what = append(what, "held ≥ "+need.String())
	}
	if !liveFrom.IsZero() {
		conds = append(conds,
			e.n(AttrEffNs)+" <= "+e.v(intNum(clampNs(liveFrom))),
			e.n(AttrEndNs)+" > "+e.v(intNum(clampNs(liveTo))))
		what = append(what, "live at "+timeText(liveTo))
	}
	var adds []string
	for _, c := range []struct {
		attr string
		d    decimal.Decimal
	}{
		{AttrRemaining, sum.Remaining}, {AttrHeld, sum.Held}, {AttrSpent, sum.Spent},
		{AttrExpired, sum.Expired}, {AttrWithdrawn, sum.Withdrawn}, {AttrRefunded, sum.Refunded},
	} {
		if !c.d.IsZero() {
			adds = append(adds, e.n(c.attr)+" "+e.v(num(c.d)))
		}
	}
	pk, sk := contractPK(first.Contract), lotSK(first.Lot)
	cond, desc := strings.Join(conds, " AND "), strings.Join(what, ", ")
	var w write
	if len(adds) == 0 {
		w = s.check(g[0], desc, pk, sk, cond, e)
	} else {
		w = s.update(g[0], desc, pk, sk, "ADD "+strings.Join(adds, ", "), cond, e)
	}
	if len(g) > 1 {
		w.blame = -1 // which of the merged moves broke the condition is unknown
	}
	return w
}

// endLot sets a lot's end fields, conditioned on their current values being
// the ones the planner read, and keeps end_ns and the sweep index in step.
func (s *Store) endLot(i int, o ledger.EndLot) write {
	e := &expr{}
	conds := []string{"attribute_exists(" + e.n(AttrPK) + ")"}
	var set, remove []string
	for _, f := range []struct {
		attr     string
		now, was time.Time
	}{
		{AttrExpiresAt, o.ExpiresAt, o.WasExpiresAt},
		{AttrWithdrawNoticeAt, o.WithdrawNoticeAt, o.WasNoticeAt},
		{AttrClosesAt, o.ClosesAt, o.WasClosesAt},
	} {
		if f.was.IsZero() {
			conds = append(conds, "attribute_not_exists("+e.n(f.attr)+")")
		} else {
			conds = append(conds, e.n(f.attr)+" = "+e.v(str(timeText(f.was))))
		}
		if f.now.IsZero() {
			remove = append(remove, e.n(f.attr))
		} else {
			set = append(set, e.n(f.attr)+" = "+e.v(str(timeText(f.now))))
		}
	}
	end := ledger.Lot{ExpiresAt: o.ExpiresAt, ClosesAt: o.ClosesAt}.End()
	set = append(set, e.n(AttrEndNs)+" = "+e.v(intNum(lotEndNs(end))))
	if gpk, gsk, ok := lotIndex(o.Contract, o.Lot, end); ok {
		set = append(set, e.n(AttrGSI1PK)+" = "+e.v(str(gpk)), e.n(AttrGSI1SK)+" = "+e.v(str(gsk)))
	} else {
		remove = append(remove, e.n(AttrGSI1PK), e.n(AttrGSI1SK))
	}
	update := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		update += " REMOVE " + strings.Join(remove, ", ")
	}
	what := fmt.Sprintf("lot %s has expires_at=%s, withdraw_notice_at=%s, closes_at=%s",
		o.Lot, optTime(o.WasExpiresAt), optTime(o.WasNoticeAt), optTime(o.WasClosesAt))
	return s.update(i, what, contractPK(o.Contract), lotSK(o.Lot), update, strings.Join(conds, " AND "), e)
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return timeText(t)
}

// addBudgetUsage adds the ops' deltas to a project's month counter. Each
// capped op with a positive delta requires the counter, after its own and
// the earlier ops' deltas, to be within its cap: together, that the counter
// before is at most the least of cap − (deltas so far); an absent counter is
// zero.
func (s *Store) addBudgetUsage(g []int, adds []ledger.AddBudgetUsage) write {
	first := adds[0]
	sum := decimal.Zero
	var room *decimal.Decimal
	absentFits := true
	blame, conditional := g[0], 0
	for k, o := range adds {
		sum = sum.Add(o.Delta)
		if !o.Capped || o.Delta.Sign() <= 0 {
			continue
		}
		if r := o.Cap.Sub(sum); room == nil || r.LessThan(*room) {
			room = &r
		}
		absentFits = absentFits && sum.LessThanOrEqual(o.Cap)
		blame, conditional = g[k], conditional+1
	}
	e := &expr{}
	update := "SET " + e.n(AttrContract) + " = " + e.v(str(first.Contract)) +
		", " + e.n(AttrProject) + " = " + e.v(str(first.Project)) +
		", " + e.n(AttrCurrency) + " = " + e.v(str(string(first.Currency))) +
		", " + e.n(AttrMonth) + " = " + e.v(str(first.Month)) +
		" ADD " + e.n(AttrUsed) + " " + e.v(num(sum))
	cond, what := "", ""
	if room != nil {
		cond = e.n(AttrUsed) + " <= " + e.v(num(*room))
		if absentFits {
			cond = "attribute_not_exists(" + e.n(AttrUsed) + ") OR " + cond
		}
		what = fmt.Sprintf("project %s used ≤ %s in %s (its cap less this spend)", first.Project, *room, first.Month)
	}
	w := s.update(g[0], what, contractPK(first.Contract), budgetUsedSK(first.Project, string(first.Currency), first.Month), update, cond, e)
	if w.blame = blame; conditional > 1 {
		w.blame = -1
	}
	return w
}

// addUsage adds to a report roll-up row, creating it.
func (s *Store) addUsage(op int, adds []ledger.AddUsage) write {
	credits, count := decimal.Zero, int64(0)
	for _, o := range adds {
		credits, count = credits.Add(o.Credits), count+o.Count
	}
	e := &expr{}
	k := adds[0].Key
	var set []string
	for _, f := range []struct{ attr, v string }{
		{AttrContract, k.Contract}, {AttrMonth, k.Month}, {AttrCurrency, string(k.Currency)},
		{AttrUser, k.User}, {AttrService, k.Service}, {AttrProject, k.Project}, {AttrEntity, k.Entity},
	} {
		if f.v != "" {
			set = append(set, e.n(f.attr)+" = "+e.v(str(f.v)))
		}
	}
	update := "ADD " + e.n(AttrCredits) + " " + e.v(num(credits)) + ", " + e.n(AttrCount) + " " + e.v(intNum(count))
	if len(set) > 0 {
		update = "SET " + strings.Join(set, ", ") + " " + update
	}
	return s.update(op, "", contractPK(k.Contract), usageSK(k), update, "", e)
}
