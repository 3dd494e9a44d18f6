// Package ledger is the credit ledger's domain: lots, the spend planner,
// holds, refunds and lot life (grants, withdrawal, termination, expiry).
//
// Every function here is pure. A planner is given what the caller read (the
// contract, the user, the lots, the budget, any prior result for the
// idempotency key) and the time, and returns a Decision: the result and a Tx,
// a list of conditional writes that a store applies all together or not at
// all. The conditions carry the ledger's laws into the write itself, so they
// hold under any concurrency even when the read that planned the write is
// stale:
//
//   - a debit requires the lot to be live at the request time and to keep
//     remaining ≥ 0 (never below zero; only live lots);
//   - the idempotency record requires that no live record exists for the key
//     (exactly once);
//   - a project's month counter requires staying under its cap;
//   - a record's update (a hold, a consumption, an order, a notification, a
//     lot's end) requires the version that was read.
//
// When a condition fails the store applies nothing and the caller reads again
// and re-plans, a bounded number of times.
//
// A store does not see the ops: Tx.Writes lowers them (write.go) to four
// primitives — create if absent, replace at the version read, add within a
// bound, check a version — each on one record, and checks the Tx's
// invariants once on the way. The storage port, Store (store.go), is
// declared here beside the domain; its adapters live in the shell
// (functions/credits/sqlite, functions/credits/dynamo) and must never decide
// anything about money.
//
// Rules chosen where PRODUCT.md is silent, written here so they are not only
// in someone's head:
//
//   - A refused request (invalid, insufficient, over budget, not eligible)
//     stores no idempotency record, so it can be retried with the same key
//     once the cause is gone. A not_eligible refusal does write one audit
//     record (an Attempt) and nothing else.
//   - balance_after is computed from the state the spend was planned on;
//     concurrent spends on other lots may have lowered the balance further.
//   - A hold reserves the project's budget when it is taken; settling or
//     releasing corrects the counter of the month the hold was taken in.
//   - Settling a hold after a lot it drew on has ended posts the held credits
//     (they were reserved while the lot was live) and sends the unused part to
//     expired (or withdrawn), never back to a dead lot's remaining.
//   - Settling a hold at 0 is a release through a settlement: every held
//     credit goes back as a release would send it, the hold ends settled,
//     its budget reservation is undone, and nothing else is recorded — no
//     zero-credit consumption (the answer has no consumption_id), no usage,
//     and the answer's debits are an empty list.
//   - Settling past the hold's expiry fails with hold_expired and changes
//     nothing; the sweeper (or a release) returns the credits.
//   - A refund goes first to the debited lots that are still live, last
//     debited first, so a partial refund loses as little as possible; the
//     part owed to ended lots is recorded as lost (a refund_lost entry).
//   - Terminating a contract ends every lot that would outlive it, individual
//     lots included: their owners stop being current on the contract.
//   - A spend that would draw on more than LotsPerSpendMax lots is refused
//     with conflict; there is no overage allowance in this version.
//   - An order's price never changes after it is made. Fulfilling it creates
//     one shared lot, "lot_" + the order id, in the same Tx as the order's
//     update conditioned on the status read: however often the payment event
//     arrives, one lot. Its entries name the order. A cancelled order is
//     never fulfilled (a payment that arrives for one must be refunded).
//   - Volume tiers count the contract year's paid and fulfilled orders of the
//     same currency (each currency has its own price book); pending,
//     cancelled and refunded orders count for nothing.
//   - A currency's sunset (sunset.go) stops its sales at SalesEnd and ends
//     every lot of it by FinalExpiry: grants made after the sunset is set
//     are capped (GrantRequest.CurrencyEnd, UserRequest.CurrencyEnd), lots
//     that exist are ended by EndLotsAfterSunset in bounded follow-up Txs.
//     A Tx that creates a capped lot carries SunsetIs on the sunset version
//     it was planned under, so a sunset set in between fails it and it is
//     planned again under the new one: no lot slips past a final expiry.
//   - From a sunset's SalesEnd, a spend priced in the retiring currency
//     (its service's rate names it) may also draw on the successor currency:
//     the burn order (SpendOrder) is the retiring currency's burn order, then
//     the successor's — old credits first, since they expire. Each debit of
//     a successor's lot names its currency (Debit.Currency); the consumption
//     or hold, its budget counter and its usage row stay in the rate's
//     currency. Before SalesEnd, and for every other pair of currencies,
//     balances never substitute and a job that only another currency could
//     pay for is refused with currency_mismatch ("you hold 500 forma
//     credits; this service takes cloud credits"; after a sunset "… takes
//     cloud credits or flex tokens").
//   - A batch of consumptions (batch.go) is each item exactly once by its
//     own key, planned in order: each item plans on the state the items
//     before it leave (Carry), so its balance_after counts their debits.
//     Each item is its own Tx; a refused item changes no other. Two items
//     of one batch may not share a key (the later is invalid_request).
package ledger
