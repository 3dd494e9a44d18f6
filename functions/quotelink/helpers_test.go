package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"flag"
	"fmt"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
	"cloudcredits/core/quote"

	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite testdata/quote.golden.html from the current code")

const testSiteURL = "https://credits.example.test"

// t0 is the tests' clock: sampleQuote's quote is valid at t0.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// testKey is a fixed Ed25519 key (seeded by n), so tokens and the golden
// page are the same on every run.
func testKey(n byte) (ed25519.PrivateKey, ed25519.PublicKey, string) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	return priv, pub, quote.KeyID(pub)
}

// publicKeysVar is QUOTE_PUBLIC_KEYS holding pub.
func publicKeysVar(pub ed25519.PublicKey) string {
	return fmt.Sprintf(`{%q: %q}`, quote.KeyID(pub), base64.RawURLEncoding.EncodeToString(pub))
}

// sampleQuote is 5,000 cloud credits on the reseller channel: $5,750.00
// against $6,250.00 list, issued a day before t0 and valid for 30 days.
func sampleQuote() quote.Quote {
	return quote.Quote{
		ID: "qt_0001", Reseller: "northwind-resellers", Customer: "Contoso Engineering", Contract: "ct_contoso",
		Currency: core.Cloud, Credits: decimal.RequireFromString("5000"), Packs: decimal.RequireFromString("50"),
		Channel: pricing.ChannelReseller, UnitPrice: decimal.RequireFromString("1.15"),
		Total: decimal.RequireFromString("5750.00"), ListTotal: decimal.RequireFromString("6250.00"),
		PriceBookVersion: "2026-01", IssuedAt: t0.Add(-24 * time.Hour), ExpiresAt: t0.Add(29 * 24 * time.Hour),
	}
}

func sign(t testing.TB, q quote.Quote, priv ed25519.PrivateKey, kid string) string {
	t.Helper()
	tok, err := quote.Sign(q, priv, kid)
	if err != nil {
		t.Fatalf("quote.Sign: %v", err)
	}
	return tok
}

// BenchmarkQuotePage is the Go side's own cost for a valid quote page
// (verify and render), without workerd: natively, or under Node with
// GOOS=js GOARCH=wasm to see what a Worker request spends in Go.
func BenchmarkQuotePage(b *testing.B) {
	priv, _, kid := testKey(1)
	_, pub, _ := testKey(1)
	h, err := NewHandler(Config{PublicKeys: publicKeysVar(pub), SiteURL: testSiteURL}, func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	url := "https://quote.example.test/q/" + sign(b, sampleQuote(), priv, kid)
	for b.Loop() {
		if p := h.Serve("GET", url); p.Status != statusOK {
			b.Fatalf("status %d", p.Status)
		}
	}
}
