// Package core is the Cloud Credits domain: the shared vocabulary (errors,
// currencies, decimal quantities and the one money-rounding rule) that the
// subpackages build on.
//
//   - core/rates: rate cards and estimates (what a job costs in credits).
//   - core/pricing: price books and prices (what credits cost in money).
//   - core/ledger: lots, the spend planner, holds, refunds and lot life.
//   - core/quote: signed quote links (Ed25519 tokens: Sign, Verify).
//   - core/jsontext: the strict JSON reader and the writers rates and
//     pricing use for their wire forms, without reflection.
//
// Everything under core is pure. It must never do I/O, read the clock, touch
// the network, the file system, a database, AWS or syscall/js: time and
// randomness come in as arguments, data comes in as values. The same code is
// compiled to WebAssembly for the browser and natively for the server, so an
// estimate in the browser and a charge in the ledger can never disagree.
// A test (purity_test.go) fails the build if a forbidden package ever enters
// core's import graph.
//
// Quantities of credits and money are shopspring/decimal values, never floats.
package core
