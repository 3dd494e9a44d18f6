package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

func notification(id, contract string, at time.Time) ledger.Notification {
	return ledger.Notification{ID: id, Contract: contract, Kind: ledger.KindExpiryWarning, To: "admin@acme.example",
		Subject: "100 cloud credits expire", Body: "Lot pool ends.\n", CreatedAt: at, State: ledger.NotificationPending}
}

// applyConcurrently applies tx from n goroutines at once and counts the
// successes; every failure must be a *ledger.ConflictError.
// note reads one notification of a contract as stored.
func (h *harness) note(t *testing.T, contract, id string) ledger.Notification {
	t.Helper()
	ns, err := h.st.NotificationsByPrefix(h.ctx, contract, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no notification %s in %s", id, contract)
	return ledger.Notification{}
}

// claimOp, sentOp and readdressOp are the writes a sender and an address
// change make from n as read; they fail the test when the rule refuses n.
func claimOp(t *testing.T, n ledger.Notification, at, until time.Time) ledger.UpdateNotification {
	t.Helper()
	op, ok := n.Claim(at, until)
	if !ok {
		t.Fatalf("%s is not claimable at %s", n.ID, at)
	}
	return op
}

func sentOp(t *testing.T, n ledger.Notification, at time.Time) ledger.UpdateNotification {
	t.Helper()
	op, ok := n.MarkSent(at)
	if !ok {
		t.Fatalf("%s is not pending", n.ID)
	}
	return op
}

func readdressOp(t *testing.T, n ledger.Notification, to string, at time.Time) ledger.UpdateNotification {
	t.Helper()
	op, ok := n.Readdress(to, at)
	if !ok {
		t.Fatalf("%s cannot be re-addressed at %s", n.ID, at)
	}
	return op
}

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
	pending, err := h.st.PendingNotifications(h.ctx, h.clk.Now(), 10)
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
	if one, err := h.st.PendingNotifications(h.ctx, h.clk.Now(), 1); err != nil || len(one) != 1 || one[0].ID != n.ID {
		t.Errorf("PendingNotifications(limit 1) = %+v, %v; want only %s", one, err, n.ID)
	}

	sentAt := h.clk.Advance(time.Minute)
	mark := ledger.Tx{At: sentAt, Ops: []ledger.Op{sentOp(t, h.note(t, "acme", n.ID), sentAt)}}
	if got := h.applyConcurrently(t, 10, mark); got != 1 {
		t.Fatalf("%d of 10 concurrent MarkSent succeeded, want exactly 1", got)
	}
	h.wantConflict(t, "marking a sent notification sent again", mark)
	h.wantConflict(t, "marking an unknown notification sent",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{sentOp(t, ledger.Notification{ID: "nope", Contract: "acme", State: ledger.NotificationPending, Version: 1}, sentAt)}})
	misfiled := h.note(t, "beta", other.ID)
	misfiled.Contract = "acme"
	h.wantConflict(t, "marking a notification sent under another contract",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{sentOp(t, misfiled, sentAt)}})
	h.wantConflict(t, "recording a sent event again",
		ledger.Tx{At: sentAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}})

	pending, err = h.st.PendingNotifications(h.ctx, h.clk.Now(), 10)
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
	h.wantDumpLines(t, "notifications", 2)
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
	if rep = h.sweep(); rep.NotificationsSent != 0 || len(sender.sent) != 0 {
		t.Fatalf("sweep right after the failed send = %+v, want nothing sent: the failed send's claim is its back-off", rep)
	}
	h.clk.Advance(ledger.NotificationClaim)
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

func testClaimNotification(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("beta"))
	old := notification("expiry-warning:acme:old:2031-06-01T00:00:00Z", "acme", h.clk.Now())
	newer := notification("expiry-warning:acme:new:2031-06-01T00:00:00Z", "acme", h.clk.Advance(time.Second))
	for _, n := range []ledger.Notification{old, newer} {
		if err := h.st.Apply(h.ctx, ledger.Tx{At: n.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}}); err != nil {
			t.Fatal(err)
		}
	}
	at := h.clk.Advance(time.Second)
	until := at.Add(ledger.NotificationClaim)
	oldRead := h.note(t, "acme", old.ID)
	claim := ledger.Tx{At: at, Ops: []ledger.Op{claimOp(t, oldRead, at, until)}}
	if got := h.applyConcurrently(t, 10, claim); got != 1 {
		t.Fatalf("%d of 10 concurrent claims succeeded, want exactly 1", got)
	}
	pending := func(at time.Time) []string {
		t.Helper()
		ns, err := h.st.PendingNotifications(h.ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		return ids
	}
	if got := pending(at); len(got) != 1 || got[0] != newer.ID {
		t.Errorf("pending while %s is claimed = %v, want only %s", old.ID, got, newer.ID)
	}
	if got := pending(until.Add(-time.Nanosecond)); len(got) != 1 {
		t.Errorf("pending 1 ns before the claim lapses = %v, want only %s", got, newer.ID)
	}
	if got := pending(until); len(got) != 2 || got[0] != newer.ID || got[1] != old.ID {
		t.Errorf("pending when the claim lapses = %v, want %s then %s (the claimed one waits behind)", got, newer.ID, old.ID)
	}
	if got := pending(old.CreatedAt.Add(-time.Nanosecond)); len(got) != 0 {
		t.Errorf("pending before anything was created = %v, want none", got)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil || len(notes) != 2 || !notes[0].ClaimedUntil.Equal(until) || !notes[1].ClaimedUntil.IsZero() {
		t.Errorf("Notifications = %+v, %v; want %s claimed until %s", notes, err, old.ID, until)
	}
	h.wantConflict(t, "claiming a notification claimed since it was read",
		ledger.Tx{At: until, Ops: []ledger.Op{claimOp(t, oldRead, until.Add(-time.Nanosecond), until.Add(time.Hour))}})
	if _, ok := h.note(t, "acme", old.ID).Claim(until.Add(-time.Nanosecond), until.Add(time.Hour)); ok {
		t.Errorf("a claimed notification is claimable before its claim lapses")
	}
	newerRead := h.note(t, "acme", newer.ID)
	move, ok := newerRead.Readdress("x@acme.example", at)
	if !ok {
		t.Fatalf("%s cannot be re-addressed", newer.ID)
	}
	if err := h.st.Apply(h.ctx, ledger.Tx{At: at, Ops: []ledger.Op{move}}); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "claiming a notification for a recipient it no longer has",
		ledger.Tx{At: at, Ops: []ledger.Op{claimOp(t, newerRead, at, until)}})
	h.wantConflict(t, "re-addressing a notification whose recipient changed since it was read",
		ledger.Tx{At: at, Ops: []ledger.Op{move}})
	h.wantConflict(t, "claiming an unknown notification",
		ledger.Tx{At: at, Ops: []ledger.Op{claimOp(t, ledger.Notification{ID: "nope", Contract: "acme", State: ledger.NotificationPending, Version: 1}, at, until)}})
	misfiled := h.note(t, "acme", newer.ID)
	misfiled.Contract = "beta"
	h.wantConflict(t, "claiming a notification under another contract",
		ledger.Tx{At: at, Ops: []ledger.Op{claimOp(t, misfiled, at, until)}})
	// The claim lapsed: another sender takes it over, and MarkSent ends it.
	later := until.Add(ledger.NotificationClaim)
	taken := claimOp(t, h.note(t, "acme", old.ID), until, later)
	if err := h.st.Apply(h.ctx, ledger.Tx{At: until, Ops: []ledger.Op{taken}}); err != nil {
		t.Fatalf("claiming once the claim lapsed: %v", err)
	}
	if err := h.st.Apply(h.ctx, ledger.Tx{At: until, Ops: []ledger.Op{sentOp(t, taken.Notification, until)}}); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "claiming a notification sent since it was read",
		ledger.Tx{At: later, Ops: []ledger.Op{claimOp(t, taken.Notification, later, later.Add(time.Minute))}})
	if _, ok := h.note(t, "acme", old.ID).Claim(later, later.Add(time.Minute)); ok {
		t.Errorf("a sent notification is claimable")
	}
	if got := pending(later); len(got) != 1 || got[0] != newer.ID {
		t.Errorf("pending after %s was sent = %v, want only %s", old.ID, got, newer.ID)
	}
}

// countingSender counts sends per notification id.
type countingSender struct {
	mu    sync.Mutex
	sends map[string]int
}

func (c *countingSender) Send(ctx context.Context, n ledger.Notification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends[n.ID]++
	return nil
}

func testConcurrentDrain(t *testing.T, h *harness) {
	h.contract(func(c *ledger.Contract) { c.NotifyEmail = "admin@acme.example" })
	h.contract(named("beta"), func(c *ledger.Contract) { c.NotifyEmail = "ops@beta.example" })
	const each = 15
	for i := range each {
		for c, addr := range map[string]string{"acme": "admin@acme.example", "beta": "ops@beta.example"} {
			n := notification(fmt.Sprintf("alert:%s:test:%02d", c, i), c, h.clk.Advance(time.Millisecond))
			n.To = addr
			if err := h.st.Apply(h.ctx, ledger.Tx{At: n.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		sent  int
		start = make(chan struct{})
	)
	for range 4 {
		wg.Go(func() {
			<-start
			rep, err := h.svc.Sweep(h.ctx)
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			mu.Lock()
			sent += rep.NotificationsSent
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if len(sender.sends) != 2*each || sent != 2*each {
		t.Errorf("4 sweepers sent %d distinct notifications and reported %d, want %d", len(sender.sends), sent, 2*each)
	}
	for id, n := range sender.sends {
		if n != 1 {
			t.Errorf("%s was sent %d times, want once", id, n)
		}
	}
	for _, c := range []string{"acme", "beta"} {
		notes, err := h.st.Notifications(h.ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notes {
			if n.State != ledger.NotificationSent {
				t.Errorf("%s is %s after the drain, want sent", n.ID, n.State)
			}
		}
	}
}

func testUnaddressed(t *testing.T, h *harness) {
	h.contract() // no notify_email
	ind := h.employee("acme", "alice")
	if _, err := h.svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil || len(notes) != 1 || notes[0].State != ledger.NotificationUnaddressed || notes[0].To != "" {
		t.Fatalf("notifications = %+v, %v; want one unaddressed withdrawal notice", notes, err)
	}
	if p, err := h.st.PendingNotifications(h.ctx, h.clk.Now().Add(time.Hour), 10); err != nil || len(p) != 0 {
		t.Errorf("pending = %+v, %v; an unaddressed notice is never queued", p, err)
	}
	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	if rep := h.sweep(); rep.NotificationsSent != 0 || rep.NotificationsFailed != 0 || len(sender.sends) != 0 {
		t.Errorf("sweep = %+v, want no send attempted", rep)
	}
	at := h.clk.Now()
	if _, ok := notes[0].Claim(at, at.Add(time.Minute)); ok {
		t.Errorf("an unaddressed notice is claimable")
	}
	if _, ok := notes[0].MarkSent(at); ok {
		t.Errorf("an unaddressed notice can be marked sent")
	}
}

func testContractDirectory(t *testing.T, h *harness) {
	if ids, err := h.st.Contracts(h.ctx, "", 10); err != nil || len(ids) != 0 {
		t.Fatalf("Contracts on an empty store = %v, %v; want none", ids, err)
	}
	want := []string{}
	for i := range 7 {
		id := fmt.Sprintf("c%02d", 6-i) // created out of order
		h.contract(named(id))
		want = append([]string{id}, want...)
	}
	// A contract changed after creation (terminated: UpdateContract) stays
	// in the directory once.
	if _, err := h.svc.Terminate(h.ctx, "c03", time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for range 10 {
		page, err := h.st.Contracts(h.ctx, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("a page of limit 3 has %d ids", len(page))
		}
		got = append(got, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1]
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paged Contracts = %v, want %v", got, want)
	}
	if ids, err := h.st.Contracts(h.ctx, "c06", 10); err != nil || len(ids) != 0 {
		t.Errorf("Contracts after the last = %v, %v; want none", ids, err)
	}
	if ids, err := h.st.Contracts(h.ctx, "", 0); err != nil || len(ids) != 0 {
		t.Errorf("Contracts(limit 0) = %v, %v; want none", ids, err)
	}
}

func testSweepAlerts(t *testing.T, h *harness) {
	acme := h.contract(func(c *ledger.Contract) { c.NotifyEmail = "admin@acme.example" })
	h.contract(named("beta")) // no address: its alerts are recorded unaddressed
	h.contract(named("gone"), func(c *ledger.Contract) { c.NotifyEmail = "ops@gone.example" })
	for _, c := range []string{"acme", "beta", "gone"} {
		h.grant(c, "pool", "1000")
		h.employee(c, "alice") // 100 individual credits, spent first
		// 200 in one job: above 15 % of the 1,000 baseline (150).
		h.consume(req("alice", "200", in(c)))
	}
	if _, err := h.svc.Terminate(h.ctx, "gone", time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	h.catchUp()
	want, err := h.svc.Alerts(h.ctx, acme, h.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	codes, messages := map[string]bool{}, map[string]bool{}
	for _, a := range want.Alerts {
		codes[a.Code], messages[a.Message] = true, true
	}
	if !codes[governance.AlertUserOverBaseline] || !codes[governance.AlertConsumptionOverBaseline] {
		t.Fatalf("alerts of acme = %+v, want the user and the single job above the baseline share", want.Alerts)
	}
	h.catchUp()
	rep, err := h.svc.SweepAlerts(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Contracts != 2 || rep.AlertsRecorded != 2*len(want.Alerts) || rep.AlertsKnown != 0 {
		t.Errorf("first alert check = %+v, want 2 contracts (gone is terminated), %d alerts recorded", rep, 2*len(want.Alerts))
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil || len(notes) != len(want.Alerts) {
		t.Fatalf("acme's outbox = %+v, %v; want its %d alerts", notes, err, len(want.Alerts))
	}
	for _, n := range notes {
		if n.Kind != ledger.KindAlert || n.To != "admin@acme.example" || n.State != ledger.NotificationPending ||
			!strings.HasPrefix(n.ID, "alert:acme:") || !messages[strings.SplitN(n.Body, "\n", 2)[0]] {
			t.Errorf("alert notification %+v, want a pending alert to admin@acme.example that says why", n)
		}
	}
	if beta, err := h.st.Notifications(h.ctx, "beta"); err != nil || len(beta) != len(want.Alerts) || beta[0].State != ledger.NotificationUnaddressed {
		t.Errorf("beta's outbox = %+v, %v; want its alerts recorded unaddressed", beta, err)
	}
	if gone, err := h.st.Notifications(h.ctx, "gone"); err != nil || len(gone) != 0 {
		t.Errorf("the terminated contract's outbox = %+v, %v; want nothing", gone, err)
	}
	h.catchUp() // before the dump: the roll-up's status moves with every change the stream delivers
	before := h.dump()
	rep, err = h.svc.SweepAlerts(h.ctx)
	if err != nil || rep.AlertsRecorded != 0 || rep.AlertsKnown != 2*len(want.Alerts) {
		t.Errorf("second alert check = %+v, %v; want every alert already known", rep, err)
	}
	h.unchanged(t, "a second alert check", before)

	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	if s := h.sweep(); s.NotificationsSent != len(want.Alerts) {
		t.Errorf("sweep sent %d, want acme's %d alerts", s.NotificationsSent, len(want.Alerts))
	}
	// More of the same in the same month is the same event; a new month is
	// a new one.
	h.consume(req("alice", "200"))
	h.catchUp()
	if rep, err = h.svc.SweepAlerts(h.ctx); err != nil || rep.AlertsRecorded != 0 {
		t.Errorf("alert check after another job the same month = %+v, %v; want nothing new", rep, err)
	}
	h.clk.Set(time.Date(2031, 4, 2, 9, 0, 0, 0, time.UTC))
	h.consume(req("alice", "200"))
	h.catchUp()
	if rep, err = h.svc.SweepAlerts(h.ctx); err != nil || rep.AlertsRecorded == 0 {
		t.Errorf("alert check in a new month = %+v, %v; want the new month's alerts", rep, err)
	}
}

func testNewestNotifications(t *testing.T, h *harness) {
	h.contract()
	total := ledger.NotificationsPerContractMax + 5
	for start := 0; start < total; start += 50 {
		tx := ledger.Tx{At: h.clk.Now()}
		for i := start; i < min(start+50, total); i++ {
			n := notification(fmt.Sprintf("alert:acme:test:%05d", i), "acme", t0.Add(time.Duration(i)*time.Second))
			tx.Ops = append(tx.Ops, ledger.PutNotification{Notification: n})
		}
		if err := h.st.Apply(h.ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != ledger.NotificationsPerContractMax || notes[0].ID != "alert:acme:test:00005" ||
		notes[len(notes)-1].ID != fmt.Sprintf("alert:acme:test:%05d", total-1) {
		t.Fatalf("Notifications of %d = %d from %s, want the newest %d, oldest first", total, len(notes), notes[0].ID, ledger.NotificationsPerContractMax)
	}

	h.contract(named("beta"))
	other := notification("alert:acme:test:01002x", "beta", t0) // another contract's, under the same prefix
	if err := h.st.Apply(h.ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutNotification{Notification: other}}}); err != nil {
		t.Fatal(err)
	}
	ids := func(prefix string) string {
		t.Helper()
		ns, err := h.st.NotificationsByPrefix(h.ctx, "acme", prefix)
		if err != nil {
			t.Fatalf("NotificationsByPrefix(%q): %v", prefix, err)
		}
		var out []string
		for _, n := range ns {
			out = append(out, strings.TrimPrefix(n.ID, "alert:acme:test:"))
		}
		return strings.Join(out, ",")
	}
	if got := ids("alert:acme:test:0100"); got != "01000,01001,01002,01003,01004" {
		t.Errorf("prefix 0100 = %s, want 01000…01004 in id order, not beta's", got)
	}
	if got := ids("alert:acme:test:02"); got != "" {
		t.Errorf("an absent prefix = %s, want none", got)
	}
	if got := ids("alert:acme:test:0"); strings.Count(got, ",")+1 != ledger.NotificationsPerContractMax || !strings.HasPrefix(got, "00000,00001,") {
		t.Errorf("a prefix of %d+ notifications returned %d, want the first %d by id", ledger.NotificationsPerContractMax, strings.Count(got, ",")+1, ledger.NotificationsPerContractMax)
	}
	if _, err := h.st.NotificationsByPrefix(h.ctx, "acme", ""); err == nil {
		t.Error("an empty prefix was accepted")
	}
}

// lotsFail fails every Lots read of one contract.
type lotsFail struct {
	ledger.Store
	contract string
}

func (f lotsFail) Lots(ctx context.Context, contract, after string, limit int) ([]ledger.Lot, error) {
	if contract == f.contract {
		return nil, errors.New("disk on fire")
	}
	return f.Store.Lots(ctx, contract, after, limit)
}

func testSweepAlertsFailure(t *testing.T, h *harness) {
	for _, id := range []string{"aaa", "acme", "zzz"} {
		if id == "acme" {
			h.contract()
		} else {
			h.contract(named(id))
		}
		h.grant(id, "pool", "1000")
		h.employee(id, "alice")
		h.consume(req("alice", "200", in(id)))
	}
	svc := credits.New(lotsFail{Store: h.st, contract: "aaa"}, h.clk.Now)
	h.catchUp()
	rep, err := svc.SweepAlerts(h.ctx)
	if err == nil || !strings.Contains(err.Error(), "aaa") || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("alert check with aaa failing = %v, want aaa's error", err)
	}
	if rep.ContractsFailed != 1 || rep.Contracts != 3 {
		t.Errorf("report = %+v, want 3 contracts checked, 1 failed", rep)
	}
	for _, id := range []string{"acme", "zzz"} {
		if notes, err := h.st.Notifications(h.ctx, id); err != nil || len(notes) == 0 {
			t.Errorf("%s's outbox = %v, %v; want its alerts recorded though aaa failed", id, notes, err)
		}
	}
	if notes, err := h.st.Notifications(h.ctx, "aaa"); err != nil || len(notes) != 0 {
		t.Errorf("aaa's outbox = %v, %v; want nothing", notes, err)
	}
}

func testReaddress(t *testing.T, h *harness) {
	h.contract() // no notify_email
	ind := h.employee("acme", "alice")
	old := notification("alert:acme:2030-11:test", "acme", t0.AddDate(0, 0, -(ledger.ReaddressWindowDays+1)))
	old.To, old.State = "", ledger.NotificationUnaddressed
	if err := h.st.Apply(h.ctx, ledger.Tx{At: old.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: old}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	readdressRefusesDisplayNames(t, h)
	notice := readdressQueuesRecentNotices(t, h, old, ind.ID)
	readdressConditionsInTheWrite(t, h, old.ID, notice)
	moving := readdressLeavesHeldNotifications(t, h)
	readdressClearedDequeues(t, h, moving)
}

// readdressRefusesDisplayNames: an address with a display name is refused
// and changes nothing.
func readdressRefusesDisplayNames(t *testing.T, h *harness) {
	before := h.dump()
	if _, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "Admin <a@acme.example>"}, h.key()); core.ErrorCode(err) != core.CodeInvalidRequest {
		t.Errorf("a display-name address = %v, want invalid_request", err)
	}
	h.unchanged(t, "a refused address", before)
}

// readdressQueuesRecentNotices: setting the address queues the withdrawal
// notice of lot to it, not old (beyond the window); a replay answers the
// same. It returns the queued notice's id.
func readdressQueuesRecentNotices(t *testing.T, h *harness, old ledger.Notification, lot string) string {
	key := h.key()
	out, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "admin@acme.example"}, key)
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.NotifyEmailResult
	decode(t, out, &res)
	if res.NotifyEmail != "admin@acme.example" || len(res.Readdressed) != 1 || !strings.HasPrefix(res.Readdressed[0], "withdrawal:acme:"+lot+":") {
		t.Fatalf("set the address = %+v, want the withdrawal notice queued (not the one older than %d days)", res, ledger.ReaddressWindowDays)
	}
	if again, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "admin@acme.example"}, key); err != nil || string(again.Body) != string(out.Body) {
		t.Errorf("replay = %s, %v; want the first answer", again.Body, err)
	}
	if c, err := h.st.Contract(h.ctx, "acme"); err != nil || c.NotifyEmail != "admin@acme.example" {
		t.Errorf("contract notify_email = %q, %v", c.NotifyEmail, err)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		switch {
		case n.ID == old.ID && (n.State != ledger.NotificationUnaddressed || n.To != ""):
			t.Errorf("the old notification %+v was queued", n)
		case n.ID == res.Readdressed[0] && (n.State != ledger.NotificationPending || n.To != "admin@acme.example"):
			t.Errorf("the notice %+v is not pending to admin@acme.example", n)
		}
	}
	return res.Readdressed[0]
}

// readdressConditionsInTheWrite: re-addressing another contract's
// notification, or one sent since it was read, fails in the write.
func readdressConditionsInTheWrite(t *testing.T, h *harness, oldID, notice string) {
	at := h.clk.Now()
	misfiled := h.note(t, "acme", oldID)
	misfiled.Contract = "beta"
	h.wantConflict(t, "re-addressing another contract's notification",
		ledger.Tx{At: at, Ops: []ledger.Op{readdressOp(t, misfiled, "x@acme.example", at)}})
	stale := h.note(t, "acme", notice)
	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	if rep := h.sweep(); rep.NotificationsSent != 1 || sender.sends[notice] != 1 {
		t.Errorf("sweep = %+v (%v), want the re-addressed notice sent once", rep, sender.sends)
	}
	h.wantConflict(t, "re-addressing a notification sent since it was read",
		ledger.Tx{At: at, Ops: []ledger.Op{readdressOp(t, stale, "x@acme.example", at)}})
}

// readdressLeavesHeldNotifications: a pending notification moves with the
// address, unless a sender holds it. It returns the one that moved.
func readdressLeavesHeldNotifications(t *testing.T, h *harness) ledger.Notification {
	moving := notification("alert:acme:2031-03:moving", "acme", h.clk.Now())
	held := notification("alert:acme:2031-03:held", "acme", h.clk.Now())
	for _, n := range []ledger.Notification{moving, held} {
		if err := h.st.Apply(h.ctx, ledger.Tx{At: n.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}}}); err != nil {
			t.Fatal(err)
		}
	}
	claimAt := h.clk.Now()
	heldRead := h.note(t, "acme", held.ID)
	if err := h.st.Apply(h.ctx, ledger.Tx{At: claimAt, Ops: []ledger.Op{claimOp(t, heldRead, claimAt, claimAt.Add(ledger.NotificationClaim))}}); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "re-addressing a notification claimed since it was read",
		ledger.Tx{At: claimAt, Ops: []ledger.Op{readdressOp(t, heldRead, "x@acme.example", claimAt)}})
	if _, ok := h.note(t, "acme", held.ID).Readdress("x@acme.example", claimAt); ok {
		t.Errorf("a notification a sender holds can be re-addressed")
	}
	out, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "new@acme.example"}, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.NotifyEmailResult
	decode(t, out, &res)
	if strings.Join(res.Readdressed, ",") != moving.ID {
		t.Errorf("changing the address moved %v, want only %s (the held one keeps its address)", res.Readdressed, moving.ID)
	}
	if p, err := h.st.PendingNotifications(h.ctx, claimAt, 10); err != nil || len(p) != 1 || p[0].ID != moving.ID || p[0].To != "new@acme.example" {
		t.Errorf("pending after the change = %+v, %v; want %s to new@acme.example", p, err, moving.ID)
	}
	return moving
}

// readdressClearedDequeues: clearing the address takes what waits (moving)
// out of the queue; new events are recorded unaddressed.
func readdressClearedDequeues(t *testing.T, h *harness, moving ledger.Notification) {
	out, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{}, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.NotifyEmailResult
	decode(t, out, &res)
	if res.NotifyEmail != "" || strings.Join(res.Readdressed, ",") != moving.ID {
		t.Errorf("cleared = %+v, want %s taken out of the queue", res, moving.ID)
	}
	if p, err := h.st.PendingNotifications(h.ctx, moving.CreatedAt, 10); err != nil || len(p) != 0 {
		t.Errorf("pending after clearing = %+v, %v; want none", p, err)
	}
	if c, _ := h.st.Contract(h.ctx, "acme"); c.NotifyEmail != "" {
		t.Errorf("contract notify_email after clearing = %q", c.NotifyEmail)
	}
}

func testAddressRace(t *testing.T, h *harness) {
	h.contract() // no address yet
	ind := h.employee("acme", "alice")
	setAddress := func(addr string) func() {
		return func() {
			if _, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: addr}, h.key()); err != nil {
				t.Errorf("set the address: %v", err)
			}
		}
	}
	svc := credits.New(&beforeFirstApply{Store: h.st, hook: setAddress("first@acme.example")}, h.clk.Now)
	if _, err := svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
		t.Fatal(err)
	}
	if notes, err := h.st.Notifications(h.ctx, "acme"); err != nil || len(notes) != 1 || notes[0].To != "first@acme.example" || notes[0].State != ledger.NotificationPending {
		t.Fatalf("the withdrawal notice = %+v, %v; want it pending to first@acme.example, the address set while it was planned", notes, err)
	}
	h.grant("acme", "pool", "1000")
	h.consume(req("alice", "200"))
	svc = credits.New(&beforeFirstApply{Store: h.st, hook: setAddress("second@acme.example")}, h.clk.Now)
	h.catchUp()
	if _, err := svc.SweepAlerts(h.ctx); err != nil {
		t.Fatal(err)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// The second change moved the pending notice too.
	alerts := 0
	for _, n := range notes {
		if n.Kind == ledger.KindAlert {
			alerts++
		}
		if n.To != "second@acme.example" || n.State != ledger.NotificationPending {
			t.Errorf("%s is %s to %q, want pending to second@acme.example (the address set while the alerts were planned)", n.ID, n.State, n.To)
		}
	}
	if alerts == 0 || len(notes) != alerts+1 {
		t.Errorf("outbox = %d notifications, %d alerts; want the withdrawal notice and the alerts", len(notes), alerts)
	}
}

func testLegacyNoRecipient(t *testing.T, h *harness) {
	h.contract()
	legacy := notification("withdrawal:acme:old:2031-01-01T00:00:00Z", "acme", h.clk.Now())
	legacy.To = "" // pending with no recipient: what an earlier version recorded
	if err := h.st.Apply(h.ctx, ledger.Tx{At: legacy.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: legacy}}}); err != nil {
		t.Fatal(err)
	}
	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	if rep := h.sweep(); rep.NotificationsSent != 0 || rep.NotificationsFailed != 0 || len(sender.sends) != 0 {
		t.Errorf("sweep = %+v, want no send attempted", rep)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil || len(notes) != 1 || notes[0].State != ledger.NotificationUnaddressed {
		t.Errorf("outbox = %+v, %v; want the legacy notice unaddressed", notes, err)
	}
	if p, err := h.st.PendingNotifications(h.ctx, h.clk.Now().Add(time.Hour), 10); err != nil || len(p) != 0 {
		t.Errorf("pending = %+v, %v; want none", p, err)
	}
}

func testReaddressFollowUp(t *testing.T, h *harness) {
	h.contract() // no address
	ind := h.employee("acme", "alice")
	// More unaddressed notifications than one write moves.
	total := ledger.ReaddressMax + 15
	tx := ledger.Tx{At: h.clk.Now()}
	for i := range total {
		n := notification(fmt.Sprintf("alert:acme:2031-03:bulk:%03d", i), "acme", h.clk.Now().Add(-time.Duration(total-i)*time.Minute))
		n.To, n.State = "", ledger.NotificationUnaddressed
		tx.Ops = append(tx.Ops, ledger.PutNotification{Notification: n})
	}
	if err := h.st.Apply(h.ctx, tx); err != nil {
		t.Fatal(err)
	}
	// The withdrawal is recorded, addressed from the contract as it was
	// (no address), after the change read the outbox and before it lands.
	svc := credits.New(&beforeFirstApply{Store: h.st, hook: func() {
		if _, err := h.svc.WithdrawLot(h.ctx, "acme", ind.ID, time.Time{}, h.key()); err != nil {
			t.Errorf("withdraw: %v", err)
		}
	}}, h.clk.Now)
	out, err := svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "admin@acme.example"}, h.key())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.NotifyEmailResult
	decode(t, out, &res)
	if len(res.Readdressed) != ledger.ReaddressMax {
		t.Errorf("the answer lists %d moved, want the first write's %d", len(res.Readdressed), ledger.ReaddressMax)
	}
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != total+1 {
		t.Fatalf("outbox holds %d, want %d", len(notes), total+1)
	}
	for _, n := range notes {
		if n.State != ledger.NotificationPending || n.To != "admin@acme.example" {
			t.Errorf("%s is %s to %q after the change, want pending to admin@acme.example", n.ID, n.State, n.To)
		}
	}
}

func testLegacyWarningID(t *testing.T, h *harness) {
	h.contract(func(c *ledger.Contract) { c.NotifyEmail = "admin@acme.example" })
	lot := h.grant("acme", "pool:1", "100", sunset(t0.Add(30*day)))[0]
	end := lot.End().UTC().Format(time.RFC3339Nano)
	legacy := notification("expiry-warning:acme:pool:1:"+end, "acme", t0.Add(-day))
	legacy.State, legacy.SentAt = ledger.NotificationSent, t0.Add(-day)
	if err := h.st.Apply(h.ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutNotification{Notification: legacy}}}); err != nil {
		t.Fatal(err)
	}
	if want := ledger.ExpiryWarningPrefix("acme", "pool:1") + end; want == legacy.ID {
		t.Fatalf("the escaped id %s equals the legacy one: the test proves nothing", want)
	}
	if rep := h.sweep(); rep.WarningsRecorded != 0 {
		t.Errorf("sweep recorded %d warnings, want none: the legacy warning is the same event", rep.WarningsRecorded)
	}
}

func testHeldFollowsAddress(t *testing.T, h *harness) {
	h.contract(func(c *ledger.Contract) { c.NotifyEmail = "old@acme.example" })
	n := notification("alert:acme:2031-03:held", "acme", h.clk.Now())
	n.To = "old@acme.example"
	legacy := notification("withdrawal:acme:x:2031-01-01T00:00:00Z", "acme", h.clk.Now())
	legacy.To = "" // an earlier version's: pending without a recipient
	if err := h.st.Apply(h.ctx, ledger.Tx{At: n.CreatedAt, Ops: []ledger.Op{ledger.PutNotification{Notification: n}, ledger.PutNotification{Notification: legacy}}}); err != nil {
		t.Fatal(err)
	}
	at := h.clk.Now()
	if err := h.st.Apply(h.ctx, ledger.Tx{At: at, Ops: []ledger.Op{claimOp(t, h.note(t, "acme", n.ID), at, at.Add(ledger.NotificationClaim))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.SetNotifyEmail(h.ctx, "acme", ledger.NotifyEmailRequest{NotifyEmail: "new@acme.example"}, h.key()); err != nil {
		t.Fatal(err)
	}
	// The send that held it failed; its claim lapses.
	h.clk.Advance(ledger.NotificationClaim)
	sender := &countingSender{sends: map[string]int{}}
	h.svc.Notifier = sender
	defer func() { h.svc.Notifier = nil }()
	h.sweep() // moves it to the new address
	h.sweep() // sends it there
	notes, err := h.st.Notifications(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range notes {
		if got.State != ledger.NotificationSent || got.To != "new@acme.example" || sender.sends[got.ID] != 1 {
			t.Errorf("%s is %s to %q, sent %d times; want sent once to new@acme.example", got.ID, got.State, got.To, sender.sends[got.ID])
		}
	}
}
