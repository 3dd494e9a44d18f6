package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// The usage-report benchmark reads the roll-ups that UsageConsumptions
// consumptions of one contract over the 12 months of UsageYear would have
// written, and groups them as GET /v1/contracts/{c}/usage does.
//
// The consumptions are drawn from a seeded generator (the same rows on every
// run and adapter):
//
//   - month: 12 months of UsageYear, volume growing linearly from weight 1.0
//     (January) to 1.55 (December);
//   - user: 40 users u01…u40, activity Zipf-like (weight 1/rank^0.8), so the
//     busiest user makes ~10× the consumptions of the quietest;
//   - entity: 3 entities e1…e3; a user always consumes for their own entity
//     (u01→e1, u02→e2, u03→e3, u04→e1, …);
//   - project: 6 projects p1…p6; each user works on 3 of them, 60% / 30% /
//     10% of their consumptions;
//   - service: 12 services, popularity Zipf-like (weight 1/rank^1.1); the
//     last two bill in flex tokens, the others in cloud credits (so the
//     currency follows the service);
//   - credits: the service's base price (0.05 … 40) times a log-normal
//     factor (σ 0.75), rounded to the cent, at least 0.01.
//
// Almost every (month, user, project, service) combination occurs: the
// roll-ups are 17,150 rows of the possible 12 × 40 × 3 × 12 = 17,280.
const (
	UsageConsumptions = 1_000_000
	UsageYear         = 2025
	UsageContract     = "usagebench"
	usageSeed         = 20250101

	usageUsers    = 40
	usageProjects = 6
	usageEntities = 3
	usageMonths   = 12
)

type usageService struct {
	name     string
	currency core.Currency
	cents    float64 // base price of one consumption, in hundredths of a unit
}

var usageServices = []usageService{
	{"compute", core.Cloud, 120}, {"storage", core.Cloud, 15}, {"rendering", core.Cloud, 850},
	{"simulation", core.Cloud, 2400}, {"ai-inference", core.Cloud, 60}, {"ai-training", core.Cloud, 4000},
	{"transfer", core.Cloud, 5}, {"backup", core.Cloud, 25}, {"database", core.Cloud, 90},
	{"analytics", core.Cloud, 300}, {"flex-render", core.Flex, 200}, {"flex-sim", core.Flex, 700},
}

// UsageLoad describes the roll-ups LoadUsage wrote.
type UsageLoad struct {
	Contract     string
	From, To     string // "YYYY-01", "YYYY-12"
	Consumptions int64  // AddUsage increments they stand for
	Rows         int    // distinct roll-up rows written
	Txs          int    // Applies it took
	Credits      map[core.Currency]decimal.Decimal
	Took         time.Duration
}

var (
	usageOnce sync.Once
	usageRows []ledger.Usage // one per distinct key, sorted by key
)

// UsageRollups returns the roll-up rows of the UsageConsumptions seeded
// consumptions (see above): every consumption is one increment of Count 1
// and its credits, summed exactly per row. It is computed once per process.
func UsageRollups() []ledger.Usage {
	usageOnce.Do(func() { usageRows = genUsage() })
	return usageRows
}

// cumulative returns the running sums of weights, for pick.
func cumulative(w []float64) []float64 {
	c := make([]float64, len(w))
	s := 0.0
	for i, x := range w {
		s += x
		c[i] = s
	}
	return c
}

func pick(r *rand.Rand, cum []float64) int {
	return sort.SearchFloat64s(cum, r.Float64()*cum[len(cum)-1])
}

func genUsage() []ledger.Usage {
	r := rand.New(rand.NewPCG(usageSeed, 0))
	months := make([]float64, usageMonths)
	for m := range months {
		months[m] = 1 + 0.05*float64(m)
	}
	users := make([]float64, usageUsers)
	for u := range users {
		users[u] = 1 / math.Pow(float64(u+1), 0.8)
	}
	services := make([]float64, len(usageServices))
	for s := range services {
		services[s] = 1 / math.Pow(float64(s+1), 1.1)
	}
	projShare := cumulative([]float64{0.6, 0.3, 0.1})
	projOffset := [3]int{0, 1, 3}
	cm, cu, cs := cumulative(months), cumulative(users), cumulative(services)

	// Exact per-row sums, indexed by (month, user, project, service); the
	// entity follows the user and the currency the service.
	type acc struct{ cents, count int64 }
	nS := len(usageServices)
	sums := make([]acc, usageMonths*usageUsers*usageProjects*nS)
	for range UsageConsumptions {
		m, u, s := pick(r, cm), pick(r, cu), pick(r, cs)
		p := (u + projOffset[pick(r, projShare)]) % usageProjects
		cents := int64(math.Round(usageServices[s].cents * math.Exp(0.75*r.NormFloat64())))
		a := &sums[((m*usageUsers+u)*usageProjects+p)*nS+s]
		a.cents += max(cents, 1)
		a.count++
	}
	var rows []ledger.Usage
	for i, a := range sums {
		if a.count == 0 {
			continue
		}
		s := i % nS
		p := i / nS % usageProjects
		u := i / nS / usageProjects % usageUsers
		m := i / nS / usageProjects / usageUsers
		rows = append(rows, ledger.Usage{
			Key: ledger.UsageKey{
				Contract: UsageContract, Month: fmt.Sprintf("%d-%02d", UsageYear, m+1),
				Currency: usageServices[s].currency, User: fmt.Sprintf("u%02d", u+1),
				Service: usageServices[s].name, Project: fmt.Sprintf("p%d", p+1),
				Entity: fmt.Sprintf("e%d", u%usageEntities+1),
			},
			Credits: decimal.New(a.cents, -2), Count: a.count,
		})
	}
	sort.Slice(rows, func(i, j int) bool { return usageKeyText(rows[i].Key) < usageKeyText(rows[j].Key) })
	return rows
}

func usageKeyText(k ledger.UsageKey) string {
	return strings.Join([]string{k.Contract, k.Month, string(k.Currency), k.User, k.Service, k.Project, k.Entity}, "\x00")
}

// LoadUsage creates the contract through the service (as production would
// have, so whatever an adapter keeps per contract exists), then writes
// UsageRollups into st through Apply: Txs of AddUsage ops, each touching at
// most rowsPerTx distinct rows (within what the adapter accepts in one Tx),
// applied by `workers` concurrent callers. The
// increments of one row are pre-aggregated (a Tx writes each row once), so
// the rows hold exactly what the UsageConsumptions individual AddUsage ops
// would have left. It then reads the rows back and checks them: the counts
// must sum to UsageConsumptions and the credits to what was generated.
func LoadUsage(ctx context.Context, st ledger.Store, rowsPerTx, workers int) (UsageLoad, error) {
	rows := UsageRollups()
	l := UsageLoad{Contract: UsageContract, From: fmt.Sprintf("%d-01", UsageYear), To: fmt.Sprintf("%d-12", UsageYear),
		Rows: len(rows), Credits: map[core.Currency]decimal.Decimal{}}
	for _, u := range rows {
		l.Consumptions += u.Count
		l.Credits[u.Key.Currency] = l.Credits[u.Key.Currency].Add(u.Credits)
	}
	if l.Consumptions != UsageConsumptions {
		return l, fmt.Errorf("generated %d consumptions, want %d", l.Consumptions, UsageConsumptions)
	}
	if err := createUsageContract(ctx, st, l.Contract); err != nil {
		return l, err
	}
	var txs []ledger.Tx
	at := time.Date(UsageYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < len(rows); i += rowsPerTx {
		chunk := rows[i:min(i+rowsPerTx, len(rows))]
		ops := make([]ledger.Op, len(chunk))
		for k, u := range chunk {
			ops[k] = ledger.AddUsage{Key: u.Key, Credits: u.Credits, Count: u.Count}
		}
		txs = append(txs, ledger.Tx{At: at, Ops: ops})
	}
	l.Txs = len(txs)

	start := time.Now()
	work := make(chan ledger.Tx)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tx := range work {
				if err := st.Apply(ctx, tx); err != nil {
					errs <- err
					for range work {
					}
					return
				}
			}
		}()
	}
	for _, tx := range txs {
		work <- tx
	}
	close(work)
	wg.Wait()
	l.Took = time.Since(start)
	select {
	case err := <-errs:
		return l, fmt.Errorf("apply: %w", err)
	default:
	}

	got, err := st.Usage(ctx, l.Contract, l.From, l.To)
	if err != nil {
		return l, fmt.Errorf("usage: %w", err)
	}
	var count int64
	credits := map[core.Currency]decimal.Decimal{}
	for _, u := range got {
		count += u.Count
		credits[u.Key.Currency] = credits[u.Key.Currency].Add(u.Credits)
	}
	if len(got) != l.Rows || count != UsageConsumptions {
		return l, fmt.Errorf("read back %d rows counting %d consumptions, want %d rows counting %d",
			len(got), count, l.Rows, UsageConsumptions)
	}
	for c, want := range l.Credits {
		if !credits[c].Equal(want) {
			return l, fmt.Errorf("read back %s %s, want %s", credits[c], c, want)
		}
	}
	return l, nil
}

// createUsageContract creates the usage benchmark's contract through the
// service, as production makes one (a 100,000-credit monthly baseline, so
// some users and projects are over 15% in the alert check), unless it
// exists.
func createUsageContract(ctx context.Context, st ledger.Store, id string) error {
	_, err := st.Contract(ctx, id)
	if core.ErrorCode(err) != core.CodeNotFound {
		return err
	}
	start := time.Date(UsageYear, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := credits.New(st, func() time.Time { return start })
	_, err = svc.CreateContract(ctx, ledger.Contract{ID: id, Customer: "Usage bench", Entity: "e1",
		CoveredEntities: []string{"e2", "e3"}, Start: start, End: start.AddDate(2, 0, 0), Channel: "list",
		MonthlyBaseline: decimal.NewFromInt(100_000), PlanActive: true}, ledger.Idem{Key: "usagebench"})
	if err != nil {
		return fmt.Errorf("create contract %s: %w", id, err)
	}
	return nil
}

// UsageMeter reports what an adapter's reads cost, as totals since Reset
// (e.g. "items-read", "RCU"); BenchUsageReport reports each per report.
type UsageMeter interface {
	Reset()
	Totals() map[string]float64
}

// BenchUsageReports runs BenchUsageReport grouped by user and service, and
// by month, as sub-benchmarks.
func BenchUsageReports(b *testing.B, st ledger.Store, l UsageLoad, m UsageMeter) {
	for _, c := range []struct {
		name string
		by   []string
	}{
		{"by=user,service", []string{governance.DimUser, governance.DimService}},
		{"by=month", []string{governance.DimMonth}},
	} {
		b.Run(c.name, func(b *testing.B) { BenchUsageReport(b, st, l, c.by, m) })
	}
}

// BenchUsageReport measures one usage report over the whole of l grouped
// by groupBy, as GET /v1/contracts/{c}/usage makes it: Service.UsageReport
// (the store's sums when it makes them, credits.UsageSummer, else every
// roll-up row of l.From…l.To; then governance.Usage). It reports groups/op
// and m's totals per report (m may be nil).
func BenchUsageReport(b *testing.B, st ledger.Store, l UsageLoad, groupBy []string, m UsageMeter) {
	ctx := context.Background()
	svc := credits.New(st, nil)
	if m != nil {
		m.Reset()
	}
	var n int
	var rep governance.UsageReport
	b.ResetTimer()
	for b.Loop() {
		var err error
		if rep, err = svc.UsageReport(ctx, l.Contract, l.From, l.To, groupBy); err != nil {
			b.Fatalf("UsageReport: %v", err)
		}
		n++
	}
	b.StopTimer()
	var count int64
	for _, t := range rep.Totals {
		count += t.Count
		if !t.Credits.Equal(l.Credits[t.Currency]) {
			b.Fatalf("report totals %s %s, want %s", t.Credits, t.Currency, l.Credits[t.Currency])
		}
	}
	if count != UsageConsumptions || len(rep.Totals) != len(l.Credits) {
		b.Fatalf("report counts %d consumptions in %d currencies, want %d in %d", count, len(rep.Totals), UsageConsumptions, len(l.Credits))
	}
	b.ReportMetric(float64(len(rep.Rows)), "groups/op")
	if m != nil {
		for unit, v := range m.Totals() {
			b.ReportMetric(v/float64(n), unit+"/op")
		}
	}
}

// BenchAlertCheck measures the hourly alert check of one contract — the
// usage benchmark's, with 1,000,000 consumptions — as SweepAlerts does it:
// Service.Alerts (the contract's lots and 13 months of roll-ups read, the
// alerts computed) and governance.AlertNotifications, on the contract
// LoadUsage created (createUsageContract: some users and projects are over
// 15% of its baseline).
func BenchAlertCheck(b *testing.B, st ledger.Store, l UsageLoad, m UsageMeter) {
	ctx := context.Background()
	at := time.Date(UsageYear, 12, 15, 0, 0, 0, 0, time.UTC)
	svc := credits.New(st, func() time.Time { return at })
	err := createUsageContract(ctx, st, l.Contract)
	var c ledger.Contract
	if err == nil {
		c, err = st.Contract(ctx, l.Contract)
	}
	if err != nil {
		b.Fatalf("contract: %v", err)
	}
	if m != nil {
		m.Reset()
	}
	var alerts, n int
	b.ResetTimer()
	for b.Loop() {
		rep, err := svc.Alerts(ctx, c, at)
		if err != nil {
			b.Fatalf("Alerts: %v", err)
		}
		alerts += len(governance.AlertNotifications(c, rep, at))
		n++
	}
	b.StopTimer()
	if alerts == 0 {
		b.Fatal("the check found no alerts: it measured nothing it would send")
	}
	b.ReportMetric(float64(alerts)/float64(n), "alerts/op")
	if m != nil {
		for unit, v := range m.Totals() {
			b.ReportMetric(v/float64(n), unit+"/op")
		}
	}
}
