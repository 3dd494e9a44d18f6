package ledger_test

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func TestExpiryWarnings(t *testing.T) {
	day := 24 * time.Hour
	c := contract()
	c.NotifyEmail = "admin@acme.example"
	lots := []ledger.Lot{
		lot("soon", ledger.Shared, core.Cloud, "100", expires(t0.Add(10*day))),
		lot("edge", ledger.Shared, core.Cloud, "100", expires(t0.Add(90*day))),
		lot("late", ledger.Shared, core.Cloud, "100", expires(t0.Add(90*day+time.Nanosecond))),
		lot("empty", ledger.Shared, core.Cloud, "100", expires(t0.Add(day)), remaining("0")),
		lot("ended", ledger.Shared, core.Cloud, "100", expires(t0)),
		lot("never", ledger.Shared, core.Cloud, "100"),
		lot("closing", ledger.Individual, core.Cloud, "100", closes(t0.Add(30*day))),
		func() ledger.Lot {
			l := lot("other", ledger.Shared, core.Cloud, "1", expires(t0.Add(day)))
			l.Contract = "beta"
			return l
		}(),
	}
	got := ledger.PlanExpiryWarnings(c, lots, t0)
	var ids []string
	for _, n := range got {
		ids = append(ids, n.ID)
		if n.To != c.NotifyEmail || n.State != ledger.NotificationPending || n.Kind != ledger.KindExpiryWarning || n.Contract != "acme" {
			t.Errorf("warning %+v: want pending expiry_warning of acme to %s", n, c.NotifyEmail)
		}
	}
	want := []string{
		"expiry-warning:acme:edge:" + t0.Add(90*day).Format(time.RFC3339),
		"expiry-warning:acme:soon:" + t0.Add(10*day).Format(time.RFC3339),
	}
	if len(ids) != len(want) {
		t.Fatalf("warnings %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("warning %d = %s, want %s", i, ids[i], want[i])
		}
	}
	again := map[string]bool{}
	for _, n := range ledger.PlanExpiryWarnings(c, lots, t0.Add(time.Hour)) {
		again[n.ID] = true
	}
	for _, n := range got {
		if !again[n.ID] {
			t.Errorf("planning an hour later lost event id %s: an event's id must not depend on when it is planned", n.ID)
		}
	}
}

func TestNotifyEmail(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true}, {"admin@acme.example", true}, {"a.b+c@sub.acme.example", true},
		{"admin", false}, {"admin@localhost", false}, {"Admin <admin@acme.example>", false},
		{"a@acme.example, b@acme.example", false}, {"admin@acme.example\r\nBcc: x@y.z", false},
	} {
		if err := ledger.CheckNotifyEmail(tc.addr); (err == nil) != tc.ok {
			t.Errorf("CheckNotifyEmail(%q) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
	c := contract()
	c.NotifyEmail = "nope"
	if err := ledger.CheckContract(c); core.ErrorCode(err) != core.CodeInvalidRequest {
		t.Errorf("contract with notify_email %q: %v, want invalid_request", c.NotifyEmail, err)
	}
}
