package boot

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Limits on the token verification keys.
const (
	// PublicKeysMax bounds the keys one function verifies with (the current
	// key and those being rotated out).
	PublicKeysMax = 8
	// publicKeysBytesMax is the largest PEM text accepted (an advanced SSM
	// parameter's limit).
	publicKeysBytesMax = 8 << 10
	keyBitsMin         = 2048
)

// errPrivateKey refuses a private key where public keys belong.
var errPrivateKey = errors.New("holds a private key: the Lambda functions only verify tokens; store the public key(s) only")

// ParsePublicKeys reads one or more PEM RSA public keys ("PUBLIC KEY", PKIX,
// or "RSA PUBLIC KEY", PKCS#1), concatenated. A private key anywhere in the
// text is refused, so a misplaced signing key stops the function at cold
// start instead of sitting in its memory. Errors never quote the text.
func ParsePublicKeys(text []byte) ([]*rsa.PublicKey, error) {
	if len(text) > publicKeysBytesMax {
		return nil, fmt.Errorf("public keys: %d bytes; at most %d", len(text), publicKeysBytesMax)
	}
	var keys []*rsa.PublicKey
	rest := text
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errPrivateKey
		}
		if len(keys) == PublicKeysMax {
			return nil, fmt.Errorf("public keys: more than %d", PublicKeysMax)
		}
		pub, err := parsePublicBlock(block)
		if err != nil {
			return nil, fmt.Errorf("public key %d: %w", n, err)
		}
		if pub.N.BitLen() < keyBitsMin {
			return nil, fmt.Errorf("public key %d: %d bits; at least %d", n, pub.N.BitLen(), keyBitsMin)
		}
		keys = append(keys, pub)
	}
	if bytes.Contains(rest, []byte("PRIVATE KEY")) {
		return nil, errPrivateKey
	}
	if len(keys) == 0 {
		return nil, errors.New("public keys: no PEM public key found")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("public keys: text that is not PEM follows the keys")
	}
	return keys, nil
}

func parsePublicBlock(b *pem.Block) (*rsa.PublicKey, error) {
	switch b.Type {
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		pub, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("not an RSA key (tokens are RS256)")
		}
		return pub, nil
	}
	return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY or RSA PUBLIC KEY", b.Type)
}
