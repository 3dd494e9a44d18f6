package rates

import (
	"fmt"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// RuleKind names how a service's cost is computed from its parameters.
type RuleKind string

const (
	// KindFixed: Rate credits per unit of Param (a count such as analyses);
	// without Param, Rate per job.
	KindFixed RuleKind = "fixed"
	// KindPerUnit: Rate credits per started Block of Param (100 per started
	// 5 km: 12 km is 3 blocks, 300 credits; 5 km is 1 block, 100 credits).
	KindPerUnit RuleKind = "per_unit"
	// KindBasePlusPerUnit: Base + Rate × Param (generative design: a base per
	// study plus a rate per outcome).
	KindBasePlusPerUnit RuleKind = "base_plus_per_unit"
	// KindPowerLaw: Base × (Param / Reference)^Exponent (CFD/FEA: cost grows
	// faster than the mesh).
	KindPowerLaw RuleKind = "power_law"
	// KindSizeQuality: Rate × Param (a size) × Multipliers[QualityParam].
	KindSizeQuality RuleKind = "size_quality"
	// KindIncluded: always zero; the service is part of the subscription.
	KindIncluded RuleKind = "included"
)

// Kinds lists every rule kind in a fixed order.
func Kinds() []RuleKind {
	return []RuleKind{KindFixed, KindPerUnit, KindBasePlusPerUnit, KindPowerLaw, KindSizeQuality, KindIncluded}
}

// Rounding says how a rule's result is rounded.
type Rounding string

const (
	// RoundUp (the default, also spelled "") rounds the job's cost up to
	// whole credits: 72.25 credits cost 73.
	RoundUp Rounding = "up"
	// RoundNone keeps fractional credits, rounded up only to the ledger's
	// precision (core.CreditsScaleMax decimal places).
	RoundNone Rounding = "none"
)

// Rule prices one service. Which fields a kind uses is listed at each kind;
// a field a kind does not use must be zero.
type Rule struct {
	Kind     RuleKind
	Rounding Rounding
	// Param names the number parameter the rule reads (a count, a length, a
	// number of elements, a size).
	Param string
	// Rate is credits per unit (fixed), per block (per_unit), per unit
	// beyond the base (base_plus_per_unit) or per unit of size at
	// multiplier 1 (size_quality).
	Rate decimal.Decimal
	// Block is the unit per_unit charges per started block of (default 1).
	Block decimal.Decimal
	// Base is the fixed part (base_plus_per_unit) or the cost at the
	// reference quantity (power_law).
	Base decimal.Decimal
	// Reference and Exponent shape the power law.
	Reference decimal.Decimal
	Exponent  decimal.Decimal
	// QualityParam names the enum parameter whose value picks a multiplier.
	QualityParam string
	// Multipliers maps each value of QualityParam to its multiplier.
	Multipliers map[string]decimal.Decimal
}

// ruleFields lists, per kind, which optional fields it uses.
type ruleFields struct {
	param, rate, block, base, reference, exponent, quality bool
	paramRequired                                          bool
}

func (k RuleKind) fields() (ruleFields, bool) {
	switch k {
	case KindFixed:
		return ruleFields{param: true, rate: true}, true
	case KindPerUnit:
		return ruleFields{param: true, paramRequired: true, rate: true, block: true}, true
	case KindBasePlusPerUnit:
		return ruleFields{param: true, paramRequired: true, rate: true, base: true}, true
	case KindPowerLaw:
		return ruleFields{param: true, paramRequired: true, base: true, reference: true, exponent: true}, true
	case KindSizeQuality:
		return ruleFields{param: true, paramRequired: true, rate: true, quality: true}, true
	case KindIncluded:
		return ruleFields{}, true
	}
	return ruleFields{}, false
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return orList(names)
}

// validate records the rule's problems and returns the parameter names it
// uses.
func (r *Rule) validate(p *core.Problems, prefix string, s *Service) map[string]bool {
	used := map[string]bool{}
	switch r.Rounding {
	case "", RoundUp, RoundNone:
	default:
		p.Add(prefix+".rounding", "must be up or none; got %q", clip(string(r.Rounding)))
	}
	f, ok := r.Kind.fields()
	if !ok {
		p.Add(prefix+".kind", "must be one of %s; got %q", kindList(), clip(string(r.Kind)))
		// Without a kind nothing else can be checked; count the named
		// parameters as used so they are not reported twice.
		used[r.Param], used[r.QualityParam] = true, true
		return used
	}
	unused := func(name string) { p.Add(prefix+"."+name, "is not used by rule kind %s", r.Kind) }

	switch {
	case f.param && r.Param != "":
		used[r.Param] = true
		if i := s.param(r.Param); i < 0 || s.Params[i].Type != ParamNumber {
			p.Add(prefix+".param", "must name a number parameter of the service; %q is not one", clip(r.Param))
		}
	case f.paramRequired:
		p.Add(prefix+".param", "is required for rule kind %s", r.Kind)
	case !f.param && r.Param != "":
		unused("param")
	}

	checkAmount := func(name string, d decimal.Decimal, used, positive bool, max int64, decimals int32) {
		switch {
		case !used:
			if !d.IsZero() {
				unused(name)
			}
		case d.Sign() < 0:
			p.Add(prefix+"."+name, "must not be negative; got %s", d)
		case positive && d.Sign() == 0:
			p.Add(prefix+"."+name, "is required and must be greater than zero")
		case d.GreaterThan(decimal.NewFromInt(max)):
			p.Add(prefix+"."+name, "must be at most %d; got %s", max, d)
		case !d.Equal(d.Truncate(decimals)):
			p.Add(prefix+"."+name, "has more than %d decimal places", decimals)
		}
	}
	checkAmount("rate", r.Rate, f.rate, false, RateMax, RateDecimalsMax)
	checkAmount("block", r.Block, f.block, true, RateMax, RateDecimalsMax)
	// The power law's base is what a warning divides by, so it must be
	// positive; base_plus_per_unit may have none.
	checkAmount("base", r.Base, f.base, r.Kind == KindPowerLaw, RateMax, RateDecimalsMax)
	checkAmount("reference", r.Reference, f.reference, true, ParamValueMax, ParamDecimalsMax)
	if f.exponent {
		lo, hi := decimal.RequireFromString(ExponentMin), decimal.RequireFromString(ExponentMax)
		switch {
		case r.Exponent.LessThan(lo) || r.Exponent.GreaterThan(hi):
			p.Add(prefix+".exponent", "must be between %s and %s; got %s", ExponentMin, ExponentMax, r.Exponent)
		case !r.Exponent.Equal(r.Exponent.Truncate(ExponentDecimalsMax)):
			p.Add(prefix+".exponent", "has more than %d decimal places", ExponentDecimalsMax)
		}
	} else if !r.Exponent.IsZero() {
		unused("exponent")
	}

	if !f.quality {
		if r.QualityParam != "" {
			unused("quality_param")
		}
		if len(r.Multipliers) > 0 {
			unused("multipliers")
		}
		return used
	}
	r.validateQuality(p, prefix, s, used)
	return used
}

func (r *Rule) validateQuality(p *core.Problems, prefix string, s *Service, used map[string]bool) {
	if r.QualityParam == "" {
		p.Add(prefix+".quality_param", "is required for rule kind %s", r.Kind)
	} else {
		used[r.QualityParam] = true
	}
	if len(r.Multipliers) == 0 {
		p.Add(prefix+".multipliers", "is required for rule kind %s", r.Kind)
		return
	}
	if len(r.Multipliers) > EnumValuesMax {
		p.Add(prefix+".multipliers", "has %d entries; at most %d are allowed", len(r.Multipliers), EnumValuesMax)
		return
	}
	for _, name := range sortedKeys(r.Multipliers) {
		m := r.Multipliers[name]
		field := prefix + ".multipliers." + clip(name)
		switch {
		case m.Sign() < 0:
			p.Add(field, "must not be negative; got %s", m)
		case m.GreaterThan(decimal.NewFromInt(MultiplierMax)):
			p.Add(field, "must be at most %d; got %s", MultiplierMax, m)
		case !m.Equal(m.Truncate(RateDecimalsMax)):
			p.Add(field, "has more than %d decimal places", RateDecimalsMax)
		}
	}
	i := s.param(r.QualityParam)
	if r.QualityParam == "" {
		return
	}
	if i < 0 || s.Params[i].Type != ParamEnum {
		p.Add(prefix+".quality_param", "must name an enum parameter of the service; %q is not one", clip(r.QualityParam))
		return
	}
	// Every value needs a multiplier and every multiplier a value.
	values := map[string]bool{}
	for _, v := range s.Params[i].Values {
		values[v] = true
		if _, ok := r.Multipliers[v]; !ok {
			p.Add(prefix+".multipliers."+clip(v), "is missing: %s has the value %q", r.QualityParam, v)
		}
	}
	for _, name := range sortedKeys(r.Multipliers) {
		if !values[name] {
			p.Add(prefix+".multipliers."+clip(name), "is not a value of %s", r.QualityParam)
		}
	}
}

// value is a resolved parameter: the number (zero for an enum) and the
// canonical text echoed in the estimate.
type value struct {
	num  decimal.Decimal
	text string
}

// priced is what a rule computes for one job, before warnings about
// balances.
type priced struct {
	lines    []Line
	credits  decimal.Decimal
	warnings []Warning
}

// price applies the rule to resolved parameters (aligned with s.Params). It
// fails only if the card is invalid, which Validate prevents.
func (s *Service) price(vals []value) (priced, error) {
	r := &s.Rule
	var out priced
	// warn runs once the cost is known; rules that warn set it.
	var warn func() Warning
	num := func(name string) (decimal.Decimal, *Param, error) {
		i := s.param(name)
		if i < 0 || i >= len(vals) {
			return decimal.Zero, nil, fmt.Errorf("rule parameter %q is not in the schema", name)
		}
		return vals[i].num, &s.Params[i], nil
	}
	switch r.Kind {
	case KindFixed:
		if r.Param == "" {
			out.lines = append(out.lines, Line{Label: s.Name, Quantity: "1", Unit: "job", Rate: core.FormatDecimal(r.Rate), Credits: ceilLine(r.Rate)})
			break
		}
		q, pr, err := num(r.Param)
		if err != nil {
			return out, err
		}
		out.lines = append(out.lines, unitLine(pr.Label, q, pr.Unit, r.Rate))

	case KindPerUnit:
		q, pr, err := num(r.Param)
		if err != nil {
			return out, err
		}
		if r.Block.Sign() <= 0 {
			return out, fmt.Errorf("block must be greater than zero")
		}
		if r.Block.Equal(decimal.NewFromInt(1)) {
			out.lines = append(out.lines, unitLine(pr.Label, q, pr.Unit, r.Rate))
			break
		}
		// A started block counts as a whole one: 12 km in blocks of 5 is 3.
		blocks, rem := q.QuoRem(r.Block, 0)
		if rem.Sign() > 0 {
			blocks = blocks.Add(decimal.NewFromInt(1))
		}
		// Labels are concatenated, not formatted: this runs on every
		// keystroke in the browser.
		label := pr.Label + " " + core.FormatDecimal(q) + spaced(pr.Unit) + ", in started blocks of " + core.FormatDecimal(r.Block) + spaced(pr.Unit)
		out.lines = append(out.lines, unitLine(label, blocks, "blocks", r.Rate))

	case KindBasePlusPerUnit:
		q, pr, err := num(r.Param)
		if err != nil {
			return out, err
		}
		out.lines = append(out.lines,
			Line{Label: "Base", Credits: ceilLine(r.Base)},
			unitLine(pr.Label, q, pr.Unit, r.Rate))
		if q.GreaterThanOrEqual(decimal.NewFromInt(ManyOutcomesWarnAt)) {
			warn = func() Warning { return r.manyOutcomes(q, out.credits) }
		}

	case KindPowerLaw:
		q, pr, err := num(r.Param)
		if err != nil {
			return out, err
		}
		if r.Reference.Sign() <= 0 {
			return out, fmt.Errorf("reference must be greater than zero")
		}
		ratio := q.DivRound(r.Reference, powPrecision)
		factor, err := ratio.PowWithPrecision(r.Exponent, powPrecision)
		if err != nil {
			return out, fmt.Errorf("power law: %w", err)
		}
		qText := core.FormatDecimal(q)
		label := core.FormatDecimal(r.Base) + " × (" + qText + " / " + core.FormatDecimal(r.Reference) + " " + pr.Unit + ")^" + core.FormatDecimal(r.Exponent)
		out.lines = append(out.lines, Line{Label: label, Quantity: qText, Unit: pr.Unit, Credits: ceilLine(r.Base.Mul(factor))})
		if q.GreaterThan(r.Reference) {
			warn = func() Warning { return r.meshScaleUp(q, pr.Unit, factor, out.credits) }
		}

	case KindSizeQuality:
		q, pr, err := num(r.Param)
		if err != nil {
			return out, err
		}
		i := s.param(r.QualityParam)
		if i < 0 || i >= len(vals) {
			return out, fmt.Errorf("quality parameter %q is not in the schema", r.QualityParam)
		}
		quality := vals[i].text
		m, ok := r.Multipliers[quality]
		if !ok {
			return out, fmt.Errorf("no multiplier for quality %q", quality)
		}
		label := pr.Label + " at " + quality + " quality (× " + core.FormatDecimal(m) + ")"
		out.lines = append(out.lines, unitLine(label, q, pr.Unit, r.Rate.Mul(m)))

	case KindIncluded:
		out.lines = append(out.lines, Line{Label: "Included in the subscription", Credits: decimal.Zero})

	default:
		return out, fmt.Errorf("unknown rule kind %q", r.Kind)
	}

	sum := decimal.Zero
	for _, l := range out.lines {
		sum = sum.Add(l.Credits)
	}
	out.credits = roundCredits(sum, r.Rounding)
	if diff := out.credits.Sub(sum); diff.Sign() != 0 {
		out.lines = append(out.lines, Line{Label: "Rounded up to whole credits", Credits: diff})
	}
	if warn != nil {
		out.warnings = append(out.warnings, warn())
	}
	return out, nil
}

// roundCredits is the one rounding rule of rate cards: up to whole credits,
// unless the rule says none, in which case up to the ledger's precision.
// Rounding is always up so that an estimate never promises less than the
// charge.
func roundCredits(d decimal.Decimal, mode Rounding) decimal.Decimal {
	if mode == RoundNone {
		return d.RoundCeil(core.CreditsScaleMax)
	}
	return d.Ceil()
}

// ceilLine keeps a breakdown line within the ledger's precision.
func ceilLine(d decimal.Decimal) decimal.Decimal {
	return d.RoundCeil(core.CreditsScaleMax)
}

func unitLine(label string, q decimal.Decimal, unit string, rate decimal.Decimal) Line {
	return Line{Label: label, Quantity: core.FormatDecimal(q), Unit: unit, Rate: core.FormatDecimal(rate), Credits: ceilLine(q.Mul(rate))}
}

func spaced(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}

// times renders a multiple for a message: one decimal place ("7.2"), two
// when one would hide the difference from 1 ("1.04").
func times(d decimal.Decimal) string {
	if r := d.Round(1); !r.Equal(decimal.NewFromInt(1)) || d.Equal(r) {
		return r.String()
	}
	return d.Round(2).String()
}

func (r *Rule) meshScaleUp(q decimal.Decimal, unit string, factor, credits decimal.Decimal) Warning {
	return Warning{
		Code: WarnMeshScaleUp,
		Message: fmt.Sprintf("%s× the reference mesh (%s vs %s %s) costs %s× the base (%s vs %s credits)",
			times(q.DivRound(r.Reference, 4)), q, r.Reference, unit, times(factor), credits, roundCredits(r.Base, r.Rounding)),
	}
}

func (r *Rule) manyOutcomes(q, credits decimal.Decimal) Warning {
	single := roundCredits(r.Base.Add(r.Rate), r.Rounding)
	msg := fmt.Sprintf("a study of %s outcomes costs %s credits; each outcome adds %s", q, credits, r.Rate)
	if single.Sign() > 0 {
		msg = fmt.Sprintf("a study of %s outcomes costs %s× a single-outcome study (%s vs %s credits)",
			q, times(credits.DivRound(single, 4)), credits, single)
	}
	return Warning{Code: WarnManyOutcomes, Message: msg}
}

// costMax prices the service at every number parameter's maximum and, for
// size_quality, at every quality: the most any valid request can cost,
// since every rule grows with its parameters.
func (s *Service) costMax() (decimal.Decimal, error) {
	vals := make([]value, len(s.Params))
	var enums []int
	for i, pr := range s.Params {
		if pr.Type == ParamNumber {
			vals[i] = value{num: pr.Max, text: pr.Max.String()}
		} else {
			enums = append(enums, i)
			vals[i] = value{text: pr.Values[0]}
		}
	}
	most := decimal.Zero
	try := func() error {
		got, err := s.price(vals)
		if err != nil {
			return err
		}
		if got.credits.GreaterThan(most) {
			most = got.credits
		}
		return nil
	}
	if len(enums) == 0 {
		return most, try()
	}
	// Rules read at most one enum (the quality), so trying each value of
	// each enum in turn covers every price.
	for _, i := range enums {
		for _, v := range s.Params[i].Values {
			vals[i].text = v
			if err := try(); err != nil {
				return most, err
			}
		}
		vals[i].text = s.Params[i].Values[0]
	}
	return most, nil
}
