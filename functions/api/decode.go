package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// object decodes a JSON request body field by field, so that every bad field
// is named at once (a plain json.Unmarshal stops at the first). Decimals must
// be JSON strings: a JSON number is refused with a message that says why.
type object struct {
	fields map[string]json.RawMessage
	used   map[string]bool
	p      core.Problems
}

// parseObject reads a body that must be one JSON object (an empty body is an
// empty object only when allowEmpty).
func parseObject(body []byte, allowEmpty bool) (*object, error) {
	o := &object{fields: map[string]json.RawMessage{}, used: map[string]bool{}}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return o, nil
		}
		return nil, core.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&o.fields); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case asErr(err, &syn):
			return nil, core.Invalid("body", "is not valid JSON (at byte %d)", syn.Offset)
		case asErr(err, &typ):
			return nil, core.Invalid("body", "must be a JSON object, not %s", typ.Value)
		}
		return nil, core.Invalid("body", "is not valid JSON")
	}
	if o.fields == nil {
		return nil, core.Invalid("body", "must be a JSON object, not null")
	}
	if dec.More() {
		return nil, core.Invalid("body", "has data after the JSON object")
	}
	return o, nil
}

func (o *object) raw(name string) (json.RawMessage, bool) {
	o.used[name] = true
	v, ok := o.fields[name]
	if ok && string(v) == "null" {
		return nil, false
	}
	return v, ok
}

func (o *object) missing(name string, required bool) {
	if required {
		o.p.Add(name, "is required")
	}
}

// str reads a string of at most max characters.
func (o *object) str(name string, required bool, max int) string {
	v, ok := o.raw(name)
	if !ok {
		o.missing(name, required)
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		o.p.Add(name, "must be a string, not %s", jsonKind(v))
		return ""
	}
	switch {
	case s == "" && required:
		o.p.Add(name, "must not be empty")
	case len(s) > max:
		o.p.Add(name, "must be at most %d characters", max)
	}
	return s
}

// id reads an identifier: printable ASCII without spaces, '#' or '/'.
func (o *object) id(name string, required bool) string {
	s := o.str(name, required, idMax)
	if s != "" && !validID(s) {
		o.p.Add(name, "must be printable ASCII without spaces, '#' or '/'")
	}
	return s
}

// dec reads a decimal string with at most scale fractional digits; positive
// requires > 0, otherwise ≥ 0.
func (o *object) dec(name string, required, positive bool, scale int32) (decimal.Decimal, bool) {
	v, ok := o.raw(name)
	if !ok {
		o.missing(name, required)
		return decimal.Zero, false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		if jsonKind(v) == "a number" {
			o.p.Add(name, "must be a string such as \"100\", not a JSON number: send decimals as strings so no digit is lost")
		} else {
			o.p.Add(name, "must be a decimal string, not %s", jsonKind(v))
		}
		return decimal.Zero, false
	}
	d, err := core.ParseDecimal(name, s, scale)
	if err != nil {
		o.p.Merge("", err)
		return decimal.Zero, false
	}
	switch {
	case positive && d.Sign() <= 0:
		o.p.Add(name, "must be greater than zero")
		return decimal.Zero, false
	case d.Sign() < 0:
		o.p.Add(name, "must not be negative")
		return decimal.Zero, false
	case d.GreaterThan(decimal.NewFromInt(core.CreditsMax)):
		o.p.Add(name, "must be at most %d", core.CreditsMax)
		return decimal.Zero, false
	}
	return d, true
}

func (o *object) boolean(name string, required bool) bool {
	v, ok := o.raw(name)
	if !ok {
		o.missing(name, required)
		return false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		o.p.Add(name, "must be true or false, not %s", jsonKind(v))
	}
	return b
}

// integer reads a whole number in [min, max], sent as a JSON integer: a
// string ("60"), a fraction (60.5, 60.0) or an exponent (6e1) is refused,
// so every whole-number field of the API reads one way. (Decimals are the
// opposite: strings only, see dec.)
func (o *object) integer(name string, required bool, min, max int64) int64 {
	v, ok := o.raw(name)
	if !ok {
		o.missing(name, required)
		return 0
	}
	if kind := jsonKind(v); kind != "a number" {
		o.p.Add(name, "must be a whole number (a JSON integer such as %d), not %s", min, kind)
		return 0
	}
	if bytes.ContainsAny(v, ".eE") {
		o.p.Add(name, "must be a whole number (a JSON integer such as %d), not %s", min, bytes.TrimSpace(v))
		return 0
	}
	i, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil || i < min || i > max {
		o.p.Add(name, "must be a whole number between %d and %d", min, max)
		return 0
	}
	return i
}

// when reads an RFC 3339 time.
func (o *object) when(name string, required bool) time.Time {
	s := o.str(name, required, 64)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		o.p.Add(name, "must be an RFC 3339 time such as \"2026-03-29T00:00:00Z\"")
		return time.Time{}
	}
	return t.UTC()
}

// ids reads a list of identifiers of at most max entries.
func (o *object) ids(name string, max int) []string {
	v, ok := o.raw(name)
	if !ok {
		return []string{}
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		o.p.Add(name, "must be a list of strings, not %s", jsonKind(v))
		return nil
	}
	if len(list) > max {
		o.p.Add(name, "must have at most %d entries", max)
		return nil
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		var s string
		if err := json.Unmarshal(item, &s); err != nil || s == "" || !validID(s) || len(s) > idMax {
			o.p.Add(fmt.Sprintf("%s[%d]", name, i), "must be a non-empty identifier")
			continue
		}
		out = append(out, s)
	}
	return out
}

// rawField returns a field's raw JSON for a parser of its own.
func (o *object) rawField(name string) (json.RawMessage, bool) { return o.raw(name) }

// done reports every problem, unknown fields included.
func (o *object) done() error {
	var unknown []string
	for k := range o.fields {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		o.p.Add(k, "is not a field of this request")
	}
	return o.p.Err()
}

const idMax = 128

func validID(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '#' || r == '/' })
}

func jsonKind(v json.RawMessage) string {
	s := bytes.TrimSpace(v)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
