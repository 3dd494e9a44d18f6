package quotekey

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	again, err := LoadOrCreate(dir)
	if err != nil || !first.Equal(again) {
		t.Errorf("second load gave another key (%v)", err)
	}
}

func TestParse(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	want := ed25519.NewKeyFromSeed(seed)
	pemText, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"pem":       string(pemText),
		"base64":    base64.StdEncoding.EncodeToString(seed),
		"base64url": base64.RawURLEncoding.EncodeToString(seed) + "\n",
	} {
		got, err := Parse(text)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, text := range map[string]string{
		"empty": "", "short seed": base64.StdEncoding.EncodeToString(seed[:16]),
		"rsa pem": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
		"long":    strings.Repeat("A", textMax+1),
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(seed)) {
			t.Errorf("%s: error shows the key", name)
		}
	}
}
