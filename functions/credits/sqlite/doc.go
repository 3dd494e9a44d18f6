// Package sqlite is the embedded ledger store: ledger.Store on one SQLite file
// (modernc.org/sqlite, pure Go, no cgo). It is the default for `make run` and
// for single-machine deployments; production runs credits/dynamo, and both pass
// the one conformance suite in credits/storetest.
//
// How it keeps the ledger's laws:
//
//   - Apply is one write transaction, begun IMMEDIATE (the DSN's
//     _txlock=immediate), so it holds SQLite's write lock from its first
//     statement: every condition of the ledger.Tx is checked on rows read
//     inside that transaction, and no other writer — in this process or any
//     other — can change them before the commit. If any condition fails, the
//     transaction is rolled back and Apply returns a *ledger.ConflictError
//     naming the op; nothing is written.
//   - One writer goroutine on one connection does every write, so this
//     process's writers queue in Go instead of spinning on SQLITE_BUSY; a
//     pool of query-only connections serves reads, which WAL lets run beside
//     the writer. The writer group-commits: the Txs waiting when it becomes
//     free go into one transaction, each in its own SAVEPOINT (a Tx that
//     fails is rolled back to it alone, and each Tx sees the ones before it,
//     as if run one after another), with one fsync for all of them. No Tx
//     is acknowledged before that commit; if it fails, all of them fail.
//   - Durability: journal_mode=WAL with synchronous=FULL. Any transaction is
//     all-or-nothing under a killed process with either FULL or NORMAL; FULL
//     also fsyncs the WAL at every commit, so a spend acknowledged to a
//     client survives a power cut or an OS crash, not only a killed process.
//     That costs one fsync per Apply, which a money ledger should pay.
//   - Money is stored as canonical decimal text (decimal.String: no exponent,
//     no trailing zeros, "0" for zero) and compared in Go with Cmp/Equal after
//     parsing, never as floats and never by SQL arithmetic. Times are INTEGER
//     Unix nanoseconds in UTC; the zero time is NULL. Lists inside a row
//     (debits, returned parts, covered entities) are JSON text.
//   - After writing a lot it reads back what it wrote (UPDATE … RETURNING)
//     and requires it to conserve credits; a lot that doesn't fails the whole
//     Apply with an internal error rather than committing it.
//   - The schema is versioned with PRAGMA user_version and migrated on Open,
//     in one transaction; a database newer than the code is refused.
//
// Keys: every item is scoped by its contract — (contract, id) for lots,
// holds, consumptions, entries, attempts and orders; (contract, key) for
// idempotency records — matching the port's reads, which always name the
// contract. The two reads by id alone, LotContract and OrderContract, use an
// index on id and refuse an id that two contracts share.
//
// It must never decide anything about money: it does not plan, price, pick
// lots or round; it applies what core/ledger planned and enforces exactly the
// conditions ledger.Tx documents, no more and no fewer. It must never write
// part of a Tx, never overwrite a counter without the condition that guards
// it, never return a zero value with a nil error for something that does not
// exist, and never open a second writer on the same file from this process.
package sqlite
