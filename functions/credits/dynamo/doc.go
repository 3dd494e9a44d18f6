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
// The table, the item layout, the sweep index, how Apply turns a Tx's writes
// into one transaction, and the IAM actions the store needs are specified in
// LAYOUT.md beside this file; change it with the code.
//
// It must never decide anything about money (core/ledger does), never turn a
// decimal into a float (credits are DynamoDB numbers written from and read
// into shopspring/decimal text, exact to 38 digits), never Scan at run time,
// and never trust TTL to have deleted anything: TTL deletes lazily (DynamoDB
// Local never), so every read that cares filters on expiry itself.
package dynamo
