package capacity

import (
	"math/rand/v2"
	"time"

	"cloudcredits/functions/credits"
)

// Model is the replay's parameters. DefaultModel gives the values
// CAPACITY.md documents, each with its source.
type Model struct {
	// WriteUnitsPerSecond and ReadUnitsPerSecond are DynamoDB's limits on
	// one partition. Every distinct partition key value (of the table or of
	// an index) is a partition of its own: the most favourable split
	// adaptive capacity can make, since one key value is never split.
	WriteUnitsPerSecond, ReadUnitsPerSecond float64
	// BucketSeconds is how many seconds of a partition's capacity its token
	// bucket holds: the largest burst it admits at once. DynamoDB's burst
	// capacity (up to 300 s of unused capacity, best effort) is set to zero;
	// only this one second of smoothing remains.
	BucketSeconds float64

	// NetworkRoundTrip is the client's round trip to DynamoDB, half each
	// way; the service times are DynamoDB's time on a call: a read, a
	// single-item write, a transaction (whose items are in flight, and
	// conflict with another transaction's, for that long), and a request
	// refused for throttling or a conflict.
	NetworkRoundTrip                                           time.Duration
	ReadService, WriteService, TransactService, RefusedService time.Duration

	// CallAttemptsMax and CallBackoff are the adapter's client retrying a
	// throttled call (the attempts include the first; CallBackoff gives the
	// wait before retry n, n ≥ 1). A transaction cancelled for throttling is
	// not retried by the client (TransactionCanceledException is not a
	// retryable code): the adapter answers it as unavailable.
	CallAttemptsMax int
	CallBackoff     func(retry int, r *rand.Rand) time.Duration
	// ReplansMax is how often the service re-plans a spend after a
	// conflict (credits.RetriesMax); UnavailableReplansMax after a write
	// the store answered as unavailable (credits.UnavailableRetriesMax):
	// a re-plan after attempt a (0 first) is made while a < the bound.
	// ReplanBackoff is the wait before re-plan n, n ≥ 1.
	ReplansMax, UnavailableReplansMax int
	ReplanBackoff                     func(replan int, r *rand.Rand) time.Duration

	// Clients is how many clients spend at once, each one spend after
	// another with no pause (a closed loop).
	Clients int
	// Warmup is simulated before measuring (buckets start full and drain);
	// Measure is the window the figures are taken over.
	Warmup, Measure time.Duration
	// Seed makes a run reproducible: the same seed, traces and model give
	// the same figures.
	Seed uint64
}

// DefaultModel is the model CAPACITY.md documents, with the service's
// re-plan policy (package credits) and without the client's retry policy:
// set CallAttemptsMax and CallBackoff from the adapter's (FullJitter of
// dynamo.RetryAttemptsMax, dynamo.RetryBackoffBase, dynamo.RetryBackoffMax).
func DefaultModel() Model {
	return Model{
		WriteUnitsPerSecond:   1000,
		ReadUnitsPerSecond:    3000,
		BucketSeconds:         1,
		NetworkRoundTrip:      1 * time.Millisecond,
		ReadService:           4 * time.Millisecond,
		WriteService:          6 * time.Millisecond,
		TransactService:       11 * time.Millisecond,
		RefusedService:        2 * time.Millisecond,
		CallAttemptsMax:       1,
		CallBackoff:           func(int, *rand.Rand) time.Duration { return 0 },
		ReplansMax:            credits.RetriesMax,
		UnavailableReplansMax: credits.UnavailableRetriesMax,
		ReplanBackoff: func(n int, r *rand.Rand) time.Duration {
			return credits.RetryDelay(n, uint16(r.Uint32()))
		},
		Clients: 200,
		Warmup:  2 * time.Second,
		Measure: 20 * time.Second,
		Seed:    1,
	}
}

// FullJitter is exponential backoff with full jitter: retry n waits a
// random time below min(max, base·2^(n−1)), plus 1 ms — the adapter's
// client retryer (dynamo.NewRetryer).
func FullJitter(base, max time.Duration) func(int, *rand.Rand) time.Duration {
	return func(n int, r *rand.Rand) time.Duration {
		ceiling := max
		if n >= 1 && n < 16 {
			ceiling = min(base<<(n-1), max)
		}
		return time.Duration(r.Int64N(int64(ceiling))) + time.Millisecond
	}
}

// service is a call's time in DynamoDB when it is served.
func (m Model) service(transact, writes bool) time.Duration {
	switch {
	case transact:
		return m.TransactService
	case writes:
		return m.WriteService
	}
	return m.ReadService
}

// unloaded is a trace's latency with nothing refused: what one client
// takes per spend when nothing throttles or conflicts.
func (m Model) unloaded(t Trace) time.Duration {
	var d time.Duration
	for _, c := range t {
		d += m.NetworkRoundTrip + m.service(c.Transact(), c.Writes())
	}
	return d
}
