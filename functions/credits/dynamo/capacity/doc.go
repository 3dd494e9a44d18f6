// Package capacity shows, without a real DynamoDB, how many spends per
// second one shared credit pool can sustain on the DynamoDB adapter
// (package dynamo) under DynamoDB's per-partition limits.
//
// It works in three steps:
//
//   - Record: a Recorder wraps a DynamoDB client (middleware on the client's
//     options), so that every item a call touches is written down as the
//     adapter sent it against DynamoDB Local: operation, table or index,
//     partition and sort key, read or write, consistency, and the item's size
//     by DynamoDB's rules (Access). A write's size is the larger of the item
//     before and after, which the Recorder reads beside the call; a global
//     secondary index entry the write adds, moves or removes is an Access of
//     its own, on the index's partition.
//   - Replay: Simulate runs many clients through sampled traces in simulated
//     time (a discrete-event simulation, deterministic for a seed), against
//     per-partition token buckets and DynamoDB's transaction conflicts, with
//     the adapter's and the service's own retry policies (Model).
//   - Report: a Result per scenario (offered and achieved spends/s, throttled
//     requests, transaction conflicts, the bottleneck partition) and a Costs
//     table of capacity units per spend per key pattern, as text tables.
//
// CAPACITY.md beside this file documents the model: every parameter with its
// source, and what is and is not modelled.
//
// It is test support: it must never be linked into a deployed function, and
// it never sleeps on the wall clock (simulated time only).
package capacity
