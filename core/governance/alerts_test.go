package governance_test

import (
	"fmt"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// A contract in its first month has no burn to forecast from: no pool
// alerts. From its second month, an unused pool is an alert.
func TestPoolAlertsNeedAMonthOfHistory(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	pool := ledger.Lot{ID: "pool", Contract: "acme", Currency: core.Cloud, Kind: ledger.Shared,
		Amount: decimal.NewFromInt(5000), Remaining: decimal.NewFromInt(5000),
		GrantedAt: at.AddDate(0, 0, -5), EffectiveFrom: at.AddDate(0, 0, -5), ExpiresAt: at.AddDate(1, 0, 0)}
	for _, tc := range []struct {
		start time.Time
		want  int
	}{
		{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 0},  // started this month
		{time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), 1}, // lived through part of October
	} {
		c := ledger.Contract{ID: "acme", Start: tc.start, End: tc.start.AddDate(2, 0, 0), MonthlyBaseline: decimal.NewFromInt(1000)}
		rep := governance.Alerts(c, []ledger.Lot{pool}, nil, at)
		got := 0
		for _, a := range rep.Alerts {
			if a.Code == governance.AlertPoolExpiresUnused {
				got++
			}
		}
		if got != tc.want {
			t.Errorf("contract started %s: %d pool_expires_unused alerts, want %d (%+v)", tc.start.Format(time.DateOnly), got, tc.want, rep.Alerts)
		}
	}
}

// The answer is cut at AlertsMax; the check that records alerts sees all.
func TestAllAlertsIsUncut(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c := ledger.Contract{ID: "acme", Start: at.AddDate(-1, 0, 0), MonthlyBaseline: decimal.NewFromInt(100)}
	var rows []ledger.Usage
	for i := range governance.AlertsMax + 20 {
		rows = append(rows, ledger.Usage{Key: ledger.UsageKey{Contract: "acme", Month: "2026-11", Currency: core.Cloud,
			User: "ann", Service: fmt.Sprintf("svc%03d", i), Entity: "acme-us"}, Credits: decimal.NewFromInt(20), Count: 1})
	}
	all := governance.AllAlerts(c, nil, rows, at)
	cut := governance.Alerts(c, nil, rows, at)
	if len(all.Alerts) != governance.AlertsMax+21 || all.Omitted != 0 {
		t.Errorf("AllAlerts: %d alerts, %d omitted; want %d, 0", len(all.Alerts), all.Omitted, governance.AlertsMax+21)
	}
	if len(cut.Alerts) != governance.AlertsMax || cut.Omitted != 21 {
		t.Errorf("Alerts: %d alerts, %d omitted; want %d, 21", len(cut.Alerts), cut.Omitted, governance.AlertsMax)
	}
	found := false
	for _, a := range all.Alerts {
		found = found || a.Code == governance.AlertUserOverBaseline
	}
	if !found {
		t.Error("the user alert, ranked after the cut, is missing from AllAlerts")
	}
}
