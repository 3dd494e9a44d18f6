package pricing

import (
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/jsontext"

	"github.com/shopspring/decimal"
)

// Limits on a price request.
const (
	// RequestBytesMax is the largest request body ParseRequest reads, the
	// API's body limit.
	RequestBytesMax = 64 << 10
	// PacksMax is the most packs a request may name; the credits they make
	// are checked against core.CreditsMax once the book's pack size is known.
	PacksMax = core.CreditsMax
	// unknownFieldsReportedMax is how many unknown fields are named one by
	// one before the rest are only counted.
	unknownFieldsReportedMax = 5
)

// Request asks what credits cost: the body of POST /v1/prices, and what
// checkout and quotes price with.
type Request struct {
	Currency core.Currency
	// Credits is the quantity wanted; it is rounded up to whole packs. Zero
	// when the order is given in Packs. Exactly one of the two is set.
	Credits decimal.Decimal
	// Packs is a whole number of packs; zero when the order is in Credits.
	Packs decimal.Decimal
	// Channel is the sales channel; empty means list.
	Channel Channel
	// PurchasedThisYear is what the buyer has already bought in the contract
	// year; it counts toward the tier the order reaches. Zero by default.
	PurchasedThisYear decimal.Decimal
}

var requestFields = []string{"currency", "credits", "packs", "channel", "purchased_this_year"}

// ParseRequest reads the JSON body of POST /v1/prices:
//
//	{"currency": "cloud", "credits": "5000", "channel": "list", "purchased_this_year": "0"}
//
// credits (exactly one of credits and packs) and purchased_this_year are
// decimal strings: a JSON number is refused, so no client's float ever
// reaches a price. packs is a whole number, sent as a JSON integer only. channel defaults to list and
// purchased_this_year to 0. The body is read strictly: unknown or repeated
// fields, trailing data and wrong types are refused, and every problem is
// reported at once in one invalid_request error naming each field. A body
// over RequestBytesMax is too_large.
func ParseRequest(body []byte) (Request, error) {
	if len(body) > RequestBytesMax {
		return Request{}, core.Errorf(core.CodeTooLarge, "a request body may be at most %d bytes; this one is %d", RequestBytesMax, len(body))
	}
	var p core.Problems
	raw, err := readObject(&p, body)
	if err != nil {
		return Request{}, err
	}
	req := Request{Channel: ChannelList}
	if s, ok := stringField(&p, raw, "currency", "cloud"); ok {
		if c, known := core.ParseCurrency(s); known {
			req.Currency = c
		} else {
			p.Add("currency", "must be one of cloud, forma, flex, got %s", echo(s))
		}
	} else if _, given := raw["currency"]; !given {
		p.Add("currency", "is required")
	}
	_, creditsGiven := raw["credits"]
	_, packsGiven := raw["packs"]
	switch {
	case creditsGiven && packsGiven:
		p.Add("packs", "send either credits or packs, not both")
	case !creditsGiven && !packsGiven:
		p.Add("credits", "is required (or send packs, a whole number of packs)")
	}
	if s, ok := stringField(&p, raw, "credits", "5000"); ok {
		d, err := core.ParseCredits("credits", s)
		p.Merge("", err)
		req.Credits = d
	}
	if v, ok := raw["packs"]; ok {
		req.Packs = parsePacks(&p, v)
	}
	if s, ok := stringField(&p, raw, "channel", "list"); ok {
		if c, known := ParseChannel(s); known {
			req.Channel = c
		} else {
			p.Add("channel", "must be one of %s, got %s", channelNames(), echo(s))
		}
	}
	if s, ok := stringField(&p, raw, "purchased_this_year", "0"); ok {
		d, err := core.ParseDecimal("purchased_this_year", s, core.CreditsScaleMax)
		if err != nil {
			p.Merge("", err)
		} else {
			checkPurchased(&p, d)
			req.PurchasedThisYear = d
		}
	}
	if err := p.Err(); err != nil {
		return Request{}, err
	}
	return req, nil
}

// Validate checks a request built in code the way ParseRequest checks a
// body, reporting every problem at once.
func (r Request) Validate() error {
	var p core.Problems
	if _, ok := core.ParseCurrency(string(r.Currency)); !ok {
		if r.Currency == "" {
			p.Add("currency", "is required")
		} else {
			p.Add("currency", "must be one of cloud, forma, flex, got %s", echo(string(r.Currency)))
		}
	}
	creditsGiven, packsGiven := !r.Credits.IsZero(), !r.Packs.IsZero()
	switch {
	case creditsGiven && packsGiven:
		p.Add("packs", "send either credits or packs, not both")
	case !creditsGiven && !packsGiven:
		p.Add("credits", "is required (or send packs, a whole number of packs)")
	case creditsGiven:
		p.Merge("", core.CheckCredits("credits", r.Credits))
	case packsGiven:
		checkPacks(&p, r.Packs)
	}
	if r.Channel != "" {
		if _, ok := ParseChannel(string(r.Channel)); !ok {
			p.Add("channel", "must be one of %s, got %s", channelNames(), echo(string(r.Channel)))
		}
	}
	checkPurchased(&p, r.PurchasedThisYear)
	return p.Err()
}

// parsePacks reads packs, a whole number sent as a JSON integer: a string
// ("50"), a fraction (50.5, 50.0) or an exponent (5e1) is refused, as every
// whole-number field of the API is (credits and money are the opposite:
// decimal strings only).
func parsePacks(p *core.Problems, v any) decimal.Decimal {
	n, isNumber := v.(jsontext.Number)
	s := string(n)
	if !isNumber {
		p.Add("packs", "must be a whole number of packs, a JSON integer such as 50, not %s", jsontext.KindOf(v))
		return decimal.Zero
	}
	if digits := strings.TrimPrefix(s, "-"); digits == "" || strings.Trim(digits, "0123456789") != "" {
		p.Add("packs", "must be a whole number of packs, a JSON integer such as 50, not %s", echo(s))
		return decimal.Zero
	}
	if len(strings.TrimLeft(s, "0")) > len("1000000000000") {
		p.Add("packs", "must be at most %d", PacksMax)
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		p.Add("packs", "must be a whole number of packs, a JSON integer such as 50")
		return decimal.Zero
	}
	checkPacks(p, d)
	return d
}

func checkPacks(p *core.Problems, d decimal.Decimal) {
	switch {
	case d.Sign() <= 0:
		p.Add("packs", "must be greater than zero")
	case !isWhole(d):
		p.Add("packs", "must be a whole number of packs")
	case d.GreaterThan(decimal.NewFromInt(PacksMax)):
		p.Add("packs", "must be at most %d", PacksMax)
	}
}

func checkPurchased(p *core.Problems, d decimal.Decimal) {
	switch {
	case d.Sign() < 0:
		p.Add("purchased_this_year", "must not be negative")
	case d.GreaterThan(decimal.NewFromInt(core.CreditsMax)):
		p.Add("purchased_this_year", "must be at most %d", core.CreditsMax)
	case !d.Equal(d.Truncate(core.CreditsScaleMax)):
		p.Add("purchased_this_year", "has more than %d decimal places", core.CreditsScaleMax)
	}
}

// readObject reads a body that must be one JSON object of known fields and
// returns each field's value. Unknown and repeated fields are recorded in
// p; a body that is not one well-formed object is returned as an error.
func readObject(p *core.Problems, body []byte) (map[string]any, error) {
	v, err := jsontext.Parse(body, bookDepthMax)
	if err != nil {
		return nil, jsonProblem(err)
	}
	obj, ok := v.(jsontext.Object)
	if !ok {
		return nil, core.Invalid("body", "must be a JSON object such as {\"currency\": \"cloud\", \"credits\": \"5000\"}")
	}
	out := make(map[string]any, len(requestFields))
	unknown := 0
	for _, m := range obj {
		_, seen := out[m.Key]
		switch {
		case !isRequestField(m.Key):
			unknown++
			if unknown <= unknownFieldsReportedMax {
				p.Add(fieldKey(m.Key), "is not a field of this request; the fields are %s", strings.Join(requestFields, ", "))
			}
		case seen:
			p.Add(m.Key, "appears more than once")
		default:
			out[m.Key] = m.Value
		}
	}
	if unknown > unknownFieldsReportedMax {
		p.Add("body", "has %d more unknown fields", unknown-unknownFieldsReportedMax)
	}
	return out, nil
}

func isRequestField(k string) bool {
	for _, f := range requestFields {
		if k == f {
			return true
		}
	}
	return false
}

// stringField returns field's value when it is present and a JSON string.
// Any other JSON type is recorded as a problem; a number gets a message
// saying to send it as a string.
func stringField(p *core.Problems, raw map[string]any, field, example string) (string, bool) {
	v, ok := raw[field]
	if !ok {
		return "", false
	}
	switch t := v.(type) {
	case string:
		return t, true
	case jsontext.Number:
		p.Add(field, "must be a string such as %q, not a JSON number: send decimals as strings so no digit is lost", example)
	case nil:
		p.Add(field, "must be a string such as %q, not null (leave an optional field out instead)", example)
	default:
		p.Add(field, "must be a string such as %q", example)
	}
	return "", false
}
