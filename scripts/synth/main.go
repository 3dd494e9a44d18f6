// Command synth writes the synthetic governance year: three contracts, each
// with a year of jobs (2025-03 to 2026-02 complete, 2026-03 partial), the
// lots, users and refused attempts the governance reports read, to
// testdata/governance/<contract>.json. It is seeded: the same seed writes
// the same bytes, so the golden tests of core/governance can pin the
// reports. Run from the repository root:
//
//	go run ./scripts/synth            # writes testdata/governance/
//	go run ./scripts/synth -seed 7 -out /tmp/gov
//
// The contracts:
//
//   - render-steady: a rendering studio with flat demand (±10%), two
//     purchases a year, one expiring soon with a little left.
//   - sim-spiky: a simulation team whose CFD meshes scale up 3× in
//     2025-10..2025-12 (credits ×6–9, the seed's trap 1) plus generative
//     design studies; a large purchase that will expire mostly unused.
//   - jv-mixed: a joint venture with contractors (no contractor coverage),
//     an education and a guest identity, consumption by a partner entity
//     the contract no longer covers, refused attempts of every reason, and
//     a small pool that runs out before it expires.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// Year is one synthetic contract's data, as the reports take it.
type Year struct {
	At       time.Time        `json:"at"`
	Contract ledger.Contract  `json:"contract"`
	Users    []ledger.User    `json:"users"`
	Lots     []ledger.Lot     `json:"lots"`
	Jobs     []Job            `json:"jobs"`
	Usage    []ledger.Usage   `json:"usage"`
	Attempts []ledger.Attempt `json:"attempts"`
}

// Job is one consumption; Usage is the jobs rolled up by month.
type Job struct {
	At      time.Time       `json:"at"`
	User    string          `json:"user"`
	Entity  string          `json:"entity"`
	Project string          `json:"project,omitempty"`
	Service string          `json:"service"`
	Credits decimal.Decimal `json:"credits"`
}

// At is the synthetic "now": ten days into 2026-03.
var At = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

var start = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func main() {
	seed := flag.Uint64("seed", 2026, "random seed")
	out := flag.String("out", "testdata/governance", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatal(err)
	}
	for i, y := range []Year{renderSteady(rng(*seed, 1)), simSpiky(rng(*seed, 2)), jvMixed(rng(*seed, 3))} {
		_ = i
		b, err := json.MarshalIndent(y, "", "  ")
		if err != nil {
			fatal(err)
		}
		name := filepath.Join(*out, y.Contract.ID+".json")
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			fatal(err)
		}
		fmt.Printf("%s: %d jobs, %d usage rows, %d attempts\n", name, len(y.Jobs), len(y.Usage), len(y.Attempts))
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "synth:", err)
	os.Exit(1)
}

func rng(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

func contract(id string, baseline int64, covered []string, contractors bool) ledger.Contract {
	return ledger.Contract{ID: id, Customer: "Synthetic " + id, Entity: id + "-hq", CoveredEntities: covered,
		ContractorCoverage: contractors, Start: start, End: start.AddDate(2, 0, 0), Channel: "reseller",
		MonthlyBaseline: decimal.NewFromInt(baseline), PlanActive: true, Version: 1}
}

func user(c, id string, kind ledger.UserKind, entity string) ledger.User {
	return ledger.User{Contract: c, ID: id, Kind: kind, Entity: entity, CanSpend: true, Active: true, AddedAt: start, Version: 1}
}

// monthsOf yields the first instant of each month from start to At's month.
func monthsOf() []time.Time {
	var out []time.Time
	for m := start; !m.After(At); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// jobTime is a random time in month m, before At.
func jobTime(r *rand.Rand, m time.Time) time.Time {
	end := m.AddDate(0, 1, 0)
	if end.After(At) {
		end = At
	}
	span := end.Sub(m) / time.Minute
	return m.Add(time.Duration(r.Int64N(int64(span))) * time.Minute)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// rollUp aggregates jobs into usage rows and spends them from the lots in
// burn order, so the lots' remaining match the jobs.
func (y *Year) rollUp() {
	sort.Slice(y.Jobs, func(i, j int) bool { return y.Jobs[i].At.Before(y.Jobs[j].At) })
	rows := map[ledger.UsageKey]*ledger.Usage{}
	var kept []Job
	for _, j := range y.Jobs {
		order := ledger.BurnOrder(y.Lots, j.User, core.Cloud, j.At, 0)
		need := j.Credits
		avail := decimal.Zero
		for _, l := range order {
			avail = avail.Add(l.Remaining)
		}
		if avail.LessThan(need) {
			continue // the ledger would refuse it: insufficient credits
		}
		for _, l := range order {
			if need.Sign() == 0 {
				break
			}
			take := decimal.Min(need, l.Remaining)
			for i := range y.Lots {
				if y.Lots[i].ID == l.ID {
					y.Lots[i].Remaining = y.Lots[i].Remaining.Sub(take)
					y.Lots[i].Spent = y.Lots[i].Spent.Add(take)
				}
			}
			need = need.Sub(take)
		}
		kept = append(kept, j)
		k := ledger.UsageKey{Contract: y.Contract.ID, Month: ledger.Month(j.At), Currency: core.Cloud,
			User: j.User, Service: j.Service, Project: j.Project, Entity: j.Entity}
		u := rows[k]
		if u == nil {
			u = &ledger.Usage{Key: k, Credits: decimal.Zero}
			rows[k] = u
		}
		u.Credits = u.Credits.Add(j.Credits)
		u.Count++
	}
	y.Jobs = kept
	// Lots that ended before At expire what they held.
	for i, l := range y.Lots {
		if end := l.End(); !end.IsZero() && !At.Before(end) && l.Remaining.Sign() > 0 {
			y.Lots[i].Expired, y.Lots[i].Remaining = l.Remaining, decimal.Zero
		}
	}
	for _, u := range rows {
		y.Usage = append(y.Usage, *u)
	}
	sort.Slice(y.Usage, func(i, j int) bool {
		a, b := y.Usage[i].Key, y.Usage[j].Key
		return fmt.Sprint(a.Month, a.User, a.Service, a.Project, a.Entity) < fmt.Sprint(b.Month, b.User, b.Service, b.Project, b.Entity)
	})
}

func shared(c ledger.Contract, id string, credits int64, at time.Time) ledger.Lot {
	d := decimal.NewFromInt(credits)
	return ledger.Lot{ID: id, Contract: c.ID, Currency: core.Cloud, Kind: ledger.Shared, Source: ledger.SourcePurchase, Grant: id,
		Amount: d, Remaining: d, Held: decimal.Zero, Spent: decimal.Zero, Expired: decimal.Zero, Withdrawn: decimal.Zero, Refunded: decimal.Zero,
		GrantedAt: at, EffectiveFrom: at, ExpiresAt: ledger.SharedExpiry(c, at, time.Time{})}
}

func individual(c ledger.Contract, u ledger.User) ledger.Lot {
	l := shared(c, "ind-"+u.ID, ledger.IndividualGrantCredits, u.AddedAt)
	l.Kind, l.Owner, l.Source, l.ExpiresAt = ledger.Individual, u.ID, ledger.SourceSubscription, time.Time{}
	return l
}

func renderSteady(r *rand.Rand) Year {
	c := contract("render-steady", 2000, nil, false)
	y := Year{At: At, Contract: c}
	for i := 1; i <= 6; i++ {
		u := user(c.ID, fmt.Sprintf("artist%d", i), ledger.Employee, c.Entity)
		y.Users = append(y.Users, u)
		y.Lots = append(y.Lots, individual(c, u))
	}
	y.Lots = append(y.Lots, shared(c, "render-2025-03", 12000, start), shared(c, "render-2025-09", 12000, start.AddDate(0, 6, 0)))
	for _, m := range monthsOf() {
		for n := 24 + r.IntN(6); n > 0; n-- {
			svc, credits := "rendering", int64(30+r.IntN(50))
			if r.IntN(6) == 0 {
				svc, credits = "structural-analysis", 2*int64(1+r.IntN(10))
			}
			y.Jobs = append(y.Jobs, Job{At: jobTime(r, m), User: pick(r, y.Users).ID, Entity: c.Entity,
				Project: pick(r, []string{"tower", "bridge", "museum"}), Service: svc, Credits: decimal.NewFromInt(credits)})
		}
	}
	y.rollUp()
	return y
}

func simSpiky(r *rand.Rand) Year {
	c := contract("sim-spiky", 3000, []string{"sim-spiky-lab"}, true)
	y := Year{At: At, Contract: c}
	for i, k := range []ledger.UserKind{ledger.Employee, ledger.Employee, ledger.Employee, ledger.Contractor} {
		u := user(c.ID, fmt.Sprintf("analyst%d", i+1), k, pick(r, []string{c.Entity, "sim-spiky-lab"}))
		y.Users = append(y.Users, u)
		y.Lots = append(y.Lots, individual(c, u))
	}
	y.Lots = append(y.Lots, shared(c, "sim-2025-03", 20000, start), shared(c, "sim-2025-12", 30000, start.AddDate(0, 9, 0)))
	for _, m := range monthsOf() {
		scale := int64(1)
		if mo := m.Month(); m.Year() == 2025 && mo >= 10 && mo <= 12 {
			scale = int64(6 + r.IntN(4)) // a 3× mesh: 6–9× the credits
		}
		for n := 10 + r.IntN(6); n > 0; n-- {
			j := Job{At: jobTime(r, m), User: pick(r, y.Users).ID, Project: pick(r, []string{"wing", "manifold"}), Service: "cfd-simulation"}
			j.Entity = c.Entity
			j.Credits = decimal.NewFromInt((40 + int64(r.IntN(30))) * scale)
			if r.IntN(5) == 0 {
				j.Service, j.Project = "generative-design", "bracket"
				j.Credits = decimal.NewFromInt(int64(10 + 8*r.IntN(20))) // base + per outcome
			}
			y.Jobs = append(y.Jobs, j)
		}
	}
	y.rollUp()
	return y
}

func jvMixed(r *rand.Rand) Year {
	c := contract("jv-mixed", 1000, []string{"jv-mixed-site"}, false)
	y := Year{At: At, Contract: c}
	kinds := []struct {
		id     string
		kind   ledger.UserKind
		entity string
	}{
		{"eng1", ledger.Employee, c.Entity}, {"eng2", ledger.Employee, "jv-mixed-site"},
		{"partner1", ledger.Employee, "jv-partner"}, // the partner entity coverage was dropped in 2025-12
		{"contractor1", ledger.Contractor, c.Entity}, {"student1", ledger.Education, c.Entity}, {"visitor1", ledger.Guest, c.Entity},
	}
	for _, k := range kinds {
		u := user(c.ID, k.id, k.kind, k.entity)
		y.Users = append(y.Users, u)
		if k.kind == ledger.Employee {
			y.Lots = append(y.Lots, individual(c, u))
		}
	}
	y.Lots = append(y.Lots, shared(c, "jv-2025-03", 9000, start), shared(c, "jv-2026-01", 3000, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)))
	for _, m := range monthsOf() {
		for n := 12 + r.IntN(6); n > 0; n-- {
			u := y.Users[r.IntN(3)]
			j := Job{At: jobTime(r, m), User: u.ID, Entity: u.Entity, Project: "plant", Service: pick(r, []string{"rendering", "structural-analysis", "moldflow-insight"})}
			j.Credits = decimal.NewFromInt(int64(20 + r.IntN(60)))
			if u.ID == "partner1" && !m.Before(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) {
				// Coverage of jv-partner ended: the ledger refuses it now.
				y.Attempts = append(y.Attempts, attempt(c, len(y.Attempts), u, j, "entity_not_covered"))
				continue
			}
			y.Jobs = append(y.Jobs, j)
		}
		// Identities that may never spend keep trying.
		for _, k := range []struct {
			i      int
			reason string
		}{{3, "contractor_without_coverage"}, {4, "education_identity"}, {5, "guest_identity"}} {
			if r.IntN(3) == 0 {
				u := y.Users[k.i]
				j := Job{At: jobTime(r, m), User: u.ID, Entity: u.Entity, Service: "rendering", Credits: decimal.NewFromInt(int64(10 + r.IntN(40)))}
				y.Attempts = append(y.Attempts, attempt(c, len(y.Attempts), u, j, k.reason))
			}
		}
	}
	y.rollUp()
	// jv-partner was covered until 2025-12: its earlier consumption is in
	// the roll-ups, and is now an uncovered entity's.
	return y
}

func attempt(c ledger.Contract, n int, u ledger.User, j Job, reason string) ledger.Attempt {
	return ledger.Attempt{ID: fmt.Sprintf("att-%s-%03d", c.ID, n), Contract: c.ID, User: u.ID, Entity: j.Entity, Kind: u.Kind,
		Service: j.Service, Currency: core.Cloud, Credits: j.Credits, Reason: reason, At: j.At}
}
