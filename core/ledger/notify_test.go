package ledger_test

import (
	"fmt"
	"slices"
	"strings"
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

// Setting an address queues the newest unaddressed notifications of the
// window, at most ReaddressMax, and bumps the contract's version.
func TestPlanSetNotifyEmail(t *testing.T) {
	c := contract()
	var notes []ledger.Notification
	for i := range ledger.ReaddressMax + 10 {
		notes = append(notes, ledger.Notification{ID: fmt.Sprintf("n%03d", i), Contract: c.ID,
			State: ledger.NotificationUnaddressed, CreatedAt: t0.Add(-time.Duration(ledger.ReaddressMax+10-i) * time.Hour)})
	}
	notes = append(notes, ledger.Notification{ID: "sent", Contract: c.ID, State: ledger.NotificationSent, To: "x@y.example", CreatedAt: t0})
	dec, err := ledger.PlanSetNotifyEmail(c, ledger.NotifyEmailRequest{NotifyEmail: "admin@acme.example"}, notes, nil, ledger.Idem{Key: "k"}, env())
	if err != nil {
		t.Fatal(err)
	}
	var readdressed []string
	for i, op := range dec.Tx.Ops {
		switch o := op.(type) {
		case ledger.UpdateContract:
			if i != 0 || o.Contract.NotifyEmail != "admin@acme.example" || o.Contract.Version != c.Version+1 {
				t.Errorf("op %d = %+v, want the contract at version %d with the address first", i, o, c.Version+1)
			}
		case ledger.UpdateNotification:
			if o.Notification.To != "admin@acme.example" || o.Notification.State != ledger.NotificationPending {
				t.Errorf("readdress %+v", o)
			}
			readdressed = append(readdressed, o.Notification.ID)
		}
	}
	if len(readdressed) != ledger.ReaddressMax || readdressed[0] != fmt.Sprintf("n%03d", ledger.ReaddressMax+9) || slices.Contains(readdressed, "sent") {
		t.Errorf("readdressed %d from %v, want the newest %d unaddressed", len(readdressed), readdressed[:1], ledger.ReaddressMax)
	}
	if _, err := ledger.PlanSetNotifyEmail(c, ledger.NotifyEmailRequest{NotifyEmail: "two@a.example, three@b.example"}, notes, nil, ledger.Idem{Key: "k2"}, env()); core.ErrorCode(err) != core.CodeInvalidRequest {
		t.Errorf("a list of addresses = %v, want invalid_request", err)
	}
}

func TestEventIDPart(t *testing.T) {
	for in, want := range map[string]string{"acme": "acme", "p:x": "p%3Ax", "50%": "50%25", "%3A": "%253A"} {
		if got := ledger.EventIDPart(in); got != want {
			t.Errorf("EventIDPart(%q) = %q, want %q", in, got, want)
		}
	}
	// Two lots whose ids differ only by where a ':' falls get distinct warnings.
	c := contract()
	end := t0.Add(24 * time.Hour)
	a := ledger.PlanExpiryWarnings(c, []ledger.Lot{lot("x:y", ledger.Shared, core.Cloud, "1", expires(end))}, t0)
	b := ledger.PlanExpiryWarnings(c, []ledger.Lot{lot("x", ledger.Shared, core.Cloud, "1", expires(end))}, t0)
	if len(a) != 1 || len(b) != 1 || a[0].ID == b[0].ID || strings.Count(a[0].ID, ":") != strings.Count(b[0].ID, ":") {
		t.Errorf("warning ids %v and %v: want distinct ids with the same number of parts", a, b)
	}
}

// Re-addressing skips expiry warnings whose lot end has passed, and those a
// newer warning of the same lot replaces.
func TestReaddressSkipsStaleWarnings(t *testing.T) {
	c := contract()
	warn := func(lotID string, end, created time.Time) ledger.Notification {
		return ledger.Notification{ID: ledger.ExpiryWarningPrefix(c.ID, lotID) + end.UTC().Format(time.RFC3339Nano),
			Contract: c.ID, Kind: ledger.KindExpiryWarning, State: ledger.NotificationUnaddressed, CreatedAt: created}
	}
	day := 24 * time.Hour
	notes := []ledger.Notification{
		warn("past", t0.Add(-day), t0.Add(-80*day)),    // its lot already ended
		warn("moved", t0.Add(60*day), t0.Add(-20*day)), // replaced by the next
		warn("moved", t0.Add(30*day), t0.Add(-10*day)), // the lot's newest warning
		warn("ahead", t0.Add(10*day), t0.Add(-5*day)),  // still ahead
	}
	dec, err := ledger.PlanSetNotifyEmail(c, ledger.NotifyEmailRequest{NotifyEmail: "a@acme.example"}, notes, nil, ledger.Idem{Key: "k"}, env())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range dec.Tx.Ops {
		if r, ok := op.(ledger.UpdateNotification); ok {
			got = append(got, r.Notification.ID)
		}
	}
	if want := []string{notes[3].ID, notes[2].ID}; !slices.Equal(got, want) {
		t.Errorf("readdressed %v, want %v", got, want)
	}
}
