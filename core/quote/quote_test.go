package quote

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"

	"github.com/shopspring/decimal"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// testKey is a fixed key, so tokens (Ed25519 is deterministic) are too.
func testKey(seed byte) (ed25519.PrivateKey, ed25519.PublicKey, string) {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	priv := ed25519.NewKeyFromSeed(s)
	pub := priv.Public().(ed25519.PublicKey)
	return priv, pub, KeyID(pub)
}

func sample() Quote {
	return Quote{
		ID: "qt_0123456789abcdef", Reseller: "acme-resell", Customer: "Globex Corp. <procurement> & \"Sons\" — Zürich",
		Contract: "globex", Currency: core.Cloud, Credits: decimal.RequireFromString("5000"),
		Packs: decimal.RequireFromString("50"), Channel: pricing.ChannelReseller,
		UnitPrice: decimal.RequireFromString("1.1"), Total: decimal.RequireFromString("5500"),
		ListTotal: decimal.RequireFromString("6250"), PriceBookVersion: "cloud-2024-01",
		IssuedAt: t0, ExpiresAt: t0.Add(ValidityDefault),
	}
}

func sign(t *testing.T, q Quote, seed byte) (string, map[string]ed25519.PublicKey) {
	t.Helper()
	priv, pub, kid := testKey(seed)
	tok, err := Sign(q, priv, kid)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok, map[string]ed25519.PublicKey{kid: pub}
}

func wantCode(t *testing.T, err error, code core.Code) {
	t.Helper()
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func TestRoundTrip(t *testing.T) {
	q := sample()
	tok, keys := sign(t, q, 1)
	if len(tok) > TokenMax || strings.ContainsAny(tok, "+/=") || strings.Count(tok, ".") != 1 {
		t.Fatalf("token %q is not compact URL-safe base64url.base64url", tok)
	}
	got, err := Verify(tok, keys, t0)
	if err != nil {
		t.Fatal(err)
	}
	q.KeyID = KeyID(keys[got.KeyID])
	for name, eq := range map[string]bool{
		"id": got.ID == q.ID, "reseller": got.Reseller == q.Reseller, "customer": got.Customer == q.Customer,
		"contract": got.Contract == q.Contract, "currency": got.Currency == q.Currency, "channel": got.Channel == q.Channel,
		"credits": got.Credits.Equal(q.Credits), "packs": got.Packs.Equal(q.Packs), "unit_price": got.UnitPrice.Equal(q.UnitPrice),
		"total": got.Total.Equal(q.Total), "list_total": got.ListTotal.Equal(q.ListTotal),
		"price_book_version": got.PriceBookVersion == q.PriceBookVersion, "issued_at": got.IssuedAt.Equal(q.IssuedAt),
		"expires_at": got.ExpiresAt.Equal(q.ExpiresAt), "kid": got.KeyID == q.KeyID,
	} {
		if !eq {
			t.Errorf("%s: got %+v, want %+v", name, got, q)
		}
	}
	// Deterministic: the same quote and key make the same token.
	if again, _ := sign(t, q, 1); again != tok {
		t.Errorf("signing twice gave two tokens")
	}
	// A quote without a contract round-trips too.
	q.Contract = ""
	tok, keys = sign(t, q, 1)
	if got, err := Verify(tok, keys, t0); err != nil || got.Contract != "" {
		t.Errorf("no contract: %+v, %v", got, err)
	}
}

func TestSignTruncatesToSeconds(t *testing.T) {
	q := sample()
	q.IssuedAt = t0.Add(900 * time.Millisecond)
	q.ExpiresAt = q.ExpiresAt.Add(900 * time.Millisecond)
	tok, keys := sign(t, q, 1)
	got, err := Verify(tok, keys, t0)
	if err != nil || !got.IssuedAt.Equal(t0) || !got.ExpiresAt.Equal(t0.Add(ValidityDefault)) {
		t.Errorf("got %v–%v, %v; want whole seconds", got.IssuedAt, got.ExpiresAt, err)
	}
}

func TestEverySingleByteTamperIsInvalid(t *testing.T) {
	tok, keys := sign(t, sample(), 1)
	for i := 0; i < len(tok); i++ {
		for _, c := range []byte{'A', 'B', 'f', '_', '-', '.', '0'} {
			if tok[i] == c {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			_, err := Verify(bad, keys, t0)
			wantCode(t, err, core.CodeQuoteInvalid)
		}
	}
	// Tampering with the decoded bytes and re-encoding them properly.
	body64, sig64, _ := strings.Cut(tok, ".")
	body, _ := b64.DecodeString(body64)
	sig, _ := b64.DecodeString(sig64)
	for i := range body {
		b := append([]byte(nil), body...)
		b[i] ^= 0x01
		_, err := Verify(b64.EncodeToString(b)+"."+sig64, keys, t0)
		wantCode(t, err, core.CodeQuoteInvalid)
	}
	for i := range sig {
		s := append([]byte(nil), sig...)
		s[i] ^= 0x80
		_, err := Verify(body64+"."+b64.EncodeToString(s), keys, t0)
		wantCode(t, err, core.CodeQuoteInvalid)
	}
}

func TestChangedPriceWithValidEncodingIsInvalid(t *testing.T) {
	tok, keys := sign(t, sample(), 1)
	body64, sig64, _ := strings.Cut(tok, ".")
	body, _ := b64.DecodeString(body64)
	cheaper := strings.Replace(string(body), `"total":"5500.00"`, `"total":"55.00"`, 1)
	if cheaper == string(body) {
		t.Fatal("test did not change the payload")
	}
	_, err := Verify(b64.EncodeToString([]byte(cheaper))+"."+sig64, keys, t0)
	wantCode(t, err, core.CodeQuoteInvalid)
}

func TestKeys(t *testing.T) {
	tok, _ := sign(t, sample(), 1)
	_, otherPub, _ := testKey(2)
	_, pub1, kid1 := testKey(1)

	t.Run("a wrong key under the right id is invalid", func(t *testing.T) {
		_, err := Verify(tok, map[string]ed25519.PublicKey{kid1: otherPub}, t0)
		wantCode(t, err, core.CodeQuoteInvalid)
	})
	t.Run("an unknown key id is invalid", func(t *testing.T) {
		_, err := Verify(tok, map[string]ed25519.PublicKey{KeyID(otherPub): otherPub}, t0)
		wantCode(t, err, core.CodeQuoteInvalid)
		_, err = Verify(tok, nil, t0)
		wantCode(t, err, core.CodeQuoteInvalid)
	})
	t.Run("rotation: old and new keys both verify their own tokens", func(t *testing.T) {
		newTok, _ := sign(t, sample(), 2)
		keys := map[string]ed25519.PublicKey{kid1: pub1, KeyID(otherPub): otherPub}
		for _, tk := range []string{tok, newTok} {
			if _, err := Verify(tk, keys, t0); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("Sign refuses a key that is not Ed25519 and an empty key id", func(t *testing.T) {
		priv, _, kid := testKey(1)
		if _, err := Sign(sample(), priv[:10], kid); err == nil {
			t.Error("short key accepted")
		}
		if _, err := Sign(sample(), priv, ""); err == nil {
			t.Error("empty key id accepted")
		}
	})
}

func TestExpiry(t *testing.T) {
	q := sample()
	tok, keys := sign(t, q, 1)
	if _, err := Verify(tok, keys, q.ExpiresAt.Add(-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	_, err := Verify(tok, keys, q.ExpiresAt)
	wantCode(t, err, core.CodeQuoteExpired)
	_, err = Verify(tok, keys, q.ExpiresAt.Add(time.Hour))
	wantCode(t, err, core.CodeQuoteExpired)
	// Expired and tampered: invalid wins (the signature is checked first).
	_, err = Verify(tok[:len(tok)-2]+"AA", keys, q.ExpiresAt)
	wantCode(t, err, core.CodeQuoteInvalid)
}

func TestGarbage(t *testing.T) {
	tok, keys := sign(t, sample(), 1)
	body64, sig64, _ := strings.Cut(tok, ".")
	for name, bad := range map[string]string{
		"empty":             "",
		"no dot":            body64 + sig64,
		"two dots":          tok + ".x",
		"oversized":         strings.Repeat("A", TokenMax+1),
		"padding":           body64 + "=." + sig64,
		"standard base64":   strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/",
		"short signature":   body64 + "." + sig64[:20],
		"empty payload":     "." + sig64,
		"not json":          b64.EncodeToString([]byte("hello")) + "." + sig64,
		"json array":        b64.EncodeToString([]byte("[]")) + "." + sig64,
		"spaces in payload": b64.EncodeToString([]byte(" {}")) + "." + sig64,
		"a JWT":             "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
		"control chars":     "\x00\x01.\x02",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Verify(bad, keys, t0)
			wantCode(t, err, core.CodeQuoteInvalid)
			if e, _ := core.AsError(err); e != nil && len(bad) > 8 && strings.Contains(e.Message, bad) {
				t.Errorf("error echoes the token: %s", e.Message)
			}
		})
	}
}

// A payload re-encoded differently (a signed but non-canonical spelling)
// never verifies: sign the variant with the real key and check it fails.
func TestNonCanonicalPayloadIsInvalid(t *testing.T) {
	priv, pub, kid := testKey(1)
	keys := map[string]ed25519.PublicKey{kid: pub}
	q := sample()
	q.KeyID = kid
	body := string(encode(q))
	for name, variant := range map[string]string{
		"trailing zero in credits": strings.Replace(body, `"credits":"5000"`, `"credits":"5000.0"`, 1),
		"unit price one decimal":   strings.Replace(body, `"unit_price":"1.10"`, `"unit_price":"1.1"`, 1),
		"space after colon":        strings.Replace(body, `"v":"1"`, `"v": "1"`, 1),
		"version 2":                strings.Replace(body, `"v":"1"`, `"v":"2"`, 1),
		"unknown field":            strings.Replace(body, `"v":"1"`, `"v":"1","x":"1"`, 1),
		"duplicate field":          strings.Replace(body, `"v":"1"`, `"v":"1","v":"1"`, 1),
		"escaped html":             strings.Replace(body, `<`, `\u003c`, 1),
		"validity over the max":    strings.Replace(body, `"expires_at":"2026-12-22T12:00:00Z"`, `"expires_at":"2027-12-22T12:00:00Z"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if variant == body {
				t.Fatal("variant equals the canonical payload")
			}
			tok := b64.EncodeToString([]byte(variant)) + "." + b64.EncodeToString(ed25519.Sign(priv, []byte(variant)))
			_, err := Verify(tok, keys, t0)
			wantCode(t, err, core.CodeQuoteInvalid)
		})
	}
}

func TestSignValidates(t *testing.T) {
	priv, _, kid := testKey(1)
	for name, mod := range map[string]func(*Quote){
		"no id":           func(q *Quote) { q.ID = "" },
		"no customer":     func(q *Quote) { q.Customer = "" },
		"long customer":   func(q *Quote) { q.Customer = strings.Repeat("x", CustomerMax+1) },
		"control char":    func(q *Quote) { q.Customer = "a\nb" },
		"bad currency":    func(q *Quote) { q.Currency = "gold" },
		"bad channel":     func(q *Quote) { q.Channel = "friends" },
		"zero credits":    func(q *Quote) { q.Credits = decimal.Zero },
		"fraction packs":  func(q *Quote) { q.Packs = decimal.RequireFromString("1.5") },
		"sub-cent total":  func(q *Quote) { q.Total = decimal.RequireFromString("1.005") },
		"zero list total": func(q *Quote) { q.ListTotal = decimal.Zero },
		"91 days":         func(q *Quote) { q.ExpiresAt = q.IssuedAt.Add(ValidityMax + 24*time.Hour) },
		"expires first":   func(q *Quote) { q.ExpiresAt = q.IssuedAt },
		"slash in id":     func(q *Quote) { q.ID = "qt/1" },
	} {
		t.Run(name, func(t *testing.T) {
			q := sample()
			mod(&q)
			if _, err := Sign(q, priv, kid); core.ErrorCode(err) != core.CodeInvalidRequest {
				t.Errorf("Sign = %v; want invalid_request", err)
			}
		})
	}
	q := sample()
	q.ExpiresAt = q.IssuedAt.Add(ValidityMax)
	if _, err := Sign(q, priv, kid); err != nil {
		t.Errorf("exactly ValidityMax: %v", err)
	}
}

func TestMaximalQuoteFitsTokenMax(t *testing.T) {
	q := sample()
	long := strings.Repeat("x", idMax)
	q.ID, q.Reseller, q.Contract, q.PriceBookVersion = long, long, long, long
	q.Customer = strings.Repeat("\"", CustomerMax) // escaped: two bytes each
	q.Credits = decimal.RequireFromString("999999999999.999999")
	q.Total = decimal.RequireFromString("999999999999999.99")
	q.ListTotal = q.Total
	q.UnitPrice = decimal.RequireFromString("999999.9999")
	tok, keys := sign(t, q, 1)
	if _, err := Verify(tok, keys, t0); err != nil {
		t.Fatalf("%d-byte token: %v", len(tok), err)
	}
	if len(tok) > TokenMax {
		t.Errorf("largest token is %d bytes, over TokenMax (%d)", len(tok), TokenMax)
	}
}

func toKeys(m map[string][]byte) map[string]ed25519.PublicKey {
	out := make(map[string]ed25519.PublicKey, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
