package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/lambda/boot"
	"cloudcredits/functions/lambda/internal/lambdatest"

	"github.com/shopspring/decimal"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }

// logLine is the sweeper's one JSON log line per event.
type logLine struct {
	Level   string              `json:"level"`
	Msg     string              `json:"msg"`
	Task    string              `json:"task"`
	EventID string              `json:"event_id"`
	Report  credits.SweepReport `json:"report"`
	Error   string              `json:"error"`
}

func lastLine(t *testing.T, buf *bytes.Buffer) logLine {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var l logLine
	if err := json.Unmarshal(lines[len(lines)-1], &l); err != nil {
		t.Fatalf("log line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	return l
}

// A hold taken through the spending function is left alone while it is
// live, and released by the sweep of the first scheduled event after its
// expiry: its credits return to the balance, once.
func TestScheduledSweepReleasesExpiredHolds(t *testing.T) {
	env := lambdatest.New(t)
	ctx := context.Background()
	before := env.CloudBalance(t)

	ev := lambdatest.HTTPEvent(t, "apigw-v2-hold.json") // expires in 900 s
	lambdatest.Authorize(t, &ev, env.Signer)
	resp := lambdatest.Serve(t, env.Handler(t, boot.Spending), ev)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("hold: %d %s", resp.StatusCode, resp.Body)
	}
	var hold struct {
		HoldID string `json:"hold_id"`
	}
	lambdatest.Decode(t, resp, &hold)
	held := env.CloudBalance(t)
	if !held.LessThan(before) {
		t.Fatalf("balance %s after the hold, was %s: the hold reserved nothing", held, before)
	}

	sched := lambdatest.ScheduledEvent(t, "eventbridge-scheduled-sweep.json")
	sweepAt := func(offset time.Duration) (credits.SweepReport, logLine) {
		t.Helper()
		deps := env.Deps()
		deps.Now = func() time.Time { return time.Now().Add(offset) }
		l, err := boot.Credits(deps)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		rep, err := handler(l, slog.New(slog.NewJSONHandler(&buf, nil)))(ctx, Invocation{EventBridgeEvent: sched})
		if err != nil {
			t.Fatalf("sweep at now%+v: %v", offset, err)
		}
		return rep.(credits.SweepReport), lastLine(t, &buf)
	}

	if rep, _ := sweepAt(0); rep.HoldsReleased != 0 {
		t.Errorf("sweep before the expiry released %d holds", rep.HoldsReleased)
	}
	rep, line := sweepAt(time.Hour)
	if rep.HoldsReleased != 1 {
		t.Errorf("sweep after the expiry released %d holds, want 1", rep.HoldsReleased)
	}
	if line.Msg != "sweep" || line.Task != "sweep" || line.Level != "INFO" || line.EventID != sched.ID || line.Report != rep {
		t.Errorf("log line %+v, want msg sweep, event %s, report %+v", line, sched.ID, rep)
	}
	h, err := env.Credits.HoldOf(ctx, lambdatest.Contract, hold.HoldID)
	if err != nil {
		t.Fatal(err)
	}
	if h.State != ledger.HoldExpired {
		t.Errorf("hold state %s, want %s", h.State, ledger.HoldExpired)
	}
	if got := env.CloudBalance(t); !got.Equal(before) {
		t.Errorf("balance after the sweep %s, want %s", got, before)
	}
	// The schedule's retry (or an overlapping run) finds nothing left to do.
	if rep, _ := sweepAt(time.Hour); rep.HoldsReleased != 0 {
		t.Errorf("second sweep released %d holds again", rep.HoldsReleased)
	}
	if got := env.CloudBalance(t); !got.Equal(before) {
		t.Errorf("balance after the second sweep %s, want %s", got, before)
	}
}

// A sweep that fails returns the error, so the invocation fails and the
// schedule retries it, and logs the failure.
func TestFailedSweepReturnsAnError(t *testing.T) {
	env := lambdatest.New(t)
	deps := env.Deps()
	deps.Table = ddblocal.UniqueName("no-such-table")
	l, err := boot.Credits(deps)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sched := lambdatest.ScheduledEvent(t, "eventbridge-scheduled-sweep.json")
	if _, err := handler(l, slog.New(slog.NewJSONHandler(&buf, nil)))(context.Background(), Invocation{EventBridgeEvent: sched}); err == nil {
		t.Fatal("sweep of a missing table succeeded")
	}
	if line := lastLine(t, &buf); line.Level != "ERROR" || line.Error == "" || line.EventID != sched.ID {
		t.Errorf("log line %+v, want an ERROR naming the event and the error", line)
	}
}

// The hourly schedule's input names the alert check: it records every
// alert /alerts answers as one outbox event, once, and the next sweep sends
// them. The plain scheduled event (no task) is the sweep; an unknown task
// is refused.
func TestHourlyAlertCheck(t *testing.T) {
	env := lambdatest.New(t)
	ctx := context.Background()
	// 400 credits in one job: above 15 % of the seeded 2,000 baseline.
	job := ledger.SpendRequest{Contract: lambdatest.Contract, User: "ann", Entity: lambdatest.Entity,
		Service: "rendering", Currency: core.Cloud, Credits: decimal.NewFromInt(400)}
	if _, err := env.Credits.Consume(ctx, job, ledger.Idem{Key: "big-job"}); err != nil {
		t.Fatal(err)
	}
	env.RollUp(t) // the alert check reads the usage roll-ups
	c, err := env.Credits.Contract(ctx, lambdatest.Contract)
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.Credits.Alerts(ctx, c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Alerts) == 0 {
		t.Fatal("no alerts to record")
	}
	l, err := boot.Credits(env.Deps())
	if err != nil {
		t.Fatal(err)
	}
	var in Invocation
	lambdatest.ReadEvent(t, "eventbridge-scheduled-alerts.json", &in)
	var buf bytes.Buffer
	run := handler(l, slog.New(slog.NewJSONHandler(&buf, nil)))
	for round, recorded := range []int{len(want.Alerts), 0} {
		rep, err := run(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.(credits.AlertSweepReport); got.Contracts != 1 || got.AlertsRecorded != recorded {
			t.Errorf("alert check %d = %+v, want 1 contract, %d recorded", round+1, got, recorded)
		}
		if line := lastLine(t, &buf); line.Msg != "alerts" || line.Task != "alerts" || line.Level != "INFO" {
			t.Errorf("log line %+v, want an INFO line of the alerts task", line)
		}
	}
	notes, err := env.Credits.Notifications(ctx, lambdatest.Contract)
	if err != nil || len(notes) != len(want.Alerts) {
		t.Fatalf("outbox = %+v, %v; want the %d alerts", notes, err, len(want.Alerts))
	}
	for _, n := range notes {
		if n.Kind != ledger.KindAlert {
			t.Errorf("outbox holds %s of kind %s, want alerts only", n.ID, n.Kind)
		}
	}
	var sweep Invocation
	lambdatest.ReadEvent(t, "eventbridge-scheduled-sweep.json", &sweep)
	if sweep.Task != "" || sweep.ID == "" {
		t.Fatalf("the scheduled event decodes as task %q, id %q; want no task and the event id", sweep.Task, sweep.ID)
	}
	if rep, err := run(ctx, sweep); err != nil {
		t.Fatal(err)
	} else if _, ok := rep.(credits.SweepReport); !ok {
		t.Errorf("the scheduled event ran %T, want the sweep", rep)
	}
	if _, err := run(ctx, Invocation{Task: "vacuum"}); err == nil || !strings.Contains(err.Error(), "unknown task") {
		t.Errorf("an unknown task = %v, want refused", err)
	}
}
