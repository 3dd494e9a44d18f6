package main

import (
	"context"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/core/ledger"
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
	lots, err := a.ledger.Store.Lots(context.Background(), demoContract)
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
	rep, err := a.ledger.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(files) != 0 || rep.NotificationsSent != 0 {
		t.Fatalf("before the withdrawal the outbox holds %v (sweep %+v), want nothing", files, rep)
	}

	if status, body := call(t, "POST", base+"/v1/lots/"+ann+"/withdraw", vendor, "withdraw-1", `{}`); status != 200 {
		t.Fatalf("withdraw = %d %s", status, body)
	}
	if rep, err = a.ledger.Sweep(context.Background()); err != nil || rep.NotificationsSent != 1 {
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

	if rep, err = a.ledger.Sweep(context.Background()); err != nil || rep.NotificationsSent != 0 {
		t.Errorf("second sweep = %+v, %v; want nothing sent", rep, err)
	}
	if again, _ := filepath.Glob(filepath.Join(outbox, "*.eml")); len(again) != 1 {
		t.Errorf("after a second sweep the outbox holds %v, want the one file", again)
	}
}
