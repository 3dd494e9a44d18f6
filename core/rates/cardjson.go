package rates

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
	"cloudcredits/core/jsontext"
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
	Version       string `json:"version"`
	EffectiveFrom string `json:"effective_from"`
	Services      []any  `json:"services"`
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
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Currency    string   `json:"currency"`
	Rule        ruleJSON `json:"rule"`
	Params      []any    `json:"params"`
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
		je := err.(*jsonError)
		return nil, core.Invalid(orName(je.path, "card"), "%s", je.msg)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, core.Invalid("card", "must be a JSON object; got %s", jsontext.KindOf(v))
	}
	// Conversion goes on after a problem, so one pass finds them all.
	var p core.Problems
	var head cardJSON
	head.read(&p, top)
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
		prefix := "services[" + strconv.Itoa(i) + "]"
		var sj serviceIn
		if obj := object(&p, prefix, raw); obj != nil {
			sj.read(&p, prefix, obj)
		}
		c.Services[i] = sj.service(&p, prefix)
	}
	c.validate(&p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// fieldReader reads the members of one decoded object into Go values,
// recording a wrong type under prefix.field and an unknown member under
// prefix. A null member is left at its zero value.
type fieldReader struct {
	p      *core.Problems
	prefix string
	obj    map[string]any
}

// object returns v as an object, or records that it is not one (null is
// an absent object).
func object(p *core.Problems, prefix string, v any) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return t
	case nil:
		return nil
	}
	p.Add(orName(prefix, "card"), "must be a JSON object; got %s", jsontext.KindOf(v))
	return nil
}

// known records every member not in names as unknown.
func (r fieldReader) known(names ...string) {
	for _, k := range sortedKeys(r.obj) {
		if !slices.Contains(names, k) {
			r.p.Add(orName(r.prefix, "card"), "has an unknown field %s", clip(strconv.Quote(k)))
		}
	}
}

func (r fieldReader) wrong(field, want string, v any) {
	r.p.Add(joinPath(r.prefix, field), "must be %s; got %s", want, jsontext.KindOf(v))
}

const wantString = "a string (decimals are written as strings, such as \"2.5\")"

func (r fieldReader) str(field string, into *string) {
	switch t := r.obj[field].(type) {
	case nil:
	case string:
		*into = t
	default:
		r.wrong(field, wantString, t)
	}
}

func (r fieldReader) list(field string) []any {
	switch t := r.obj[field].(type) {
	case nil:
	case []any:
		return t
	default:
		r.wrong(field, "an array", t)
	}
	return nil
}

func (cj *cardJSON) read(p *core.Problems, obj map[string]any) {
	r := fieldReader{p, "", obj}
	r.known("version", "effective_from", "services")
	r.str("version", &cj.Version)
	r.str("effective_from", &cj.EffectiveFrom)
	cj.Services = r.list("services")
}

func (sj *serviceIn) read(p *core.Problems, prefix string, obj map[string]any) {
	r := fieldReader{p, prefix, obj}
	r.known("id", "name", "description", "currency", "rule", "params")
	r.str("id", &sj.ID)
	r.str("name", &sj.Name)
	r.str("description", &sj.Description)
	r.str("currency", &sj.Currency)
	sj.Params = r.list("params")
	switch rule := obj["rule"].(type) {
	case nil:
	case map[string]any:
		rr := fieldReader{p, prefix, rule}
		// Unknown rule fields are reported on the service, as a decoder
		// of the whole service reports them.
		rr.known("kind", "rounding", "param", "rate", "block", "base", "reference", "exponent", "quality_param", "multipliers")
		rr = fieldReader{p, joinPath(prefix, "rule"), rule}
		rj := &sj.Rule
		for _, f := range []struct {
			name string
			into *string
		}{{"kind", &rj.Kind}, {"rounding", &rj.Rounding}, {"param", &rj.Param}, {"rate", &rj.Rate}, {"block", &rj.Block},
			{"base", &rj.Base}, {"reference", &rj.Reference}, {"exponent", &rj.Exponent}, {"quality_param", &rj.QualityParam}} {
			rr.str(f.name, f.into)
		}
		switch m := rule["multipliers"].(type) {
		case nil:
		case map[string]any:
			rj.Multipliers = make(map[string]string, len(m))
			mr := fieldReader{p, joinPath(rr.prefix, "multipliers"), m}
			for k := range m {
				var s string
				mr.str(k, &s)
				rj.Multipliers[k] = s
			}
		default:
			rr.wrong("multipliers", "an object", m)
		}
	default:
		r.wrong("rule", "an object", rule)
	}
}

func (pj *paramJSON) read(p *core.Problems, prefix string, obj map[string]any) {
	r := fieldReader{p, prefix, obj}
	r.known("name", "label", "type", "unit", "min", "max", "integer", "decimals", "values", "default")
	r.str("name", &pj.Name)
	r.str("label", &pj.Label)
	r.str("type", &pj.Type)
	r.str("unit", &pj.Unit)
	r.str("min", &pj.Min)
	r.str("max", &pj.Max)
	r.str("default", &pj.Default)
	switch t := obj["integer"].(type) {
	case nil:
	case bool:
		pj.Integer = &t
	default:
		r.wrong("integer", "true or false", t)
	}
	switch t := obj["decimals"].(type) {
	case nil:
	case jsontext.Number:
		if n, err := strconv.ParseInt(string(t), 10, 32); err == nil {
			d := int32(n)
			pj.Decimals = &d
		} else {
			p.Add(joinPath(prefix, "decimals"), "must be a whole number; got a number %s", clip(string(t)))
		}
	default:
		r.wrong("decimals", "a whole number", t)
	}
	if vals := r.list("values"); vals != nil {
		pj.Values = make([]string, 0, len(vals))
		for _, v := range vals {
			switch s := v.(type) {
			case string:
				pj.Values = append(pj.Values, s)
			case nil:
				pj.Values = append(pj.Values, "")
			default:
				r.wrong("values", wantString, s)
			}
		}
	}
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
		if obj := object(p, field, raw); obj != nil {
			pj.read(p, field, obj)
		}
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
