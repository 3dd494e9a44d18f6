package quote

import (
	"strings"
	"testing"
)

// FuzzVerify: Verify never panics, and whatever it accepts is exactly the
// token Sign makes of the quote it returns (one token per quote and key).
func FuzzVerify(f *testing.F) {
	priv, pub, kid := testKey(1)
	q := sample()
	tok, err := Sign(q, priv, kid)
	if err != nil {
		f.Fatal(err)
	}
	body64, sig64, _ := strings.Cut(tok, ".")
	for _, seed := range []string{tok, body64, "." + sig64, body64 + "." + sig64[:10], tok[:len(tok)-1] + "B", "", ".", "a.b", strings.Repeat("A", 3000)} {
		f.Add(seed)
	}
	pubKeys := map[string][]byte{kid: pub}
	f.Fuzz(func(t *testing.T, token string) {
		ks := toKeys(pubKeys)
		got, err := Verify(token, ks, t0)
		if err != nil {
			return
		}
		again, err := Sign(got, priv, kid)
		if err != nil {
			t.Fatalf("Verify accepted a quote Sign refuses: %v", err)
		}
		if again != token {
			t.Fatalf("Verify accepted %q, but its quote signs to %q", token, again)
		}
	})
}

// FuzzParse: the payload parser never panics and accepts only canonical
// encodings.
func FuzzParse(f *testing.F) {
	q := sample()
	q.KeyID = "0123456789abcdef"
	f.Add(encode(q))
	f.Add([]byte(`{"v":"1"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := parse(body)
		if err != nil {
			return
		}
		if string(encode(got)) != string(body) {
			t.Fatalf("parse accepted a non-canonical payload %q", body)
		}
	})
}
