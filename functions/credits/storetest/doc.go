// Package storetest is the ledger store's conformance suite: the one set of
// tests every ledger.Store adapter (credits/sqlite, credits/dynamo) must pass
// unchanged. An adapter's own test file calls Run with a function that opens
// a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ledger.Store {
//			st, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// The suite drives credits.Service with a test clock and checks the outcome
// through the Store's own reads. Its subtests are named after the rules of
// PRODUCT.md they prove ("Lots", and "Spending" laws 1–9), plus the failure
// cases (a refused request changes nothing), report roll-ups, the sweeper,
// and a concurrency property test (ConcurrentOps operations from
// ConcurrentWorkers goroutines) after which every ledger law is re-checked.
// After every subtest, every lot of every contract it created is audited:
// conservation, and the lot's entries reproduce its counters and amount.
//
// What the suite assumes of an adapter beyond ledger.Store's documentation:
//
//   - open returns an empty store, independent of every other one, so
//     subtests may run in parallel (see Parallel). Run closes it when the
//     subtest ends.
//   - Dump prints every stored item, each as lines that name the item's
//     identifier (a refused spend must leave the dump byte-identical, and a
//     not_eligible refusal may only add lines naming the new attempt's id).
//   - Times round-trip to the nanosecond and decimals by value (the suite
//     compares with Equal, never by representation).
//
// The suite never writes rows itself: every item is made through the
// Service, as production makes it, except where a test hand-plans a Tx from
// a stale read to prove a condition is enforced in the write.
//
// It must never depend on a particular adapter, the wall clock, or the order
// in which independent subtests run.
package storetest
