package governance_test

import (
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
