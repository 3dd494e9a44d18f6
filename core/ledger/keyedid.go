package ledger

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
)

// Keyed ids. An operation made under an idempotency key gets an id that
// names the key: "op_" + KeyDigest(scope, key) + "_" + eight hex digits of
// a nonce. A store may then keep the operation's record where the key's
// record lives, and find it again from the id alone (the DynamoDB adapter
// keeps a consumption in its idempotency record, so a spend writes one item
// for both). The nonce tells apart the operations of one key made more than
// IdempotencyRetention apart. Operations without a key, and those made
// before keyed ids, have other ids; DigestOf tells them apart.

const (
	keyedIDPrefix = "op_"
	// KeyDigestLen is the length of a KeyDigest: 26 characters of base32,
	// 130 bits of SHA-256.
	KeyDigestLen = 26
	keyedIDLen   = len(keyedIDPrefix) + KeyDigestLen + 1 + 8
)

var digestEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// KeyDigest names an idempotency key within its scope in a fixed length of
// lower-case letters and digits, so it fits in an id or a store's key
// whatever characters the key has.
func KeyDigest(scope, key string) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(scope)) + ":" + scope + key))
	return digestEncoding.EncodeToString(sum[:17])[:KeyDigestLen]
}

// KeyedID is the id of an operation made under key in scope.
func KeyedID(scope, key string, nonce uint32) string {
	return fmt.Sprintf("%s%s_%08x", keyedIDPrefix, KeyDigest(scope, key), nonce)
}

// DigestOf returns the key digest a keyed id carries; ok is false for any
// other id.
func DigestOf(id string) (digest string, ok bool) {
	if len(id) != keyedIDLen || !strings.HasPrefix(id, keyedIDPrefix) || id[keyedIDLen-9] != '_' {
		return "", false
	}
	digest = id[len(keyedIDPrefix) : len(keyedIDPrefix)+KeyDigestLen]
	for _, c := range digest {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	for _, c := range id[keyedIDLen-8:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return digest, true
}
