// Package dynamo is the production adapter of the ledger's storage port
// (ledger.Store) on Amazon DynamoDB, in one table.
//
// Every Apply is exactly one TransactWriteItems call. Each op of the
// ledger.Tx becomes one transaction item whose condition expression enforces
// the op's condition by itself, so the ledger's laws hold under any
// concurrency even when the read that planned the Tx is stale. There is no
// read-modify-write anywhere: counters change with ADD, records are replaced
// only under a condition on the value the planner read. A failed condition
// cancels the whole transaction and becomes a *ledger.ConflictError naming
// the op; the caller re-plans.
//
// It must never decide anything about money (core/ledger does), never turn a
// decimal into a float (credits are DynamoDB numbers written from and read
// into shopspring/decimal text, exact to 38 digits), and never trust TTL to
// have deleted anything: TTL deletes lazily (DynamoDB Local never), so every
// read that cares filters on expiry itself.
//
// # Table
//
// One table (TableNameDefault in production, any name in tests), on-demand
// billing, string key AttrPK (partition) + AttrSK (sort), TTL on AttrTTL, and
// one sparse, keys-only global secondary index IndexSweep (AttrGSI1PK +
// AttrGSI1SK) that serves the sweeper. CreateTable makes exactly this.
//
// # Item layout
//
// Identifiers never contain '#' (core/ledger refuses them), so '#' separates
// key parts unambiguously. Times in keys are Unix nanoseconds, zero-padded to
// 19 digits so that text order is time order. Entities that are read
// together live in the contract's partition; entities written on every spend
// (entries, holds, consumptions, idempotency records) get partitions of their
// own, so the write load of a busy contract spreads.
//
//	entity            pk                              sk
//	contract          CONTRACT#<contract>             CONTRACT
//	user              CONTRACT#<contract>             USER#<user>
//	grant marker      CONTRACT#<contract>             GRANT#<user>
//	lot               CONTRACT#<contract>             LOT#<lot>
//	lot directory     LOTID#<lot>                     CONTRACT#<contract>
//	order             CONTRACT#<contract>             ORDER#<order>
//	order directory   ORDERID#<order>                 CONTRACT#<contract>
//	budget            CONTRACT#<contract>             BUDGET#<project>#<currency>
//	budget counter    CONTRACT#<contract>             BUDGETUSED#<project>#<currency>#<month>
//	usage roll-up     CONTRACT#<contract>             USAGE#<month>#<currency>#<user>#<service>#<project>#<entity>
//	attempt           CONTRACT#<contract>             ATTEMPT#<at ns>#<id>
//	entry             ENTRIES#<contract>#<lot>        ENTRY#<entry id>
//	hold              HOLD#<contract>#<hold>          HOLD
//	consumption       CONSUMPTION#<contract>#<id>     CONSUMPTION
//	idempotency       IDEM#<contract>#<key>           IDEM
//	quote acceptance  QUOTE#<quote>                   ACCEPTANCE
//	currency sunset   SUNSETS                         CURRENCY#<currency>
//	notification      CONTRACT#<contract>             NOTIFICATION#<id>
//
// So: LotContract (a lot named by id alone) is one Query on the lot
// directory, whose item CreateLot writes in the same transaction as the lot,
// and OrderContract likewise on the order directory, written by PutOrder;
// Lots, Orders, Users and Attempts are one Query on the contract's partition
// with begins_with on the sort key (Orders then sorts by created_at, id); Usage is a BETWEEN on USAGE#<from>..USAGE#<to>;
// a lot's Entries are one Query on its own partition (the id in the key is
// what makes PutEntry's attribute_not_exists mean "no entry with that id"),
// sorted in write order: by AttrWrittenNs, the clock of the process applying
// the Tx, strictly increasing per Store (a write that starts after another
// returned sorts after it; across processes, up to their clock skew), then by
// id with its ".<seq>" suffix compared as a number. The entry's own
// At (the request time) may disagree with write order, since a request is
// planned before it is applied.
//
// Lots carry, besides their counters (AttrRemaining, AttrHeld, …, all N), the
// numbers their conditions compare: AttrEffNs (effective_from) and AttrEndNs
// (the earlier of expires_at and closes_at, or EndNsNone when the lot has no
// end), kept in step by lotItem whenever a lot is written whole (an
// UpdateLot: a Put conditioned on AttrVersion). An Add to a lot's counters
// also adds 1 to AttrVersion, so a lot read before a spend is never written
// back whole. Every record a Replace writes (lots, holds, consumptions,
// orders, notifications, contracts, users, sunsets) carries AttrVersion; an
// item written before records carried one has none and counts as version 1. A quote's acceptance lives in the quote's own
// partition (a quote may name no contract), created with
// attribute_not_exists in the same transaction as its order. Idempotency records carry AttrExpiresNs for
// their condition and AttrTTL (epoch seconds) for DynamoDB's TTL.
//
// # Sweep index
//
// IndexSweep is sparse: only lots, open holds, pending notifications and
// contracts have AttrGSI1PK. A lot
// with no end is indexed at EndNsNone (19 digits, after every time the
// sweeper asks about), so a sunset's LotsOutliving finds it. (Lots written
// before this rule have no index keys while they have no end; a table that
// holds such lots needs them backfilled before a sunset is set.)
//
//	lot               gsi1pk LOTEND#<shard>    gsi1sk <end ns | EndNsNone>#<contract>#<lot>
//	open hold         gsi1pk HOLDEXP#<shard>   gsi1sk <expires ns>#<contract>#<hold>
//	pending notice    gsi1pk NOTIFYPENDING#<shard>  gsi1sk <due ns>#<contract>#<id>
//	contract          gsi1pk CONTRACTS         gsi1sk <contract>
//
// <shard> (0..IndexShards-1) is a hash of the item's key, so no single index
// partition takes every hold's writes. EndedLots and ExpiredHolds query each
// shard for keys ending at or before the time, read the items themselves with
// strongly consistent reads and keep those that still need work (remaining >
// 0; state open). A hold leaves the index when it stops being open (its
// replacement is written without the index keys). A lot leaves it when the
// sweep retires it: EndedLots also returns the finished lots — nothing
// remaining, nothing held, ended at least ledger.RetireGrace ago — and the
// sweep writes each back (ledger.PlanRetireLot, conditioned on its version)
// marked retired, which lotItem writes without index keys; otherwise spent
// and closed-out lots would pile up in front of the sweeper forever. The
// read itself writes nothing. Nothing a planner writes can revive such a lot (a debit
// or refund must be live at its request time, a release needs held credits),
// except a refund planned before the end and applied after it, which the
// grace period covers. A lot's writes can't drop it themselves: an ADD
// doesn't know the counter it produces. The index keys are bookkeeping, so
// Dump leaves them out.
//
// # Transactions
//
// DynamoDB refuses two actions on one item in a transaction. core/ledger's
// planners merge each lot's moves into one MoveLot, but a Tx built elsewhere
// may repeat an item, so Apply merges the ops that can meet on one item into
// one update: MoveLots of one lot (movements summed, the remaining/held
// conditions on the sum — the ops' conditions are on the state afterwards —
// and every LiveAt kept: effective ≤ the earliest, end > the latest),
// AddBudgetUsages of one counter (deltas summed; each capped op's condition
// on the counter after the deltas up to it), and AddUsages of one roll-up.
// When a merged update's condition fails and more than one op carried a
// condition, the ConflictError names op -1 (unknown). Any other repeated item
// is refused before anything is sent, as is a transaction of more than
// TransactItemsMax items.
//
// # Sunsets
//
// Every currency's sunset lives in the one SUNSETS partition (Sunsets is one
// Query), replaced under a condition on AttrVersion. LotsOutliving — the lots
// of a currency a sunset must end, across contracts — queries the sweep
// index for keys after the final expiry (no Scan at run time), reads the
// lots strongly consistent and keeps the currency's.
//
// # Notifications
//
// A notification lives in its contract's partition (Notifications is one
// Query; the id names the event and includes the contract, so
// attribute_not_exists on the item is "once per event"). While pending it
// carries NOTIFYPENDING# sweep-index keys whose sort key is its due time
// (notificationItem writes them from the record: a claim moves the key to
// the claim's end, so a claimed or failing notification waits behind newer
// ones; marking it sent drops them), so the index holds only what is still
// to be sent: PendingNotifications queries it for keys due by its time,
// with no Scan and no filter over sent items. A claim, a send and an
// address change are each a Put of the whole notification conditioned on
// AttrVersion (core/ledger's Notification.Claim, MarkSent and Readdress
// check their rules on the notification as read). An unaddressed
// notification (no recipient) is never pending and carries no index keys.
// ContractIs and SunsetIs are ConditionChecks on the contract's and the
// sunset's version.
//
// # Contract directory
//
// Every contract item carries gsi1pk CONTRACTS and gsi1sk = its id
// (contractItem writes them, so PutContract and UpdateContract keep them),
// and Contracts pages through that one index partition, keys only: the
// hourly alert check's list of contracts, with no Scan. Contracts are
// created rarely, so one partition takes their writes. Contract items
// written before this rule have no directory keys: BackfillDirectory
// (scripts/directory-backfill, an operator's one-off with Scan rights)
// gives them theirs; until then alerts do not reach those contracts. The expiry warnings' work
// list (LotsEndingWithin) reads the LOTEND# shards for ends in a window and,
// unlike EndedLots, drops nothing from the index. So the sweeper needs no
// IAM action it did not have: Query on the index, BatchGetItem, and the
// transaction's PutItem and UpdateItem.
//
// Consumed capacity is asked for on every call and added up (Consumed,
// LastApply), so benchmarks can report write units per spend. (DynamoDB
// Local reports capacity figures that don't follow the pricing rules; the
// benchmarks also report a modelled figure.)
//
// # Production
//
// The deploy template declares the table (TableNameDefault) exactly as
// CreateTable makes it; a Lambda builds its client from its role's
// credentials and calls New(client, TableNameDefault). The IAM actions the
// store uses on the table and its index: dynamodb:TransactWriteItems (with
// the PutItem, UpdateItem and ConditionCheckItem actions it implies),
// GetItem, Query, BatchGetItem, and UpdateItem (EndedLots dropping finished
// lots from the sweep index). Scan is for tests (Dump) and an operator's
// one-off upgrade (BackfillDirectory) only; CreateTable,
// DescribeTable, DescribeTimeToLive and UpdateTimeToLive only for CreateTable.
package dynamo
