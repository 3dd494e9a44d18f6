// Command sweeper is the scheduled Lambda function that runs the ledger's
// sweep (credits.Service.Sweep): it closes lots that have ended and releases
// holds past their expiry. An EventBridge schedule invokes it; it logs the
// sweep's report as one JSON line and returns an error when the sweep fails,
// so the invocation counts as failed and the schedule's retry policy runs it
// again. Every piece of sweep work is a conditional write, so a retry or an
// overlapping run does each piece once.
//
// Runs on provided.al2023. Environment: TABLE_NAME; optionally
// DYNAMODB_ENDPOINT (see functions/lambda/boot).
//
// It must never serve HTTP, never read token keys of any kind (it needs
// none), and never compute money itself: the ledger's rules live in
// core/ledger.
package main
