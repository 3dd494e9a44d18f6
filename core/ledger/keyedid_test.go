package ledger_test

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core/ledger"
)

var made = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func TestKeyedIDCarriesItsKeyDigest(t *testing.T) {
	for _, k := range []struct{ scope, key string }{
		{"acme", "job-1"},
		{"acme", "job-2"},
		{"globex", "job-1"},
		{"acme", strings.Repeat("~", ledger.IdempotencyKeyMax)},
		{"acme", "a/b?c#d e%"},
	} {
		d := ledger.KeyDigest(k.scope, k.key)
		if len(d) != ledger.KeyDigestLen || strings.Trim(d, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Errorf("KeyDigest(%q, %q) = %q: want %d letters and digits", k.scope, k.key, d, ledger.KeyDigestLen)
		}
		id := ledger.KeyedID(k.scope, k.key, made, 0xdeadbeef)
		if got, ok := ledger.DigestOf(id); !ok || got != d {
			t.Errorf("DigestOf(%q) = %q, %v; want %q", id, got, ok, d)
		}
		if strings.Contains(id, "#") {
			t.Errorf("KeyedID %q contains #", id)
		}
	}
	if ledger.KeyDigest("acme", "job-1") == ledger.KeyDigest("globex", "job-1") ||
		ledger.KeyDigest("acme", "job-1") == ledger.KeyDigest("acme", "job-2") ||
		ledger.KeyDigest("a", "b\x00c") == ledger.KeyDigest("a\x00b", "c") {
		t.Error("two keys share a digest")
	}
	if a, b := ledger.KeyedID("acme", "k", made, 1), ledger.KeyedID("acme", "k", made, 2); a == b {
		t.Errorf("two nonces give one id %q", a)
	}
	if a, b := ledger.KeyedID("acme", "k", made, 1), ledger.KeyedID("acme", "k", made.Add(time.Millisecond), 1); a >= b {
		t.Errorf("an id made later sorts first: %q, %q", a, b)
	}
}

func TestDigestOfRefusesOtherIDs(t *testing.T) {
	good := ledger.KeyedID("acme", "k", made, 7)
	for _, id := range []string{
		"", "op_0123456789abcdef", "L1", "lot_" + good[3:], good + "0", good[:len(good)-1],
		strings.Replace(good, "_", "-", 2), good[:len(good)-1] + "g", strings.ToUpper(good[:5]) + good[5:],
	} {
		if d, ok := ledger.DigestOf(id); ok {
			t.Errorf("DigestOf(%q) = %q, true; want not keyed", id, d)
		}
	}
}
