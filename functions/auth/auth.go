// Package auth mints and verifies the API's bearer tokens: RS256 JWTs with
// the claims of API.md (sub, role, contract, entity, reseller). In AWS an API
// Gateway JWT authorizer checks them first against the published JWKS; the
// handler always verifies again (signature, expiry, issuer, audience) and
// scopes every read and write to the caller's contract.
//
// Private keys never leave this package's callers' secret storage; logs never
// carry a token or a key.
package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"cloudcredits/core"
	"cloudcredits/functions/internal/keyfile"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a caller may do.
type Role string

const (
	VendorAdmin   Role = "vendor_admin"
	ContractAdmin Role = "contract_admin"
	User          Role = "user"
	Service       Role = "service"
	Reseller      Role = "reseller"
)

// ParseRole accepts the roles of API.md.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case VendorAdmin, ContractAdmin, User, Service, Reseller:
		return r, true
	}
	return "", false
}

// Limits on what a token may carry and how long it lives.
const (
	TokenBytesMax = 8 << 10
	TTLMax        = 90 * 24 * time.Hour
	claimMax      = 128
	keyBits       = 2048
)

// Principal is a verified caller.
type Principal struct {
	Subject  string `json:"sub"`
	Role     Role   `json:"role"`
	Contract string `json:"contract,omitempty"`
	Entity   string `json:"entity,omitempty"`
	Reseller string `json:"reseller,omitempty"`
}

// Check reports whether the claims make sense together: contract roles
// carry a contract, resellers a reseller id.
func (p Principal) Check() error {
	var probs core.Problems
	if p.Subject == "" || len(p.Subject) > claimMax {
		probs.Add("sub", "is required, at most %d characters", claimMax)
	}
	if _, ok := ParseRole(string(p.Role)); !ok {
		probs.Add("role", "must be one of vendor_admin, contract_admin, user, service, reseller")
	}
	switch p.Role {
	case ContractAdmin, User, Service:
		if p.Contract == "" {
			probs.Add("contract", "is required for role %s", p.Role)
		}
	case Reseller:
		if p.Reseller == "" {
			probs.Add("reseller", "is required for role reseller")
		}
	}
	for name, v := range map[string]string{"contract": p.Contract, "entity": p.Entity, "reseller": p.Reseller} {
		if len(v) > claimMax {
			probs.Add(name, "must be at most %d characters", claimMax)
		}
	}
	return probs.Err()
}

type claims struct {
	Role     Role   `json:"role"`
	Contract string `json:"contract,omitempty"`
	Entity   string `json:"entity,omitempty"`
	Reseller string `json:"reseller,omitempty"`
	jwt.RegisteredClaims
}

// Keys signs and verifies tokens. Verification accepts any of the public
// keys by key id, so a key can be rotated without invalidating tokens signed
// by the previous one.
type Keys struct {
	Issuer   string
	Audience string
	signer   *rsa.PrivateKey
	kid      string
	public   map[string]*rsa.PublicKey

	// verified remembers tokens that passed verification, by the hash of
	// the whole token, until they expire: a service spends with one token
	// many times, and an RSA verification is most of a request's CPU. A
	// token whose any byte differs hashes differently and is verified in
	// full; a remembered one is still refused outside its validity.
	mu         sync.Mutex
	verified   map[[sha256.Size]byte]verifiedToken
	signChecks int // signature verifications made, for tests
}

// verifiedTokensMax bounds the tokens Keys remembers; when it is full, the
// expired ones are dropped, and if none is, all of them.
const verifiedTokensMax = 4096

type verifiedToken struct {
	principal          Principal
	notBefore, expires time.Time
}

// NewKeys returns keys that sign with priv (nil: verify only) and verify with
// priv's public key plus any others given.
func NewKeys(issuer, audience string, priv *rsa.PrivateKey, others ...*rsa.PublicKey) *Keys {
	k := &Keys{Issuer: issuer, Audience: audience, signer: priv, public: map[string]*rsa.PublicKey{}}
	if priv != nil {
		k.kid = KeyID(&priv.PublicKey)
		k.public[k.kid] = &priv.PublicKey
	}
	for _, pub := range others {
		k.public[KeyID(pub)] = pub
	}
	return k
}

// KeyID is a key's id: a hash of its public modulus and exponent.
func KeyID(pub *rsa.PublicKey) string {
	h := sha256.Sum256(append(pub.N.Bytes(), big.NewInt(int64(pub.E)).Bytes()...))
	return hex.EncodeToString(h[:8])
}

// Mint signs a token for p valid from now for ttl.
func (k *Keys) Mint(p Principal, now time.Time, ttl time.Duration) (string, error) {
	if k.signer == nil {
		return "", errors.New("auth: these keys cannot sign")
	}
	if err := p.Check(); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > TTLMax {
		return "", fmt.Errorf("auth: ttl must be between 1s and %s", TTLMax)
	}
	var jti [9]byte
	_, _ = rand.Read(jti[:])
	c := claims{Role: p.Role, Contract: p.Contract, Entity: p.Entity, Reseller: p.Reseller,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: k.Issuer, Subject: p.Subject, Audience: jwt.ClaimStrings{k.Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: base64.RawURLEncoding.EncodeToString(jti[:]),
		}}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = k.kid
	return t.SignedString(k.signer)
}

// Verify checks a token's signature, algorithm, issuer, audience, expiry and
// claims at now. Every failure is unauthenticated, with a message that says
// what was wrong but never echoes the token.
func (k *Keys) Verify(token string, now time.Time) (Principal, error) {
	unauth := func(msg string) (Principal, error) {
		return Principal{}, core.Errorf(core.CodeUnauthenticated, "%s", msg)
	}
	if token == "" {
		return unauth("a bearer token is required")
	}
	if len(token) > TokenBytesMax {
		return unauth("the bearer token is too long")
	}
	sum := sha256.Sum256([]byte(token))
	k.mu.Lock()
	v, ok := k.verified[sum]
	k.mu.Unlock()
	if ok {
		switch {
		case !now.Before(v.expires):
			return unauth("the bearer token has expired")
		case now.Before(v.notBefore):
			return unauth("the bearer token is not valid yet")
		}
		return v.principal, nil
	}
	var c claims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(k.Issuer), jwt.WithAudience(k.Audience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }),
	)
	_, err := parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := k.public[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return pub, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauth("the bearer token has expired")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauth("the bearer token is not for this API (audience)")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauth("the bearer token was not issued by this API (issuer)")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauth("the bearer token is not valid yet")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauth("the bearer token's signature does not verify")
	case err != nil:
		return unauth("the bearer token is malformed")
	}
	p := Principal{Subject: c.Subject, Role: c.Role, Contract: c.Contract, Entity: c.Entity, Reseller: c.Reseller}
	if err := p.Check(); err != nil {
		return unauth("the bearer token's claims are incomplete: " + err.Error())
	}
	k.remember(sum, p, c.RegisteredClaims, now)
	return p, nil
}

// remember keeps a verified token until it expires (WithExpirationRequired
// made sure it has an expiry).
func (k *Keys) remember(sum [sha256.Size]byte, p Principal, rc jwt.RegisteredClaims, now time.Time) {
	v := verifiedToken{principal: p, expires: rc.ExpiresAt.Time}
	if rc.NotBefore != nil {
		v.notBefore = rc.NotBefore.Time
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.signChecks++
	if k.verified == nil {
		k.verified = map[[sha256.Size]byte]verifiedToken{}
	}
	if len(k.verified) >= verifiedTokensMax {
		for h, old := range k.verified {
			if !now.Before(old.expires) {
				delete(k.verified, h)
			}
		}
		if len(k.verified) >= verifiedTokensMax {
			clear(k.verified)
		}
	}
	k.verified[sum] = v
}

// BearerToken extracts the token of an Authorization header value.
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// JWKS returns the public keys as a JSON Web Key Set, for the API Gateway
// JWT authorizer.
func (k *Keys) JWKS() map[string]any {
	keys := []map[string]string{}
	for kid, pub := range k.public {
		keys = append(keys, map[string]string{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	return map[string]any{"keys": keys}
}

// keyFile is the signing key's file name in the local data folder.
const keyFile = "jwt-signing-key.pem"

// LoadOrCreateKey reads the signing key from dir, creating it (mode 0600) on
// first use. It is for the local server; in AWS the key comes from the
// secret store.
func LoadOrCreateKey(dir string) (*rsa.PrivateKey, error) {
	b, err := keyfile.LoadOrCreate(dir, keyFile, func() ([]byte, error) {
		key, err := rsa.GenerateKey(rand.Reader, keyBits)
		if err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		der := x509.MarshalPKCS1PrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return ParsePrivateKey(b)
}

// ParsePrivateKey reads a PEM RSA private key (PKCS#1 or PKCS#8).
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("signing key: not PEM")
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("signing key: not RSA")
	}
	return key, nil
}
