package boot_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"cloudcredits/functions/auth"
	"cloudcredits/functions/lambda/boot"
	"cloudcredits/functions/lambda/internal/lambdatest"
)

func TestParsePublicKeys(t *testing.T) {
	t.Parallel()
	key := lambdatest.Key(t)
	block := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	second, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	public := block("PUBLIC KEY", pkix)
	rsaPublic := block("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&second.PublicKey))

	for _, tc := range []struct {
		name string
		text string
		ids  []string // key ids, in order; nil: an error containing err
		err  string
	}{
		{"PKIX", public, []string{auth.KeyID(&key.PublicKey)}, ""},
		{"PKCS#1", rsaPublic, []string{auth.KeyID(&second.PublicKey)}, ""},
		{"two keys, rotation", "\n" + public + "\n" + rsaPublic + "\n", []string{auth.KeyID(&key.PublicKey), auth.KeyID(&second.PublicKey)}, ""},
		{"empty", "", nil, "no PEM public key"},
		{"PKCS#1 private key", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)), nil, "private key"},
		{"PKCS#8 private key", block("PRIVATE KEY", pkcs8), nil, "private key"},
		{"private key after a public one", public + block("PRIVATE KEY", pkcs8), nil, "private key"},
		{"garbage after the keys", public + "trailing", nil, "not PEM"},
		{"1024 bits", block("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&weak.PublicKey)), nil, "at least 2048"},
		{"EC key", block("PUBLIC KEY", ecDER), nil, "not an RSA key"},
		{"certificate", block("CERTIFICATE", []byte{1, 2, 3}), nil, "want PUBLIC KEY"},
		{"too many", strings.Repeat(public, boot.PublicKeysMax+1), nil, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := boot.ParsePublicKeys([]byte(tc.text))
			if tc.ids == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, auth.KeyID(k))
			}
			if strings.Join(got, ",") != strings.Join(tc.ids, ",") {
				t.Errorf("key ids %v, want %v", got, tc.ids)
			}
		})
	}
}
