package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core/ledger"
)

func notificationSpecs() []spec {
	return []spec{
		{"an event is recorded exactly once under 10 concurrent puts, and marked sent exactly once", testNotificationOnce},
		{"withdrawing a lot records its notice in the same write, to the contract's notify_email", testWithdrawalNotice},
		{"a sweep records each expiry warning once and delivers it once; a failed send stays pending", testSweepNotifications},
	}
}

func notification(id, contract string, at time.Time) ledger.Notification {
	return ledger.Notification{ID: id, Contract: contract, Kind: ledger.KindExpiryWarning, To: "admin@acme.example",
		Subject: "100 cloud credits expire", Body: "Lot pool ends.\n", CreatedAt: at, State: ledger.NotificationPending}
}

// applyConcurrently applies tx from n goroutines at once and counts the
// successes; every failure must be a *ledger.ConflictError.
func (h *harness) applyConcurrently(t *testing.T, n int, tx ledger.Tx) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ok    int
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			err := h.st.Apply(h.ctx, tx)
			var conflict *ledger.ConflictError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.As(err, &conflict):
				t.Errorf("Apply = %v, want nil or a *ledger.ConflictError", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return ok
}

func testNotificationOnce(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("beta"))
	n := notification("expiry-warning:acme:pool:2031-06-01T00:00:00Z", "acme", h.clk.Now())
	if got := h.applyConcurrently(t, 10, ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{ledger.PutNotification{Notification: n}}}); got != 1 {
		t.Fatalf("%d of 10 concurrent puts of one event succeeded, want exactly 1", got)
	}
	other := notification("expiry-warning:beta:pool:2031-06-01T00:00:00Z", "beta", h.clk.Advance(time.Second))
	if err := h.st.Apply(h.ctx, ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{ledger.PutNotification{Notification: other}}}); err != nil {
		t.Fatal(err)
	}
	pending, err := h.st.PendingNotifications(h.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0].ID != n.ID || pending[1].ID != other.ID {
		t.Fatalf("pending = %+v, want %s then %s (oldest first, across contracts)", pending, n.ID, other.ID)
	}
	if got := pending[0]; got.To != n.To || got.Subject != n.Subject || got.Body != n.Body || got.Kind != n.Kind ||
		!got.CreatedAt.Equal(n.CreatedAt) || got.State != ledger.NotificationPending || !got.SentAt.IsZero() {
		t.Errorf("read back %+v, want %+v", got, n)
	}
	if one, err := h.st.PendingNotifications(h.ctx, 1); err != nil || len(one) != 1 || one[0].ID != n.ID {
		t.Errorf("PendingNotifications(limit 1) = %+v, %v; want only %s", one, err, n.ID)
	}

	sentAt := h.clk.Advance(time.Minute)
	mark := ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.MarkSent{ID: n.ID, Contract: "acme", At: sentAt}}}
	if got := h.applyConcurrently(t, 10, mark); got != 1 {
		t.Fatalf("%d of 10 concurrent MarkSent succeeded, want exactly 1", got)
	}
	h.wantConflict(t, "marking a sent notification sent again", mark)
	h.wantConflict(t, "marking an unknown notification sent",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.MarkSent{ID: "nope", Contract: "acme", At: sentAt}}})
	h.wantConflict(t, "marking a notification sent under another contract",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.MarkSent{ID: other.ID, Contract: "acme", At: sentAt}}})
	h.wantConflict(t, "recording a sent event again",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}})

	pending, err = h.st.PendingNotifications(h.ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].ID != other.ID {
		t.Errorf("pending after MarkSent = %+v, %v; want only %s", pending, err, other.ID)
	}
	acme, err := h.st.Notifications(h.ctx, "acme")
	if err != nil || len(acme) != 1 || acme[0].State != ledger.NotificationSent || !acme[0].SentAt.Equal(sentAt) {
		t.Errorf("Notifications(acme) = %+v, %v; want one sent at %s", acme, err, sentAt)
	}
	if beta, err := h.st.Notifications(h.ctx, "beta"); err != nil || len(beta) != 1 || beta[0].ID != other.ID {
		t.Errorf("Notifications(beta) = %+v, %v; want %s", beta, err, other.ID)
	}
	lines := 0
	for _, l := range h.dump() {
		if strings.HasPrefix(l, "notifications") {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("dump has %d notifications lines, want 2", lines)
	}
}

func testWithdrawalNotice(t *testing.T, h *harness) {
	c := h.contract(func(c *ledger.Contract) { c.NotifyEmail = "admin@acme.example" })
	if got, err := h.st.Contract(h.ctx, c.ID); err != nil || got.NotifyEmail != "admin@acme.example" {
		t.Fatalf("contract reads back notify_email %q, %v", got.NotifyEmail, err)
	}
	ind := h.employee("acme", "alice")
	if _, err := h.svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Kind != ledger.KindWithdrawalNotice || notes[0].To != "admin@acme.example" ||
		!strings.HasPrefix(notes[0].ID, "withdrawal:acme:"+ind.ID+":") || notes[0].State != ledger.NotificationPending {
		t.Errorf("notifications after a withdrawal = %+v, want one pending withdrawal notice to admin@acme.example", notes)
	}
}

// fakeSender records what it sends; while failing is set it refuses.
type fakeSender struct {
	mu      sync.Mutex
	sent    []ledger.Notification
	failing bool
}

func (f *fakeSender) Send(ctx context.Context, n ledger.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return errors.New("mail server down")
	}
	f.sent = append(f.sent, n)
	return nil
}

func testSweepNotifications(t *testing.T, h *harness) {
	day := 24 * time.Hour
	h.contract(func(c *ledger.Contract) { c.NotifyEmail = "admin@acme.example" })
	h.grant("acme", "soon", "100", sunset(t0.Add(30*day)))
	h.grant("acme", "later", "100", sunset(t0.Add(200*day)))
	if lots, err := h.st.LotsEndingWithin(h.ctx, t0, t0.Add(90*day), 10); err != nil || len(lots) != 1 || lots[0].ID != "soon" {
		t.Fatalf("LotsEndingWithin(90 days) = %+v, %v; want only soon", lots, err)
	}
	sender := &fakeSender{failing: true}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	rep := h.sweep()
	if rep.WarningsRecorded != 1 || rep.NotificationsSent != 0 || rep.NotificationsFailed != 1 {
		t.Errorf("sweep with the sender down = %+v, want 1 warning recorded, 1 failed send", rep)
	}
	sender.failing = false
	rep = h.sweep()
	if rep.WarningsRecorded != 0 || rep.NotificationsSent != 1 || len(sender.sent) != 1 {
		t.Fatalf("sweep with the sender up = %+v (sent %d), want the pending warning sent once", rep, len(sender.sent))
	}
	if n := sender.sent[0]; n.Kind != ledger.KindExpiryWarning || n.To != "admin@acme.example" || !strings.Contains(n.ID, ":soon:") {
		t.Errorf("sent %+v, want the expiry warning of soon to admin@acme.example", n)
	}
	before := h.dump()
	if rep = h.sweep(); rep.WarningsRecorded != 0 || rep.NotificationsSent != 0 || len(sender.sent) != 1 {
		t.Errorf("third sweep = %+v, want nothing recorded or sent", rep)
	}
	h.unchanged(t, "a sweep after everything was sent", before)
	h.clk.Advance(120 * day) // "later" is now within 90 days
	if rep = h.sweep(); rep.WarningsRecorded != 1 || rep.NotificationsSent != 1 {
		t.Errorf("sweep 120 days on = %+v, want later's warning recorded and sent", rep)
	}
}
