// Command sweeper is the scheduled Lambda function that runs the ledger's
// background work. Every minute, the sweep (credits.Service.Sweep): it
// closes lots that have ended, releases holds past their expiry, records
// expiry warnings and sends the notification outbox through SES. Every
// hour (the schedule's input {"task": "alerts"}), the alert check
// (credits.Service.SweepAlerts): every contract's alerts, each new alert
// event recorded in the outbox, for the next sweep to send. It logs each
// report as one JSON line and returns an error when the task fails, so the
// invocation counts as failed and the schedule's retry policy runs it
// again. Every piece of work is a conditional write, so a retry or an
// overlapping run does each piece once (a notification is claimed before
// it is sent).
//
// Runs on provided.al2023. Environment: TABLE_NAME; optionally
// DYNAMODB_ENDPOINT (see functions/lambda/boot).
//
// It must never serve HTTP, never read token keys of any kind (it needs
// none), and never compute money itself: the ledger's rules live in
// core/ledger.
package main
