package quote

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cloudcredits/core"
	"cloudcredits/core/pricing"

	"github.com/shopspring/decimal"
)

// Limits on a quote and its token.
const (
	// ValidityDefault is how long a quote is valid unless its maker says
	// otherwise (PRODUCT.md: "validity (default 30 days)").
	ValidityDefault = 30 * 24 * time.Hour
	// ValidityMax is the longest a quote may be valid: 90 days, one quarter,
	// so a price book change reaches every open quote within a quarter and a
	// retired signing key can be dropped 90 days after its last quote.
	ValidityMax = 90 * 24 * time.Hour
	// TokenMax is the longest token Verify reads, in bytes. A quote with
	// every field at its limit encodes to well under it.
	TokenMax = 2048
	// CustomerMax bounds the customer's name, in bytes.
	CustomerMax = 200
	// idMax bounds the quote id, the reseller, the contract and the book
	// version.
	idMax = 128
	// version is the payload encoding's version.
	version = "1"
)

// Quote is a signed offer: Credits (Packs whole packs) of Currency for
// Total on Channel, priced by the book PriceBookVersion, valid from IssuedAt
// until ExpiresAt (exclusive).
type Quote struct {
	ID       string
	Reseller string // who made it: a reseller id, or "vendor"
	Customer string // the customer's name, for people
	// Contract is the one contract that may accept the quote; empty means
	// any contract may (once).
	Contract         string
	Currency         core.Currency
	Credits          decimal.Decimal
	Packs            decimal.Decimal
	Channel          pricing.Channel
	UnitPrice        decimal.Decimal // for display; Total is what is charged
	Total            decimal.Decimal
	ListTotal        decimal.Decimal // the same credits on the list channel
	PriceBookVersion string
	IssuedAt         time.Time
	ExpiresAt        time.Time
	KeyID            string // the signing key's id; set by Sign
}

// Expired reports whether q no longer holds at now: a quote is valid while
// now < ExpiresAt.
func (q Quote) Expired(now time.Time) bool { return !now.Before(q.ExpiresAt) }

// Validate checks every field, reporting every problem at once. Sign and
// Verify both call it, so a token never carries a quote that breaks it.
func (q Quote) Validate() error {
	var p core.Problems
	checkText(&p, "id", q.ID, idMax, true)
	checkText(&p, "reseller", q.Reseller, idMax, true)
	checkText(&p, "contract", q.Contract, idMax, false)
	checkText(&p, "price_book_version", q.PriceBookVersion, idMax, true)
	switch {
	case q.Customer == "":
		p.Add("customer", "is required")
	case len(q.Customer) > CustomerMax:
		p.Add("customer", "must be at most %d bytes", CustomerMax)
	case !utf8.ValidString(q.Customer) || strings.ContainsFunc(q.Customer, unicode.IsControl):
		p.Add("customer", "must be text without control characters")
	}
	if _, ok := core.ParseCurrency(string(q.Currency)); !ok {
		p.Add("currency", "must be one of cloud, forma, flex")
	}
	if _, ok := pricing.ParseChannel(string(q.Channel)); !ok {
		p.Add("channel", "must be one of list, reseller, eba")
	}
	p.Merge("", core.CheckCredits("credits", q.Credits))
	if q.Packs.Sign() <= 0 || !q.Packs.IsInteger() || q.Packs.GreaterThan(decimal.NewFromInt(pricing.PacksMax)) {
		p.Add("packs", "must be a whole number of packs greater than zero")
	}
	if q.UnitPrice.Sign() <= 0 || !q.UnitPrice.Equal(q.UnitPrice.Round(pricing.RateScaleMax)) || q.UnitPrice.GreaterThan(moneyMax) {
		p.Add("unit_price", "must be greater than zero, with at most %d decimals", pricing.RateScaleMax)
	}
	checkMoney(&p, "total", q.Total)
	checkMoney(&p, "list_total", q.ListTotal)
	switch {
	case q.IssuedAt.IsZero() || q.ExpiresAt.IsZero():
		p.Add("expires_at", "issued_at and expires_at are required")
	case !q.ExpiresAt.After(q.IssuedAt):
		p.Add("expires_at", "must be after issued_at")
	case q.ExpiresAt.Sub(q.IssuedAt) > ValidityMax:
		p.Add("expires_at", "a quote is valid for at most %d days", int(ValidityMax/(24*time.Hour)))
	}
	return p.Err()
}

func checkText(p *core.Problems, field, s string, max int, required bool) {
	switch {
	case s == "":
		if required {
			p.Add(field, "is required")
		}
	case len(s) > max:
		p.Add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '#' || r == '/' }):
		p.Add(field, "must be printable ASCII without spaces, '#' or '/'")
	}
}

func checkMoney(p *core.Problems, field string, d decimal.Decimal) {
	if d.Sign() <= 0 || !d.Equal(core.RoundMoney(d)) || d.GreaterThan(moneyMax) {
		p.Add(field, "must be an amount of money greater than zero, in cents")
	}
}

// moneyMax bounds an amount: CreditsMax credits at a generous rate.
var moneyMax = decimal.NewFromInt(core.CreditsMax).Mul(decimal.NewFromInt(1000))

// KeyID is a public key's id: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// payload is the canonical encoding; its fields are in the order they are
// written, which is sorted by name (see the package doc).
type payload struct {
	Channel          string `json:"channel"`
	Contract         string `json:"contract"`
	Credits          string `json:"credits"`
	Currency         string `json:"currency"`
	Customer         string `json:"customer"`
	ExpiresAt        string `json:"expires_at"`
	ID               string `json:"id"`
	IssuedAt         string `json:"issued_at"`
	KeyID            string `json:"kid"`
	ListTotal        string `json:"list_total"`
	Packs            string `json:"packs"`
	PriceBookVersion string `json:"price_book_version"`
	Reseller         string `json:"reseller"`
	Total            string `json:"total"`
	UnitPrice        string `json:"unit_price"`
	V                string `json:"v"`
}

const timeLayout = "2006-01-02T15:04:05Z"

// encode writes q's canonical payload. q's times must be whole seconds.
func encode(q Quote) []byte {
	pl := payload{
		Channel: string(q.Channel), Contract: q.Contract, Credits: q.Credits.String(), Currency: string(q.Currency),
		Customer: q.Customer, ExpiresAt: q.ExpiresAt.UTC().Format(timeLayout), ID: q.ID,
		IssuedAt: q.IssuedAt.UTC().Format(timeLayout), KeyID: q.KeyID, ListTotal: core.FormatMoney(q.ListTotal),
		Packs: q.Packs.String(), PriceBookVersion: q.PriceBookVersion, Reseller: q.Reseller,
		Total: core.FormatMoney(q.Total), UnitPrice: pricing.FormatRate(q.UnitPrice), V: version,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pl); err != nil {
		panic("quote: encoding a payload of strings failed: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var b64 = base64.RawURLEncoding.Strict()

// Sign returns q's link token, signed with priv under keyID (which it
// writes into the quote). Times are made UTC and truncated to whole seconds
// first, as the payload carries them; a quote that fails Validate is
// refused.
func Sign(q Quote, priv ed25519.PrivateKey, keyID string) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", core.Errorf(core.CodeInternal, "quote: the signing key is not an Ed25519 private key")
	}
	var p core.Problems
	checkText(&p, "kid", keyID, idMax, true)
	if err := p.Err(); err != nil {
		return "", err
	}
	q.KeyID = keyID
	q.IssuedAt = q.IssuedAt.UTC().Truncate(time.Second)
	q.ExpiresAt = q.ExpiresAt.UTC().Truncate(time.Second)
	if err := q.Validate(); err != nil {
		return "", err
	}
	body := encode(q)
	token := b64.EncodeToString(body) + "." + b64.EncodeToString(ed25519.Sign(priv, body))
	if len(token) > TokenMax {
		return "", core.Invalid("quote", "its token would be %d bytes; at most %d", len(token), TokenMax)
	}
	return token, nil
}

// Verify checks token against keys (by key id) and returns its quote. It
// answers quote_invalid for anything malformed, altered, over TokenMax, or
// signed by a key not in keys, and quote_expired — only once the signature
// has verified — when now ≥ ExpiresAt. Errors never echo the token.
func Verify(token string, keys map[string]ed25519.PublicKey, now time.Time) (Quote, error) {
	q, err := verify(token, keys)
	if err != nil {
		return Quote{}, err
	}
	if q.Expired(now) {
		return Quote{}, core.Errorf(core.CodeQuoteExpired, "quote %s expired at %s", q.ID, q.ExpiresAt.Format(time.RFC3339)).
			WithDetail("quote_id", q.ID).WithDetail("expires_at", q.ExpiresAt.Format(time.RFC3339))
	}
	return q, nil
}

func invalid(why string) error {
	return core.Errorf(core.CodeQuoteInvalid, "this quote link is not valid: %s", why)
}

func verify(token string, keys map[string]ed25519.PublicKey) (Quote, error) {
	if token == "" {
		return Quote{}, invalid("it is empty")
	}
	if len(token) > TokenMax {
		return Quote{}, invalid("it is too long")
	}
	body64, sig64, ok := strings.Cut(token, ".")
	if !ok || strings.Contains(sig64, ".") {
		return Quote{}, invalid("it is malformed")
	}
	body, err := b64.DecodeString(body64)
	if err != nil {
		return Quote{}, invalid("it is malformed")
	}
	sig, err := b64.DecodeString(sig64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Quote{}, invalid("its signature is malformed")
	}
	q, err := parse(body)
	if err != nil {
		return Quote{}, err
	}
	pub, ok := keys[q.KeyID]
	if !ok || len(pub) != ed25519.PublicKeySize {
		return Quote{}, invalid("it was signed by a key this service does not know")
	}
	if !ed25519.Verify(pub, body, sig) {
		return Quote{}, invalid("its signature does not match (it was altered, or signed by another key)")
	}
	return q, nil
}

// parse reads a canonical payload. Anything that is not byte for byte the
// encoding of a valid quote is quote_invalid.
func parse(body []byte) (Quote, error) {
	bad := invalid("its content is malformed")
	var pl payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pl); err != nil || dec.More() || pl.V != version {
		return Quote{}, bad
	}
	cur, okCur := core.ParseCurrency(pl.Currency)
	ch, okCh := pricing.ParseChannel(pl.Channel)
	issued, err1 := time.Parse(timeLayout, pl.IssuedAt)
	expires, err2 := time.Parse(timeLayout, pl.ExpiresAt)
	if !okCur || !okCh || err1 != nil || err2 != nil {
		return Quote{}, bad
	}
	q := Quote{
		ID: pl.ID, Reseller: pl.Reseller, Customer: pl.Customer, Contract: pl.Contract, Currency: cur, Channel: ch,
		PriceBookVersion: pl.PriceBookVersion, IssuedAt: issued, ExpiresAt: expires, KeyID: pl.KeyID,
	}
	for _, f := range []struct {
		to    *decimal.Decimal
		text  string
		scale int32
	}{
		{&q.Credits, pl.Credits, core.CreditsScaleMax}, {&q.Packs, pl.Packs, 0},
		{&q.UnitPrice, pl.UnitPrice, pricing.RateScaleMax},
		{&q.Total, pl.Total, core.MoneyScale}, {&q.ListTotal, pl.ListTotal, core.MoneyScale},
	} {
		d, err := core.ParseDecimal("x", f.text, f.scale)
		if err != nil {
			return Quote{}, bad
		}
		*f.to = d
	}
	if q.Validate() != nil || q.KeyID == "" || !bytes.Equal(encode(q), body) {
		return Quote{}, bad
	}
	return q, nil
}
