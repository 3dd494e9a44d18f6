package storetest

import (
	"strings"
	"testing"
)

// spec is one subtest: a sentence that reads like a rule, and its proof.
// A leading number names the ledger law the rule belongs to.
type spec struct {
	name string
	fn   func(t *testing.T, h *harness)
}

// rollupSpecs are the names of the rules that read usage roll-ups (a
// usage report or the alert check): see ReadsRollups.
var rollupSpecs = map[string]bool{concurrencySpec: true}

// rollups is a spec that reads usage roll-ups.
func rollups(name string, fn func(t *testing.T, h *harness)) spec {
	rollupSpecs[name] = true
	return spec{name, fn}
}

// ReadsRollups reports whether the subtest of Run named testName (its
// t.Name()) reads usage roll-ups, which the harness brings up to date first
// (a store with CatchUp). An adapter whose roll-ups follow a change stream
// may set the stream up for those subtests alone: on an emulator a stream
// is not free, and most rules never read a roll-up.
func ReadsRollups(testName string) bool {
	i := strings.LastIndex(testName, "/")
	for name := range rollupSpecs {
		if testName[i+1:] == strings.ReplaceAll(name, " ", "_") {
			return true
		}
	}
	return false
}

// group is one subtest of Run: a part of the ledger and its rules.
type group struct {
	name  string
	specs []spec
}

// suite is what every adapter must keep, in the order Run checks it; the
// concurrency property test follows. Where a group's rules are generated
// from a table, the table lives beside its test.
var suite = []group{
	{"Lots", []spec{
		{"an employee receives 100 individual cloud credits once per contract and user", testIndividualGrantOnce},
		{"education and guest identities and users who may not spend receive no individual credits", testNoGrantForNonSpenders},
		{"a contractor receives individual credits only where the contract covers contractors", testContractorGrant},
		{"no individual credits without an active subscription or maintenance plan", testNoGrantWithoutPlan},
		{"an individual lot is usable only by its owner", testIndividualOnlyByOwner},
		{"removing a user ends their individual lot at the removal", testRemoveUserEndsLot},
		{"a withdrawn individual lot closes exactly at notice plus 90 days and the sweeper withdraws its rest", testWithdrawal},
		{"only individual lots can be withdrawn, and only once", testWithdrawRefusals},
		{"a shared lot expires 12 months after purchase plus the contract's extension months", testSharedExpiry},
		{"a shared lot never outlives its contract", testSharedEndsWithContract},
		{"terminating a contract ends every lot at the termination time", testTermination},
		{"terminating a contract with more lots than one transaction holds ends them all", testTerminationManyLots},
		{"a currency sunset caps the expiry of the lots granted in it", testCurrencySunset},
		{"a large grant is stored as equal shards with one expiry and spending spreads over them", testShards},
		{"a contract's reads never show another contract's items", testContractScope},
	}},
	{"Spending", []spec{
		{"1 burn order: own individual lot, then shared lots by soonest expiry, oldest grant, lot id", testBurnOrder},
		{"1 a consumption's debits are recorded as consume entries that reference it", testConsumeEntries},
		{"2 never below zero: a consumption takes the full amount or nothing", testAllOrNothing},
		{"3 only live lots: an expired lot is never debited, whatever its place in the burn order", testExpiredNotDebited},
		{"3 expiry at the exact boundary: a lot expiring at T is spendable at T−1ns and not at T", testExpiryBoundary},
		{"4 exactly once: a retry with the same key and body returns the first result byte for byte", testReplay},
		{"4 exactly once: the same key with another body is refused and changes nothing", testKeyReused},
		{"4 exactly once: a replay answers its first result even when the request would now be refused", testReplayAfterState},
		{"4 exactly once: a result is kept for 35 days and no longer", testIdempotencyRetention},
		{"4 exactly once: a mutating request without a valid key is refused", testKeyMissing},
		{"5 conservation: a busy lot's counters and entries agree after every kind of movement", testBusyLotConserves},
		{"a refusal for the wrong currency says what is held", testCurrencyMismatch},
		{"4 a batch consumes each item once by its own key, in order, each seeing the earlier ones; a refused item refuses no other", testBatchInOrder},
		rollups("4 exactly once: one batch sent four times at once consumes each item once and conserves credits", testBatchConcurrentReplay),
	}},
	{"LargeContract", []spec{
		{"with 20,000 lots live and finished mixed, a spend reads only the live lots of its two pools, burns them in exact order, never debits a finished lot, and conserves credits", testLargeContract},
	}},
	{"Holds", []spec{
		{"6 a hold reserves credits: remaining moves to held, with a 24-hour expiry by default", testHoldReserves},
		{"6 settling below the hold posts the actual and returns the rest to the same lots", testSettleBelow},
		{"6 settling at exactly the hold posts all of it", testSettleEqual},
		{"6 settling above the hold posts it and consumes the difference in burn order", testSettleAbove},
		{"6 settling above the hold without enough credits fails and changes nothing", testSettleAboveInsufficient},
		{"6 releasing a hold returns every credit to its lots", testRelease},
		{"6 a hold past its expiry cannot be settled and the sweeper releases it", testHoldExpiry},
		{"6 a hold outliving its lot: held credits post, the unused part goes to expired", testHoldOutlivesLot},
		{"6 termination in the middle of a hold: the hold still settles, nothing new is spent", testTerminationMidHold},
		{"6 a closed hold cannot be settled or released again", testClosedHold},
	}},
	{"Refunds", []spec{
		{"7 a partial refund returns credits to the lots they came from, last debited first", testPartialRefunds},
		{"7 a refund cannot exceed what is left to refund", testOverRefund},
		{"7 the part of a refund whose lot has ended is recorded as lost, not re-issued", testRefundLost},
		{"7 refunding a settled hold returns credits to the hold's lots", testRefundSettledHold},
	}},
	{"Eligibility", eligibilitySpecs()},
	{"Budgets", []spec{
		{"9 a consumption that would cross the project's monthly cap is refused", testBudgetCap},
		{"9 the monthly cap starts afresh at the month boundary (UTC)", testBudgetMonthBoundary},
		{"9 a refund lowers the project's usage", testBudgetRefund},
		{"9 a hold reserves budget, a release returns it and a settlement charges the actual", testBudgetHolds},
		{"9 a hold settled in a later month is charged, and refunded, in the month it was taken", testBudgetAcrossMonths},
	}},
	// Each of these plans a Tx by hand from a read, lets the store move on,
	// and then applies the stale Tx: every ledger law must hold in the write
	// itself.
	{"ConditionsInTheWrite", []spec{
		{"3 a debit planned before its lot ended by termination fails in the write and changes nothing", testStaleTerminated},
		{"3 a debit planned before its owner was removed fails in the write and changes nothing", testStaleRemoved},
		{"3 a debit of a lot not yet effective at the request time fails in the write", testStaleNotEffective},
		{"2 a debit planned on a stale balance cannot take a lot below zero", testStaleBalance},
		{"4 two requests with one key planned together apply once", testStaleIdempotency},
		{"6 a settlement planned before its hold was released fails in the write", testStaleSettle},
		{"6 a release planned before its lot ended cannot return credits to that lot", testStaleRelease},
		{"7 a refund planned on a stale consumption fails in the write", testStaleRefund},
		{"9 the budget cap is enforced in the write", testStaleBudget},
		{"the one-time individual grant is enforced in the write", testStaleGrant},
		{"a withdrawal planned before its lot was ended fails in the write", testStaleWithdraw},
		{"every create and update is conditional, and a failed Tx applies none of its ops", testConditions},
	}},
	{"RefusalsChangeNothing", refusalSpecs()},
	{"Reports", []spec{
		rollups("usage roll-ups sum consumptions net of refunds per month, user, service, project and entity", testUsageRollups),
		{"a usage report summed by the store is the report of every roll-up row, for every grouping", testUsageReportSums},
	}},
	{"Sweep", []spec{
		{"the sweeper closes ended lots and releases expired holds, and a second run does nothing", testSweep},
		{"the sweeper leaves live lots and unexpired holds alone", testSweepNothing},
		{"a finished lot leaves the sweeper's work list once retired, and reading the list writes nothing", testSweepRetires},
	}},
	{"Orders", []spec{
		{"an order is created pending once per key, read back by contract and by id alone", testCreateOrder},
		{"the payment event applied 20 times concurrently fulfils the order exactly once", testFulfilOnce},
		{"a pending order is cancelled once, and a cancelled order is never fulfilled", testCancelOrder},
		{"an invoice order is marked paid once per key, which fulfils it; a card order is not", testMarkPaid},
		{"the contract year's purchases count the paid and fulfilled orders of its currency", testPurchasedInYear},
		{"an order's create and status conditions are enforced in the write", testOrderConditions},
	}},
	{"Quotes", []spec{
		{"a quote is accepted once: its order and its acceptance are written together, a retry replays", testAcceptQuote},
		{"20 concurrent accepts of one quote make exactly one order; the others are quote_already_accepted", testAcceptQuoteRace},
		{"a quote's acceptance is create-if-absent in the write, whatever the planner read", testAcceptanceCondition},
	}},
	{"Sunsets", []spec{
		{"the seed's move from cloud credits to flex tokens: sales close, flex pays for cloud services, every cloud lot ends by the final expiry", testSunsetSeed},
		{"a sunset is created once and replaced only at the version read, and reads back as written", testSunsetConditions},
		{"a grant, an individual grant and an order planned before a sunset and written after it are planned again under it", testSunsetRace},
	}},
	{"Notifications", []spec{
		{"an event is recorded exactly once under 10 concurrent puts, and marked sent exactly once", testNotificationOnce},
		{"withdrawing a lot records its notice in the same write, to the contract's notify_email", testWithdrawalNotice},
		{"a sweep records each expiry warning once and delivers it once; a failed send stays pending", testSweepNotifications},
		{"a claim holds a notification for one sender until it lapses; a claimed one waits behind newer ones", testClaimNotification},
		{"four sweepers draining one outbox at once send every notification exactly once", testConcurrentDrain},
		{"a contract without notify_email gets its notices recorded unaddressed, never queued", testUnaddressed},
		{"setting a contract's address queues its unaddressed notifications of the last 90 days to it", testReaddress},
		rollups("a notice or alert addressed from a contract whose address changes before the write is addressed again", testAddressRace),
		{"a notice recorded while an address change is planned, and notices beyond one write's bound, move with the address", testReaddressFollowUp},
		{"a pending notification without a recipient (an earlier version's) leaves the queue instead of failing", testLegacyNoRecipient},
		{"a notification held by a send while its address changed follows the address once the claim lapses", testHeldFollowsAddress},
		{"an expiry warning recorded under an earlier version's unescaped id is not recorded again", testLegacyWarningID},
		{"a contract's outbox read returns its newest notifications when it holds more than the read's bound; a prefix read returns one range of ids", testNewestNotifications},
		{"the contract directory pages through every contract in id order", testContractDirectory},
		rollups("the alert check records each alert event once per contract, skips terminated ones, and the sweep sends them", testSweepAlerts),
		rollups("a contract whose alert check fails does not stop the others; the check reports it", testSweepAlertsFailure),
	}},
}
