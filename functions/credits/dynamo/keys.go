package dynamo

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"cloudcredits/core/ledger"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Idempotency keys and the consumptions kept with them.
//
// A key's record lives at keyPK (KEY#<scope>#<digest>, sk IDEM). A spend
// made under a key has a keyed id (ledger.KeyedID) that names the same
// digest, so its consumption is kept in the key's record: one item that is
// both, written by one Put (kept): one item for the consumption and the
// key's record, not two. Reading the consumption by
// id goes to the key's record the id names (and to the consumption's own
// item, where a consumption is kept when it is not kept with a key).
//
// The key's record stops answering replays after ledger.IdempotencyRetention,
// but the consumption it keeps lives on: the item has no TTL, and a create
// of the key's record never overwrites an item that keeps a consumption
// (keyFree). When the key is used again after its record expired, that
// create fails; Apply then moves the old consumption to its own item and
// writes the new record over the old in one transaction conditioned on
// the old one being unchanged (moveKept), so a consumption is never lost
// and its id still finds it (the id's digest leads to the key's record,
// which now keeps another id; the consumption's own item has it).

// Option configures a Store.
type Option func(*Store)

// WithLegacyKeysUntil makes the Store honour, until t, idempotency records
// written where they were kept before keyPK (IDEM#<scope>#<key>): reads
// of a key look there too, and a key's create is conditioned on no live
// record there. An upgrade of a table written by an earlier version sets t
// to the upgrade plus ledger.IdempotencyRetention; after t every such
// record has expired.
func WithLegacyKeysUntil(t time.Time) Option {
	return func(s *Store) { s.legacyUntil = t }
}

// WithEntriesFromStream makes a spend's transaction leave its entries to
// the table's stream: the consumption it keeps in its key's record carries
// its debits, from which RollUp writes the entries (ledger.ConsumeEntries)
// with the transaction's stamp. A spend then writes its lots and one more
// item. Entries are then eventually consistent: a lot's entries include a
// spend once the stream has delivered it (usually within a second), and
// an audit catches up first. Only for a table whose stream feeds RollUp
// (the deploy template's, CreateTable's unless WithoutStream).
func WithEntriesFromStream() Option {
	return func(s *Store) { s.entriesFromStream = true }
}

// derivedEntries returns which of writes are the entries of the
// consumption kept at conAt that the stream will write, when the store
// leaves them to it: exactly ledger.ConsumeEntries of that consumption,
// item for item, or none.
func (s *Store) derivedEntries(writes []ledger.Write, conAt int, stamp int64) map[int]bool {
	if !s.entriesFromStream || conAt < 0 {
		return nil
	}
	want := ledger.ConsumeEntries(writes[conAt].Rec.(ledger.Consumption))
	at := map[int]bool{}
	for i, wr := range writes {
		e, ok := wr.Rec.(ledger.Entry)
		if !ok {
			continue
		}
		if wr.Kind != ledger.WriteCreate || len(at) == len(want) || !maps.EqualFunc(entryItem(e, stamp), entryItem(want[len(at)], stamp), sameValue) {
			return nil
		}
		at[i] = true
	}
	if len(at) != len(want) {
		return nil
	}
	return at
}

// sameValue reports whether two attribute values are equal.
func sameValue(a, b types.AttributeValue) bool { return render(a) == render(b) }

// kept finds the consumption a Tx creates under its own key: the indexes of
// the key record's create and of the consumption's create, or -1, -1. The
// consumption is kept in the record when its id names the record's key and
// they agree on contract (the key's scope) and time.
func kept(writes []ledger.Write) (recAt, conAt int) {
	recAt, conAt = -1, -1
	var rec ledger.IdempotencyRecord
	for i, wr := range writes {
		if r, ok := wr.Rec.(ledger.IdempotencyRecord); ok && wr.Kind == ledger.WriteCreate {
			recAt, rec = i, r
		}
	}
	if recAt < 0 {
		return -1, -1
	}
	for i, wr := range writes {
		c, ok := wr.Rec.(ledger.Consumption)
		if !ok || wr.Kind != ledger.WriteCreate {
			continue
		}
		if d, keyed := ledger.DigestOf(c.ID); keyed && d == ledger.KeyDigest(rec.Contract, rec.Key) &&
			c.Contract == rec.Contract && c.CreatedAt.Equal(rec.CreatedAt) {
			return recAt, i
		}
	}
	return -1, -1
}

// keyFree is the condition of a key record's create: there is none, or the
// one there expired by `by` and keeps no consumption.
func keyFree(e *expr, by time.Time) string {
	return "(" + notExists(e) + " OR (" + e.n(AttrExpiresNs) + " <= " + e.v(intNum(clampNs(by))) +
		" AND attribute_not_exists(" + e.n(AttrID) + ")))"
}

// legacyKeyCheck is, while legacy keys are honoured, the condition that the
// key has no live record where records were kept before keyPK.
func (s *Store) legacyKeyCheck(wr ledger.Write) []write {
	rec := wr.Rec.(ledger.IdempotencyRecord)
	if !wr.ExpiredBy.Before(s.legacyUntil) {
		return nil
	}
	e := &expr{}
	cond := notExists(e) + " OR " + e.n(AttrExpiresNs) + " <= " + e.v(intNum(clampNs(wr.ExpiredBy)))
	return []write{s.check(wr.Op, wr.What+" (kept before digests)", legacyIdemPK(rec.Contract, rec.Key), skIdem, cond, e)}
}

// notKeptCheck is, for a consumption with a keyed id created in its own
// item (its Tx creates no record of its key), the condition that its key's
// record does not keep it already.
func (s *Store) notKeptCheck(wr ledger.Write, c ledger.Consumption) []write {
	d, keyed := ledger.DigestOf(c.ID)
	if !keyed {
		return nil
	}
	e := &expr{}
	cond := "attribute_not_exists(" + e.n(AttrID) + ") OR " + e.n(AttrID) + " <> " + e.v(str(c.ID))
	return []write{s.check(wr.Op, wr.What, keyDigestPK(c.Contract, d), skIdem, cond, e)}
}

// keptConsumptions returns which consumptions that writes replace are kept
// in their key's record (the rest have their own item): one strongly
// consistent read each, and only for a refund's Tx, never a spend's.
func (s *Store) keptConsumptions(ctx context.Context, writes []ledger.Write) (map[string]bool, error) {
	var ids map[string]bool
	for _, wr := range writes {
		c, ok := wr.Rec.(ledger.Consumption)
		if !ok || wr.Kind != ledger.WriteReplace {
			continue
		}
		d, keyed := ledger.DigestOf(c.ID)
		if !keyed {
			continue
		}
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &s.table, Key: keyOf(keyDigestPK(c.Contract, d), skIdem), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#id"), ExpressionAttributeNames: map[string]string{"#id": AttrID},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return nil, err
		}
		s.addRead(out.ConsumedCapacity)
		if keyText(out.Item, AttrID) == c.ID {
			if ids == nil {
				ids = map[string]bool{}
			}
			ids[c.ID] = true
		}
	}
	return ids, nil
}

// keptReplace is a replace of a consumption kept in its key's record: the
// consumption's attributes are set, the record's left as they are, on the
// condition that the item still keeps this consumption at the
// version the planner read.
func (s *Store) keptReplace(wr ledger.Write, c ledger.Consumption) write {
	d, _ := ledger.DigestOf(c.ID)
	pk := keyDigestPK(c.Contract, d)
	e := &expr{}
	cond := e.n(AttrID) + " = " + e.v(str(c.ID))
	if wr.Was != ledger.AnyVersion {
		cond += " AND " + versionIs(e, wr.Was)
	}
	var sets []string
	for name, v := range consumptionItem(c) {
		if name != AttrPK && name != AttrSK {
			sets = append(sets, e.n(name)+" = "+e.v(v))
		}
	}
	slices.Sort(sets)
	return s.update(wr.Op, wr.What, pk, skIdem, "SET "+strings.Join(sets, ", "), cond, e)
}

// moveKept handles a key used again after its record expired, when that
// record keeps a consumption: if err is the failed create of a key's record
// (writes' reuse) and the item there is such a record, it returns writes
// with the old consumption moved to its own item and the create
// conditioned on the old item being unchanged. Otherwise nil, nil: err
// stands.
func (s *Store) moveKept(ctx context.Context, err error, writes []write) ([]write, error) {
	var conflict *ledger.ConflictError
	if !errors.As(err, &conflict) {
		return nil, nil
	}
	at := slices.IndexFunc(writes, func(w write) bool { return !w.reuse.IsZero() && w.item.Put != nil })
	if at < 0 {
		return nil, nil
	}
	w := writes[at]
	it, err := s.get(ctx, keyText(w.item.Put.Item, AttrPK), skIdem)
	if err != nil || it == nil || keyText(it, AttrID) == "" {
		return nil, err
	}
	r := reader{it: it}
	if r.i(AttrExpiresNs) > clampNs(w.reuse) {
		return nil, nil // live: the key is in use, a replay or a reused key
	}
	old, err := decodeConsumption(it)
	if err != nil {
		return nil, err
	}
	moved := slices.Clone(writes)
	e := &expr{}
	cond := e.n(AttrID) + " = " + e.v(str(old.ID)) + " AND " + versionIs(e, old.Version)
	moved[at] = s.put(w.op, w.what, w.item.Put.Item, cond, e)
	e = &expr{}
	moved = append(moved, s.put(w.op, "consumption "+old.ID+" moves out of its key's record", consumptionItem(old), notExists(e), e))
	return moved, nil
}
