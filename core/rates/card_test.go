package rates

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

func TestParseCard2018(t *testing.T) {
	c := card2018(t)
	if got, want := c.Version, "2018-03-23"; got != want {
		t.Errorf("version: got %s, want %s", got, want)
	}
	if got, want := c.EffectiveFrom, time.Date(2018, 3, 23, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("effective_from: got %s, want %s", got, want)
	}
	// Every service of PRODUCT.md's table, in its currency.
	want := map[string]core.Currency{
		"structural-analysis": core.Cloud, "inventor-optimization": core.Cloud, "simulation-fixed-study": core.Cloud,
		"moldflow-insight": core.Cloud, "infraworks-profile-optimization": core.Cloud, "configurator-360": core.Cloud,
		"rendering": core.Cloud, "cfd-fea-simulation": core.Cloud, "generative-design": core.Cloud,
		"lighting-analysis": core.Cloud, "forma-solar": core.Forma, "forma-wind": core.Forma,
		"forma-noise": core.Forma, "forma-daylight": core.Forma,
	}
	if got := len(c.Services); got != len(want) {
		t.Errorf("services: got %d, want %d", got, len(want))
	}
	for id, cur := range want {
		s, ok := c.Service(id)
		if !ok {
			t.Errorf("service %s is missing", id)
			continue
		}
		if s.Currency != cur {
			t.Errorf("%s currency: got %s, want %s", id, s.Currency, cur)
		}
	}
	kinds := map[RuleKind]bool{}
	for _, s := range c.Services {
		kinds[s.Rule.Kind] = true
	}
	for _, k := range Kinds() {
		if !kinds[k] {
			t.Errorf("no service of the sample card uses rule kind %s", k)
		}
	}
}

// The JSON a card is written as (GET /v1/ratecard) reads back as the same
// card, and writes the same bytes again.
func TestCardJSONRoundTrip(t *testing.T) {
	c := card2018(t)
	first, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCard(first)
	if err != nil {
		t.Fatalf("ParseCard(Marshal(card)): %v", err)
	}
	second, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("round trip changed the card:\n got %s\nwant %s", second, first)
	}
	// Through encoding/json too (Card.UnmarshalJSON is ParseCard).
	var viaJSON Card
	if err := json.Unmarshal(first, &viaJSON); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if got, want := viaJSON.Version, c.Version; got != want {
		t.Errorf("version: got %s, want %s", got, want)
	}
	// Defaults are written out, and decimals are strings.
	for _, s := range []string{`"rounding":"up"`, `"block":"1"`, `"exponent":"1.8"`, `"multipliers":{"draft":"0.5","final":"2","panorama":"4","standard":"1"}`, `"integer":true,"decimals":0`} {
		if !strings.Contains(string(first), s) {
			t.Errorf("card JSON lacks %s", s)
		}
	}
}

func TestParseCardReportsEveryProblem(t *testing.T) {
	body := `{"version": "", "effective_from": "yesterday", "services": [
	 {"id": "a", "name": "A", "currency": "gold",
	  "rule": {"kind": "fixed", "rate": "-1", "param": "n"},
	  "params": [{"name": "n", "label": "N", "type": "number", "min": "5", "max": "1", "integer": true}]},
	 {"id": "a", "name": "", "currency": "cloud", "rule": {"kind": "teleport"}, "params": []},
	 {"id": "cfd", "name": "CFD", "currency": "cloud",
	  "rule": {"kind": "power_law", "param": "elements", "base": "10", "reference": "0", "exponent": "7"},
	  "params": [{"name": "elements", "label": "Elements", "type": "number", "min": "1", "max": "10", "decimals": 2, "default": "11"}]},
	 {"id": "gd", "name": "GD", "currency": "cloud", "rule": {"kind": "base_plus_per_unit", "base": "10", "rate": "9", "block": "2"}, "params": []},
	 {"id": "render", "name": "R", "currency": "cloud",
	  "rule": {"kind": "size_quality", "param": "mb", "rate": "1", "quality_param": "q", "multipliers": {"draft": "0.5", "ultra": "9"}},
	  "params": [{"name": "mb", "label": "MB", "type": "number", "min": "0", "max": "10", "decimals": 1},
	             {"name": "q", "label": "Q", "type": "enum", "values": ["draft", "final"]}]},
	 {"id": "Bad Id", "name": "x", "currency": "cloud", "rule": {"kind": "per_unit", "param": "km", "rate": "1.1234567", "block": "0"},
	  "params": [{"name": "km", "label": "Km", "type": "number", "min": "0", "max": "5", "decimals": 9},
	             {"name": "spare", "label": "Spare", "type": "number", "min": "0", "max": "1", "integer": true}]}
	]}`
	_, err := ParseCard([]byte(body))
	got := problemFields(t, err)
	want := sortedCopy([]string{
		"version",
		"effective_from",
		"services[0].currency",
		"services[0].rule.rate",
		"services[0].params[0].min",
		"services[1].id",
		"services[1].name",
		"services[1].rule.kind",
		"services[2].rule.reference",
		"services[2].rule.exponent",
		"services[2].params[0].default",
		"services[3].rule.param",
		"services[3].rule.block",
		"services[4].rule.multipliers.final",
		"services[4].rule.multipliers.ultra",
		"services[5].id",
		"services[5].rule.rate",
		"services[5].rule.block",
		"services[5].params[0].decimals",
		"services[5].params[1].name",
	})
	if !equalStrings(got, want) {
		t.Errorf("problem fields:\n got %q\nwant %q\n(%v)", got, want, err)
	}
	for field, want := range map[string]string{
		"services[1].id":                     `duplicates services[0].id "a"`,
		"services[2].rule.exponent":          "must be between 0.5 and 3; got 7",
		"services[2].params[0].default":      "must be at most 10; got 11",
		"services[0].rule.rate":              "must not be negative; got -1",
		"services[4].rule.multipliers.final": `is missing: q has the value "final"`,
		"services[5].params[1].name":         `"spare" is not used by the rule (kind per_unit)`,
	} {
		if got := problemMessage(t, err, field); got != want {
			t.Errorf("%s: got %q, want %q", field, got, want)
		}
	}
}

func TestParseCardStrictness(t *testing.T) {
	valid := string(read2018(t))
	tests := []struct {
		name  string
		body  string
		code  core.Code
		field string
	}{
		{"trailing data", valid + ` {}`, core.CodeInvalidRequest, "card"},
		{"trailing garbage", valid + `x`, core.CodeInvalidRequest, "card"},
		{"not JSON", `{"version": `, core.CodeInvalidRequest, "card"},
		{"empty", ``, core.CodeInvalidRequest, "card"},
		{"array", `[]`, core.CodeInvalidRequest, "card"},
		{"unknown top-level field", strings.Replace(valid, `"version"`, `"colour": "red", "version"`, 1), core.CodeInvalidRequest, "card"},
		{"unknown rule field", strings.Replace(valid, `"kind": "fixed",`, `"kind": "fixed", "discount": "1",`, 1), core.CodeInvalidRequest, "services[0]"},
		{"duplicate key", strings.Replace(valid, `"version": "2018-03-23",`, `"version": "2018-03-23", "version": "2019",`, 1), core.CodeInvalidRequest, "version"},
		{"rate as a JSON number", strings.Replace(valid, `"rate": "2"`, `"rate": 2`, 1), core.CodeInvalidRequest, "services[0].rule.rate"},
		{"rate with an exponent", strings.Replace(valid, `"rate": "2"`, `"rate": "2e0"`, 1), core.CodeInvalidRequest, "services[0].rule.rate"},
		{"decimals as a string", strings.Replace(valid, `"decimals": 2`, `"decimals": "2"`, 1), core.CodeInvalidRequest, "services[4].params[0].decimals"},
		{"unknown rounding", strings.Replace(valid, `"rounding": "up"`, `"rounding": "nearest"`, 1), core.CodeInvalidRequest, "services[0].rule.rounding"},
		{"too deep", `{"version": [[[[[[[[[[1]]]]]]]]]]}`, core.CodeInvalidRequest, "version[0][0][0][0][0][0][0]"},
		{"too large", `{"version": "` + strings.Repeat("x", CardBytesMax) + `"}`, core.CodeTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCard([]byte(tt.body))
			if err == nil {
				t.Fatalf("got card %s, want an error", c.Version)
			}
			if got := core.ErrorCode(err); got != tt.code {
				t.Fatalf("code: got %s, want %s (%v)", got, tt.code, err)
			}
			if tt.code != core.CodeInvalidRequest {
				return
			}
			if got := problemFields(t, err); !equalStrings(got, []string{tt.field}) {
				t.Errorf("fields: got %q, want [%s] (%v)", got, tt.field, err)
			}
		})
	}
}

// Validate checks a card built in Go as well as one read from JSON.
func TestValidateHandBuiltCard(t *testing.T) {
	count := Param{Name: "n", Label: "Count", Type: ParamNumber, Min: dec("1"), Max: dec("10"), Integer: true, Default: "1"}
	c := &Card{
		Version: "test",
		Services: []Service{
			{ID: "ok", Name: "OK", Currency: core.Cloud, Rule: Rule{Kind: KindFixed, Param: "n", Rate: dec("2")}, Params: []Param{count}},
			{ID: "neg", Name: "Neg", Currency: core.Flex, Rule: Rule{Kind: KindPerUnit, Param: "n", Rate: dec("1"), Block: dec("-5")}, Params: []Param{count}},
			{ID: "k", Name: "K", Currency: core.Cloud, Rule: Rule{Kind: KindPowerLaw, Param: "n", Base: dec("0"), Reference: dec("1"), Exponent: dec("0.1")}, Params: []Param{count}},
			{ID: "q", Name: "Q", Currency: core.Cloud, Rule: Rule{Kind: KindSizeQuality, Param: "n", Rate: dec("1")}, Params: []Param{count}},
			{ID: "inc", Name: "Inc", Currency: core.Cloud, Rule: Rule{Kind: KindIncluded, Rate: dec("3")}},
		},
	}
	got := problemFields(t, c.Validate())
	want := sortedCopy([]string{
		"effective_from",
		"services[1].rule.block",
		"services[2].rule.base",
		"services[2].rule.exponent",
		"services[3].rule.quality_param",
		"services[3].rule.multipliers",
		"services[4].rule.rate",
	})
	if !equalStrings(got, want) {
		t.Errorf("problem fields:\n got %q\nwant %q", got, want)
	}
	c.EffectiveFrom = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Services = c.Services[:1]
	if err := c.Validate(); err != nil {
		t.Errorf("valid card: got %v", err)
	}
}

// No valid request may cost more than the ledger can hold: a card whose
// rule reaches beyond CreditsMax at its parameters' maximum is refused.
func TestValidateBoundsTheMostACardCanCost(t *testing.T) {
	c := &Card{
		Version:       "huge",
		EffectiveFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Services: []Service{{
			ID: "cfd", Name: "CFD", Currency: core.Cloud,
			Rule:   Rule{Kind: KindPowerLaw, Param: "elements", Base: dec("1000"), Reference: dec("1"), Exponent: dec("3")},
			Params: []Param{{Name: "elements", Label: "Elements", Type: ParamNumber, Min: dec("1"), Max: dec("100000"), Integer: true}},
		}},
	}
	err := c.Validate()
	if got := problemFields(t, err); !equalStrings(got, []string{"services[0].rule"}) {
		t.Fatalf("fields: got %q, want [services[0].rule]", got)
	}
	if got, want := problemMessage(t, err, "services[0].rule"), "costs up to 1000000000000000000 credits"; !strings.Contains(got, want) {
		t.Errorf("message: got %q, want it to contain %q", got, want)
	}
	c.Services[0].Params[0].Max = dec("1000")
	if err := c.Validate(); err != nil {
		t.Errorf("with max 1000 (10^12 credits): got %v", err)
	}
}

func TestParamParse(t *testing.T) {
	km := Param{Name: "road_km", Label: "Road length", Type: ParamNumber, Unit: "km", Min: dec("0.01"), Max: dec("10000"), Decimals: 2}
	runs := Param{Name: "runs", Label: "Runs", Type: ParamNumber, Min: dec("1"), Max: dec("1000"), Integer: true}
	free := Param{Name: "extra", Label: "Extra", Type: ParamNumber, Min: dec("0"), Max: dec("5"), Decimals: 1}
	quality := Param{Name: "quality", Label: "Quality", Type: ParamEnum, Values: []string{"draft", "final"}}
	tests := []struct {
		param *Param
		text  string
		want  string // the value, or the problem
	}{
		{&km, "12", "12"},
		{&km, "12.50", "12.5"},
		{&km, "0.01", "0.01"},
		{&km, "10000", "10000"},
		{&km, "-1", "must not be negative; got -1"},
		{&km, "0", "must be greater than zero (at least 0.01 km)"},
		{&km, "0.001", "has more than 2 decimal places; got 0.001"},
		{&km, "10000.01", "must be at most 10000 km; got 10000.01"},
		{&km, "1e3", `must be a decimal number such as "12" or "12.5", got "1e3"`},
		{&km, "twelve", `must be a decimal number such as "12" or "12.5", got "twelve"`},
		{&km, "", "is required"},
		{&km, strings.Repeat("9", 65), "is too long to be a number (at most 64 characters)"},
		{&runs, "8", "8"},
		{&runs, "8.0", "8"},
		{&runs, "8.5", "must be a whole number; got 8.5"},
		{&runs, "0", "must be greater than zero (at least 1)"},
		{&free, "0", "0"},
		{&quality, "final", "0"},
		{&quality, "ultra", `must be one of draft or final; got "ultra"`},
	}
	for _, tt := range tests {
		t.Run(tt.param.Name+"="+tt.text, func(t *testing.T) {
			var p core.Problems
			d, ok := tt.param.parse(&p, "f", tt.text)
			got := d.String()
			if !ok {
				got = problemMessage(t, p.Err(), "f")
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	_ = decimal.Zero
}
