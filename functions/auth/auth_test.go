package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/functions/auth"

	"github.com/golang-jwt/jwt/v5"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMintVerifyRoundTrip(t *testing.T) {
	keys := auth.NewKeys("iss", "aud", newKey(t))
	want := auth.Principal{Subject: "svc-render", Role: auth.Service, Contract: "c1", Entity: "acme"}
	tok, err := keys.Mint(want, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.Verify(tok, now.Add(59*time.Minute))
	if err != nil || got != want {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, want)
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := newKey(t)
	keys := auth.NewKeys("iss", "aud", key)
	p := auth.Principal{Subject: "ann", Role: auth.ContractAdmin, Contract: "c1"}
	good, err := keys.Mint(p, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := auth.NewKeys("iss", "aud", newKey(t)).Mint(p, now, time.Hour)
	wrongAud, _ := auth.NewKeys("iss", "another-api", key).Mint(p, now, time.Hour)
	wrongIss, _ := auth.NewKeys("someone-else", "aud", key).Mint(p, now, time.Hour)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"c1"`, `"c2"`, 1))) + "." + parts[2]
	// An HS256 token keyed with the public key: the classic algorithm confusion.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "vendor_admin", "iss": "iss", "aud": "aud", "exp": now.Add(time.Hour).Unix()})
	hsTok, _ := hs.SignedString(key.PublicKey.N.Bytes())
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
	for name, tc := range map[string]struct {
		token string
		at    time.Time
		msg   string
	}{
		"expired":         {good, now.Add(time.Hour + time.Second), "expired"},
		"other key":       {other, now, "signature"},
		"wrong audience":  {wrongAud, now, "audience"},
		"wrong issuer":    {wrongIss, now, "issuer"},
		"tampered claims": {tampered, now, "signature"},
		"HS256 confusion": {hsTok, now, ""},
		"alg none":        {none, now, ""},
		"garbage":         {"not-a-token", now, "malformed"},
		"empty":           {"", now, "required"},
		"huge":            {strings.Repeat("a", auth.TokenBytesMax+1), now, "too long"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := keys.Verify(tc.token, tc.at)
			if core.ErrorCode(err) != core.CodeUnauthenticated {
				t.Fatalf("Verify error = %v, want unauthenticated", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
			if tc.token != "" && len(tc.token) > 20 && strings.Contains(err.Error(), tc.token) {
				t.Error("the error echoes the token")
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	old, cur := newKey(t), newKey(t)
	tok, _ := auth.NewKeys("iss", "aud", old).Mint(auth.Principal{Subject: "v", Role: auth.VendorAdmin}, now, time.Hour)
	if _, err := auth.NewKeys("iss", "aud", cur, &old.PublicKey).Verify(tok, now); err != nil {
		t.Errorf("a token of the previous key was refused during rotation: %v", err)
	}
	if _, err := auth.NewKeys("iss", "aud", cur).Verify(tok, now); err == nil {
		t.Error("a token of a retired key was accepted")
	}
}

func TestMintRefusesIncompleteClaims(t *testing.T) {
	keys := auth.NewKeys("iss", "aud", newKey(t))
	for _, p := range []auth.Principal{
		{Subject: "", Role: auth.VendorAdmin},
		{Subject: "a", Role: "root"},
		{Subject: "a", Role: auth.Service},
		{Subject: "a", Role: auth.Reseller},
	} {
		if _, err := keys.Mint(p, now, time.Hour); err == nil {
			t.Errorf("Mint(%+v) succeeded", p)
		}
	}
}

func TestLoadOrCreateKeyKeepsTheKey(t *testing.T) {
	dir := t.TempDir()
	a, err := auth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) {
		t.Error("the second start read a different key")
	}
	if jwks := auth.NewKeys("i", "a", a).JWKS(); len(jwks["keys"].([]map[string]string)) != 1 {
		t.Errorf("JWKS = %v", jwks)
	}
}
