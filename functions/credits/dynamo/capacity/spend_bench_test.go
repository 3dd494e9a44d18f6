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
	spendsRecorded  = 128   // spends recorded per scenario (one at a time)
	recordUsers     = 32    // users recorded, when they hold no individual lot
	replayUsers     = 1_000 // users the replayed spends are spread over, then
	individualUsers = 200   // users recorded and replayed, when each holds a spent individual lot
	targetSpends    = 2_000 // spends/s one pool must sustain
)

type spendScenario struct {
	name string
	poolSpec
}

var spendScenarios = []spendScenario{
	{"1 shard", poolSpec{shards: 1, users: recordUsers}},
	{"8 shards", poolSpec{shards: 8, users: recordUsers}},
	{"64 shards", poolSpec{shards: 64, users: recordUsers}},
	{"64 shards + budget", poolSpec{shards: 64, users: recordUsers, budget: true}},
	{"64 shards + 200 individual lots", poolSpec{shards: 64, users: individualUsers, individual: true}},
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
	p := recordSpends(b, sc.poolSpec, spendsRecorded)
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
// replayUsers; when each user has an individual lot, which every spend
// reads, over the users recorded).
func (p pool) classes() []capacity.Class {
	users := append([]string(nil), p.Users...)
	for i := len(users); i < replayUsers && !p.individual; i++ {
		users = append(users, fmt.Sprintf("user%04d", i))
	}
	return []capacity.Class{
		{Name: "<c>", Recorded: []string{recordContract}, Population: []string{recordContract}},
		{Name: "<lot>", Recorded: p.Lots, Population: p.Lots, PerAttempt: true},
		{Name: "<user>", Recorded: p.Users, Population: users},
	}
}

func (p pool) describe() string {
	lots := "1 lot"
	if p.shards > 1 {
		lots = fmt.Sprintf("%d lots", p.shards)
	}
	s := fmt.Sprintf("%d spends recorded from one grant of %s", len(p.Recorded), lots)
	if p.Direct {
		s += fmt.Sprintf(" (more than ledger.ShardsMax = %d: written directly, as such a grant would store them)", ledger.ShardsMax)
	}
	s += fmt.Sprintf(", %d users", len(p.Users))
	if p.individual {
		s += " each with a spent individual lot"
	} else {
		s += fmt.Sprintf(" without individual lots, replayed as %d", replayUsers)
	}
	if p.budget {
		s += ", every spend in one project with a monthly budget"
	}
	return s
}
