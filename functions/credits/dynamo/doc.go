// Package dynamo is the production adapter of the ledger's storage port
// (ledger.Store) on Amazon DynamoDB, in one table.
//
// Every Apply is exactly one TransactWriteItems call (two, once, when a key
// is used again after its record expired and that record keeps a
// consumption: keys.go). Each op of the
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
// What may be stale, and for how long. A spend reads its lots from the
// pool index (IndexPool), which DynamoDB keeps eventually consistent: an
// index read can lag the table by the index's propagation delay, which AWS
// describes as usually a fraction of a second. Stale is safe for money,
// because every debit's own condition checks the lot as it is at the write
// (credits remaining, live at the request time, and exactly empty when the
// planner meant to take all of it); a stale read costs a conflict and a
// re-plan, never a credit. What it can cost a request, for at most that
// delay: a lot granted or refilled just before is not yet seen (a spend
// that needed it is refused insufficient_credits, and a retry succeeds),
// and the balance a spend reports can miss it. Everything else a spend
// reads (the contract, the user, the budget, the idempotency record) is a
// strongly consistent GetItem.
//
// A store made WithEntriesFromStream (as deployed) leaves a spend's ledger
// entries to the table's stream: the consumption kept in its key's record
// carries its debits, and RollUp writes the entries from it. A lot's
// entries then lag its counters by the stream's delay (usually under a
// second); nothing decides on entries, and an audit catches up first.
//
// It must never decide anything about money (core/ledger does), never turn a
// decimal into a float (credits are DynamoDB numbers written from and read
// into shopspring/decimal text, exact to 38 digits), never Scan at run time,
// and never trust TTL to have deleted anything: TTL deletes lazily (DynamoDB
// Local never), so every read that cares filters on expiry itself.
package dynamo
