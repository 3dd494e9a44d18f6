package notify_test

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
	"cloudcredits/functions/notify"
)

var t0 = time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)

func note() ledger.Notification {
	return ledger.Notification{ID: "withdrawal:acme:ind/alice:2031-03-10T09:00:00Z", Contract: "acme",
		Kind: ledger.KindWithdrawalNotice, To: "admin@acme.example", Subject: "Crédits withdrawn",
		Body: "Line one.\nLine two.\n", CreatedAt: t0, State: ledger.NotificationPending}
}

func TestEMLWritesAnRFC5322Message(t *testing.T) {
	dir := t.TempDir()
	s := notify.EML{Dir: dir, From: "Cloud Credits <noreply@cc.example>"}
	n := note()
	if err := s.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), n); err != nil { // a retry overwrites, never duplicates
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != notify.FileName(n.ID) || strings.ContainsAny(filepath.Base(files[0]), ":/") {
		t.Fatalf("files %v, want one named %s (no : or /)", files, notify.FileName(n.ID))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	dec := new(mimeDecoder)
	for k, want := range map[string]string{
		"From": "Cloud Credits <noreply@cc.example>", "To": "admin@acme.example",
		"Content-Type": "text/plain; charset=utf-8", "Message-Id": "<" + notify.MessageID(n.ID) + ">",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := dec.subject(t, m.Header.Get("Subject")); got != n.Subject {
		t.Errorf("Subject decodes to %q, want %q", got, n.Subject)
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(t0) {
		t.Errorf("Date = %v, %v; want %v", d, err, t0)
	}
	body, err := io.ReadAll(m.Body)
	if err != nil || string(body) != "Line one.\r\nLine two.\r\n" {
		t.Errorf("body = %q, %v", body, err)
	}
}

func TestEMLRefusesHeaderInjection(t *testing.T) {
	n := note()
	n.Subject = "hi\r\nBcc: evil@example.com"
	if err := (notify.EML{Dir: t.TempDir()}).Send(context.Background(), n); err == nil {
		t.Error("a subject with a line break was written, want refused")
	}
}

func TestFileNamesDoNotCollide(t *testing.T) {
	if a, b := notify.FileName("a:b"), notify.FileName("a/b"); a == b {
		t.Errorf("FileName(a:b) = FileName(a/b) = %s", a)
	}
	if got := notify.Domain("admin@acme.example"); got != "acme.example" {
		t.Errorf("Domain = %q", got)
	}
}
