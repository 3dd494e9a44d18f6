// Command rollup is the Lambda function the ledger table's stream invokes
// with each batch of changes: it adds the consumptions written or refunded
// in the batch to the usage roll-up rows (dynamo.Store.RollUp), so a
// spend's transaction writes no row every spend of a contract shares, and
// reports read pre-aggregated rows whose freshness they state
// (dynamo.Store.UsageAsOf). Each row is one ADD, in transactions guarded
// by a marker of the batch, so a batch delivered again adds nothing twice.
// A failed batch returns an error: the event source retries the same batch
// (in order, per shard) until it succeeds.
//
// Runs on provided.al2023. Environment: TABLE_NAME; optionally
// DYNAMODB_ENDPOINT (see functions/lambda/boot).
//
// It must never serve HTTP, never read keys of any kind, and never decide
// anything about money: it sums what the ledger already recorded.
package main
