// Package sqlite is the embedded ledger store: ledger.Store on one SQLite file
// (modernc.org/sqlite, pure Go, no cgo). It is the default for `make run` and
// for single-machine deployments; production runs credits/dynamo, and both pass
// the one conformance suite in credits/storetest.
//
// Apply is one IMMEDIATE write transaction, so every condition of a
// ledger.Tx is checked on rows read under the write lock; one writer
// goroutine group-commits the waiting Txs (a Tx that fails is undone alone:
// the batch is applied again with a SAVEPOINT per Tx).
// SCHEMA.md beside this file says how it keeps the ledger's laws (locking,
// durability, how money and times are stored, keys); the tables and their
// migrations are in schema.go.
//
// It must never decide anything about money: it does not plan, price, pick
// lots or round; it applies what core/ledger planned and enforces exactly the
// conditions ledger.Tx documents, no more and no fewer. It must never write
// part of a Tx, never overwrite a counter without the condition that guards
// it, never return a zero value with a nil error for something that does not
// exist, and never open a second writer on the same file from this process.
package sqlite
