package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

func usageTable(rows []ledger.Usage) string {
	var s []string
	for _, r := range rows {
		k := r.Key
		s = append(s, fmt.Sprintf("%s %s %s %s %s %s %s: %s ×%d", k.Contract, k.Month, k.Currency, k.User, k.Service, k.Project, k.Entity, r.Credits, r.Count))
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}

func testUsageRollups(t *testing.T, h *harness) {
	h.contract(noPlan)
	h.contract(named("globex"), noPlan)
	h.addUser("acme", "alice", ledger.Employee, true)
	h.addUser("acme", "bob", ledger.Employee, true)
	h.addUser("globex", "gina", ledger.Employee, true)
	h.grant("acme", "pool", "1000")
	h.grant("acme", "fpool", "1000", currency(core.Forma))
	h.grant("globex", "gpool", "1000")

	first := h.consume(req("alice", "10", project("p1")))
	h.consume(req("alice", "5", project("p1")))
	h.consume(req("alice", "10", project("p1"), func(r *ledger.SpendRequest) { r.Service = "simulation" }))
	h.consume(req("bob", "7", func(r *ledger.SpendRequest) { r.Entity = "acme-uk" }))
	h.consume(req("bob", "2", func(r *ledger.SpendRequest) { r.Currency, r.Service = core.Forma, "solar" }))
	h.consume(req("gina", "99", in("globex")))
	h.clk.Set(time.Date(2031, 3, 31, 9, 0, 0, 0, time.UTC))
	hr := h.hold(req("alice", "20", project("p1"), holdFor(3*day)))
	h.hold(req("alice", "30", project("p1"))) // open holds are not usage

	h.clk.Set(time.Date(2031, 4, 2, 9, 0, 0, 0, time.UTC))
	h.consume(req("alice", "3", project("p1")))
	h.mustRefund("acme", first.ConsumptionID, "4") // in April, of a March consumption
	h.mustSettle("acme", hr.HoldID, "12")          // settled in April: April usage

	usage := func(contract, fromMonth, toMonth string) string {
		t.Helper()
		rows, err := h.usageRows(contract, fromMonth, toMonth)
		if err != nil {
			t.Fatal(err)
		}
		return usageTable(rows)
	}
	want := strings.Join([]string{
		"acme 2031-03 cloud alice rendering p1 acme-us: 11 ×2",
		"acme 2031-03 cloud alice simulation p1 acme-us: 10 ×1",
		"acme 2031-03 cloud bob rendering  acme-uk: 7 ×1",
		"acme 2031-03 forma bob solar  acme-us: 2 ×1",
		"acme 2031-04 cloud alice rendering p1 acme-us: 15 ×2",
	}, "\n")
	if got := usage("acme", "2031-03", "2031-04"); got != want {
		t.Errorf("usage rows:\n%s\nwant:\n%s", got, want)
	}
	if got, want := usage("acme", "2031-04", "2031-04"), "acme 2031-04 cloud alice rendering p1 acme-us: 15 ×2"; got != want {
		t.Errorf("April only:\n%s\nwant:\n%s", got, want)
	}
	rows, err := h.usageRows("acme", "2031-05", "2031-12")
	if err != nil || len(rows) != 0 {
		t.Errorf("usage of months without spending = %v, %v; want none", rows, err)
	}
	if got, want := usage("globex", "2031-01", "2031-12"), "globex 2031-03 cloud gina rendering  globex-hq: 99 ×1"; got != want {
		t.Errorf("globex usage:\n%s\nwant:\n%s", got, want)
	}
}

// testUsageReportSums: the usage report the service builds (from the
// store's sums when it makes them, credits.UsageSummer) is the report
// governance.Usage makes of every roll-up row, for every grouping, order of
// dimensions and month range — with credits of six decimal places, refunds
// (negative additions) and sums past what int64 millionths hold; for a
// contract created through the service and for roll-ups of a contract the
// store never saw created (an adapter may keep sums only for the former).
func testUsageReportSums(t *testing.T, h *harness) {
	h.contract(named("sums"), noPlan)
	for _, contract := range []string{"sums", "loose"} {
		var ops []ledger.Op
		for i := range 60 {
			credits := decimal.New(int64(i*7919%100_000_007+1), -6) // six places
			switch {
			case i%11 == 3:
				credits = credits.Neg() // a refund
			case i%13 == 5:
				credits = decimal.RequireFromString("900000000000.000001") // past int64 millionths when summed
			}
			ops = append(ops, ledger.AddUsage{Key: ledger.UsageKey{Contract: contract,
				Month: fmt.Sprintf("2031-%02d", i%4+1), Currency: []core.Currency{core.Cloud, core.Forma}[i%2],
				User: fmt.Sprintf("u%d", i%5), Service: fmt.Sprintf("s%d", i%3), Project: []string{"", "p1", "p2"}[i%3*i%7%3],
				Entity: fmt.Sprintf("e%d", i%2)}, Credits: credits, Count: int64(i%4 + 1)})
		}
		for range 12 { // the same rows again: big rows past int64 millionths
			for chunk := range slices.Chunk(ops, 10) {
				if err := h.st.Apply(h.ctx, ledger.Tx{At: h.clk.Now(), Ops: chunk}); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkUsageReports(t, h, contract)
	}
}

// checkUsageReports compares Service.UsageReport with governance.Usage of
// the raw rows for every grouping of the dimensions, in two orders, over
// three month ranges.
func checkUsageReports(t *testing.T, h *harness, contract string) {
	t.Helper()
	dims := governance.Dimensions()
	for _, months := range [][2]string{{"2031-01", "2031-04"}, {"2031-02", "2031-03"}, {"2031-06", "2031-07"}} {
		raw, err := h.st.Usage(h.ctx, contract, months[0], months[1])
		if err != nil {
			t.Fatal(err)
		}
		for mask := range 1 << len(dims) {
			var by []string
			for i, d := range dims {
				if mask&(1<<i) != 0 {
					by = append(by, d)
				}
			}
			for _, groupBy := range [][]string{by, reversed(by)} {
				got, err := h.svc.UsageReport(h.ctx, contract, months[0], months[1], groupBy)
				if err != nil {
					t.Fatalf("UsageReport %v: %v", groupBy, err)
				}
				// Its freshness (as_of) is the store's word, checked where
				// roll-ups are made; here the rows are compared.
				got.AsOf = nil
				if g, w := reportText(t, got), reportText(t, governance.Usage(raw, groupBy, months[0], months[1])); g != w {
					t.Errorf("%s: report of %s…%s by %v:\n%s\nwant:\n%s", contract, months[0], months[1], groupBy, g, w)
				}
			}
		}
	}
}

func reversed(xs []string) []string {
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

func reportText(t *testing.T, r governance.UsageReport) string {
	t.Helper()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
