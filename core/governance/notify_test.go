package governance_test

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
)

func TestAlertNotifications(t *testing.T) {
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	c := ledger.Contract{ID: "acme", Customer: "Acme", NotifyEmail: "ops@acme.example"}
	rep := governance.AlertReport{Months: []string{"2026-02", "2026-03"}, Alerts: []governance.Alert{
		{Code: governance.AlertUserOverBaseline, Currency: "cloud", Message: "user ann consumed 400.",
			Details: map[string]string{"month": "2026-02", "user": "ann", "credits": "400"}},
		{Code: governance.AlertConsumptionOverBaseline, Currency: "cloud", Message: "one job.",
			Details: map[string]string{"month": "2026-03", "user": "ann", "service": "cfd", "project": "", "entity": "acme-us"}},
		{Code: governance.AlertPoolRunsOut, Currency: "forma", Message: "the pool runs out.",
			Details: map[string]string{"runs_out_at": "2026-05-01T00:00:00Z"}},
	}}
	got := governance.AlertNotifications(c, rep, at)
	want := []string{
		"alert:acme:2026-02:user_over_baseline_share:cloud:ann",
		"alert:acme:2026-03:consumption_over_baseline_share:cloud:ann:cfd::acme-us",
		"alert:acme:2026-03:pool_runs_out_before_expiry:forma",
	}
	if len(got) != len(want) {
		t.Fatalf("%d notifications, want %d: %+v", len(got), len(want), got)
	}
	for i, n := range got {
		if n.ID != want[i] {
			t.Errorf("id %d = %s, want %s", i, n.ID, want[i])
		}
		if !strings.HasPrefix(n.ID, governance.AlertIDPrefix("acme", rep.Months[0])) && !strings.HasPrefix(n.ID, governance.AlertIDPrefix("acme", rep.Months[1])) {
			t.Errorf("%s is under neither month's prefix: the check would not find it", n.ID)
		}
		if n.Kind != ledger.KindAlert || n.To != c.NotifyEmail || n.State != ledger.NotificationPending || !n.CreatedAt.Equal(at) {
			t.Errorf("%+v: want a pending alert to %s created at %s", n, c.NotifyEmail, at)
		}
	}
	if b := got[0].Body; !strings.HasPrefix(b, "user ann consumed 400.\n") || !strings.Contains(b, "\ncredits: 400\n") || !strings.Contains(b, "Contract: acme (Acme)") {
		t.Errorf("body %q: want the message, the contract and the numbers", b)
	}
	if strings.Contains(got[1].Body, "project:") {
		t.Errorf("body %q lists an empty detail", got[1].Body)
	}
	// The same report checked again is the same events; without an address
	// they are recorded unaddressed.
	again := governance.AlertNotifications(ledger.Contract{ID: "acme"}, rep, at.Add(time.Hour))
	for i, n := range again {
		if n.ID != got[i].ID || n.State != ledger.NotificationUnaddressed || n.To != "" {
			t.Errorf("rechecked %+v: want id %s, unaddressed", n, got[i].ID)
		}
	}
}

// Subject parts are escaped: a ':' inside an identifier cannot make two
// alerts one event.
func TestAlertIDsAreUnambiguous(t *testing.T) {
	at := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	c := ledger.Contract{ID: "acme"}
	job := func(project, entity string) governance.Alert {
		return governance.Alert{Code: governance.AlertConsumptionOverBaseline, Currency: "cloud",
			Details: map[string]string{"month": "2026-03", "user": "ann", "service": "cfd", "project": project, "entity": entity}}
	}
	got := governance.AlertNotifications(c, governance.AlertReport{Alerts: []governance.Alert{job("p:x", "e"), job("p", "x:e")}}, at)
	if len(got) != 2 || got[0].ID == got[1].ID {
		t.Fatalf("ids %v: want two distinct events", got)
	}
	if !strings.HasPrefix(governance.AlertIDPrefix("a:b", "2026-03"), "alert:a%3Ab:2026-03:") {
		t.Errorf("AlertIDPrefix(a:b) = %s", governance.AlertIDPrefix("a:b", "2026-03"))
	}
}
