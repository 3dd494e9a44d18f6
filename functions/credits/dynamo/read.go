package dynamo

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

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
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("dynamo: query %s %s: %w", pk, from, err)
		}
		s.addRead(out.ConsumedCapacity)
		for _, it := range out.Items {
			if n++; n > max {
				return fmt.Errorf("dynamo: %s has more than %d items under %s", pk, max, from)
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Contract reads a contract.
func (s *Store) Contract(ctx context.Context, id string) (ledger.Contract, error) {
	it, err := s.get(ctx, contractPK(id), skContract)
	if err != nil {
		return ledger.Contract{}, err
	}
	if it == nil {
		return ledger.Contract{}, ledger.NotFound("contract", id)
	}
	return decodeContract(it)
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
	for len(out) < limit {
		in.Limit = aws.Int32(int32(min(limit-len(out), indexPageSize)))
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: query the contract directory: %w", err)
		}
		s.addRead(page.ConsumedCapacity)
		for _, it := range page.Items {
			out = append(out, keyText(it, AttrGSI1SK))
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out[:min(limit, len(out))], nil
}

// User reads a contract user.
func (s *Store) User(ctx context.Context, contract, user string) (ledger.User, error) {
	it, err := s.get(ctx, contractPK(contract), userSK(user))
	if err != nil {
		return ledger.User{}, err
	}
	if it == nil {
		return ledger.User{}, ledger.NotFound("user", user)
	}
	return decodeUser(it)
}

// Users reads every user of a contract, ordered by id.
func (s *Store) Users(ctx context.Context, contract string) ([]ledger.User, error) {
	users := []ledger.User{}
	err := s.query(ctx, contractPK(contract), skUser, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		u, err := decodeUser(it)
		users = append(users, u)
		return err
	})
	return users, err
}

// Granted reports whether the user's one-time grant was marked.
func (s *Store) Granted(ctx context.Context, contract, user string) (bool, error) {
	it, err := s.get(ctx, contractPK(contract), grantSK(user))
	return it != nil, err
}

// Lots reads every lot of a contract, ordered by id, at most
// ledger.LotsPerContractMax.
func (s *Store) Lots(ctx context.Context, contract string) ([]ledger.Lot, error) {
	lots := []ledger.Lot{}
	err := s.query(ctx, contractPK(contract), skLot, "", ledger.LotsPerContractMax, func(it map[string]types.AttributeValue) error {
		l, err := decodeLot(it)
		lots = append(lots, l)
		return err
	})
	slices.SortFunc(lots, func(a, b ledger.Lot) int { return strings.Compare(a.ID, b.ID) })
	return lots, err
}

// Lot reads one lot.
func (s *Store) Lot(ctx context.Context, contract, id string) (ledger.Lot, error) {
	it, err := s.get(ctx, contractPK(contract), lotSK(id))
	if err != nil {
		return ledger.Lot{}, err
	}
	if it == nil {
		return ledger.Lot{}, ledger.NotFound("lot", id)
	}
	return decodeLot(it)
}

// LotContract returns the contract of the lot with this id, from the lot
// directory (one strongly consistent query). Lot ids are unique within a
// contract, not across contracts, so an id two contracts use is refused
// rather than guessed.
func (s *Store) LotContract(ctx context.Context, lot string) (string, error) {
	var contracts []string
	err := s.query(ctx, lotDirPK(lot), pfxContract, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		r := reader{it: it}
		contracts = append(contracts, r.s(AttrContract))
		return r.err
	})
	switch {
	case err != nil:
		return "", err
	case len(contracts) == 0:
		return "", ledger.NotFound("lot", lot)
	case len(contracts) > 1:
		return "", core.Errorf(core.CodeConflict, "lot id %s is used by more than one contract (%s and %s); name the contract",
			lot, contracts[0], contracts[1])
	}
	return contracts[0], nil
}

// Order reads one order.
func (s *Store) Order(ctx context.Context, contract, id string) (ledger.Order, error) {
	it, err := s.get(ctx, contractPK(contract), orderSK(id))
	if err != nil {
		return ledger.Order{}, err
	}
	if it == nil {
		return ledger.Order{}, ledger.NotFound("order", id)
	}
	return decodeOrder(it)
}

// QuoteAcceptance reads a quote's acceptance (one item in the quote's own
// partition); not_found when it has none.
func (s *Store) QuoteAcceptance(ctx context.Context, quoteID string) (ledger.QuoteAcceptance, error) {
	it, err := s.get(ctx, quotePK(quoteID), skAcceptance)
	if err != nil {
		return ledger.QuoteAcceptance{}, err
	}
	if it == nil {
		return ledger.QuoteAcceptance{}, ledger.NotFound("acceptance of quote", quoteID)
	}
	return decodeQuoteAcceptance(it)
}

// Orders reads every order of a contract (one query on its partition),
// oldest first, at most ledger.OrdersPerContractMax.
func (s *Store) Orders(ctx context.Context, contract string) ([]ledger.Order, error) {
	orders := []ledger.Order{}
	err := s.query(ctx, contractPK(contract), skOrder, "", ledger.OrdersPerContractMax, func(it map[string]types.AttributeValue) error {
		o, err := decodeOrder(it)
		orders = append(orders, o)
		return err
	})
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
	var contracts []string
	err := s.query(ctx, orderDirPK(id), pfxContract, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		r := reader{it: it}
		contracts = append(contracts, r.s(AttrContract))
		return r.err
	})
	switch {
	case err != nil:
		return "", err
	case len(contracts) == 0:
		return "", ledger.NotFound("order", id)
	case len(contracts) > 1:
		return "", core.Errorf(core.CodeConflict, "order id %s is used by more than one contract (%s and %s); name the contract",
			id, contracts[0], contracts[1])
	}
	return contracts[0], nil
}

// Hold reads one hold.
func (s *Store) Hold(ctx context.Context, contract, id string) (ledger.Hold, error) {
	it, err := s.get(ctx, holdPK(contract, id), skHold)
	if err != nil {
		return ledger.Hold{}, err
	}
	if it == nil {
		return ledger.Hold{}, ledger.NotFound("hold", id)
	}
	return decodeHold(it)
}

// Consumption reads one consumption.
func (s *Store) Consumption(ctx context.Context, contract, id string) (ledger.Consumption, error) {
	it, err := s.get(ctx, consumptionPK(contract, id), skConsumption)
	if err != nil {
		return ledger.Consumption{}, err
	}
	if it == nil {
		return ledger.Consumption{}, ledger.NotFound("consumption", id)
	}
	return decodeConsumption(it)
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
func (s *Store) Idempotency(ctx context.Context, contract, key string, at time.Time) (ledger.IdempotencyRecord, bool, error) {
	it, err := s.get(ctx, idemPK(contract, key), skIdem)
	if err != nil || it == nil {
		return ledger.IdempotencyRecord{}, false, err
	}
	rec, err := decodeIdem(it)
	if err != nil {
		return ledger.IdempotencyRecord{}, false, err
	}
	if !rec.LiveAt(at) {
		return ledger.IdempotencyRecord{}, false, nil
	}
	return rec, true, nil
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
	rows := []ledger.Usage{}
	if toMonth < fromMonth {
		return rows, nil
	}
	// Every row of month m has a sort key starting "USAGE#m#"; '$' sorts
	// right after '#', so "USAGE#to$" is above all of month `to`.
	err := s.query(ctx, contractPK(contract), skUsage+fromMonth+"#", skUsage+toMonth+"$", ReadItemsMax,
		func(it map[string]types.AttributeValue) error {
			u, err := decodeUsage(it)
			rows = append(rows, u)
			return err
		})
	return rows, err
}

// Attempts reads the refused spend attempts of a contract, oldest first.
func (s *Store) Attempts(ctx context.Context, contract string) ([]ledger.Attempt, error) {
	attempts := []ledger.Attempt{}
	err := s.query(ctx, contractPK(contract), skAttempt, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		a, err := decodeAttempt(it)
		attempts = append(attempts, a)
		return err
	})
	return attempts, err
}

// indexKeys pages through one shard of the sweep index for keys up to `at`,
// passing each page's table keys to fn until fn says stop or SweepScanMax
// keys were seen.
func (s *Store) indexKeys(ctx context.Context, gsiPK string, at time.Time, fn func([]item) (stop bool, err error)) error {
	e := &expr{}
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String(IndexSweep),
		KeyConditionExpression: aws.String(e.n(AttrGSI1PK) + " = " + e.v(str(gsiPK)) + " AND " +
			e.n(AttrGSI1SK) + " < " + e.v(str(timeKey(at)+"$"))),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
		Limit: aws.Int32(indexPageSize), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	for seen := 0; seen < SweepScanMax; {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("dynamo: query index %s %s: %w", IndexSweep, gsiPK, err)
		}
		s.addRead(out.ConsumedCapacity)
		seen += len(out.Items)
		keys := make([]item, len(out.Items))
		for i, it := range out.Items {
			keys[i] = keyOf(keyText(it, AttrPK), keyText(it, AttrSK))
		}
		if stop, err := fn(keys); stop || err != nil {
			return err
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return nil
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
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
	lots := []ledger.Lot{}
	if limit <= 0 {
		return lots, nil
	}
	for shard := range IndexShards {
		found := 0
		err := s.indexKeys(ctx, gsiLotEnd+strconv.Itoa(shard), at, func(keys []item) (bool, error) {
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return true, err
			}
			for _, it := range items {
				l, err := decodeLot(it)
				if err != nil {
					return true, err
				}
				end := l.End()
				switch {
				case end.IsZero() || end.After(at) || l.Retired: // moved since the index was read
				case l.Remaining.Sign() > 0,
					l.Held.Sign() == 0 && !end.After(at.Add(-ledger.RetireGrace)):
					lots = append(lots, l)
					found++
				}
			}
			return found >= limit, nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(lots, func(a, b ledger.Lot) int {
		return cmp.Or(a.End().Compare(b.End()), strings.Compare(a.Contract, b.Contract), strings.Compare(a.ID, b.ID))
	})
	return lots[:min(limit, len(lots))], nil
}

// ExpiredHolds returns up to limit open holds whose expiry is at or before
// `at`, soonest expiry first.
func (s *Store) ExpiredHolds(ctx context.Context, at time.Time, limit int) ([]ledger.Hold, error) {
	holds := []ledger.Hold{}
	if limit <= 0 {
		return holds, nil
	}
	for shard := range IndexShards {
		found := 0
		err := s.indexKeys(ctx, gsiHoldExpiry+strconv.Itoa(shard), at, func(keys []item) (bool, error) {
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return true, err
			}
			for _, it := range items {
				h, err := decodeHold(it)
				if err != nil {
					return true, err
				}
				if h.State == ledger.HoldOpen && !h.ExpiresAt.After(at) {
					holds = append(holds, h)
					found++
				}
			}
			return found >= limit, nil
		})
		if err != nil {
			return nil, err
		}
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
				if name != AttrPK && name != AttrSK && name != AttrGSI1PK && name != AttrGSI1SK {
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
	case strings.HasPrefix(sk, skLot):
		return "lots"
	case strings.HasPrefix(sk, skBudget):
		return "budgets"
	case strings.HasPrefix(sk, skBudgetUsed):
		return "budget_usage"
	case strings.HasPrefix(sk, skUsage):
		return "usage"
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
	it, err := s.get(ctx, pkSunsets, sunsetSK(string(cur)))
	if err != nil {
		return ledger.Sunset{}, err
	}
	if it == nil {
		return ledger.Sunset{}, ledger.NotFound("sunset of currency", string(cur))
	}
	return decodeSunset(it)
}

// Sunsets reads every sunset (one query on their partition), by currency.
func (s *Store) Sunsets(ctx context.Context) ([]ledger.Sunset, error) {
	out := []ledger.Sunset{}
	err := s.query(ctx, pkSunsets, skSunset, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		x, err := decodeSunset(it)
		out = append(out, x)
		return err
	})
	return out, err
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
	lots := []ledger.Lot{}
	if limit <= 0 {
		return lots, nil
	}
	for shard := range IndexShards {
		e := &expr{}
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(IndexSweep),
			KeyConditionExpression: aws.String(e.n(AttrGSI1PK) + " = " + e.v(str(gsiLotEnd+strconv.Itoa(shard))) + " AND " +
				e.n(AttrGSI1SK) + " > " + e.v(str(timeKey(at)+"$"))),
			ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
			Limit: aws.Int32(indexPageSize), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		}
		for seen := 0; seen < ReadItemsMax && len(lots) < limit; {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("dynamo: query index %s for lots outliving %v: %w", IndexSweep, at, err)
			}
			s.addRead(out.ConsumedCapacity)
			seen += len(out.Items)
			keys := make([]item, len(out.Items))
			for i, it := range out.Items {
				keys[i] = keyOf(keyText(it, AttrPK), keyText(it, AttrSK))
			}
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				l, err := decodeLot(it)
				if err != nil {
					return nil, err
				}
				if end := l.End(); l.Currency == cur && (end.IsZero() || end.After(at)) {
					lots = append(lots, l)
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
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
	out := []ledger.Notification{}
	if limit <= 0 {
		return out, nil
	}
	for shard := range IndexShards {
		found := 0
		err := s.indexKeys(ctx, gsiPending+strconv.Itoa(shard), at, func(keys []item) (bool, error) {
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return true, err
			}
			for _, it := range items {
				n, err := decodeNotification(it)
				if err != nil {
					return true, err
				}
				if n.Claimable(at) {
					out = append(out, n)
					found++
				}
			}
			return found >= limit, nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b ledger.Notification) int {
		return cmp.Or(a.DueAt().Compare(b.DueAt()), strings.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))], nil
}

// Notifications reads a contract's outbox (one query on its partition) and
// returns the newest ledger.NotificationsPerContractMax, oldest first.
func (s *Store) Notifications(ctx context.Context, contract string) ([]ledger.Notification, error) {
	out := []ledger.Notification{}
	err := s.query(ctx, contractPK(contract), skNotification, "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		n, err := decodeNotification(it)
		out = append(out, n)
		return err
	})
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
	out := []ledger.Notification{}
	err := s.query(ctx, contractPK(contract), notificationSK(prefix), "", ReadItemsMax, func(it map[string]types.AttributeValue) error {
		n, err := decodeNotification(it)
		out = append(out, n)
		return err
	})
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
	lots := []ledger.Lot{}
	if limit <= 0 || !by.After(after) {
		return lots, nil
	}
	for shard := range IndexShards {
		e := &expr{}
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String(IndexSweep),
			KeyConditionExpression: aws.String(e.n(AttrGSI1PK) + " = " + e.v(str(gsiLotEnd+strconv.Itoa(shard))) + " AND " +
				e.n(AttrGSI1SK) + " BETWEEN " + e.v(str(timeKey(after)+"$")) + " AND " + e.v(str(timeKey(by)+"$"))),
			ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
			Limit: aws.Int32(indexPageSize), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		}
		for seen, found := 0, 0; seen < SweepScanMax && found < limit; {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("dynamo: query index %s for lots ending by %v: %w", IndexSweep, by, err)
			}
			s.addRead(out.ConsumedCapacity)
			seen += len(out.Items)
			keys := make([]item, len(out.Items))
			for i, it := range out.Items {
				keys[i] = keyOf(keyText(it, AttrPK), keyText(it, AttrSK))
			}
			items, err := s.batchGet(ctx, keys)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				l, err := decodeLot(it)
				if err != nil {
					return nil, err
				}
				if end := l.End(); !end.IsZero() && end.After(after) && !end.After(by) && l.Remaining.Sign() > 0 {
					lots = append(lots, l)
					found++
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	slices.SortFunc(lots, func(a, b ledger.Lot) int {
		return cmp.Or(a.End().Compare(b.End()), strings.Compare(a.Contract, b.Contract), strings.Compare(a.ID, b.ID))
	})
	return lots[:min(limit, len(lots))], nil
}
