// Package notify delivers the ledger's outbox (core/ledger.Notification):
// Sender is the port, EML the readable local sender (one RFC 5322 file per
// notification), and notify/ses the production one (Amazon SES).
//
// A sender must never decide what is sent or to whom (core/ledger planned
// that), must never mark anything sent (the caller does, after Send returns
// nil), and must never log an address beyond its domain.
package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloudcredits/core/ledger"
)

// Sender delivers one notification. A nil error means it was handed over
// for delivery; an error leaves it pending, to be retried.
type Sender interface {
	Send(ctx context.Context, n ledger.Notification) error
}

// Domain is the part of an address a log may show: "acme.example" of
// "admin@acme.example", "" when there is none.
func Domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// ErrNoRecipient is Send's answer for a notification without an address.
var ErrNoRecipient = errors.New("notify: the notification has no recipient (the contract has no notify_email)")

// EML writes each notification as an RFC 5322 message file
// <Dir>/<sanitised id>.eml, readable with any mail client. Writing is
// atomic (a temporary file renamed), and sending one id again overwrites
// the same file, so a retried send leaves one file.
type EML struct {
	Dir  string
	From string // default DefaultFrom
}

// DefaultFrom is the local sender's From when none is configured.
const DefaultFrom = "Cloud Credits <notifications@cloudcredits.localhost>"

// FileName is the file a notification id is written to: the id with every
// character outside [A-Za-z0-9._-] replaced by "_", and — because that
// mapping is not one-to-one — a short hash of the id.
func FileName(id string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
	if len(safe) > 150 {
		safe = safe[:150]
	}
	sum := sha256.Sum256([]byte(id))
	return strings.TrimLeft(safe, ".") + "-" + hex.EncodeToString(sum[:4]) + ".eml"
}

// Send writes n's message file.
func (e EML) Send(ctx context.Context, n ledger.Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return fmt.Errorf("notify: outbox folder: %w", err)
	}
	from := e.From
	if from == "" {
		from = DefaultFrom
	}
	msg, err := Message(from, n)
	if err != nil {
		return err
	}
	path := filepath.Join(e.Dir, FileName(n.ID))
	tmp, err := os.CreateTemp(e.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("notify: write %s: %w", n.ID, err)
	}
	_, werr := tmp.Write(msg)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("notify: write %s: %w", n.ID, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("notify: write %s: %w", n.ID, err)
	}
	return nil
}

// Message renders n as an RFC 5322 message with a text/plain UTF-8 body.
// Header values are refused when they hold a line break (header
// injection); the subject is RFC 2047-encoded when not plain ASCII. A
// notification without a recipient is addressed to the empty group
// "undisclosed-recipients:;".
func Message(from string, n ledger.Notification) ([]byte, error) {
	to := n.To
	if to == "" {
		to = "undisclosed-recipients:;"
	}
	for _, v := range []string{from, to, n.Subject, n.ID} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("notify: notification %q: a header holds a line break", n.ID)
		}
	}
	date := n.CreatedAt
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	var b strings.Builder
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", n.Subject))
	hdr("Date", date.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+MessageID(n.ID)+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("X-Cloud-Credits-Kind", string(n.Kind))
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(n.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String()), nil
}

// MessageID is the id-left@id-right of a notification's Message-ID: stable
// per event, so a resent notice threads with the first.
func MessageID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16]) + "@notifications.cloudcredits"
}
