package capacity_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/dynamo/capacity"
)

// The spend capacity benchmark: record real spends (credits.Service.Consume
// on the DynamoDB adapter, against DynamoDB Local) from one contract's
// shared pool of 1, 8 and 64 lot shards, replay them through the capacity
// model with 200 clients, and print one table of the figures, then each
// scenario's cost per spend by item and partition. The figures follow
// whatever the adapter sends: change its layout and they change.
//
// Run it with `make bench-capacity`.

// Scenario sizes.
const (
	spendsRecorded = 128   // spends recorded per scenario (one at a time)
	replayUsers    = 1_000 // users the replayed spends are spread over
	targetSpends   = 2_000 // spends/s one pool must sustain
)

type spendScenario struct {
	name   string
	shards int
	budget bool
}

var spendScenarios = []spendScenario{
	{"1 shard", 1, false},
	{"8 shards", 8, false},
	{"64 shards", 64, false},
	{"64 shards + budget", 64, true},
}

func BenchmarkSpendCapacity(b *testing.B) {
	var rows []capacity.Scenario
	var details strings.Builder
	for _, sc := range spendScenarios {
		b.Run(strings.ReplaceAll(sc.name, " ", "_"), func(b *testing.B) {
			var res capacity.Result
			var detail string
			for b.Loop() {
				res, detail = replaySpends(b, sc)
			}
			rows = append(rows, capacity.Scenario{Name: sc.name, Result: res})
			details.WriteString(detail)
			b.ReportMetric(res.Offered, "offered-spends/s")
			b.ReportMetric(res.Achieved, "spends/s")
			b.ReportMetric(res.Throttled, "throttled/s")
			b.ReportMetric(res.Conflicts, "conflicts/s")
		})
	}
	fmt.Fprintf(os.Stdout, "\nSpend capacity of one shared pool on DynamoDB (model: CAPACITY.md; target %d spends/s)\n\n%s%s\n",
		targetSpends, capacity.Table(rows), details.String())
}

// replaySpends records a scenario's spends and replays them through the
// model with 200 clients; it returns the result and the scenario's cost
// tables.
func replaySpends(b *testing.B, sc spendScenario) (capacity.Result, string) {
	p := recordSpends(b, sc.shards, spendsRecorded, sc.budget)
	w, err := capacity.NewWorkload(p.Recorded, p.classes()...)
	if err != nil {
		b.Fatal(err)
	}
	m := model(200)
	m.Warmup, m.Measure = capacity.DefaultModel().Warmup, capacity.DefaultModel().Measure
	res, err := capacity.Simulate(m, w)
	if err != nil {
		b.Fatal(err)
	}
	return res, fmt.Sprintf("\n%s: %s\n%s", sc.name, p.describe(), capacity.CostTable(capacity.Costs(m, w)))
}

// classes are the ids a replay re-maps: the contract (kept), the grant's
// shard lots (the rotation picks one uniformly) and the users (spread over
// replayUsers).
func (p pool) classes() []capacity.Class {
	users := append([]string(nil), p.Users...)
	for i := len(users); i < replayUsers; i++ {
		users = append(users, fmt.Sprintf("user%04d", i))
	}
	return []capacity.Class{
		{Name: "<c>", Recorded: []string{recordContract}, Population: []string{recordContract}},
		{Name: "<lot>", Recorded: p.Lots, Population: p.Lots},
		{Name: "<user>", Recorded: p.Users, Population: users},
	}
}

func (p pool) describe() string {
	lots := "1 lot"
	if p.Shards > 1 {
		lots = fmt.Sprintf("%d lots", p.Shards)
	}
	s := fmt.Sprintf("%d spends recorded from one grant of %s", len(p.Recorded), lots)
	if p.Direct {
		s += fmt.Sprintf(" (more than ledger.ShardsMax = %d: written directly, as such a grant would store them)", ledger.ShardsMax)
	}
	s += fmt.Sprintf(", %d users recorded, replayed as %d", len(p.Users), replayUsers)
	if p.Budget {
		s += ", every spend in one project with a monthly budget"
	}
	return s
}
