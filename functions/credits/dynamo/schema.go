package dynamo

import (
	"cloudcredits/core/ledger"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The table's schema. The deploy template (infra/) must declare exactly these.
const (
	// TableNameDefault is the table's name in production.
	TableNameDefault = "cloudcredits-ledger"
	// AttrPK and AttrSK are the table's partition and sort key (strings).
	AttrPK = "pk"
	AttrSK = "sk"
	// IndexSweep is the sparse, keys-only global secondary index the sweeper
	// reads; AttrGSI1PK and AttrGSI1SK are its partition and sort key (strings).
	IndexSweep = "gsi1"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	// IndexPool is the sparse global secondary index a spend reads, with
	// every attribute projected: a lot is in it exactly while it has
	// credits remaining and is not retired, under its contract
	// (AttrGSI2PK) and keyed by pool and burn order (AttrGSI2SK).
	IndexPool  = "gsi2"
	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"
	// AttrTTL is the table's TTL attribute: epoch seconds, on idempotency
	// records only.
	AttrTTL = "ttl"
)

// Item attributes (besides the keys above). Names are plain identifiers; every
// expression refers to them through placeholders, so reserved words are fine.
const (
	AttrContract           = "contract"
	AttrID                 = "id"
	AttrUser               = "user"
	AttrEntity             = "entity"
	AttrProject            = "project"
	AttrService            = "service"
	AttrCurrency           = "currency"
	AttrMonth              = "month"
	AttrCredits            = "credits"
	AttrCount              = "count"
	AttrKind               = "kind"
	AttrReason             = "reason"
	AttrAt                 = "at"
	AttrCustomer           = "customer"
	AttrCoveredEntities    = "covered_entities"
	AttrContractorCoverage = "contractor_coverage"
	AttrStart              = "start"
	AttrEnd                = "end"
	AttrExtensionMonths    = "extension_months"
	AttrChannel            = "channel"
	AttrMonthlyBaseline    = "monthly_baseline"
	AttrPlanActive         = "plan_active"
	AttrTerminatedAt       = "terminated_at"
	AttrVersion            = "version"
	AttrRetired            = "retired"
	AttrCanSpend           = "can_spend"
	AttrActive             = "active"
	AttrAddedAt            = "added_at"
	AttrRemovedAt          = "removed_at"
	AttrOwner              = "owner"
	AttrSource             = "source"
	AttrGrant              = "grant"
	AttrOrder              = "order"
	AttrAmount             = "amount"
	AttrRemaining          = "remaining"
	AttrHeld               = "held"
	AttrSpent              = "spent"
	AttrExpired            = "expired"
	AttrWithdrawn          = "withdrawn"
	AttrRefunded           = "refunded"
	AttrGrantedAt          = "granted_at"
	AttrEffectiveFrom      = "effective_from"
	AttrExpiresAt          = "expires_at"
	AttrWithdrawNoticeAt   = "withdraw_notice_at"
	AttrClosesAt           = "closes_at"
	AttrEffNs              = "eff_ns"
	AttrEndNs              = "end_ns"
	AttrLot                = "lot"
	AttrMove               = "move"
	AttrRef                = "ref"
	AttrDebits             = "debits"
	AttrState              = "state"
	AttrCreatedAt          = "created_at"
	AttrClosedAt           = "closed_at"
	AttrConsumption        = "consumption"
	AttrHold               = "hold"
	AttrReturned           = "returned"
	AttrKey                = "key"
	AttrFingerprint        = "fingerprint"
	AttrResponse           = "response"
	AttrExpiresNs          = "expires_ns"
	AttrMonthlyCap         = "monthly_cap"
	AttrUsed               = "used"
	AttrBudgetMonth        = "budget_month"
	AttrWrittenNs          = "written_ns"
	// AttrEntriesNs, on a kept consumption whose entries the stream
	// writes (WithEntriesFromStream), is the stamp they are written with.
	AttrEntriesNs        = "entries_ns"
	AttrStatus           = "status"
	AttrPacks            = "packs"
	AttrUnitPrice        = "unit_price"
	AttrTotal            = "total"
	AttrMoneyCurrency    = "money_currency"
	AttrPriceBookVersion = "price_book_version"
	AttrPayment          = "payment"
	AttrProvider         = "provider"
	AttrSessionID        = "session_id"
	AttrCheckoutURL      = "checkout_url"
	AttrTestMode         = "test_mode"
	AttrQuote            = "quote_id"
	AttrPaidAt           = "paid_at"
	AttrFulfilledAt      = "fulfilled_at"
	AttrCancelledAt      = "cancelled_at"
	AttrSalesEnd         = "sales_end"
	AttrFinalExpiry      = "final_expiry"
	AttrSuccessor        = "successor"
	AttrUpdatedAt        = "updated_at"
	AttrNotifyEmail      = "notify_email"
	AttrTo               = "to"
	AttrSubject          = "subject"
	AttrBody             = "body"
	AttrSentAt           = "sent_at"
	AttrClaimedUntil     = "claimed_until"
	// AttrPoolPK and AttrPoolSK are a lot's IndexPool keys, kept on every
	// lot that is not retired: an Add that gives a lot credits back copies
	// them into AttrGSI2PK and AttrGSI2SK (an update expression can copy
	// one attribute into another, so the write needs nothing it did not read).
	AttrPoolPK = "pool_pk"
	AttrPoolSK = "pool_sk"
)

// Limits.
const (
	// TransactItemsMax is DynamoDB's limit on the items of one transaction.
	TransactItemsMax = 100
	// IndexShards spreads the sweep index over this many partition keys.
	IndexShards = 8
	// ReadItemsMax bounds every list read (entries of a lot, usage rows,
	// attempts, users); a read that would return more fails rather than
	// exhausting memory.
	ReadItemsMax = 100_000
	// SweepScanMax bounds the index keys one EndedLots or ExpiredHolds call
	// examines per shard.
	SweepScanMax = 10_000
	// EndNsNone is AttrEndNs of a lot with no end: later than any time.
	EndNsNone = math.MaxInt64
	// tableWaitMax bounds CreateTable's wait for the table to become active.
	tableWaitMax = 5 * time.Minute
)

// Key prefixes (see doc.go).
const (
	pfxContract    = "CONTRACT#"
	pfxEntries     = "ENTRIES#"
	pfxHold        = "HOLD#"
	pfxConsumption = "CONSUMPTION#"
	pfxIdem        = "IDEM#"
	pfxKey         = "KEY#"
	pfxLotDir      = "LOTID#"
	pfxOrderDir    = "ORDERID#"
	pfxQuote       = "QUOTE#"
	skAcceptance   = "ACCEPTANCE"
	pkSunsets      = "SUNSETS"
	skSunset       = "CURRENCY#"
	skOrder        = "ORDER#"
	skContract     = "CONTRACT"
	skHold         = "HOLD"
	skConsumption  = "CONSUMPTION"
	skIdem         = "IDEM"
	skUser         = "USER#"
	skGrant        = "GRANT#"
	skLot          = "LOT#"
	skOwns         = "OWNS#"
	pfxPool        = "POOL#"
	skBudget       = "BUDGET#"
	skBudgetUsed   = "BUDGETUSED#"
	skUsage        = "USAGE#"
	skAttempt      = "ATTEMPT#"
	skEntry        = "ENTRY#"
	gsiLotEnd      = "LOTEND#"
	gsiHoldExpiry  = "HOLDEXP#"
	gsiPending     = "NOTIFYPENDING#"
	// gsiContracts is the contract directory's one index partition
	// (gsi1sk = the contract id): Contracts pages through it.
	gsiContracts   = "CONTRACTS"
	skNotification = "NOTIFICATION#"
	entrySeqDigits = 9
	timeKeyDigits  = 19
)

func contractPK(contract string) string { return pfxContract + contract }
func entriesPK(contract, lot string) string {
	return pfxEntries + contract + "#" + lot
}
func holdPK(contract, id string) string        { return pfxHold + contract + "#" + id }
func consumptionPK(contract, id string) string { return pfxConsumption + contract + "#" + id }

// keyPK is where the record of an idempotency key lives: named by the key's
// digest (ledger.KeyDigest), so a keyed id (ledger.KeyedID) leads to it.
func keyPK(scope, key string) string          { return keyDigestPK(scope, ledger.KeyDigest(scope, key)) }
func keyDigestPK(scope, digest string) string { return pfxKey + scope + "#" + digest }

// legacyIdemPK is where records were kept before keyPK, by the key itself.
func legacyIdemPK(scope, key string) string    { return pfxIdem + scope + "#" + key }
func lotDirPK(lot string) string               { return pfxLotDir + lot }
func orderDirPK(order string) string           { return pfxOrderDir + order }
func orderSK(order string) string              { return skOrder + order }
func quotePK(quote string) string              { return pfxQuote + quote }
func sunsetSK(cur string) string               { return skSunset + cur }
func userSK(user string) string                { return skUser + user }
func grantSK(user string) string               { return skGrant + user }
func lotSK(lot string) string                  { return skLot + lot }
func ownsSK(user, lot string) string           { return skOwns + user + "#" + lot }
func poolPK(contract string) string            { return pfxPool + contract }
func budgetSK(project, currency string) string { return skBudget + project + "#" + currency }
func budgetUsedSK(project, currency, month string) string {
	return skBudgetUsed + project + "#" + currency + "#" + month
}
func attemptSK(at time.Time, id string) string { return skAttempt + timeKey(at) + "#" + id }
func entrySK(id string) string                 { return skEntry + id }
func notificationSK(id string) string          { return skNotification + id }

// timeKey renders t as 19 digits of Unix nanoseconds, clamped to
// [0, MaxInt64], so that text order is time order.
func timeKey(t time.Time) string {
	ns := clampNs(t)
	if ns < 0 {
		ns = 0
	}
	return fmt.Sprintf("%0*d", timeKeyDigits, ns)
}

// clampNs is t in Unix nanoseconds, saturating outside int64's range (years
// before 1678 or after 2262) instead of wrapping.
func clampNs(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// sortableID pads an id's numeric ".<seq>" suffix (entry ids are
// "<op>.<seq>") so that ".10" sorts after ".9".
func sortableID(id string) string {
	i := strings.LastIndexByte(id, '.')
	if i < 0 || i == len(id)-1 || len(id)-i-1 > entrySeqDigits {
		return id
	}
	seq := id[i+1:]
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return id
	}
	return id[:i+1] + strings.Repeat("0", entrySeqDigits-len(seq)) + seq
}

// indexShard picks the sweep-index shard of an item from its key.
func indexShard(pk, sk string) string {
	h := fnv.New32a()
	h.Write([]byte(pk))
	h.Write([]byte{0})
	h.Write([]byte(sk))
	return strconv.Itoa(int(h.Sum32() % IndexShards))
}

// TableOption adjusts CreateTable.
type TableOption func(*dynamodb.CreateTableInput)

// WithoutStream creates the table without its stream, so nothing rolls up
// its usage: for tests and benchmarks that write many items and never
// read a usage report (DynamoDB Local slows down for every table once one
// table's stream holds tens of thousands of changes). Production tables
// always have the stream (infra/template.yaml).
func WithoutStream() TableOption {
	return func(in *dynamodb.CreateTableInput) { in.StreamSpecification = nil }
}

// CreateTable creates the ledger table with its indexes, its stream and
// TTL, and waits until the table and indexes are active. It is idempotent:
// an existing table is waited for and gets TTL enabled if it lacks it. It
// does not check that an existing table's schema matches.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string, opts ...TableOption) error {
	in := tableInput(table)
	for _, o := range opts {
		o(in)
	}
	_, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamo: create table %s: %w", table, err)
	}
	if err := waitActive(ctx, client, table); err != nil {
		return err
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamo: describe TTL of %s: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo: enable TTL on %s: %w", table, err)
	}
	return nil
}

// waitActive polls until the table and all its indexes are ACTIVE.
func waitActive(ctx context.Context, client *dynamodb.Client, table string) error {
	deadline := time.Now().Add(tableWaitMax)
	delay := 100 * time.Millisecond
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamo: describe table %s: %w", table, err)
		}
		active := out.Table.TableStatus == types.TableStatusActive
		for _, g := range out.Table.GlobalSecondaryIndexes {
			active = active && g.IndexStatus == types.IndexStatusActive
		}
		if active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dynamo: table %s not active after %s (status %s)", table, tableWaitMax, out.Table.TableStatus)
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// BackfillDirectory gives every contract item that lacks them the contract
// directory's index keys (gsi1pk CONTRACTS, gsi1sk = its id): contracts
// written before the directory existed, which Contracts — and so the alert
// check — would not see. It scans the table once (run it once, as an
// operator, after upgrading a table that holds such contracts; the
// functions' roles have no Scan) and sets the keys by conditional updates,
// so running it again, or while the functions write, changes nothing else.
// It returns how many contracts it updated.
func BackfillDirectory(ctx context.Context, client *dynamodb.Client, table string) (int, error) {
	e := &expr{}
	in := &dynamodb.ScanInput{
		TableName:                aws.String(table),
		FilterExpression:         aws.String(e.n(AttrSK) + " = " + e.v(str(skContract)) + " AND attribute_not_exists(" + e.n(AttrGSI1PK) + ")"),
		ProjectionExpression:     aws.String(e.n(AttrPK) + ", " + e.n(AttrID)),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	}
	return scanUpdate(ctx, client, in, "contracts", func(it map[string]types.AttributeValue) error {
		u := &expr{}
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: keyOf(keyText(it, AttrPK), skContract),
			UpdateExpression: aws.String("SET " + u.n(AttrGSI1PK) + " = " + u.v(str(gsiContracts)) + ", " +
				u.n(AttrGSI1SK) + " = " + u.v(str(keyText(it, AttrID)))),
			ConditionExpression:      aws.String("attribute_exists(" + u.n(AttrPK) + ") AND attribute_not_exists(" + u.n(AttrGSI1PK) + ")"),
			ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
		})
		return err
	})
}

// BackfillPools gives every lot written before the pool index existed its
// pool keys (AttrPoolPK and AttrPoolSK, and the IndexPool keys while it has
// credits left) and every such individual lot its owner's OWNS# directory
// item — without which a spend, a user's balance and a user's removal
// would not see it. Like BackfillDirectory it is an operator's one-off
// after an upgrade: one Scan, and per lot one transaction conditioned on
// the lot's version, so a lot written meanwhile (which the functions now
// write with its keys) is left alone and running it again changes nothing.
// It returns how many lots it updated.
func BackfillPools(ctx context.Context, client *dynamodb.Client, table string) (int, error) {
	e := &expr{}
	in := &dynamodb.ScanInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String("begins_with(" + e.n(AttrSK) + ", " + e.v(str(skLot)) + ") AND attribute_not_exists(" +
			e.n(AttrPoolPK) + ") AND attribute_not_exists(" + e.n(AttrRetired) + ")"),
		ExpressionAttributeNames: e.names, ExpressionAttributeValues: e.values,
	}
	return scanUpdate(ctx, client, in, "lots", func(it map[string]types.AttributeValue) error {
		l, err := decodeLot(it)
		if err != nil {
			return err
		}
		u := &expr{}
		whole := lotItem(l)
		var sets []string
		for _, name := range []string{AttrPoolPK, AttrPoolSK, AttrGSI2PK, AttrGSI2SK} {
			if v, ok := whole[name]; ok {
				sets = append(sets, u.n(name)+" = "+u.v(v))
			}
		}
		items := []types.TransactWriteItem{{Update: &types.Update{
			TableName: aws.String(table), Key: keyOf(contractPK(l.Contract), lotSK(l.ID)),
			UpdateExpression:         aws.String("SET " + strings.Join(sets, ", ")),
			ConditionExpression:      aws.String(versionIs(u, l.Version) + " AND attribute_not_exists(" + u.n(AttrPoolPK) + ")"),
			ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
		}}}
		if l.Kind == ledger.Individual {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: ownsItem(l.Contract, l.Owner, l.ID)}})
		}
		_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	})
}

// scanUpdate runs a Scan page by page and update on each item it finds,
// counting the updates; an update whose condition failed (the item was
// written meanwhile) is not counted and not an error.
func scanUpdate(ctx context.Context, client *dynamodb.Client, in *dynamodb.ScanInput, what string, update func(map[string]types.AttributeValue) error) (int, error) {
	n := 0
	for {
		out, err := client.Scan(ctx, in)
		if err != nil {
			return n, fmt.Errorf("dynamo: scan %s for %s: %w", *in.TableName, what, err)
		}
		for _, it := range out.Items {
			err := update(it)
			var failed *types.ConditionalCheckFailedException
			var cancelled *types.TransactionCanceledException
			switch {
			case err == nil:
				n++
			case errors.As(err, &failed), errors.As(err, &cancelled): // written meanwhile, with its keys
			default:
				return n, fmt.Errorf("dynamo: backfill %s %s|%s: %w", what, keyText(it, AttrPK), keyText(it, AttrSK), err)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// tableInput is the ledger table: keys, indexes and stream.
func tableInput(table string) *dynamodb.CreateTableInput {
	str := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: str},
			{AttributeName: aws.String(AttrSK), AttributeType: str},
			{AttributeName: aws.String(AttrGSI1PK), AttributeType: str},
			{AttributeName: aws.String(AttrGSI1SK), AttributeType: str},
			{AttributeName: aws.String(AttrGSI2PK), AttributeType: str},
			{AttributeName: aws.String(AttrGSI2SK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		// The stream feeds the usage roll-up (RollUp).
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexSweep),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}, {
			IndexName: aws.String(IndexPool),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI2PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI2SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	}
}
