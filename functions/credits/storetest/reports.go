package storetest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
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
