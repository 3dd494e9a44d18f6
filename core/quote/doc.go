// Package quote makes and checks quote links: a reseller's (or the vendor's)
// signed offer of credits to one customer at a fixed price, valid until a
// stated time and accepted at most once (the once is the ledger's job, not
// this package's).
//
// A link carries its quote in a token, so anyone holding the link can read
// the quote without a database, and nobody can alter it:
//
//	token = base64url(payload) "." base64url(signature)
//
// base64url is RFC 4648 §5 without padding (strict: non-canonical trailing
// bits are refused). signature is Ed25519 (RFC 8032) over the payload bytes
// exactly as sent. payload is the quote's canonical encoding, version 1: one
// compact JSON object (no spaces) with these members in this (sorted) order,
// every value a JSON string:
//
//	channel             list | reseller | eba
//	contract            the contract it may be accepted by; "" for any
//	credits             decimal, no trailing zeros ("5000")
//	currency            cloud | forma | flex
//	customer            free text for people, at most CustomerMax bytes
//	expires_at          RFC 3339 UTC, whole seconds ("2026-12-22T12:00:00Z")
//	id                  the quote id ("qt_…")
//	issued_at           RFC 3339 UTC, whole seconds
//	kid                 the signing key's id (KeyID of its public key)
//	list_total          money, two decimals ("6250.00")
//	packs               whole number
//	price_book_version  the book the price came from
//	reseller            who made the quote (a reseller id, or "vendor")
//	total               money, two decimals
//	unit_price          money per credit, at least two decimals ("1.20", "1.1833")
//	v                   "1"
//
// Strings are written by encoding/json with HTML escaping off. Verify
// re-encodes what it parsed and refuses a payload that differs from that
// encoding by a single byte, so one quote has exactly one token per key
// (Ed25519 is deterministic) and no alternative spelling verifies.
//
// Key rotation: Verify takes every accepted public key by key id; the payload
// names its kid. Publish the new public key, then sign with the new private
// key; retire the old public key once the quotes it signed have expired
// (ValidityMax at most).
//
// This package is pure: it takes the time as an argument, reads no clock,
// does no I/O and keeps money decimal. It never sees a private key except to
// sign with it, and never puts a key in an error.
package quote
