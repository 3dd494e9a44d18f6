package rates

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

func number(name, unit, min, max string, decimals int32) Param {
	return Param{Name: name, Label: name, Type: ParamNumber, Unit: unit, Min: dec(min), Max: dec(max), Integer: decimals == 0, Decimals: decimals}
}

// testCard has one service per rule kind, with round numbers, and one that
// keeps fractional credits.
func testCard(t *testing.T) *Card {
	t.Helper()
	c := &Card{
		Version:       "test",
		EffectiveFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Services: []Service{
			{ID: "fixed", Name: "Fixed", Currency: core.Cloud,
				Rule:   Rule{Kind: KindFixed, Param: "n", Rate: dec("2")},
				Params: []Param{func() Param { p := number("n", "analyses", "1", "100", 0); p.Default = "1"; return p }()}},
			{ID: "per-job", Name: "Per job", Currency: core.Forma,
				Rule: Rule{Kind: KindFixed, Rate: dec("7")}},
			{ID: "blocks", Name: "Blocks", Currency: core.Cloud,
				Rule:   Rule{Kind: KindPerUnit, Param: "km", Rate: dec("100"), Block: dec("5")},
				Params: []Param{number("km", "km", "0.01", "1000", 2)}},
			{ID: "units", Name: "Units", Currency: core.Cloud,
				Rule:   Rule{Kind: KindPerUnit, Param: "runs", Rate: dec("20"), Block: dec("1")},
				Params: []Param{number("runs", "runs", "1", "1000", 0)}},
			{ID: "base-plus", Name: "Base plus", Currency: core.Cloud,
				Rule:   Rule{Kind: KindBasePlusPerUnit, Param: "outcomes", Base: dec("10"), Rate: dec("9")},
				Params: []Param{number("outcomes", "outcomes", "1", "200", 0)}},
			{ID: "power", Name: "Power", Currency: core.Cloud,
				Rule:   Rule{Kind: KindPowerLaw, Param: "elements", Base: dec("10"), Reference: dec("1000"), Exponent: dec("2")},
				Params: []Param{number("elements", "elements", "1", "1000000", 0)}},
			{ID: "size", Name: "Size", Currency: core.Cloud,
				Rule: Rule{Kind: KindSizeQuality, Param: "mb", Rate: dec("1"), QualityParam: "quality",
					Multipliers: map[string]decimal.Decimal{"draft": dec("0.5"), "standard": dec("1"), "final": dec("2")}},
				Params: []Param{number("mb", "MB", "0.01", "1000", 2),
					{Name: "quality", Label: "Quality", Type: ParamEnum, Values: []string{"draft", "standard", "final"}, Default: "standard"}}},
			{ID: "included", Name: "Included", Currency: core.Cloud, Rule: Rule{Kind: KindIncluded}},
			{ID: "exact", Name: "Exact", Currency: core.Flex,
				Rule:   Rule{Kind: KindSizeQuality, Rounding: RoundNone, Param: "mb", Rate: dec("0.333333"), QualityParam: "quality", Multipliers: map[string]decimal.Decimal{"standard": dec("1")}},
				Params: []Param{number("mb", "MB", "0", "1000", 2), {Name: "quality", Label: "Quality", Type: ParamEnum, Values: []string{"standard"}, Default: "standard"}}},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("test card: %v", err)
	}
	return c
}

func TestRuleKinds(t *testing.T) {
	c := testCard(t)
	tests := []struct {
		name    string
		service string
		params  Params
		credits string
		lines   []string // label = credits, in order
	}{
		{"fixed default count", "fixed", Params{}, "2", []string{"n = 2"}},
		{"fixed count", "fixed", Params{"n": "3"}, "6", []string{"n = 6"}},
		{"fixed per job", "per-job", Params{}, "7", []string{"Per job = 7"}},
		{"per_unit one started block", "blocks", Params{"km": "0.01"}, "100", []string{"km 0.01 km, in started blocks of 5 km = 100"}},
		{"per_unit exactly one block", "blocks", Params{"km": "5"}, "100", []string{"km 5 km, in started blocks of 5 km = 100"}},
		{"per_unit just over one block", "blocks", Params{"km": "5.01"}, "200", []string{"km 5.01 km, in started blocks of 5 km = 200"}},
		{"per_unit 12 km", "blocks", Params{"km": "12"}, "300", []string{"km 12 km, in started blocks of 5 km = 300"}},
		{"per_unit exactly two blocks", "blocks", Params{"km": "10.00"}, "200", []string{"km 10 km, in started blocks of 5 km = 200"}},
		{"per_unit block of one", "units", Params{"runs": "8"}, "160", []string{"runs = 160"}},
		{"base_plus_per_unit one", "base-plus", Params{"outcomes": "1"}, "19", []string{"Base = 10", "outcomes = 9"}},
		{"base_plus_per_unit twenty", "base-plus", Params{"outcomes": "20"}, "190", []string{"Base = 10", "outcomes = 180"}},
		{"power_law at reference", "power", Params{"elements": "1000"}, "10", []string{"10 × (1000 / 1000 elements)^2 = 10"}},
		{"power_law 3x", "power", Params{"elements": "3000"}, "90", []string{"10 × (3000 / 1000 elements)^2 = 90"}},
		{"power_law below reference rounds up", "power", Params{"elements": "100"}, "1", []string{"10 × (100 / 1000 elements)^2 = 0.1", "Rounded up to whole credits = 0.9"}},
		{"size_quality standard", "size", Params{"mb": "12.5"}, "13", []string{"mb at standard quality (× 1) = 12.5", "Rounded up to whole credits = 0.5"}},
		{"size_quality draft", "size", Params{"mb": "3", "quality": "draft"}, "2", []string{"mb at draft quality (× 0.5) = 1.5", "Rounded up to whole credits = 0.5"}},
		{"size_quality final", "size", Params{"mb": "12.5", "quality": "final"}, "25", []string{"mb at final quality (× 2) = 25"}},
		{"included", "included", Params{}, "0", []string{"Included in the subscription = 0"}},
		{"rounding none keeps fractions", "exact", Params{"mb": "1.5"}, "0.5", []string{"mb at standard quality (× 1) = 0.5"}},
		{"rounding none rounds up to the ledger's precision", "exact", Params{"mb": "0.01"}, "0.003334", []string{"mb at standard quality (× 1) = 0.003334"}},
		{"zero where the schema allows it", "exact", Params{"mb": "0"}, "0", []string{"mb at standard quality (× 1) = 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := c.Estimate(tt.service, tt.params, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := est.Credits.String(); got != tt.credits {
				t.Errorf("credits: got %s, want %s", got, tt.credits)
			}
			var lines []string
			for _, l := range est.Breakdown {
				lines = append(lines, l.Label+" = "+l.Credits.String())
			}
			if !equalStrings(lines, tt.lines) {
				t.Errorf("breakdown:\n got %q\nwant %q", lines, tt.lines)
			}
			checkEstimate(t, c, est)
		})
	}
}

func TestRoundCredits(t *testing.T) {
	tests := []struct {
		in   string
		mode Rounding
		want string
	}{
		{"0", RoundUp, "0"},
		{"72.2467", RoundUp, "73"},
		{"72.0000001", "", "73"},
		{"300", RoundUp, "300"},
		{"0.0000001", RoundNone, "0.000001"},
		{"1.5", RoundNone, "1.5"},
	}
	for _, tt := range tests {
		if got := roundCredits(dec(tt.in), tt.mode).String(); got != tt.want {
			t.Errorf("roundCredits(%s, %q): got %s, want %s", tt.in, tt.mode, got, tt.want)
		}
	}
}

func TestTimes(t *testing.T) {
	for in, want := range map[string]string{"3": "3", "7.2246": "7.2", "1.04": "1.04", "1": "1", "10.96": "11"} {
		if got := times(dec(in)); got != want {
			t.Errorf("times(%s): got %s, want %s", in, got, want)
		}
	}
}
