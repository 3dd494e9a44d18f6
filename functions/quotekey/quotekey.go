// Package quotekey loads the Ed25519 key the API signs quote links with: from
// the local data folder (created there on first use, mode 0600), or from the
// text of a secret (an SSM SecureString in Lambda). The private key is only
// ever handed to the API handler; errors name the file or the format, never
// the key.
package quotekey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"cloudcredits/functions/internal/keyfile"
)

// FileName is the key's file in the local data folder.
const FileName = "quote-signing-key.pem"

// textMax bounds the secret text Parse reads.
const textMax = 4 << 10

// Parse reads a private key given as PEM PKCS#8 ("-----BEGIN PRIVATE
// KEY-----", what `openssl genpkey -algorithm ed25519` writes) or as the
// 32-byte seed in base64 or base64url (padded or not).
func Parse(text string) (ed25519.PrivateKey, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > textMax {
		return nil, errors.New("quote signing key: empty or too long")
	}
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, errors.New("quote signing key: not a PEM PKCS#8 private key")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("quote signing key: not a PKCS#8 private key")
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("quote signing key: not an Ed25519 key")
		}
		return priv, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if seed, err := enc.DecodeString(text); err == nil && len(seed) == ed25519.SeedSize {
			return ed25519.NewKeyFromSeed(seed), nil
		}
	}
	return nil, errors.New("quote signing key: neither PEM PKCS#8 nor a base64 32-byte seed")
}

// Encode writes priv as PEM PKCS#8.
func Encode(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("quote signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LoadOrCreate reads the key from dir/FileName, creating it (mode 0600, the
// folder 0700) on first use. It is for the local server.
func LoadOrCreate(dir string) (ed25519.PrivateKey, error) {
	b, err := keyfile.LoadOrCreate(dir, FileName, func() ([]byte, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate quote signing key: %w", err)
		}
		return Encode(priv)
	})
	if err != nil {
		return nil, err
	}
	return Parse(string(b))
}
