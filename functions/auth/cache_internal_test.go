package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"cloudcredits/core"

	"github.com/golang-jwt/jwt/v5"
)

// TestVerifiedTokensAreRemembered: a token verified once is answered from
// memory while it is valid, and still refused outside its validity; a token
// that differs in any byte is verified in full.
func TestVerifiedTokensAreRemembered(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := NewKeys("iss", "aud", priv)
	p := Principal{Subject: "svc", Role: Service, Contract: "c1"}
	token, err := k.Mint(p, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := k.Verify(token, now.Add(time.Duration(i)*time.Minute))
		if err != nil || got != p {
			t.Fatalf("verify %d = %+v, %v; want %+v", i, got, err, p)
		}
	}
	if k.signChecks != 1 {
		t.Errorf("3 verifications of one token checked its signature %d times, want 1", k.signChecks)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"at its expiry", now.Add(time.Hour)},
		{"after its expiry", now.Add(2 * time.Hour)},
		{"before it is valid", now.Add(-2 * time.Minute)},
	} {
		if _, err := k.Verify(token, tc.at); core.ErrorCode(err) != core.CodeUnauthenticated {
			t.Errorf("a remembered token %s: %v, want unauthenticated", tc.name, err)
		}
	}
	tampered := token[:len(token)-2] + "AA"
	if tampered == token {
		tampered = token[:len(token)-2] + "BB"
	}
	if _, err := k.Verify(tampered, now); core.ErrorCode(err) != core.CodeUnauthenticated {
		t.Errorf("a tampered token: %v, want unauthenticated", err)
	}
	// Full: the expired are dropped first, and the memory stays bounded.
	k.verified = nil
	for i := range verifiedTokensMax {
		k.remember(sumOf(i), p, claimsUntil(now.Add(time.Duration(i%2)*time.Hour)), now)
	}
	k.remember(sumOf(-1), p, claimsUntil(now.Add(time.Hour)), now)
	if n := len(k.verified); n != verifiedTokensMax/2+1 {
		t.Errorf("after filling up, %d tokens remembered; want the %d unexpired and the new one", n, verifiedTokensMax/2)
	}
	for i := range verifiedTokensMax {
		k.remember(sumOf(i+verifiedTokensMax), p, claimsUntil(now.Add(time.Hour)), now)
	}
	if n := len(k.verified); n > verifiedTokensMax {
		t.Errorf("%d tokens remembered, want at most %d", n, verifiedTokensMax)
	}
}

func sumOf(i int) (s [32]byte) {
	s[0], s[1], s[2], s[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
	return s
}

func claimsUntil(exp time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}
}
