package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/lambda/boot"
	"cloudcredits/functions/lambda/internal/lambdatest"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }

// logLine is the sweeper's one JSON log line per event.
type logLine struct {
	Level   string              `json:"level"`
	Msg     string              `json:"msg"`
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
		l, err := boot.Ledger(deps)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		rep, err := handler(l, slog.New(slog.NewJSONHandler(&buf, nil)))(ctx, sched)
		if err != nil {
			t.Fatalf("sweep at now%+v: %v", offset, err)
		}
		return rep, lastLine(t, &buf)
	}

	if rep, _ := sweepAt(0); rep.HoldsReleased != 0 {
		t.Errorf("sweep before the expiry released %d holds", rep.HoldsReleased)
	}
	rep, line := sweepAt(time.Hour)
	if rep.HoldsReleased != 1 {
		t.Errorf("sweep after the expiry released %d holds, want 1", rep.HoldsReleased)
	}
	if line.Msg != "sweep" || line.Level != "INFO" || line.EventID != sched.ID || line.Report != rep {
		t.Errorf("log line %+v, want msg sweep, event %s, report %+v", line, sched.ID, rep)
	}
	h, err := env.Ledger.Store.Hold(ctx, lambdatest.Contract, hold.HoldID)
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
	l, err := boot.Ledger(deps)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sched := lambdatest.ScheduledEvent(t, "eventbridge-scheduled-sweep.json")
	if _, err := handler(l, slog.New(slog.NewJSONHandler(&buf, nil)))(context.Background(), sched); err == nil {
		t.Fatal("sweep of a missing table succeeded")
	}
	if line := lastLine(t, &buf); line.Level != "ERROR" || line.Error == "" || line.EventID != sched.ID {
		t.Errorf("log line %+v, want an ERROR naming the event and the error", line)
	}
}
