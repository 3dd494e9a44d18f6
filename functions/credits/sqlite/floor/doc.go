// Package floor is the storage floor of the SQLite ledger store: the least
// that one spend could cost on the same database, measured so the adapter's
// spend figures can stand beside it as a ratio.
//
// One floor spend is one SQLite transaction of two statements on the
// adapter's own tables (its migrations, opened through sqlite.OpenWriter, so
// the same pure-Go driver and the same DSN: WAL, synchronous=FULL, BEGIN
// IMMEDIATE, one fsync per commit):
//
//   - a conditional UPDATE of a lot row: remaining down and spent up by one
//     credit, version moved on, WHERE the key and the version the writer
//     last wrote (a changed row count is the condition failing);
//   - an INSERT of the entry row that records the move.
//
// Both are prepared once. Each spend is its own transaction and its own
// fsync: callers hand their spend to one writer goroutine (the adapter's
// loop, internal/groupcommit, with a batch of one, BatchMax), which runs
// them one after another and answers each caller after its commit. So the
// floor is what one spend costs the storage, whatever the number of
// callers; the adapter's group commit, which lets concurrent spends share
// a commit, is how its spends can pass the floor when many spend at once.
//
// It deliberately leaves out everything above the storage: no reads (the
// writer knows each lot's version and counters because it is their only
// writer), no planning, no decimal parsing (whole credits, written as the
// canonical decimal text the adapter stores), no idempotency, consumption,
// usage or budget rows, and no SAVEPOINT per spend (a floor spend cannot
// fail alone: a failure fails its whole batch). The spends are spread over
// Lots lot rows, as the benchmark's sharded pool spreads them.
//
// It must never be pointed at a ledger in use: it writes lots and entries
// of its own contract, and a Store must be the only writer of its file.
package floor
