package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/auth"
	"cloudcredits/functions/quotekey"
)

// TestLocalQuoteLink walks the README's "Quote links": a reseller's quote
// link opens the local quote page, and the contract admin accepts it once.
func TestLocalQuoteLink(t *testing.T) {
	data := t.TempDir()
	base, a := startLocal(t, data)
	if info, err := os.Stat(filepath.Join(data, quotekey.FileName)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("quote key file: %v, %v; want mode 0600", info, err)
	}
	reseller, err := a.keys.Mint(auth.Principal{Subject: "acme", Role: auth.Reseller, Reseller: "acme"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	admin := ""
	for _, tok := range demoTokens(a.keys, time.Now()) {
		if tok[0] == "ADMIN" {
			admin = tok[1]
		}
	}
	status, body := call(t, "POST", base+"/v1/quotes", reseller, "quote-1", `{"customer":"Demo Corp","contract":"demo","currency":"cloud","credits":"5000"}`)
	if status != 201 {
		t.Fatalf("make quote = %d %s", status, body)
	}
	var q struct {
		Token, URL, Total string
	}
	if err := json.Unmarshal(body, &q); err != nil || q.URL != base+"/q/"+q.Token || q.Total != "5500.00" {
		t.Fatalf("quote = %s (%v)", body, err)
	}
	status, page := call(t, "GET", q.URL, "", "", "")
	if status != 200 || !strings.Contains(string(page), "5500.00 USD") || !strings.Contains(string(page), "Accept this quote") {
		t.Errorf("quote page = %d %s", status, page)
	}
	if status, page := call(t, "GET", q.URL+"x", "", "", ""); status != 422 || !strings.Contains(string(page), "quote_invalid") {
		t.Errorf("tampered quote page = %d %s", status, page)
	}
	if status, body := call(t, "POST", base+"/v1/quotes/"+q.Token+"/accept", admin, "accept-1", `{"payment":"card"}`); status != 201 || !strings.Contains(string(body), `"total":"5500.00"`) {
		t.Errorf("accept = %d %s", status, body)
	}
	if status, body := call(t, "POST", base+"/v1/quotes/"+q.Token+"/accept", admin, "accept-2", `{"payment":"card"}`); status != 409 || !strings.Contains(string(body), "quote_already_accepted") {
		t.Errorf("second accept = %d %s", status, body)
	}
}
