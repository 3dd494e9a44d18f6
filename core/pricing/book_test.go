package pricing

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

func TestSampleBooksParse(t *testing.T) {
	for _, path := range append(salesBookPaths, cloudGraduatedPath) {
		t.Run(path, func(t *testing.T) {
			b := loadBook(t, path)
			if err := b.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			if got, want := b.PackSize.String(), "100"; got != want {
				t.Errorf("pack size: got %s, want %s", got, want)
			}
		})
	}
}

func TestSampleBookCurrentRates(t *testing.T) {
	b := loadBook(t, cloudCurrentPath)
	want := []struct {
		name                string
		list, reseller, eba string // "" when the channel is not sold
	}{
		{"under 1,000", "1.25", "1.25", ""},
		{"1,000–4,999", "1.25", "1.20", ""},
		{"5,000–19,999", "1.25", "1.10", ""},
		{"20,000–99,999", "1.25", "0.98", ""},
		{"100,000 and up", "1.25", "0.85", "0.70"},
	}
	if len(b.Tiers) != len(want) {
		t.Fatalf("got %d tiers, want %d", len(b.Tiers), len(want))
	}
	rate := func(tier Tier, c Channel) string {
		r, ok := tier.Rates[c]
		if !ok {
			return ""
		}
		return FormatRate(r)
	}
	for i, w := range want {
		tier := b.Tiers[i]
		if got := tier.Label(); got != w.name || bandLabel(tier.From, tier.To) != w.name {
			t.Errorf("tier %d: got name %q (bounds say %q), want %q", i, got, bandLabel(tier.From, tier.To), w.name)
		}
		for _, c := range []struct {
			ch   Channel
			want string
		}{{ChannelList, w.list}, {ChannelReseller, w.reseller}, {ChannelEBA, w.eba}} {
			if got := rate(tier, c.ch); got != c.want {
				t.Errorf("tier %q %s: got %q, want %q", w.name, c.ch, got, c.want)
			}
		}
	}
}

func TestTierAtIsFromInclusiveToExclusive(t *testing.T) {
	b := loadBook(t, cloudCurrentPath)
	tests := []struct {
		volume string
		want   string
	}{
		{"0", "under 1,000"},
		{"999", "under 1,000"},
		{"999.999999", "under 1,000"},
		{"1000", "1,000–4,999"},
		{"4999", "1,000–4,999"},
		{"5000", "5,000–19,999"},
		{"19999", "5,000–19,999"},
		{"20000", "20,000–99,999"},
		{"99999", "20,000–99,999"},
		{"100000", "100,000 and up"},
		{"2000000000000", "100,000 and up"},
	}
	for _, tt := range tests {
		got, ok := b.TierAt(dec(tt.volume))
		if !ok || got.Label() != tt.want {
			t.Errorf("TierAt(%s): got %q (%v), want %q", tt.volume, got.Label(), ok, tt.want)
		}
	}
	if _, ok := b.TierAt(dec("-1")); ok {
		t.Errorf("TierAt(-1): got a tier, want none")
	}
}

// badBook has at least one problem in every part of a book.
const badBook = `{
  "version": "cloud 2024",
  "currency": "usd",
  "effective_from": "2024-01-01",
  "pack_size": "0",
  "mode": "tiered",
  "tiers": [
    {"from": "100", "to": "1000", "rates": {"list": "1.25", "reseller": "-1"}},
    {"from": "900", "to": "5000", "rates": {"list": "1.25", "direct": "1.00"}},
    {"from": "6000", "to": "20000", "rates": {"reseller": "1.10"}},
    {"from": "20000", "to": "100000", "rates": {"list": "1.25", "reseller": "1.30", "eba": "0.70"}},
    {"from": "100000", "to": "200000", "rates": {"list": "1.25", "reseller": "0.85", "eba": "0.70001"}},
    {"from": "200000", "to": "150000", "rates": {"list": "1.25", "reseller": "0.85"}}
  ],
  "benchmarks": [
    {"from": "0", "to": "1000",
     "channel": {"low": "1.20", "high": "1.25"},
     "market": {"low": "1.15", "high": "1.10"},
     "advisory": {"low": "0.95", "high": "1.10"}},
    {"from": "1000",
     "channel": {"low": "1.15", "high": "1.20"},
     "market": {"low": "0.95", "high": "1.10"},
     "advisory": {"low": "0.82", "high": "0.95"}}
  ]
}`

func TestParseBookReportsEveryProblem(t *testing.T) {
	_, err := ParseBook([]byte(badBook))
	got := problems(t, err)
	want := map[string]string{
		"version":                   "may hold only letters",
		"currency":                  "must be one of cloud, forma, flex",
		"effective_from":            "RFC 3339",
		"pack_size":                 "greater than zero",
		"mode":                      "volume or graduated",
		"tiers[0].from":             "must be 0",
		"tiers[0].rates.reseller":   "must not be negative",
		"tiers[1].from":             "overlaps tiers[0]: it starts at 900, before 1000",
		"tiers[1].rates.direct":     "is not a channel",
		"tiers[1].rates.reseller":   "reseller is offered from tiers[0]",
		"tiers[2].from":             "leaves a gap: credits from 5000 up to 6000 are in no tier",
		"tiers[2].rates.list":       "is required",
		"tiers[3].rates.reseller":   "must not exceed the list rate of the same tier (1.25)",
		"tiers[4].rates.eba":        "more than 4 decimal places",
		"tiers[5].to":               "must be greater than from",
		"tiers[5].rates.eba":        "eba is offered from tiers[3] (20,000 credits)",
		"benchmarks[0].market.high": "must not be below low (1.15)",
		"benchmarks[0].market.low":  "must be at most advisory.high (1.10)",
		"benchmarks[0].channel.low": "must be at most market.high (1.10)",
		"benchmarks[1].channel.low": "must be at most market.high (1.10)",
	}
	wantProblems(t, got, want)
	for field, msg := range got {
		if _, ok := want[field]; !ok {
			t.Errorf("unexpected problem %s: %s", field, msg)
		}
	}
}

func TestValidateBookBuiltInCode(t *testing.T) {
	list := map[Channel]decimal.Decimal{ChannelList: dec("1.25")}
	tests := []struct {
		name string
		book *Book
		want map[string]string
	}{
		{"nil book", nil, map[string]string{"book": "is missing"}},
		{"empty book", &Book{}, map[string]string{
			"version": "is required", "currency": "is required", "effective_from": "is required",
			"pack_size": "greater than zero", "tiers": "at least one tier",
		}},
		{"closed last tier, fractional pack, unsorted", &Book{
			Version: "v1", Currency: core.Cloud, EffectiveFrom: date("2024-01-01T00:00:00Z"),
			PackSize: dec("12.5"), Notes: strings.Repeat("n", NotesLenMax+1),
			Tiers: []Tier{
				{From: dec("1000"), To: decimal.NewNullDecimal(dec("2000")), Rates: list},
				{From: dec("0"), To: decimal.NewNullDecimal(dec("1000")), Rates: list, Name: strings.Repeat("x", NameLenMax+1)},
			},
		}, map[string]string{
			"pack_size":     "whole number",
			"notes":         "at most 2000",
			"tiers":         "ascending order",
			"tiers[0].to":   "must be left out: the last tier is open-ended",
			"tiers[1].name": "at most 64",
		}},
		{"too many tiers", &Book{
			Version: "v1", Currency: core.Cloud, EffectiveFrom: date("2024-01-01T00:00:00Z"), PackSize: dec("100"),
			Tiers: make([]Tier, TiersMax+1),
		}, map[string]string{"tiers": "at most 16"}},
		{"open tier before the last, fractional bound", &Book{
			Version: "v1", Currency: core.Cloud, EffectiveFrom: date("2024-01-01T00:00:00Z"), PackSize: dec("100"),
			Tiers: []Tier{
				{From: dec("0"), Rates: list},
				{From: dec("10.5"), Rates: list},
			},
		}, map[string]string{"tiers[0].to": "only the last tier may be open-ended", "tiers[1].from": "whole number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, problems(t, tt.book.Validate()), tt.want)
		})
	}
}

func TestParseBookRejectsMalformedDocuments(t *testing.T) {
	good := string(readRepoFile(t, cloud2013Path))
	tests := []struct {
		name, doc string
		code      core.Code
		field     string
		text      string
	}{
		{"empty", "", core.CodeInvalidRequest, "body", "is empty"},
		{"not an object", `[1, 2]`, core.CodeInvalidRequest, "body", "must be a JSON object"},
		{"syntax", `{"version": }`, core.CodeInvalidRequest, "body", "not valid JSON"},
		{"truncated", `{"version": "v1"`, core.CodeInvalidRequest, "body", "ends before"},
		{"trailing data", good + `{}`, core.CodeInvalidRequest, "body", "data after"},
		{"unknown field", strings.Replace(good, `"version"`, `"sales_end": "2022-03-29T00:00:00Z", "version"`, 1), core.CodeInvalidRequest, "body", `unknown field "sales_end"`},
		{"rate as number", strings.Replace(good, `"1.00"`, `1.00`, 1), core.CodeInvalidRequest, "tiers.rates", "JSON string"},
		{"tiers as object", strings.Replace(good, `"tiers": [`, `"tiers": {"x": [`, 1) + "}", core.CodeInvalidRequest, "", ""},
		{"too large", `{"notes": "` + strings.Repeat("x", BookBytesMax) + `"}`, core.CodeTooLarge, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ParseBook([]byte(tt.doc))
			if b != nil || core.ErrorCode(err) != tt.code {
				t.Fatalf("got %v, %v; want a %s error", b, err, tt.code)
			}
			if tt.field != "" {
				wantProblems(t, problems(t, err), map[string]string{tt.field: tt.text})
			}
		})
	}
}

func TestBookJSONRoundTrips(t *testing.T) {
	for _, path := range append(salesBookPaths, cloudGraduatedPath) {
		t.Run(path, func(t *testing.T) {
			b := loadBook(t, path)
			first, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseBook(first)
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			second, err := json.Marshal(again)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("round trip changed the book:\n got: %s\nwant: %s", second, first)
			}
			// The file itself says the same as the parsed book.
			var fromFile, fromBook any
			if err := json.Unmarshal(readRepoFile(t, path), &fromFile); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(first, &fromBook); err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(fromFile)
			c, _ := json.Marshal(fromBook)
			if !bytes.Equal(a, c) {
				t.Errorf("MarshalJSON differs from the file:\n got: %s\nwant: %s", c, a)
			}
		})
	}
}
