package dynamo

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloudcredits/core/ledger"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"
)

// Usage roll-ups are not written by the spend's transaction: a consumption
// is its own record of usage, and the table's stream (NEW_AND_OLD_IMAGES)
// carries every consumption written or refunded to RollUp, which the
// roll-up function (functions/lambda/rollup) runs on each batch. So a
// spend writes no row that every spend of a contract shares, and a report
// reads the pre-aggregated rows, which lag the ledger by the stream's
// delay (UsageAsOf says how fresh they are).

// Change is one change of an item as the table's stream carries it: the
// item before (nil when created) and after (nil when deleted), the
// stream's id of the change and its approximate time.
type Change struct {
	EventID string
	At      time.Time
	Old     map[string]types.AttributeValue
	New     map[string]types.AttributeValue
}

// Limits of the roll-up.
const (
	// rollupRowsPerTx is how many roll-up rows one transaction adds to:
	// each row with the usage sums it adds to (one per family), beside
	// the transaction's marker, within DynamoDB's 100 items.
	rollupRowsPerTx = (TransactItemsMax - 1) / (1 + usageSumFamilies)
	// rollupMarkerFor is how long a batch's marker is kept. The stream
	// keeps a change 24 hours, so no batch is delivered again after that.
	rollupMarkerFor = 72 * time.Hour
	pfxRollup       = "ROLLUP#"
	skRollupStatus  = "STATUS"
)

// RollUp adds what a batch of the stream's changes does to usage into the
// roll-up rows: each consumption's credits net of refunds, and one count,
// in the month it was created — exactly what the spend's transaction
// added before, so the rows are the same either way. Changes of other
// items are ignored. Each row is one ADD; the rows are written in
// transactions of at most rollupRowsPerTx, each with a marker named by the
// batch (a hash of its changes' ids) and the transaction's place in it,
// created only if absent: a batch delivered again — the stream delivers
// at least once, and a failed invocation is retried with the same batch —
// finds its markers and adds nothing twice, while the transactions it had
// not finished are done. A change counts exactly once as long as it is
// redelivered in the same batch, which is how Lambda retries a stream
// batch (the event source does not split batches unless told to).
func (s *Store) RollUp(ctx context.Context, changes []Change) error {
	rows, latest, err := usageDeltas(changes)
	if err != nil || len(changes) == 0 {
		return err
	}
	if err := s.writeEntries(ctx, changes); err != nil {
		return err
	}
	batch := batchID(changes)
	for i := 0; i < len(rows); i += rollupRowsPerTx {
		if err := s.rollUpChunk(ctx, batch, i/rollupRowsPerTx, rows[i:min(i+rollupRowsPerTx, len(rows))], latest); err != nil {
			return err
		}
	}
	return s.markRolledUp(ctx, latest)
}

// writeEntries writes the entries of each consumption a change creates
// that left them to the stream (AttrEntriesNs; WithEntriesFromStream):
// ledger.ConsumeEntries of it, stamped as its transaction would have. An
// entry never changes, so writing one again (a batch delivered twice)
// writes the same item.
func (s *Store) writeEntries(ctx context.Context, changes []Change) error {
	var puts []item
	for _, ch := range changes {
		if ch.New == nil || !keepsConsumption(ch.New) || ch.New[AttrEntriesNs] == nil ||
			ch.Old != nil && keyText(ch.Old, AttrID) == keyText(ch.New, AttrID) {
			continue
		}
		c, err := decodeConsumption(ch.New)
		r := reader{it: ch.New}
		stamp := r.i(AttrEntriesNs)
		if err = cmp.Or(err, r.err); err != nil {
			return fmt.Errorf("dynamo: entries of change %s: %w", ch.EventID, err)
		}
		for _, e := range ledger.ConsumeEntries(c) {
			puts = append(puts, entryItem(e, stamp))
		}
	}
	return s.putAll(ctx, puts)
}

// usageDeltas sums a batch's consumption changes by roll-up row, in row
// order, and returns the latest change's time.
func usageDeltas(changes []Change) ([]ledger.Usage, time.Time, error) {
	sums := map[ledger.UsageKey]*ledger.Usage{}
	add := func(img map[string]types.AttributeValue, sign int64) error {
		if img == nil || !keepsConsumption(img) {
			return nil
		}
		c, err := decodeConsumption(img)
		if err != nil {
			return err
		}
		k := ledger.UsageKey{Contract: c.Contract, Month: ledger.Month(c.CreatedAt), Currency: c.Currency,
			User: c.User, Service: c.Service, Project: c.Project, Entity: c.Entity}
		u, ok := sums[k]
		if !ok {
			u = &ledger.Usage{Key: k, Credits: decimal.Zero}
			sums[k] = u
		}
		u.Credits = u.Credits.Add(c.Credits.Sub(c.Refunded).Mul(decimal.NewFromInt(sign)))
		u.Count += sign
		return nil
	}
	var latest time.Time
	for _, ch := range changes {
		if err := errors.Join(add(ch.Old, -1), add(ch.New, 1)); err != nil {
			return nil, time.Time{}, fmt.Errorf("dynamo: roll up change %s: %w", ch.EventID, err)
		}
		if ch.At.After(latest) {
			latest = ch.At
		}
	}
	rows := make([]ledger.Usage, 0, len(sums))
	for _, u := range sums {
		if !u.Credits.IsZero() || u.Count != 0 {
			rows = append(rows, *u)
		}
	}
	slices.SortFunc(rows, func(a, b ledger.Usage) int { return cmp.Compare(usageSK(a.Key), usageSK(b.Key)) })
	return rows, latest, nil
}

// batchID names a batch by its changes' ids.
func batchID(changes []Change) string {
	h := sha256.New()
	for _, ch := range changes {
		h.Write([]byte(ch.EventID + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// rollUpChunk adds rows in one transaction with the chunk's marker.
func (s *Store) rollUpChunk(ctx context.Context, batch string, chunk int, rows []ledger.Usage, at time.Time) error {
	marker := keyOf(pfxRollup+batch, fmt.Sprintf("CHUNK#%d", chunk))
	marker.i(AttrTTL, at.Add(rollupMarkerFor).Unix())
	e := &expr{}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: marker,
		ConditionExpression: aws.String(notExists(e)), ExpressionAttributeNames: e.names}}}
	adds := make([]ledger.Write, len(rows))
	for i, u := range rows {
		adds[i] = ledger.Write{Kind: ledger.WriteAdd, Rec: u, Op: i, Adds: []ledger.Add{
			{Counter: ledger.CounterCredits, By: u.Credits}, {Counter: ledger.CounterCount, By: decimal.NewFromInt(u.Count)},
		}}
		it, _, err := recordItem(u, 0)
		if err != nil {
			return err
		}
		items = append(items, s.add(adds[i], it, &expr{}).item)
	}
	// The rows' coarser sums (usagesum.go) follow them in the same write.
	sums, err := s.usageSumWrites(adds)
	if err != nil {
		return err
	}
	for _, w := range sums {
		items = append(items, w.item)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) && len(cancelled.CancellationReasons) > 0 &&
		aws.ToString(cancelled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return nil // this chunk of this batch was rolled up already
	}
	if err != nil {
		return fmt.Errorf("dynamo: roll up batch %s chunk %d: %w", batch, chunk, err)
	}
	return nil
}

// markRolledUp moves the roll-up's status on to at (never back): the time
// of the latest change it has added, which UsageAsOf reports.
func (s *Store) markRolledUp(ctx context.Context, at time.Time) error {
	e := &expr{}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(pfxRollup+skRollupStatus, skRollupStatus),
		UpdateExpression:         aws.String("SET " + e.n(AttrAt) + " = " + e.v(intNum(clampNs(at)))),
		ConditionExpression:      aws.String("attribute_not_exists(" + e.n(AttrAt) + ") OR " + e.n(AttrAt) + " < " + e.v(intNum(clampNs(at)))),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil // a later batch got there first
	}
	if err != nil {
		return fmt.Errorf("dynamo: roll-up status: %w", err)
	}
	return nil
}

// UsageAsOf is how fresh the roll-up rows are: every consumption the
// stream delivered up to this time is in them (zero: none yet). The
// stream usually delivers a change within a second of its write.
func (s *Store) UsageAsOf(ctx context.Context) (time.Time, error) {
	it, err := s.get(ctx, pfxRollup+skRollupStatus, skRollupStatus)
	if err != nil || it == nil {
		return time.Time{}, err
	}
	r := reader{it: it}
	ns := r.i(AttrAt)
	return time.Unix(0, ns).UTC(), r.err
}

// batchWriteMax is DynamoDB's limit on requests per BatchWriteItem.
const batchWriteMax = 25

// putAll puts items with BatchWriteItem, sending again what DynamoDB left
// unprocessed (with the same back-off and rounds as batchGet).
func (s *Store) putAll(ctx context.Context, items []item) error {
	for start := 0; start < len(items); start += batchWriteMax {
		var pending []types.WriteRequest
		for _, it := range items[start:min(start+batchWriteMax, len(items))] {
			pending = append(pending, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for round := 0; len(pending) > 0; round++ {
			if round == batchGetRetriesMax {
				return fmt.Errorf("dynamo: batch write: %d items still unprocessed after %d rounds", len(pending), round)
			}
			if round > 0 {
				if err := sleep(ctx, time.Duration(1<<round)*10*time.Millisecond); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{s.table: pending},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				return fmt.Errorf("dynamo: batch write: %w", err)
			}
			s.addWrite(false, out.ConsumedCapacity...)
			pending = out.UnprocessedItems[s.table]
		}
	}
	return nil
}
