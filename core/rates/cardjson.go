package rates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// The JSON form of a card. Decimals are strings ("2", "1.8"), never JSON
// numbers; a field a rule kind does not use is absent. This is both the file
// format under testdata/ratecards and the body of GET /v1/ratecard:
//
//	{"version": "2018-03-23", "effective_from": "2018-03-23T00:00:00Z",
//	 "services": [{"id", "name", "description"?, "currency",
//	   "rule": {"kind", "rounding", "param"?, "rate"?, "block"?, "base"?,
//	            "reference"?, "exponent"?, "quality_param"?, "multipliers"?},
//	   "params": [{"name", "label", "type", "unit"?, "min"?, "max"?,
//	               "integer"?, "decimals"?, "values"?, "default"?}]}]}
type cardJSON struct {
	Version       string            `json:"version"`
	EffectiveFrom string            `json:"effective_from"`
	Services      []json.RawMessage `json:"services"`
}

type serviceJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Currency    string      `json:"currency"`
	Rule        ruleJSON    `json:"rule"`
	Params      []paramJSON `json:"params"`
}

// serviceIn reads each parameter on its own, so that a problem names its
// index ("services[4].params[0].decimals").
type serviceIn struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Currency    string            `json:"currency"`
	Rule        ruleJSON          `json:"rule"`
	Params      []json.RawMessage `json:"params"`
}

type ruleJSON struct {
	Kind         string            `json:"kind"`
	Rounding     string            `json:"rounding,omitempty"`
	Param        string            `json:"param,omitempty"`
	Rate         string            `json:"rate,omitempty"`
	Block        string            `json:"block,omitempty"`
	Base         string            `json:"base,omitempty"`
	Reference    string            `json:"reference,omitempty"`
	Exponent     string            `json:"exponent,omitempty"`
	QualityParam string            `json:"quality_param,omitempty"`
	Multipliers  map[string]string `json:"multipliers,omitempty"`
}

type paramJSON struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Unit     string   `json:"unit,omitempty"`
	Min      string   `json:"min,omitempty"`
	Max      string   `json:"max,omitempty"`
	Integer  *bool    `json:"integer,omitempty"`
	Decimals *int32   `json:"decimals,omitempty"`
	Values   []string `json:"values,omitempty"`
	Default  string   `json:"default,omitempty"`
}

// ParseCard reads a card from its JSON form and validates it. It is strict:
// unknown fields, a key given twice, JSON numbers where decimal strings
// belong, trailing data and more than CardBytesMax bytes are refused. Every
// problem is reported at once, as an invalid_request error naming each field
// ("services[3].rule.exponent").
func ParseCard(data []byte) (*Card, error) {
	if len(data) > CardBytesMax {
		return nil, core.Errorf(core.CodeTooLarge, "a rate card may be at most %d bytes; this one is %d", CardBytesMax, len(data))
	}
	v, err := decodeStrict(data, jsonDepthMax)
	if err != nil {
		var je *jsonError
		errors.As(err, &je)
		return nil, core.Invalid(orName(je.path, "card"), "%s", je.msg)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, core.Invalid("card", "must be a JSON object; got %s", jsonType(v))
	}
	// encoding/json fills every field it can before reporting the first
	// bad one, so conversion goes on after a failure and finds the rest.
	var p core.Problems
	var head cardJSON
	decodeInto(&p, "", data, &head)
	c := &Card{Version: head.Version}
	if head.EffectiveFrom == "" {
		p.Add("effective_from", "is required")
	} else if t, err := time.Parse(time.RFC3339, head.EffectiveFrom); err != nil {
		p.Add("effective_from", "must be an RFC 3339 time such as 2018-03-23T00:00:00Z; got %q", clip(head.EffectiveFrom))
	} else {
		c.EffectiveFrom = t.UTC()
	}
	if len(head.Services) > ServicesMax {
		p.Add("services", "has %d services; at most %d are allowed", len(head.Services), ServicesMax)
		return nil, p.Err()
	}
	c.Services = make([]Service, len(head.Services))
	for i, raw := range head.Services {
		prefix := fmt.Sprintf("services[%d]", i)
		var sj serviceIn
		decodeInto(&p, prefix, raw, &sj)
		c.Services[i] = sj.service(&p, prefix)
	}
	c.validate(&p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeInto decodes data into v, refusing unknown fields, and records the
// first failure under prefix.
func decodeInto(p *core.Problems, prefix string, data []byte, v any) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field := strings.TrimPrefix(te.Field, ".")
		if field == "" {
			p.Add(orName(prefix, "card"), "must be a JSON object; got %s", withArticle(te.Value))
		} else {
			p.Add(joinPath(prefix, field), "must be %s; got %s", goTypeName(te.Type.Kind().String()), withArticle(te.Value))
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		p.Add(orName(prefix, "card"), "has an unknown field %s", clip(name))
	default:
		p.Add(orName(prefix, "card"), "is not valid: %v", err)
	}
}

func goTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string (decimals are written as strings, such as \"2.5\")"
	case "bool":
		return "true or false"
	case "int32":
		return "a whole number"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a " + kind
}

func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func orName(path, name string) string {
	if path == "" {
		return name
	}
	return path
}

// service converts one service from JSON, recording what cannot be
// converted: a missing or malformed decimal, a field the kind does not use.
// Validate then checks the values.
func (sj *serviceIn) service(p *core.Problems, prefix string) Service {
	s := Service{
		ID:          sj.ID,
		Name:        sj.Name,
		Description: sj.Description,
		Currency:    core.Currency(sj.Currency),
	}
	rp := prefix + ".rule"
	r := &sj.Rule
	s.Rule = Rule{Kind: RuleKind(r.Kind), Rounding: Rounding(r.Rounding), Param: r.Param, QualityParam: r.QualityParam}
	f, known := s.Rule.Kind.fields()
	amount := func(name, text string, uses, required bool, fallback decimal.Decimal) decimal.Decimal {
		switch {
		case !known:
			return decimal.Zero
		case !uses && text != "":
			p.Add(rp+"."+name, "is not used by rule kind %s", r.Kind)
		case uses && text == "" && required:
			p.Add(rp+"."+name, "is required for rule kind %s", r.Kind)
		case uses && text == "":
			return fallback
		case uses:
			d, err := core.ParseDecimal(rp+"."+name, text, ParamValueLenMax)
			p.Merge("", err)
			return d
		}
		return decimal.Zero
	}
	s.Rule.Rate = amount("rate", r.Rate, f.rate, true, decimal.Zero)
	s.Rule.Block = amount("block", r.Block, f.block, false, decimal.NewFromInt(1))
	s.Rule.Base = amount("base", r.Base, f.base, true, decimal.Zero)
	s.Rule.Reference = amount("reference", r.Reference, f.reference, true, decimal.Zero)
	s.Rule.Exponent = amount("exponent", r.Exponent, f.exponent, true, decimal.Zero)
	if len(r.Multipliers) > 0 {
		if len(r.Multipliers) > EnumValuesMax {
			p.Add(rp+".multipliers", "has %d entries; at most %d are allowed", len(r.Multipliers), EnumValuesMax)
		} else {
			s.Rule.Multipliers = make(map[string]decimal.Decimal, len(r.Multipliers))
			for _, name := range sortedKeys(r.Multipliers) {
				d, err := core.ParseDecimal(rp+".multipliers."+clip(name), r.Multipliers[name], ParamValueLenMax)
				p.Merge("", err)
				s.Rule.Multipliers[name] = d
			}
		}
	}
	if len(sj.Params) > ParamsPerServiceMax {
		p.Add(prefix+".params", "has %d parameters; at most %d are allowed", len(sj.Params), ParamsPerServiceMax)
		return s
	}
	s.Params = make([]Param, len(sj.Params))
	for j, raw := range sj.Params {
		field := fmt.Sprintf("%s.params[%d]", prefix, j)
		var pj paramJSON
		decodeInto(p, field, raw, &pj)
		s.Params[j] = pj.param(p, field)
	}
	return s
}

func (pj *paramJSON) param(p *core.Problems, prefix string) Param {
	pr := Param{
		Name:    pj.Name,
		Label:   pj.Label,
		Type:    ParamType(pj.Type),
		Unit:    pj.Unit,
		Values:  pj.Values,
		Default: pj.Default,
	}
	if pj.Integer != nil {
		pr.Integer = *pj.Integer
	}
	if pj.Decimals != nil {
		pr.Decimals = *pj.Decimals
	}
	for _, b := range []struct {
		name, text string
		into       *decimal.Decimal
	}{{"min", pj.Min, &pr.Min}, {"max", pj.Max, &pr.Max}} {
		switch {
		case b.text == "" && pr.Type == ParamNumber:
			p.Add(prefix+"."+b.name, "is required for a number parameter")
		case b.text == "":
		default:
			d, err := core.ParseDecimal(prefix+"."+b.name, b.text, ParamValueLenMax)
			p.Merge("", err)
			*b.into = d
		}
	}
	if pr.Type == ParamEnum && (pj.Min != "" || pj.Max != "") {
		p.Add(prefix+".max", "min and max are only for number parameters")
	}
	if pr.Type == ParamEnum && (pj.Integer != nil || pj.Decimals != nil) {
		p.Add(prefix+".decimals", "integer and decimals are only for number parameters")
	}
	return pr
}

// UnmarshalJSON reads a card with ParseCard, so a card embedded in another
// document is held to the same rules.
func (c *Card) UnmarshalJSON(data []byte) error {
	parsed, err := ParseCard(data)
	if err != nil {
		return err
	}
	*c = *parsed
	return nil
}

// MarshalJSON writes the card's JSON form. Every field a kind uses is
// written, defaults included (rounding "up", block "1"), so clients need not
// know the defaults.
func (c Card) MarshalJSON() ([]byte, error) {
	type out struct {
		Version       string        `json:"version"`
		EffectiveFrom string        `json:"effective_from"`
		Services      []serviceJSON `json:"services"`
	}
	o := out{
		Version:       c.Version,
		EffectiveFrom: c.EffectiveFrom.UTC().Format(time.RFC3339),
		Services:      make([]serviceJSON, len(c.Services)),
	}
	for i := range c.Services {
		o.Services[i] = c.Services[i].toJSON()
	}
	return core.EncodeJSON(o)
}

func (s *Service) toJSON() serviceJSON {
	r := &s.Rule
	f, _ := r.Kind.fields()
	rounding := r.Rounding
	if rounding == "" {
		rounding = RoundUp
	}
	rj := ruleJSON{Kind: string(r.Kind), Rounding: string(rounding), QualityParam: r.QualityParam}
	if f.param {
		rj.Param = r.Param
	}
	text := func(uses bool, d decimal.Decimal) string {
		if !uses {
			return ""
		}
		return d.String()
	}
	rj.Rate = text(f.rate, r.Rate)
	rj.Block = text(f.block, r.Block)
	rj.Base = text(f.base, r.Base)
	rj.Reference = text(f.reference, r.Reference)
	rj.Exponent = text(f.exponent, r.Exponent)
	if f.quality {
		rj.Multipliers = make(map[string]string, len(r.Multipliers))
		for k, v := range r.Multipliers {
			rj.Multipliers[k] = v.String()
		}
	}
	sj := serviceJSON{
		ID:          s.ID,
		Name:        s.Name,
		Description: s.Description,
		Currency:    string(s.Currency),
		Rule:        rj,
		Params:      make([]paramJSON, len(s.Params)),
	}
	for j := range s.Params {
		pr := &s.Params[j]
		pj := paramJSON{Name: pr.Name, Label: pr.Label, Type: string(pr.Type), Default: pr.Default}
		if pr.Type == ParamEnum {
			pj.Values = pr.Values
		} else {
			integer, decimals := pr.Integer, pr.Decimals
			pj.Unit, pj.Min, pj.Max = pr.Unit, pr.Min.String(), pr.Max.String()
			pj.Integer, pj.Decimals = &integer, &decimals
		}
		sj.Params[j] = pj
	}
	return sj
}
