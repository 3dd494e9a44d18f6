package rates

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// Card is one version of the rate card: what every service costs from
// EffectiveFrom until a later card takes effect. Its JSON form (see
// MarshalJSON) is what GET /v1/ratecard returns and what ParseCard reads.
//
// A Card is a value to read, not to change: Estimate assumes the card passed
// Validate (ParseCard and NewCatalog make sure of it), and a card must not be
// modified once it is shared.
type Card struct {
	Version       string
	EffectiveFrom time.Time
	Services      []Service
}

// Service is one metered service and the rule that prices it.
type Service struct {
	ID          string // stable, lower-case: "infraworks-profile-optimization"
	Name        string // for people: "InfraWorks profile optimization"
	Description string // optional: how the service is charged, in words
	// Currency is the only currency the service spends; balances of another
	// currency never substitute.
	Currency core.Currency
	Rule     Rule
	// Params is the schema of the service's parameters, in display order.
	// Every parameter is used by the rule.
	Params []Param
}

// ParamType is the type of a service parameter.
type ParamType string

const (
	ParamNumber ParamType = "number" // a non-negative decimal between Min and Max
	ParamEnum   ParamType = "enum"   // one of Values
)

// Param describes one parameter of a service, for validation and for the
// browser widget that builds its form from it.
type Param struct {
	Name  string // key in a request's params: "road_km"
	Label string // form label: "Road length"
	Type  ParamType
	Unit  string // number only: "km", "MB", "elements"
	// Min and Max bound a number, inclusive. Min is never negative; a Min
	// above zero means zero is refused.
	Min, Max decimal.Decimal
	// Integer requires a whole number; otherwise a number may carry at most
	// Decimals fractional digits (1 to ParamDecimalsMax).
	Integer  bool
	Decimals int32
	// Values lists an enum's allowed values, in display order.
	Values []string
	// Default is used when a request omits the parameter; empty means the
	// parameter is required.
	Default string
}

// Service returns the service with the given id.
func (c *Card) Service(id string) (*Service, bool) {
	for i := range c.Services {
		if c.Services[i].ID == id {
			return &c.Services[i], true
		}
	}
	return nil, false
}

// param returns the index of the parameter named name, or -1.
func (s *Service) param(name string) int {
	for i := range s.Params {
		if s.Params[i].Name == name {
			return i
		}
	}
	return -1
}

// Validate reports every problem of the card at once, as an invalid_request
// error whose Details["fields"] names each bad field
// ("services[3].rule.base").
func (c *Card) Validate() error {
	var p core.Problems
	c.validate(&p)
	return p.Err()
}

func (c *Card) validate(p *core.Problems) {
	checkToken(p, "version", c.Version, VersionLenMax, isVersionChar, "letters, digits, '.', '-' and '_'")
	if c.EffectiveFrom.IsZero() {
		p.Add("effective_from", "is required")
	}
	switch n := len(c.Services); {
	case n == 0:
		p.Add("services", "must list at least one service")
	case n > ServicesMax:
		p.Add("services", "has %d services; at most %d are allowed", n, ServicesMax)
		return
	}
	first := make(map[string]int, len(c.Services))
	for i := range c.Services {
		s := &c.Services[i]
		prefix := fmt.Sprintf("services[%d]", i)
		if j, dup := first[s.ID]; dup && s.ID != "" {
			p.Add(prefix+".id", "duplicates services[%d].id %q", j, s.ID)
		} else {
			first[s.ID] = i
		}
		s.validate(p, prefix)
	}
}

func (s *Service) validate(p *core.Problems, prefix string) {
	before := p.Len()
	checkToken(p, prefix+".id", s.ID, IDLenMax, isIDChar, "lower-case letters, digits, '-' and '_'")
	checkText(p, prefix+".name", s.Name, NameLenMax, true)
	checkText(p, prefix+".description", s.Description, DescriptionLenMax, false)
	if _, ok := core.ParseCurrency(string(s.Currency)); !ok {
		p.Add(prefix+".currency", "must be one of %s; got %q", currencyList(), clip(string(s.Currency)))
	}
	if n := len(s.Params); n > ParamsPerServiceMax {
		p.Add(prefix+".params", "has %d parameters; at most %d are allowed", n, ParamsPerServiceMax)
		return
	}
	first := make(map[string]int, len(s.Params))
	for j := range s.Params {
		field := fmt.Sprintf("%s.params[%d]", prefix, j)
		pr := &s.Params[j]
		if k, dup := first[pr.Name]; dup && pr.Name != "" {
			p.Add(field+".name", "duplicates params[%d].name %q", k, pr.Name)
		} else {
			first[pr.Name] = j
		}
		pr.validate(p, field)
	}
	used := s.Rule.validate(p, prefix+".rule", s)
	for j := range s.Params {
		if !used[s.Params[j].Name] {
			p.Add(fmt.Sprintf("%s.params[%d].name", prefix, j), "%q is not used by the rule (kind %s)", s.Params[j].Name, s.Rule.Kind)
		}
	}
	if p.Len() > before {
		return
	}
	// Only a structurally valid service can be priced; price it at the
	// parameters' maximum so that no valid request can exceed the limit.
	if most, err := s.costMax(); err != nil {
		p.Add(prefix+".rule", "cannot be priced at the parameters' maximum: %v", err)
	} else if most.GreaterThan(decimal.NewFromInt(core.CreditsMax)) {
		p.Add(prefix+".rule", "costs up to %s credits at the parameters' maximum; at most %d are allowed", most, core.CreditsMax)
	}
}

func (pr *Param) validate(p *core.Problems, field string) {
	checkToken(p, field+".name", pr.Name, IDLenMax, isIDChar, "lower-case letters, digits, '-' and '_'")
	checkText(p, field+".label", pr.Label, LabelLenMax, true)
	switch pr.Type {
	case ParamNumber:
		pr.validateNumber(p, field)
	case ParamEnum:
		pr.validateEnum(p, field)
	default:
		p.Add(field+".type", "must be number or enum; got %q", clip(string(pr.Type)))
	}
}

func (pr *Param) validateNumber(p *core.Problems, field string) {
	checkText(p, field+".unit", pr.Unit, UnitLenMax, false)
	if len(pr.Values) > 0 {
		p.Add(field+".values", "is only for enum parameters")
	}
	scaleOK := false
	switch {
	case pr.Integer && pr.Decimals != 0:
		p.Add(field+".decimals", "must be 0 or absent for an integer parameter")
	case !pr.Integer && (pr.Decimals < 1 || pr.Decimals > ParamDecimalsMax):
		p.Add(field+".decimals", "must be 1 to %d for a non-integer parameter (or set integer)", ParamDecimalsMax)
	default:
		scaleOK = true
	}
	scale := pr.scale()
	for _, b := range []struct {
		name string
		v    decimal.Decimal
	}{{"min", pr.Min}, {"max", pr.Max}} {
		switch {
		case b.v.Sign() < 0:
			p.Add(field+"."+b.name, "must not be negative")
		case b.v.GreaterThan(decimal.NewFromInt(ParamValueMax)):
			p.Add(field+"."+b.name, "must be at most %d", ParamValueMax)
		case scaleOK && !b.v.Equal(b.v.Truncate(scale)):
			p.Add(field+"."+b.name, "has more decimal places than the parameter accepts (%d)", scale)
		}
	}
	if pr.Max.Sign() <= 0 {
		p.Add(field+".max", "is required and must be greater than zero")
	}
	if pr.Min.GreaterThan(pr.Max) {
		p.Add(field+".min", "must not be greater than max (%s > %s)", pr.Min, pr.Max)
	}
	if pr.Default != "" && scaleOK {
		pr.parse(p, field+".default", pr.Default)
	}
}

func (pr *Param) validateEnum(p *core.Problems, field string) {
	if pr.Unit != "" {
		p.Add(field+".unit", "is only for number parameters")
	}
	if !pr.Min.IsZero() || !pr.Max.IsZero() {
		p.Add(field+".max", "min and max are only for number parameters")
	}
	if pr.Integer || pr.Decimals != 0 {
		p.Add(field+".decimals", "integer and decimals are only for number parameters")
	}
	switch n := len(pr.Values); {
	case n == 0:
		p.Add(field+".values", "must list at least one value")
	case n > EnumValuesMax:
		p.Add(field+".values", "has %d values; at most %d are allowed", n, EnumValuesMax)
		return
	}
	seen := make(map[string]bool, len(pr.Values))
	for k, v := range pr.Values {
		vf := fmt.Sprintf("%s.values[%d]", field, k)
		checkToken(p, vf, v, IDLenMax, isIDChar, "lower-case letters, digits, '-' and '_'")
		if seen[v] {
			p.Add(vf, "duplicates the value %q", v)
		}
		seen[v] = true
	}
	if pr.Default != "" && !seen[pr.Default] {
		p.Add(field+".default", "must be one of the values; got %q", clip(pr.Default))
	}
}

// scale is the number of fractional digits a number parameter accepts.
func (pr *Param) scale() int32 {
	if pr.Integer {
		return 0
	}
	return pr.Decimals
}

// parse checks one value of the parameter (a request's text or the card's
// default) and records any problem under field. For an enum the number is
// zero.
func (pr *Param) parse(p *core.Problems, field, text string) (decimal.Decimal, bool) {
	if pr.Type == ParamEnum {
		for _, v := range pr.Values {
			if v == text {
				return decimal.Zero, true
			}
		}
		p.Add(field, "must be one of %s; got %q", orList(pr.Values), clip(text))
		return decimal.Zero, false
	}
	if len(text) > ParamValueLenMax {
		p.Add(field, "is too long to be a number (at most %d characters)", ParamValueLenMax)
		return decimal.Zero, false
	}
	// Scale is checked below with a message of its own, so parse with any.
	d, err := core.ParseDecimal(field, text, ParamValueLenMax)
	if err != nil {
		p.Merge("", err)
		return decimal.Zero, false
	}
	unit := ""
	if pr.Unit != "" {
		unit = " " + pr.Unit
	}
	switch {
	case d.Sign() < 0:
		p.Add(field, "must not be negative; got %s", text)
	case pr.Integer && !d.IsInteger():
		p.Add(field, "must be a whole number; got %s", text)
	case !d.Equal(d.Truncate(pr.scale())):
		p.Add(field, "has more than %d decimal places; got %s", pr.scale(), text)
	case d.IsZero() && pr.Min.Sign() > 0:
		p.Add(field, "must be greater than zero (at least %s%s)", pr.Min, unit)
	case d.LessThan(pr.Min):
		p.Add(field, "must be at least %s%s; got %s", pr.Min, unit, text)
	case d.GreaterThan(pr.Max):
		p.Add(field, "must be at most %s%s; got %s", pr.Max, unit, text)
	default:
		return d, true
	}
	return decimal.Zero, false
}

// checkToken checks a required identifier-like string.
func checkToken(p *core.Problems, field, s string, max int, ok func(i int, c byte) bool, allowed string) {
	switch {
	case s == "":
		p.Add(field, "is required")
		return
	case len(s) > max:
		p.Add(field, "is longer than %d characters", max)
		return
	}
	for i := 0; i < len(s); i++ {
		if !ok(i, s[i]) {
			p.Add(field, "must contain only %s, starting with a letter or digit; got %q", allowed, clip(s))
			return
		}
	}
}

func isIDChar(i int, c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_')
}

func isVersionChar(i int, c byte) bool {
	return isIDChar(i, c) || c >= 'A' && c <= 'Z' || i > 0 && c == '.'
}

// checkText checks free text: its length, and no control characters.
func checkText(p *core.Problems, field, s string, max int, required bool) {
	switch {
	case s == "" && required:
		p.Add(field, "is required")
	case len(s) > max:
		p.Add(field, "is longer than %d characters", max)
	case strings.TrimSpace(s) != s:
		p.Add(field, "must not start or end with spaces")
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }):
		p.Add(field, "must not contain control characters")
	}
}

// clip shortens untrusted text quoted in a message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// orList renders values as "a, b or c".
func orList(values []string) string {
	switch len(values) {
	case 0:
		return "(none)"
	case 1:
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

func currencyList() string {
	var names []string
	for _, c := range core.Currencies() {
		names = append(names, string(c))
	}
	return orList(names)
}

// sortedKeys returns m's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
