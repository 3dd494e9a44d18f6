package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

	// legacyUntil is until when records kept before keyPK are honoured
	// (WithLegacyKeysUntil).
	legacyUntil time.Time
	// entriesFromStream: a spend's entries are written from the table's
	// stream, not by its transaction (WithEntriesFromStream).
	entriesFromStream bool

	mu        sync.Mutex
	consumed  Capacity
	last      Capacity
	lastStamp int64
}

var _ ledger.Store = (*Store)(nil)

// New returns a Store on table, which CreateTable (or the deploy template)
// made. Its transient failures carry core.CodeUnavailable (transient.go).
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{db: withUnavailable(client), table: table, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
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
	op   int    // index in Tx.Ops of the op it came from, named when its condition fails
	what string // the condition, for ConflictError.Reason
	item types.TransactWriteItem
	// reuse is set on the create of a key's record: the time by which a
	// record there must have expired for the key to be used again.
	reuse time.Time
}

func (s *Store) put(op int, what string, it item, cond string, e *expr) write {
	p := &types.Put{TableName: &s.table, Item: it}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames, p.ExpressionAttributeValues = e.names, e.values
	}
	return write{op: op, what: what,
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
	return write{op: op, what: what, item: types.TransactWriteItem{Update: u}}
}

func (s *Store) check(op int, what, pk, sk, cond string, e *expr) write {
	c := &types.ConditionCheck{
		TableName: &s.table, Key: keyOf(pk, sk), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	}
	return write{op: op, what: what, item: types.TransactWriteItem{ConditionCheck: c}}
}

func keyText(it item, name string) string {
	if s, ok := it[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// notExists is the condition of every create.
func notExists(e *expr) string { return "attribute_not_exists(" + e.n(AttrPK) + ")" }

// Apply performs every op of tx in one TransactWriteItems call, or none.
func (s *Store) Apply(ctx context.Context, tx ledger.Tx) error {
	if len(tx.Ops) == 0 {
		return nil
	}
	lowered, err := tx.Writes()
	if err != nil {
		return fmt.Errorf("dynamo: refusing a transaction that breaks a ledger invariant: %w", err)
	}
	keptIDs, err := s.keptConsumptions(ctx, lowered)
	if err != nil {
		return err
	}
	writes, err := s.plan(lowered, s.stamp(), keptIDs)
	if err != nil {
		return err
	}
	err = s.transact(ctx, writes)
	moved, merr := s.moveKept(ctx, err, writes)
	switch {
	case merr != nil:
		return merr
	case moved != nil:
		// The key was used more than ledger.IdempotencyRetention ago, and
		// its record keeps that use's consumption: moved out, once.
		return s.transact(ctx, moved)
	}
	return err
}

// transact sends writes as one TransactWriteItems call.
func (s *Store) transact(ctx context.Context, writes []write) error {
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
				return &ledger.ConflictError{Op: writes[i].op, Reason: code + ": " + writes[i].what}
			}
		}
	}
	return fmt.Errorf("dynamo: transaction cancelled (reasons %s): %w", strings.Join(codes, ","), err)
}

// plan turns a Tx's writes into transaction items, one per record (and a
// directory entry with each lot and order created), each carrying its
// write's condition: the one switch over the primitives. stamp orders the
// Tx's entries after every earlier Apply's.
func (s *Store) plan(writes []ledger.Write, stamp int64, keptIDs map[string]bool) ([]write, error) {
	out := make([]write, 0, len(writes))
	if writesConsumption(writes) {
		// The consumption this Tx writes carries the same usage to the
		// roll-up through the table's stream (RollUp): the spend writes no
		// row that every spend of its contract would share.
		writes = slices.DeleteFunc(slices.Clone(writes), func(wr ledger.Write) bool {
			_, usage := wr.Rec.(ledger.Usage)
			return usage
		})
	}
	recAt, conAt := kept(writes)
	derived := s.derivedEntries(writes, conAt, stamp)
	for i, wr := range writes {
		if i == recAt || derived[i] {
			continue // written with the consumption it keeps, at conAt, or from the stream
		}
		if i == conAt {
			rec := writes[recAt]
			e := &expr{}
			it := keptItem(rec.Rec.(ledger.IdempotencyRecord), wr.Rec.(ledger.Consumption))
			if len(derived) > 0 {
				it.i(AttrEntriesNs, stamp)
			}
			w := s.put(rec.Op, rec.What, it, keyFree(e, rec.ExpiredBy), e)
			w.reuse = rec.ExpiredBy
			out = append(out, w)
			out = append(out, s.legacyKeyCheck(rec)...)
			continue
		}
		if c, ok := wr.Rec.(ledger.Consumption); ok && keptIDs[c.ID] && wr.Kind == ledger.WriteReplace {
			out = append(out, s.keptReplace(wr, c))
			continue
		}
		it, extras, err := recordItem(wr.Rec, stamp)
		if err != nil {
			return nil, err
		}
		if lot, ok := wr.Rec.(ledger.Lot); ok && wr.Kind != ledger.WriteAdd && wr.Kind != ledger.WriteCheck && !lot.Conserves() {
			return nil, fmt.Errorf("dynamo: lot %s/%s would not conserve credits", lot.Contract, lot.ID)
		}
		e := &expr{}
		pk, sk := keyText(it, AttrPK), keyText(it, AttrSK)
		switch wr.Kind {
		case ledger.WriteCreate:
			cond := notExists(e)
			if !wr.ExpiredBy.IsZero() {
				cond = keyFree(e, wr.ExpiredBy)
			}
			w := s.put(wr.Op, wr.What, it, cond, e)
			w.reuse = wr.ExpiredBy
			out = append(out, w)
			if _, ok := wr.Rec.(ledger.IdempotencyRecord); ok {
				out = append(out, s.legacyKeyCheck(wr)...)
			}
			if c, ok := wr.Rec.(ledger.Consumption); ok {
				out = append(out, s.notKeptCheck(wr, c)...)
			}
			for _, x := range extras {
				// A directory entry exists exactly when its record does, so
				// it needs no condition of its own.
				out = append(out, s.put(wr.Op, "", x, "", &expr{}))
			}
		case ledger.WriteReplace:
			cond := ""
			if wr.Was != ledger.AnyVersion {
				cond = versionIs(e, wr.Was)
			}
			out = append(out, s.put(wr.Op, wr.What, it, cond, e))
		case ledger.WriteCheck:
			out = append(out, s.check(wr.Op, wr.What, pk, sk, versionIs(e, wr.Was), e))
		case ledger.WriteAdd:
			out = append(out, s.add(wr, it, e))
		default:
			return nil, fmt.Errorf("dynamo: write %d: unknown kind %v", wr.Op, wr.Kind)
		}
	}
	sums, err := s.usageSumWrites(writes)
	if err != nil {
		return nil, err
	}
	out = append(out, sums...)
	if len(out) > TransactItemsMax {
		return nil, fmt.Errorf("dynamo: a transaction of %d items exceeds DynamoDB's limit of %d (ledger.LotsPerSpendMax should prevent this)",
			len(out), TransactItemsMax)
	}
	return out, nil
}

// versionIs is the condition that an item is at version was: 0 is no item;
// an item written before records carried versions is at version 1.
func versionIs(e *expr, was int64) string {
	switch was {
	case 0:
		return notExists(e)
	case 1:
		return "attribute_exists(" + e.n(AttrPK) + ") AND (attribute_not_exists(" + e.n(AttrVersion) + ") OR " +
			e.n(AttrVersion) + " = " + e.v(intNum(1)) + ")"
	}
	return e.n(AttrVersion) + " = " + e.v(intNum(was))
}

// add is an Add write: ADD each counter, conditioned on its bounds after the
// add (a missing counter is zero), on the item existing when MustExist, and
// on a lot being live at LiveAt; a record created by it gets its other
// attributes (its key fields) with SET. An Add to a lot moves its version on.
func (s *Store) add(wr ledger.Write, it item, e *expr) write {
	var conds, adds, sets []string
	if wr.MustExist {
		conds = append(conds, "attribute_exists("+e.n(AttrPK)+")")
	}
	counters := map[string]bool{}
	for _, a := range wr.Adds {
		attr := counterAttr[a.Counter]
		counters[attr] = true
		adds = append(adds, e.n(attr)+" "+e.v(num(a.By)))
		// After the add, counter + by must be within the bounds: the
		// counter before is compared with the bound less by.
		for _, b := range []struct {
			bound *decimal.Decimal
			op    string
			fits  func(decimal.Decimal) bool
		}{
			{a.AtLeast, " >= ", func(x decimal.Decimal) bool { return a.By.GreaterThanOrEqual(x) }},
			{a.AtMost, " <= ", func(x decimal.Decimal) bool { return a.By.LessThanOrEqual(x) }},
		} {
			if b.bound == nil {
				continue
			}
			c := e.n(attr) + b.op + e.v(num(b.bound.Sub(a.By)))
			if !wr.MustExist && b.fits(*b.bound) {
				c = "(attribute_not_exists(" + e.n(attr) + ") OR " + c + ")"
			}
			conds = append(conds, c)
		}
	}
	if !wr.LiveAt.IsZero() {
		at := intNum(clampNs(wr.LiveAt))
		conds = append(conds, e.n(AttrEffNs)+" <= "+e.v(at), e.n(AttrEndNs)+" > "+e.v(at))
	}
	var removes []string
	if _, isLot := wr.Rec.(ledger.Lot); isLot {
		adds = append(adds, e.n(AttrVersion)+" "+e.v(intNum(1)))
		sets, removes = poolMembership(wr, e)
	} else {
		for name, v := range it {
			if name != AttrPK && name != AttrSK && !counters[name] {
				sets = append(sets, e.n(name)+" = "+e.v(v))
			}
		}
		slices.Sort(sets)
	}
	update := ""
	if len(sets) > 0 {
		update = "SET " + strings.Join(sets, ", ") + " "
	}
	if len(removes) > 0 {
		update += "REMOVE " + strings.Join(removes, ", ") + " "
	}
	pk, sk := keyText(it, AttrPK), keyText(it, AttrSK)
	cond := strings.Join(conds, " AND ")
	if len(adds) == 0 {
		return s.check(wr.Op, wr.What, pk, sk, cond, e)
	}
	return s.update(wr.Op, wr.What, pk, sk, update+"ADD "+strings.Join(adds, ", "), cond, e)
}

// poolMembership keeps a lot's place in IndexPool (there while it has
// credits remaining) in step with an Add: one that takes exactly what the
// lot had left (remaining bounded to 0 after it, ledger.MoveLot.Empties)
// removes the index keys; one that gives credits back copies them from the
// lot's own AttrPoolPK and AttrPoolSK. Any other Add leaves them.
func poolMembership(wr ledger.Write, e *expr) (sets, removes []string) {
	for _, a := range wr.Adds {
		if a.Counter != ledger.CounterRemaining {
			continue
		}
		switch {
		case a.AtMost != nil && a.AtMost.IsZero() && a.By.Sign() < 0:
			return nil, []string{e.n(AttrGSI2PK), e.n(AttrGSI2SK)}
		case a.By.Sign() > 0:
			return []string{e.n(AttrGSI2PK) + " = " + e.n(AttrPoolPK), e.n(AttrGSI2SK) + " = " + e.n(AttrPoolSK)}, nil
		}
	}
	return nil, nil
}

// writesConsumption reports whether writes create or replace a consumption:
// the planners add to usage only beside the consumption that causes it.
func writesConsumption(writes []ledger.Write) bool {
	for _, wr := range writes {
		if _, ok := wr.Rec.(ledger.Consumption); ok && (wr.Kind == ledger.WriteCreate || wr.Kind == ledger.WriteReplace) {
			return true
		}
	}
	return false
}
