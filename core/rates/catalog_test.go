package rates

import (
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
)

// cardAt is the 2018 card under another version and start date, with the
// Structural Analysis rate changed, so tests can tell the cards apart.
func cardAt(t *testing.T, version, from, rate string) *Card {
	t.Helper()
	s := string(read2018(t))
	s = strings.Replace(s, `"version": "2018-03-23"`, `"version": "`+version+`"`, 1)
	s = strings.Replace(s, `"effective_from": "2018-03-23T00:00:00Z"`, `"effective_from": "`+from+`"`, 1)
	s = strings.Replace(s, `"rate": "2"`, `"rate": "`+rate+`"`, 1)
	c, err := ParseCard([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogAt(t *testing.T) {
	c2018 := card2018(t)
	c2020 := cardAt(t, "2020-01-01", "2020-01-01T00:00:00Z", "3")
	c2019 := cardAt(t, "2019-06-01", "2019-06-01T00:00:00+02:00", "4")
	in := []*Card{c2020, c2018, c2019}
	cat, err := NewCatalog(in...)
	if err != nil {
		t.Fatal(err)
	}
	if in[0] != c2020 {
		t.Errorf("NewCatalog reordered its argument")
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		at   string
		want string // version, or "" for none
	}{
		{"2018-03-22T23:59:59Z", ""},
		{"2018-03-23T00:00:00Z", "2018-03-23"},
		{"2019-05-31T21:59:59.999999999Z", "2018-03-23"},
		{"2019-05-31T22:00:00Z", "2019-06-01"},
		{"2019-12-31T23:59:59Z", "2019-06-01"},
		{"2020-01-01T00:00:00Z", "2020-01-01"},
		{"2030-01-01T00:00:00Z", "2020-01-01"},
	}
	for _, tt := range tests {
		got, err := cat.At(at(tt.at))
		switch {
		case tt.want == "" && core.ErrorCode(err) != core.CodeNotFound:
			t.Errorf("At(%s): got %v, want not_found", tt.at, err)
		case tt.want != "" && err != nil:
			t.Errorf("At(%s): %v", tt.at, err)
		case tt.want != "" && got.Version != tt.want:
			t.Errorf("At(%s): got %s, want %s", tt.at, got.Version, tt.want)
		}
	}
	if got, ok := cat.Version("2019-06-01"); !ok || got != c2019 {
		t.Errorf("Version(2019-06-01): got %v, %v", got, ok)
	}
	if _, ok := cat.Version("1999"); ok {
		t.Errorf("Version(1999): found a card")
	}
	var versions []string
	for _, c := range cat.Cards() {
		versions = append(versions, c.Version)
	}
	if want := []string{"2018-03-23", "2019-06-01", "2020-01-01"}; !equalStrings(versions, want) {
		t.Errorf("Cards: got %q, want %q", versions, want)
	}
	// An estimate names the version it used.
	c, _ := cat.At(at("2019-07-01T00:00:00Z"))
	est, err := c.Estimate("structural-analysis", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if est.Credits.String() != "4" || est.RatecardVersion != "2019-06-01" {
		t.Errorf("estimate: got %s credits under %s, want 4 under 2019-06-01", est.Credits, est.RatecardVersion)
	}
}

func TestNewCatalogErrors(t *testing.T) {
	c2018 := card2018(t)
	sameVersion := cardAt(t, "2018-03-23", "2021-01-01T00:00:00Z", "2")
	sameInstant := cardAt(t, "other", "2018-03-23T01:00:00+01:00", "2")
	broken := cardAt(t, "broken", "2022-01-01T00:00:00Z", "2")
	broken.Services[1].Rule.Rate = dec("-5")
	tests := []struct {
		name   string
		cards  []*Card
		fields []string
	}{
		{"no cards", nil, []string{"cards"}},
		{"nil card", []*Card{c2018, nil}, []string{"cards[1]"}},
		{"duplicate version", []*Card{c2018, sameVersion}, []string{"cards[1].version"}},
		{"same instant", []*Card{c2018, sameInstant}, []string{"cards[1].effective_from"}},
		{"invalid card", []*Card{c2018, broken}, []string{"cards[1].services[1].rule.rate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCatalog(tt.cards...)
			if got := problemFields(t, err); !equalStrings(got, tt.fields) {
				t.Errorf("fields: got %q, want %q", got, tt.fields)
			}
		})
	}
}
