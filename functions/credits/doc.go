// Package credits runs the ledger: for each request it reads what the
// planner needs from a ledger.Store, asks core/ledger for a decision, and
// applies the decision's Tx. When a write's condition fails (another request
// got there first) it reads again and re-plans, at most RetriesMax times,
// then reports a conflict. A batch of consumptions (ConsumeBatch) reads once,
// plans every item in order and applies them together; an item whose write
// lost a race goes again alone, as Consume. It holds no state of its own,
// so any number of processes (or Lambda instances) may run it against one
// store.
//
// It must never compute money itself (every rule lives in core/ledger),
// never plan one request at two instants (WithTime carries the request's),
// and never name a store adapter: it holds the port, and its caller chooses
// sqlite or dynamo.
package credits
