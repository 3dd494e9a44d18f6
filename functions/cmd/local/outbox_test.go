package main

import (
	"context"
	"encoding/json"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// TestLocalOutbox: withdrawing an individual lot records its notice; the
// sweep writes it to <data>/outbox/ as one .eml file addressed to the
// contract's notify_email, and a second sweep writes nothing more.
func TestLocalOutbox(t *testing.T) {
	data := t.TempDir()
	base, a := startLocal(t, data)
	vendor := ""
	for _, tok := range demoTokens(a.keys, time.Now()) {
		if tok[0] == "VENDOR" {
			vendor = tok[1]
		}
	}
	lots, err := a.credits.Lots(context.Background(), demoContract)
	if err != nil {
		t.Fatal(err)
	}
	ann := ""
	for _, l := range lots {
		if l.Kind == ledger.Individual && l.Owner == "ann" {
			ann = l.ID
		}
	}
	if ann == "" {
		t.Fatal("the demo has no individual lot of ann")
	}
	outbox := filepath.Join(data, "outbox")
	rep, err := a.credits.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(files) != 0 || rep.NotificationsSent != 0 {
		t.Fatalf("before the withdrawal the outbox holds %v (sweep %+v), want nothing", files, rep)
	}

	if status, body := call(t, "POST", base+"/v1/lots/"+ann+"/withdraw", vendor, "withdraw-1", `{}`); status != 200 {
		t.Fatalf("withdraw = %d %s", status, body)
	}
	if rep, err = a.credits.Sweep(context.Background()); err != nil || rep.NotificationsSent != 1 {
		t.Fatalf("sweep after the withdrawal = %+v, %v; want one notification sent", rep, err)
	}
	files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox holds %v, want one .eml", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("%s is not a mail message: %v", files[0], err)
	}
	raw, err := io.ReadAll(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	if m.Header.Get("To") != "procurement@demo.example" || !strings.Contains(m.Header.Get("Subject"), "withdrawn") ||
		!strings.Contains(body, ann) || !strings.Contains(body, "withdrawn") {
		t.Errorf("message To %q Subject %q body %q: want the withdrawal notice of %s to procurement@demo.example",
			m.Header.Get("To"), m.Header.Get("Subject"), body, ann)
	}

	if rep, err = a.credits.Sweep(context.Background()); err != nil || rep.NotificationsSent != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing sent", rep, err)
	}
	if again, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(again) != 1 {
		t.Errorf("after a second sweep the outbox holds %v, want the one file", again)
	}
}

// TestLocalAlertsReachTheOutbox: a job above 15 % of the demo's baseline is
// an alert; the alert check records it once, the sweep writes it to
// <data>/outbox/, and GET /notifications lists it as sent.
func TestLocalAlertsReachTheOutbox(t *testing.T) {
	data := t.TempDir()
	base, a := startLocal(t, data)
	ctx := context.Background()
	admin := ""
	for _, tok := range demoTokens(a.keys, time.Now()) {
		if tok[0] == "ADMIN" {
			admin = tok[1]
		}
	}
	// 400 credits in one job: above 15 % of the 2,000 baseline (300).
	job := ledger.SpendRequest{Contract: demoContract, User: "ann", Entity: demoEntity, Service: "rendering",
		Currency: core.Cloud, Credits: decimal.NewFromInt(400)}
	if _, err := a.credits.Consume(ctx, job, ledger.Idem{Key: "big-job"}); err != nil {
		t.Fatal(err)
	}
	rep, err := a.credits.SweepAlerts(ctx)
	if err != nil || rep.AlertsRecorded == 0 {
		t.Fatalf("alert check = %+v, %v; want alerts recorded", rep, err)
	}
	if again, err := a.credits.SweepAlerts(ctx); err != nil || again.AlertsRecorded != 0 {
		t.Fatalf("second alert check = %+v, %v; want nothing new", again, err)
	}
	sw, err := a.credits.Sweep(ctx)
	if err != nil || sw.NotificationsSent != rep.AlertsRecorded {
		t.Fatalf("sweep = %+v, %v; want the %d alerts sent", sw, err, rep.AlertsRecorded)
	}
	files, _ := filepath.Glob(filepath.Join(data, "outbox", "alert_*.eml"))
	if len(files) != rep.AlertsRecorded {
		t.Fatalf("outbox holds %v, want %d alert messages", files, rep.AlertsRecorded)
	}
	found := false
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(f)
		if err != nil {
			f.Close()
			t.Fatalf("%s is not a mail message: %v", name, err)
		}
		raw, _ := io.ReadAll(m.Body)
		f.Close()
		if strings.Contains(m.Header.Get("Subject"), "single job above 15%") && strings.Contains(string(raw), "400") &&
			m.Header.Get("To") == "procurement@demo.example" {
			found = true
		}
	}
	if !found {
		t.Errorf("no message in %v tells procurement@demo.example of the 400-credit job", files)
	}
	status, body := call(t, "GET", base+"/v1/contracts/"+demoContract+"/notifications?kind=alert", admin, "", "")
	var list struct {
		Notifications []struct{ State string } `json:"notifications"`
	}
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || len(list.Notifications) != rep.AlertsRecorded {
		t.Fatalf("GET /notifications = %d %s", status, body)
	}
	for _, n := range list.Notifications {
		if n.State != "sent" {
			t.Errorf("alert state %s after the sweep, want sent", n.State)
		}
	}
}
