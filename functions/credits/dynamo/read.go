package dynamo

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/internal/directory"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"
)

const (
	batchGetMax        = 100 // DynamoDB's limit on keys per BatchGetItem
	batchGetRetriesMax = 8   // rounds of unprocessed keys before giving up
	indexPageSize      = 100
)

// get reads one item with a strongly consistent read; nil when absent.
func (s *Store) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo: get %s|%s: %w", pk, sk, err)
	}
	s.addRead(out.ConsumedCapacity)
	return out.Item, nil
}

// query reads every item of partition pk whose sort key is in [from, to]
// (to empty: sort key begins with from), strongly consistent, in sort-key
// order, failing when there are more than max.
func (s *Store) query(ctx context.Context, pk, from, to string, max int, fn func(map[string]types.AttributeValue) error) error {
	e := &expr{}
	cond := e.n(AttrPK) + " = " + e.v(str(pk)) + " AND "
	if to == "" {
		cond += "begins_with(" + e.n(AttrSK) + ", " + e.v(str(from)) + ")"
	} else {
		cond += e.n(AttrSK) + " BETWEEN " + e.v(str(from)) + " AND " + e.v(str(to))
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String(cond),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
		ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	n := 0
	return s.pages(ctx, in, "query "+pk+" "+from, func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			if n++; n > max {
				return true, fmt.Errorf("dynamo: %s has more than %d items under %s", pk, max, from)
			}
			if err := fn(it); err != nil {
				return true, err
			}
		}
		return false, nil
	})
}

// pages runs a Query page by page, passing each page's items to fn until
// fn says stop or there are no more pages.
func (s *Store) pages(ctx context.Context, in *dynamodb.QueryInput, what string, fn func([]map[string]types.AttributeValue) (stop bool, err error)) error {
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("dynamo: %s: %w", what, err)
		}
		s.addRead(out.ConsumedCapacity)
		if stop, err := fn(out.Items); stop || err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// decodeInto appends the decoded items to out.
func decodeInto[T any](out []T, items []map[string]types.AttributeValue, decode func(map[string]types.AttributeValue) (T, error)) ([]T, error) {
	for _, it := range items {
		x, err := decode(it)
		if err != nil {
			return out, err
		}
		out = append(out, x)
	}
	return out, nil
}

// queryAll decodes every item query reads (see there), in sort-key order.
func queryAll[T any](ctx context.Context, s *Store, pk, from, to string, max int, decode func(map[string]types.AttributeValue) (T, error)) ([]T, error) {
	out := []T{}
	err := s.query(ctx, pk, from, to, max, func(it map[string]types.AttributeValue) error {
		x, err := decode(it)
		out = append(out, x)
		return err
	})
	return out, err
}

// getOne reads and decodes one item; not found (named kind and id) when it
// is absent.
func getOne[T any](ctx context.Context, s *Store, pk, sk string, decode func(map[string]types.AttributeValue) (T, error), kind, id string) (T, error) {
	var zero T
	it, err := s.get(ctx, pk, sk)
	if err != nil {
		return zero, err
	}
	if it == nil {
		return zero, ledger.NotFound(kind, id)
	}
	return decode(it)
}

// directoryContract reads the one contract a directory partition (of a lot
// or an order id) names.
func (s *Store) directoryContract(ctx context.Context, pk, kind, id string) (string, error) {
	contracts, err := queryAll(ctx, s, pk, pfxContract, "", ReadItemsMax, func(it map[string]types.AttributeValue) (string, error) {
		r := reader{it: it}
		return r.s(AttrContract), r.err
	})
	if err != nil {
		return "", err
	}
	return directory.OneContract(kind, id, contracts)
}

// Contract reads a contract.
func (s *Store) Contract(ctx context.Context, id string) (ledger.Contract, error) {
	return getOne(ctx, s, contractPK(id), skContract, decodeContract, "contract", id)
}

// Contracts pages through the contract directory: the CONTRACTS partition
// of the sweep index, whose sort key is the contract id (keys only; no item
// is read).
func (s *Store) Contracts(ctx context.Context, after string, limit int) ([]string, error) {
	out := []string{}
	if limit <= 0 {
		return out, nil
	}
	e := &expr{}
	cond := e.n(AttrGSI1PK) + " = " + e.v(str(gsiContracts))
	if after != "" {
		cond += " AND " + e.n(AttrGSI1SK) + " > " + e.v(str(after))
	}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(IndexSweep), KeyConditionExpression: aws.String(cond),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	in.Limit = aws.Int32(int32(min(limit, indexPageSize)))
	err := s.pages(ctx, in, "query the contract directory", func(items []map[string]types.AttributeValue) (bool, error) {
		for _, it := range items {
			out = append(out, keyText(it, AttrGSI1SK))
		}
		in.Limit = aws.Int32(int32(min(limit-len(out), indexPageSize)))
		return len(out) >= limit, nil
	})
	if err != nil {
		return nil, err
	}
	return out[:min(limit, len(out))], nil
}

// User reads a contract user.
func (s *Store) User(ctx context.Context, contract, user string) (ledger.User, error) {
	return getOne(ctx, s, contractPK(contract), userSK(user), decodeUser, "user", user)
}

// Users reads every user of a contract, ordered by id.
func (s *Store) Users(ctx context.Context, contract string) ([]ledger.User, error) {
	users, err := queryAll(ctx, s, contractPK(contract), skUser, "", ReadItemsMax, decodeUser)
	return users, err
}

// Granted reports whether the user's one-time grant was marked.
func (s *Store) Granted(ctx context.Context, contract, user string) (bool, error) {
	it, err := s.get(ctx, contractPK(contract), grantSK(user))
	return it != nil, err
}

// Lots reads a page of a contract's lots, ordered by id (the sort key
// LOT#<id> after LOT#<after>).
func (s *Store) Lots(ctx context.Context, contract, after string, limit int) ([]ledger.Lot, error) {
	limit = min(max(limit, 0), ledger.LotsPageMax)
	if limit == 0 {
		return []ledger.Lot{}, nil
	}
	e := &expr{}
	// Keys after LOT#<after> and before LOT$ ('$' follows '#').
	in := &dynamodb.QueryInput{
		TableName: &s.table,
		KeyConditionExpression: aws.String(e.n(AttrPK) + " = " + e.v(str(contractPK(contract))) + " AND " +
			e.n(AttrSK) + " BETWEEN " + e.v(str(lotSK(after)+"\x00")) + " AND " + e.v(str("LOT$"))),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
		ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit)),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	lots := []ledger.Lot{}
	err := s.pages(ctx, in, "lots of "+contract, func(items []map[string]types.AttributeValue) (bool, error) {
		var err error
		lots, err = decodeInto(lots, items, decodeLot)
		return len(lots) >= limit || err != nil, err
	})
	return lots[:min(len(lots), limit)], err
}

// SpendLots reads IndexPool: the shared pool's and the user's lots with
// credits left that end after at — two Queries, sent together. The index
// is eventually consistent (see the package doc for what that can cost a
// spend, and why it never costs money).
func (s *Store) SpendLots(ctx context.Context, contract, user string, at time.Time) ([]ledger.Lot, error) {
	pools := []string{"U#" + user, "S"}
	found := make([][]ledger.Lot, len(pools))
	errs := make([]error, len(pools))
	var wg sync.WaitGroup
	for i, pool := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i], errs[i] = s.poolLots(ctx, contract, pool, at)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return append(found[0], found[1]...), nil
}

// poolLots reads one pool's lots from IndexPool, in burn order.
func (s *Store) poolLots(ctx context.Context, contract, pool string, at time.Time) ([]ledger.Lot, error) {
	from, to := poolRange(pool, at)
	e := &expr{}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(IndexPool),
		KeyConditionExpression: aws.String(e.n(AttrGSI2PK) + " = " + e.v(str(poolPK(contract))) + " AND " +
			e.n(AttrGSI2SK) + " BETWEEN " + e.v(str(from)) + " AND " + e.v(str(to))),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	lots := []ledger.Lot{}
	err := s.pages(ctx, in, "pool "+pool+" of "+contract, func(items []map[string]types.AttributeValue) (bool, error) {
		var err error
		lots, err = decodeInto(lots, items, decodeLot)
		return err != nil, err
	})
	return lots, err
}

// OwnerLots reads the user's OWNS# directory items in the contract's
// partition, then the lots they name (strongly consistent).
func (s *Store) OwnerLots(ctx context.Context, contract, user string) ([]ledger.Lot, error) {
	ids, err := queryAll(ctx, s, contractPK(contract), skOwns+user+"#", "", ReadItemsMax, func(it map[string]types.AttributeValue) (string, error) {
		r := reader{it: it}
		return r.s(AttrLot), r.err
	})
	if err != nil {
		return nil, err
	}
	keys := make([]item, len(ids))
	for i, id := range ids {
		keys[i] = keyOf(contractPK(contract), lotSK(id))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	lots := make([]ledger.Lot, 0, len(items))
	for _, it := range items {
		l, err := decodeLot(it)
		if err != nil {
			return nil, err
		}
		lots = append(lots, l)
	}
	slices.SortFunc(lots, func(a, b ledger.Lot) int { return strings.Compare(a.ID, b.ID) })
	return lots, nil
}

// Lot reads one lot.
func (s *Store) Lot(ctx context.Context, contract, id string) (ledger.Lot, error) {
	return getOne(ctx, s, contractPK(contract), lotSK(id), decodeLot, "lot", id)
}

// LotContract returns the contract of the lot with this id, from the lot
// directory (one strongly consistent query).
func (s *Store) LotContract(ctx context.Context, lot string) (string, error) {
	return s.directoryContract(ctx, lotDirPK(lot), "lot", lot)
}

// Order reads one order.
func (s *Store) Order(ctx context.Context, contract, id string) (ledger.Order, error) {
	return getOne(ctx, s, contractPK(contract), orderSK(id), decodeOrder, "order", id)
}

// QuoteAcceptance reads a quote's acceptance (one item in the quote's own
// partition); not_found when it has none.
func (s *Store) QuoteAcceptance(ctx context.Context, quoteID string) (ledger.QuoteAcceptance, error) {
	return getOne(ctx, s, quotePK(quoteID), skAcceptance, decodeQuoteAcceptance, "acceptance of quote", quoteID)
}

// Orders reads every order of a contract (one query on its partition),
// oldest first, at most ledger.OrdersPerContractMax.
func (s *Store) Orders(ctx context.Context, contract string) ([]ledger.Order, error) {
	orders, err := queryAll(ctx, s, contractPK(contract), skOrder, "", ledger.OrdersPerContractMax, decodeOrder)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(orders, func(a, b ledger.Order) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return orders, nil
}

// OrderContract returns the contract of the order with this id, from the
// order directory (one strongly consistent query); an id two contracts use
// is refused.
func (s *Store) OrderContract(ctx context.Context, id string) (string, error) {
	return s.directoryContract(ctx, orderDirPK(id), "order", id)
}

// Hold reads one hold.
func (s *Store) Hold(ctx context.Context, contract, id string) (ledger.Hold, error) {
	return getOne(ctx, s, holdPK(contract, id), skHold, decodeHold, "hold", id)
}

// Consumption reads one consumption: from the key's record its keyed id
// names (keys.go) and its own item at once, or from its own item alone.
func (s *Store) Consumption(ctx context.Context, contract, id string) (ledger.Consumption, error) {
	d, keyed := ledger.DigestOf(id)
	if !keyed {
		return getOne(ctx, s, consumptionPK(contract, id), skConsumption, decodeConsumption, "consumption", id)
	}
	items, err := s.batchGet(ctx, []item{keyOf(keyDigestPK(contract, d), skIdem), keyOf(consumptionPK(contract, id), skConsumption)})
	if err != nil {
		return ledger.Consumption{}, err
	}
	for _, it := range items {
		if keyText(it, AttrID) == id && keyText(it, AttrContract) == contract {
			return decodeConsumption(it)
		}
	}
	return ledger.Consumption{}, ledger.NotFound("consumption", id)
}

// Budget reads a project's cap in a currency.
func (s *Store) Budget(ctx context.Context, contract, project string, currency core.Currency) (ledger.Budget, bool, error) {
	it, err := s.get(ctx, contractPK(contract), budgetSK(project, string(currency)))
	if err != nil || it == nil {
		return ledger.Budget{}, false, err
	}
	b, err := decodeBudget(it)
	return b, err == nil, err
}

// BudgetUsed reads a project's month counter, zero when absent.
func (s *Store) BudgetUsed(ctx context.Context, contract, project string, currency core.Currency, month string) (decimal.Decimal, error) {
	it, err := s.get(ctx, contractPK(contract), budgetUsedSK(project, string(currency), month))
	if err != nil {
		return decimal.Zero, err
	}
	r := reader{it: it}
	used := r.n(AttrUsed)
	return used, r.err
}

// Idempotency reads the record for (contract, key) if it is live at `at`;
// TTL may not have deleted an expired one yet, so expiry is checked here.
// While legacy keys are honoured (WithLegacyKeysUntil) it reads where
// records were kept before as well, in the same call.
func (s *Store) Idempotency(ctx context.Context, contract, key string, at time.Time) (ledger.IdempotencyRecord, bool, error) {
	var items []map[string]types.AttributeValue
	var err error
	if at.Before(s.legacyUntil) {
		items, err = s.batchGet(ctx, []item{keyOf(keyPK(contract, key), skIdem), keyOf(legacyIdemPK(contract, key), skIdem)})
	} else {
		var it map[string]types.AttributeValue
		if it, err = s.get(ctx, keyPK(contract, key), skIdem); it != nil {
			items = append(items, it)
		}
	}
	if err != nil {
		return ledger.IdempotencyRecord{}, false, err
	}
	for _, it := range items {
		rec, err := decodeIdem(it)
		if err != nil {
			return ledger.IdempotencyRecord{}, false, err
		}
		if rec.Key == key && rec.LiveAt(at) {
			return rec, true, nil
		}
	}
	return ledger.IdempotencyRecord{}, false, nil
}

// Entries reads a lot's entries in write order: by the stamp of the Apply
// that wrote them, then by id with the ".<seq>" suffix compared as a number.
func (s *Store) Entries(ctx context.Context, contract, lot string) ([]ledger.Entry, error) {
	type stamped struct {
		e     ledger.Entry
		stamp int64
		key   string
	}
	var all []stamped
	err := s.query(ctx, entriesPK(contract, lot), skEntry, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		e, err := decodeEntry(it)
		r := reader{it: it}
		all = append(all, stamped{e: e, stamp: r.i(AttrWrittenNs), key: sortableID(e.ID)})
		return cmp.Or(err, r.err)
	})
	slices.SortFunc(all, func(a, b stamped) int { return cmp.Or(cmp.Compare(a.stamp, b.stamp), strings.Compare(a.key, b.key)) })
	entries := make([]ledger.Entry, len(all))
	for i, x := range all {
		entries[i] = x.e
	}
	return entries, err
}

// Usage reads the roll-up rows of months fromMonth..toMonth: one range query
// on the contract's partition.
func (s *Store) Usage(ctx context.Context, contract, fromMonth, toMonth string) ([]ledger.Usage, error) {
	if toMonth < fromMonth {
		return []ledger.Usage{}, nil
	}
	// Every row of month m has a sort key starting "USAGE#m#"; '$' sorts
	// right after '#', so "USAGE#to$" is above all of month `to`.
	return queryAll(ctx, s, contractPK(contract), skUsage+fromMonth+"#", skUsage+toMonth+"$", ReadItemsMax, decodeUsage)
}

// Attempts reads the refused spend attempts of a contract, oldest first.
func (s *Store) Attempts(ctx context.Context, contract string) ([]ledger.Attempt, error) {
	attempts, err := queryAll(ctx, s, contractPK(contract), skAttempt, "", ReadItemsMax, decodeAttempt)
	return attempts, err
}

// sweepIndex reads, shard by shard, the items whose sweep-index keys under
// prefix skCond selects (given the expression being built), examining at
// most scanMax index keys per shard. Each page's items are read strongly
// consistent and decoded; those keep accepts are returned. A shard is left
// once full says so, given how many were kept from it and in all; full is
// asked before a shard's first page too.
func sweepIndex[T any](ctx context.Context, s *Store, prefix string, skCond func(*expr) string, scanMax int,
	decode func(map[string]types.AttributeValue) (T, error), keep func(T) bool, full func(inShard, total int) bool) ([]T, error) {
	kept := []T{}
	for shard := range IndexShards {
		if full(0, len(kept)) {
			break
		}
		gsiPK := prefix + strconv.Itoa(shard)
		e := &expr{}
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(IndexSweep),
			KeyConditionExpression:   aws.String(e.n(AttrGSI1PK) + " = " + e.v(str(gsiPK)) + " AND " + skCond(e)),
			ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
			Limit: aws.Int32(indexPageSize), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		}
		seen, inShard := 0, 0
		err := s.pages(ctx, in, "query index "+IndexSweep+" "+gsiPK, func(page []map[string]types.AttributeValue) (bool, error) {
			seen += len(page)
			keys := make([]item, len(page))
			for i, it := range page {
				keys[i] = keyOf(keyText(it, AttrPK), keyText(it, AttrSK))
			}
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return true, err
			}
			for _, it := range items {
				x, err := decode(it)
				if err != nil {
					return true, err
				}
				if keep(x) {
					kept = append(kept, x)
					inShard++
				}
			}
			return seen >= scanMax || full(inShard, len(kept)), nil
		})
		if err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// keysUpTo selects sweep-index keys at or before at.
func keysUpTo(at time.Time) func(*expr) string {
	return func(e *expr) string { return e.n(AttrGSI1SK) + " < " + e.v(str(timeKey(at)+"$")) }
}

// shardFull leaves a shard once limit items were kept from it.
func shardFull(limit int) func(inShard, total int) bool {
	return func(inShard, _ int) bool { return inShard >= limit }
}

// batchGet reads items by key with strongly consistent reads, in key order;
// absent items are left out.
func (s *Store) batchGet(ctx context.Context, keys []item) ([]map[string]types.AttributeValue, error) {
	found := map[[2]string]map[string]types.AttributeValue{}
	for start := 0; start < len(keys); start += batchGetMax {
		pending := make([]map[string]types.AttributeValue, 0, batchGetMax)
		for _, k := range keys[start:min(start+batchGetMax, len(keys))] {
			pending = append(pending, k)
		}
		for round := 0; len(pending) > 0; round++ {
			if round == batchGetRetriesMax {
				return nil, fmt.Errorf("dynamo: batch get: %d keys still unprocessed after %d rounds", len(pending), round)
			}
			if round > 0 {
				if err := sleep(ctx, time.Duration(1<<round)*10*time.Millisecond); err != nil {
					return nil, err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems:           map[string]types.KeysAndAttributes{s.table: {Keys: pending, ConsistentRead: aws.Bool(true)}},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				return nil, fmt.Errorf("dynamo: batch get: %w", err)
			}
			for _, c := range out.ConsumedCapacity {
				s.addRead(&c)
			}
			for _, it := range out.Responses[s.table] {
				found[[2]string{keyText(it, AttrPK), keyText(it, AttrSK)}] = it
			}
			pending = out.UnprocessedKeys[s.table].Keys
		}
	}
	items := make([]map[string]types.AttributeValue, 0, len(found))
	for _, k := range keys {
		if it, ok := found[[2]string{keyText(k, AttrPK), keyText(k, AttrSK)}]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// EndedLots returns up to limit lots, of any contract, that ended at or
// before `at` and still have remaining credits, soonest end first — and
// with them the finished lots (nothing remaining, nothing held) that ended
// ledger.RetireGrace before `at` and are still in the sweep index, for the
// sweep to retire (ledger.PlanRetireLot): a retired lot leaves the index,
// so what one call reads follows the sweep's work, not the table's history.
// It writes nothing.
func (s *Store) EndedLots(ctx context.Context, at time.Time, limit int) ([]ledger.Lot, error) {
	if limit <= 0 {
		return []ledger.Lot{}, nil
	}
	lots, err := sweepIndex(ctx, s, gsiLotEnd, keysUpTo(at), SweepScanMax, decodeLot, func(l ledger.Lot) bool {
		end := l.End()
		switch {
		case end.IsZero() || end.After(at) || l.Retired: // moved since the index was read
			return false
		case l.Remaining.Sign() > 0:
			return true
		}
		return l.Held.Sign() == 0 && !end.After(at.Add(-ledger.RetireGrace))
	}, shardFull(limit))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(lots, lotsByEnd)
	return lots[:min(limit, len(lots))], nil
}

// lotsByEnd orders lots soonest end first, then by contract and id.
func lotsByEnd(a, b ledger.Lot) int {
	return cmp.Or(a.End().Compare(b.End()), strings.Compare(a.Contract, b.Contract), strings.Compare(a.ID, b.ID))
}

// ExpiredHolds returns up to limit open holds whose expiry is at or before
// `at`, soonest expiry first.
func (s *Store) ExpiredHolds(ctx context.Context, at time.Time, limit int) ([]ledger.Hold, error) {
	if limit <= 0 {
		return []ledger.Hold{}, nil
	}
	holds, err := sweepIndex(ctx, s, gsiHoldExpiry, keysUpTo(at), SweepScanMax, decodeHold, func(h ledger.Hold) bool {
		return h.State == ledger.HoldOpen && !h.ExpiresAt.After(at)
	}, shardFull(limit))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(holds, func(a, b ledger.Hold) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.Contract, b.Contract), strings.Compare(a.ID, b.ID))
	})
	return holds[:min(limit, len(holds))], nil
}

// Dump scans the whole table into canonical lines, sorted:
// "<entity>|<pk>|<sk>|name=value|…" with attributes sorted by name, leaving
// out the sweep-index keys (bookkeeping derived from the item, which
// EndedLots may drop; like an SQL index, not part of the ledger). The
// entity is the plural name of what the item holds (contracts, users, grants,
// lots, lot_contracts, budgets, budget_usage, usage, attempts, entries, holds,
// consumptions, idempotency, orders, order_contracts, quote_acceptances,
// sunsets, notifications), so a test can pick out
// one kind by prefix.
func (s *Store) Dump(ctx context.Context) ([]string, error) {
	lines := []string{}
	in := &dynamodb.ScanInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: scan %s: %w", s.table, err)
		}
		s.addRead(out.ConsumedCapacity)
		for _, it := range out.Items {
			pk, sk := keyText(it, AttrPK), keyText(it, AttrSK)
			names := make([]string, 0, len(it))
			for name := range it {
				if !bookkeeping[name] {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			var b strings.Builder
			b.WriteString(entityOf(pk, sk) + "|" + pk + "|" + sk)
			for _, name := range names {
				b.WriteString("|" + name + "=" + render(it[name]))
			}
			lines = append(lines, b.String())
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.Strings(lines)
	return lines, nil
}

// bookkeeping names the attributes Dump leaves out: keys, which a line
// already shows, and index keys, which follow from the record.
var bookkeeping = map[string]bool{AttrPK: true, AttrSK: true, AttrGSI1PK: true, AttrGSI1SK: true,
	AttrGSI2PK: true, AttrGSI2SK: true, AttrPoolPK: true, AttrPoolSK: true}

func entityOf(pk, sk string) string {
	switch {
	case sk == skContract:
		return "contracts"
	case sk == skHold:
		return "holds"
	case sk == skConsumption:
		return "consumptions"
	case sk == skIdem:
		return "idempotency"
	case sk == skAcceptance:
		return "quote_acceptances"
	case pk == pkSunsets:
		return "sunsets"
	case strings.HasPrefix(sk, skNotification):
		return "notifications"
	case strings.HasPrefix(pk, pfxLotDir):
		return "lot_contracts"
	case strings.HasPrefix(pk, pfxOrderDir):
		return "order_contracts"
	case strings.HasPrefix(sk, skOrder):
		return "orders"
	case strings.HasPrefix(sk, skUser):
		return "users"
	case strings.HasPrefix(sk, skGrant):
		return "grants"
	case strings.HasPrefix(sk, skOwns):
		return "lot_owners"
	case strings.HasPrefix(sk, skLot):
		return "lots"
	case strings.HasPrefix(sk, skBudget):
		return "budgets"
	case strings.HasPrefix(sk, skBudgetUsed):
		return "budget_usage"
	case strings.HasPrefix(sk, skUsage):
		return "usage"
	case strings.HasPrefix(sk, skUsageSum), sk == skUsageSums:
		return "usage_sums"
	case strings.HasPrefix(sk, skAttempt):
		return "attempts"
	case strings.HasPrefix(sk, skEntry):
		return "entries"
	}
	return "unknown"
}

// render is an attribute value's canonical text: numbers normalised through
// decimal (so "1.50" and "1.5" agree), maps with sorted keys.
func render(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		if d, err := decimal.NewFromString(v.Value); err == nil {
			return d.String()
		}
		return v.Value
	case *types.AttributeValueMemberB:
		return "b64:" + base64.StdEncoding.EncodeToString(v.Value)
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + render(v.Value[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case *types.AttributeValueMemberSS:
		s := slices.Clone(v.Value)
		sort.Strings(s)
		return "SS" + fmt.Sprint(s)
	case *types.AttributeValueMemberNS:
		s := slices.Clone(v.Value)
		sort.Strings(s)
		return "NS" + fmt.Sprint(s)
	}
	return fmt.Sprintf("%T", av)
}

// Sunset reads a currency's sunset; not_found when it has none.
func (s *Store) Sunset(ctx context.Context, cur core.Currency) (ledger.Sunset, error) {
	return getOne(ctx, s, pkSunsets, sunsetSK(string(cur)), decodeSunset, "sunset of currency", string(cur))
}

// Sunsets reads every sunset (one query on their partition), by currency.
func (s *Store) Sunsets(ctx context.Context) ([]ledger.Sunset, error) {
	return queryAll(ctx, s, pkSunsets, skSunset, "", ReadItemsMax, decodeSunset)
}

// LotsOutliving reads the sweep index for lots ending after `at` (a lot
// with no end is indexed at lotEndKeyNone, after every time), shard by
// shard, reads them with strongly consistent reads and keeps those of cur
// that still end after `at`, until it has limit of them. It examines at most
// ReadItemsMax index keys per shard: a sunset's follow-up rounds end what
// it found, so those fall out of the next call's range only if they are of
// cur — lots of other currencies ending later stay in it, and the bound is
// on them.
func (s *Store) LotsOutliving(ctx context.Context, cur core.Currency, at time.Time, limit int) ([]ledger.Lot, error) {
	if limit <= 0 {
		return []ledger.Lot{}, nil
	}
	after := func(e *expr) string { return e.n(AttrGSI1SK) + " > " + e.v(str(timeKey(at)+"$")) }
	lots, err := sweepIndex(ctx, s, gsiLotEnd, after, ReadItemsMax, decodeLot, func(l ledger.Lot) bool {
		end := l.End()
		return l.Currency == cur && (end.IsZero() || end.After(at))
	}, func(_, total int) bool { return total >= limit })
	if err != nil {
		return nil, err
	}
	slices.SortFunc(lots, func(a, b ledger.Lot) int {
		return cmp.Or(strings.Compare(a.Contract, b.Contract), strings.Compare(a.ID, b.ID))
	})
	return lots[:min(limit, len(lots))], nil
}

// PendingNotifications reads the NOTIFYPENDING# shards of the sweep index
// for keys due at or before `at` (only pending notifications carry those
// keys, sorted by due time: a claim moves its key to the claim's end),
// reads the items strongly consistent and keeps those still claimable, by
// due time.
func (s *Store) PendingNotifications(ctx context.Context, at time.Time, limit int) ([]ledger.Notification, error) {
	if limit <= 0 {
		return []ledger.Notification{}, nil
	}
	out, err := sweepIndex(ctx, s, gsiPending, keysUpTo(at), SweepScanMax, decodeNotification, func(n ledger.Notification) bool {
		return n.Claimable(at)
	}, shardFull(limit))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ledger.Notification) int {
		return cmp.Or(a.DueAt().Compare(b.DueAt()), strings.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))], nil
}

// Notifications reads a contract's outbox (one query on its partition) and
// returns the newest ledger.NotificationsPerContractMax, oldest first.
func (s *Store) Notifications(ctx context.Context, contract string) ([]ledger.Notification, error) {
	out, err := queryAll(ctx, s, contractPK(contract), skNotification, "", ReadItemsMax, decodeNotification)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ledger.Notification) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out[max(0, len(out)-ledger.NotificationsPerContractMax):], nil
}

// NotificationsByPrefix is one Query on the contract's partition with
// begins_with on NOTIFICATION#<prefix>; ids sort as the sort key does.
func (s *Store) NotificationsByPrefix(ctx context.Context, contract, prefix string) ([]ledger.Notification, error) {
	if prefix == "" {
		return nil, fmt.Errorf("dynamo: notifications by prefix: the prefix is empty")
	}
	out, err := queryAll(ctx, s, contractPK(contract), notificationSK(prefix), "", ReadItemsMax, decodeNotification)
	if err != nil {
		return nil, err
	}
	return out[:min(len(out), ledger.NotificationsPerContractMax)], nil
}

// LotsEndingWithin reads the LOTEND# shards of the sweep index for ends in
// (after, by], reads the lots strongly consistent and keeps those that
// still end in that window with credits remaining. It examines at most
// SweepScanMax index keys per shard and, unlike EndedLots, never drops
// anything from the index (a lot that ends later may still be refunded
// into).
func (s *Store) LotsEndingWithin(ctx context.Context, after, by time.Time, limit int) ([]ledger.Lot, error) {
	if limit <= 0 || !by.After(after) {
		return []ledger.Lot{}, nil
	}
	within := func(e *expr) string {
		return e.n(AttrGSI1SK) + " BETWEEN " + e.v(str(timeKey(after)+"$")) + " AND " + e.v(str(timeKey(by)+"$"))
	}
	lots, err := sweepIndex(ctx, s, gsiLotEnd, within, SweepScanMax, decodeLot, func(l ledger.Lot) bool {
		end := l.End()
		return !end.IsZero() && end.After(after) && !end.After(by) && l.Remaining.Sign() > 0
	}, shardFull(limit))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(lots, lotsByEnd)
	return lots[:min(limit, len(lots))], nil
}

// ReadSpend reads what a spend plans on in one round trip: one
// BatchGetItem (strongly consistent) for the contract, the user and, with
// a project, its budget and month counter, sent together with SpendLots'
// two index Queries.
func (s *Store) ReadSpend(ctx context.Context, q ledger.SpendQuery) (ledger.SpendState, error) {
	st := ledger.SpendState{BudgetUsed: decimal.Zero}
	keys := []item{keyOf(contractPK(q.Contract), skContract), keyOf(contractPK(q.Contract), userSK(q.User))}
	if q.Project != "" {
		keys = append(keys, keyOf(contractPK(q.Contract), budgetSK(q.Project, string(q.Currency))),
			keyOf(contractPK(q.Contract), budgetUsedSK(q.Project, string(q.Currency), q.Month)))
	}
	var (
		lots    []ledger.Lot
		lotsErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		lots, lotsErr = s.SpendLots(ctx, q.Contract, q.User, q.At)
	}()
	items, err := s.batchGet(ctx, keys)
	<-done
	if err = errors.Join(err, lotsErr); err != nil {
		return st, err
	}
	st.Lots = lots
	found := false
	for _, it := range items {
		switch sk := keyText(it, AttrSK); {
		case sk == skContract:
			found = true
			st.Contract, err = decodeContract(it)
		case strings.HasPrefix(sk, skUser):
			var u ledger.User
			u, err = decodeUser(it)
			st.User = &u
		case strings.HasPrefix(sk, skBudgetUsed):
			r := reader{it: it}
			st.BudgetUsed, err = r.n(AttrUsed), r.err
		case strings.HasPrefix(sk, skBudget):
			var b ledger.Budget
			b, err = decodeBudget(it)
			st.Budget = &b
		}
		if err != nil {
			return st, err
		}
	}
	if !found {
		return st, ledger.NotFound("contract", q.Contract)
	}
	return st, nil
}
