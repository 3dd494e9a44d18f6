package capacity_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/credits/dynamo/capacity"
)

// model is the default model with the adapter's client retries, over a
// shorter window so the tests stay quick.
func model(clients int) capacity.Model {
	m := capacity.DefaultModel()
	m.CallAttemptsMax = dynamo.RetryAttemptsMax
	m.CallBackoff = capacity.FullJitter(dynamo.RetryBackoffBase, dynamo.RetryBackoffMax)
	m.Clients = clients
	m.Warmup, m.Measure = time.Second, 4*time.Second
	return m
}

// txPut is a trace of one transaction putting one item of `bytes` bytes.
func txPut(pk, sk string, bytes int) capacity.Trace {
	return capacity.Trace{{Op: "TransactWriteItems", Accesses: []capacity.Access{
		{Kind: capacity.Put, Table: "t", PK: pk, SK: sk, Transactional: true, Bytes: bytes}}}}
}

func simulate(t *testing.T, m capacity.Model, traces []capacity.Trace, classes ...capacity.Class) capacity.Result {
	t.Helper()
	w, err := capacity.NewWorkload(traces, classes...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := capacity.Simulate(m, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d clients: offered %.0f/s, achieved %.0f/s, throttled %.0f/s, conflicts %.0f/s, failed %.0f/s, bottleneck %s (%.0f WCU/s)",
		m.Clients, res.Offered, res.Achieved, res.Throttled, res.Conflicts, res.Failed, res.Bottleneck().Pattern, res.Bottleneck().WCU)
	return res
}

func within(got, want, tolerance float64) bool { return math.Abs(got-want) <= tolerance*want }

// One partition takes 1,000 WCU/s: transactional writes of items under 1 KB
// cost 2 WCU each, so it completes 500 of them per second however many are
// offered, and throttles the rest.
func TestOnePartitionCapsTransactionalWrites(t *testing.T) {
	var traces []capacity.Trace
	for i := range 4 {
		traces = append(traces, txPut("P", fmt.Sprintf("item%d", i), 1000)) // a new item each time: no conflicts
	}
	res := simulate(t, model(100), traces)
	if !within(res.Achieved, 500, 0.03) {
		t.Errorf("achieved %.0f writes/s, want 500 ± 3%%", res.Achieved)
	}
	if res.Offered < 2000 || res.Throttled == 0 || res.Conflicts != 0 {
		t.Errorf("offered %.0f/s, throttled %.0f/s, conflicts %.0f/s; want well over 500 offered, some throttled, no conflicts",
			res.Offered, res.Throttled, res.Conflicts)
	}
	if got := res.Bottleneck(); got.Pattern != "P" || !within(got.WCU, 1000, 0.03) {
		t.Errorf("bottleneck %q at %.0f WCU/s, want \"P\" at 1000", got.Pattern, got.WCU)
	}
}

// An item of 1.5 KB costs 2 units, transactionally 4: the cap halves.
func TestWritesRoundUpPerKB(t *testing.T) {
	var traces []capacity.Trace
	for i := range 4 {
		traces = append(traces, txPut("P", fmt.Sprintf("item%d", i), 1536))
	}
	if res := simulate(t, model(100), traces); !within(res.Achieved, 250, 0.03) {
		t.Errorf("achieved %.0f writes/s of 1.5 KB items, want 250 ± 3%%", res.Achieved)
	}
}

// Two transactions writing the same item conflict while one is in flight:
// with one item, at most one transaction commits per TransactService.
func TestSameItemTransactionsConflict(t *testing.T) {
	traces := []capacity.Trace{txPut("P", "hot", 100), txPut("P", "hot", 100)}
	two := simulate(t, model(2), traces)
	if two.Conflicts == 0 {
		t.Errorf("two writers of one item: no conflicts")
	}
	many := simulate(t, model(50), traces)
	ceiling := 1 / capacity.DefaultModel().TransactService.Seconds()
	if many.Achieved > ceiling || many.Conflicts < many.Achieved {
		t.Errorf("50 writers of one item: %.0f/s achieved (ceiling %.0f), %.0f conflicts/s; want at most the ceiling and more conflicts than commits",
			many.Achieved, ceiling, many.Conflicts)
	}
	if many.HotItem != "P hot" {
		t.Errorf("hot item %q, want \"P hot\"", many.HotItem)
	}
}

// Spreading writes over shard partitions multiplies the capacity, and
// spreading one hot item over shard items the commits: a replay re-maps the
// recorded shard to a random one.
func TestShardedWritesScale(t *testing.T) {
	for _, tc := range []struct {
		name         string
		sk           func(i int) string
		perShard     float64
		clients      int
		tolerance    float64
		wantConflict bool
	}{
		{"capacity", func(i int) string { return fmt.Sprintf("item%d", i) }, 500, 200, 0.05, false},
		{"conflicts", func(int) string { return "hot" }, 0, 200, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var achieved []float64
			for _, shards := range []int{1, 4} {
				var ids []string
				for s := range shards {
					ids = append(ids, fmt.Sprintf("s%d", s))
				}
				var traces []capacity.Trace
				for i := range 2 * shards {
					traces = append(traces, txPut("P#"+ids[i%shards], tc.sk(i), 1000))
				}
				res := simulate(t, model(tc.clients), traces, capacity.Class{Name: "<s>", Recorded: ids, Population: ids, PerAttempt: true})
				if tc.perShard > 0 && !within(res.Achieved, tc.perShard*float64(shards), tc.tolerance) {
					t.Errorf("%d shards: achieved %.0f/s, want %.0f", shards, res.Achieved, tc.perShard*float64(shards))
				}
				if tc.wantConflict && res.Conflicts == 0 {
					t.Errorf("%d shards of one hot item each: no conflicts", shards)
				}
				achieved = append(achieved, res.Achieved)
			}
			if ratio := achieved[1] / achieved[0]; ratio < 3 {
				t.Errorf("4 shards achieve %.1f× 1 shard, want at least 3×", ratio)
			}
		})
	}
}

// Reads: a strongly consistent Query of 10 KB costs 3 RCU, so one
// partition serves 1,000 of them per second; eventually consistent, 2,000.
func TestReadsCapAtPartitionReadLimit(t *testing.T) {
	for _, strong := range []bool{true, false} {
		q := capacity.Trace{{Op: "Query", Accesses: []capacity.Access{{Kind: capacity.Query, Table: "t", PK: "P", Strong: strong, Bytes: 10_000, Items: 25}}}}
		want := 1000.0
		if !strong {
			want = 2000
		}
		if res := simulate(t, model(200), []capacity.Trace{q, q}); !within(res.Achieved, want, 0.03) {
			t.Errorf("strong=%v: achieved %.0f queries/s, want %.0f ± 3%%", strong, res.Achieved, want)
		}
	}
}

// The same seed gives the same figures.
func TestSimulationIsDeterministic(t *testing.T) {
	traces := []capacity.Trace{txPut("P", "hot", 100), txPut("P", "hot", 100), txPut("P", "a", 100)}
	a, b := simulate(t, model(20), traces), simulate(t, model(20), traces)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("two runs with one seed differ:\n%v\n%v", a, b)
	}
}
