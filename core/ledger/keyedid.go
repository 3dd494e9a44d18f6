package ledger

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Keyed ids. An operation made under an idempotency key gets an id that
// names the key: "op_", the Unix milliseconds it was made at (12 hex
// digits, so ids made one after another sort together in a store's
// ordered indexes), "_", KeyDigest(scope, key), "_" and eight hex digits
// of a nonce. A store may then keep the operation's record where the key's
// record lives, and find it again from the id alone (the DynamoDB adapter
// keeps a consumption in its idempotency record, so a spend writes one item
// for both). The time and the nonce tell apart the operations of one key
// made more than IdempotencyRetention apart. Operations without a key, and
// those made before keyed ids, have other ids; DigestOf tells them apart.

const (
	keyedIDPrefix = "op_"
	// KeyDigestLen is the length of a KeyDigest: 26 characters of base32,
	// 130 bits of SHA-256.
	KeyDigestLen = 26
	keyedIDTime  = 12
	keyedIDLen   = len(keyedIDPrefix) + keyedIDTime + 1 + KeyDigestLen + 1 + 8
)

var digestEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// KeyDigest names an idempotency key within its scope in a fixed length of
// lower-case letters and digits, so it fits in an id or a store's key
// whatever characters the key has.
func KeyDigest(scope, key string) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(scope)) + ":" + scope + key))
	return digestEncoding.EncodeToString(sum[:17])[:KeyDigestLen]
}

// KeyedID is the id of an operation made under key in scope at made (the
// system clock: it orders ids, it does not date the operation).
func KeyedID(scope, key string, made time.Time, nonce uint32) string {
	return fmt.Sprintf("%s%012x_%s_%08x", keyedIDPrefix, uint64(made.UnixMilli())&(1<<48-1), KeyDigest(scope, key), nonce)
}

// DigestOf returns the key digest a keyed id carries; ok is false for any
// other id.
func DigestOf(id string) (digest string, ok bool) {
	const at = len(keyedIDPrefix) + keyedIDTime + 1
	if len(id) != keyedIDLen || !strings.HasPrefix(id, keyedIDPrefix) || id[at-1] != '_' || id[at+KeyDigestLen] != '_' {
		return "", false
	}
	digest = id[at : at+KeyDigestLen]
	for _, c := range digest {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	for _, part := range []string{id[len(keyedIDPrefix) : at-1], id[keyedIDLen-8:]} {
		for _, c := range part {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", false
			}
		}
	}
	return digest, true
}
