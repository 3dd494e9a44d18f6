package pricing

import (
	"testing"

	"cloudcredits/core"
)

func TestCatalogPicksTheBookInEffect(t *testing.T) {
	c := sampleCatalog(t)
	tests := []struct {
		currency core.Currency
		at       string
		want     string // version; "" for an error
	}{
		{core.Cloud, "2013-06-05T23:59:59Z", ""},
		{core.Cloud, "2013-06-06T00:00:00Z", "cloud-2013-06"},
		{core.Cloud, "2023-12-31T23:59:59Z", "cloud-2013-06"},
		{core.Cloud, "2024-01-01T00:00:00Z", "cloud-2024-01"},
		{core.Cloud, "2024-01-01T01:00:00+02:00", "cloud-2013-06"}, // 23:00 UTC the day before
		{core.Cloud, "2030-01-01T00:00:00Z", "cloud-2024-01"},
		{core.Forma, "2025-01-01T00:00:00Z", "forma-2024-01"},
		{core.Flex, "2025-01-01T00:00:00Z", "flex-2024-01"},
		{core.Flex, "2020-01-01T00:00:00Z", ""},
		{"usd", "2025-01-01T00:00:00Z", ""},
	}
	for _, tt := range tests {
		b, err := c.Book(tt.currency, date(tt.at))
		switch {
		case tt.want == "" && core.ErrorCode(err) != core.CodeInvalidRequest:
			t.Errorf("Book(%s, %s): got %v, %v; want an invalid_request error", tt.currency, tt.at, b, err)
		case tt.want != "" && (err != nil || b.Version != tt.want):
			t.Errorf("Book(%s, %s): got %v, %v; want %s", tt.currency, tt.at, b, err, tt.want)
		}
	}
	_, err := c.Book(core.Cloud, date("2010-01-01T00:00:00Z"))
	wantProblems(t, problems(t, err), map[string]string{"currency": "the first takes effect at 2013-06-06T00:00:00Z"})
}

func TestCatalogWithoutACurrency(t *testing.T) {
	c, err := NewCatalog(loadBook(t, cloudCurrentPath))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Book(core.Forma, date("2025-01-01T00:00:00Z"))
	wantProblems(t, problems(t, err), map[string]string{"currency": "forma credits are not sold"})
}

func TestCatalogVersion(t *testing.T) {
	c := sampleCatalog(t)
	if b, ok := c.Version(core.Cloud, "cloud-2013-06"); !ok || !b.EffectiveFrom.Equal(date("2013-06-06T00:00:00Z")) {
		t.Errorf("Version(cloud, cloud-2013-06): got %v, %v", b, ok)
	}
	if b, ok := c.Version(core.Forma, "cloud-2013-06"); ok {
		t.Errorf("Version(forma, cloud-2013-06): got %v, want none (versions are per currency)", b.Version)
	}
	if got := len(c.Books(core.Cloud)); got != 2 {
		t.Errorf("Books(cloud): got %d, want 2", got)
	}
	if books := c.Books(core.Cloud); books[0].Version != "cloud-2013-06" {
		t.Errorf("Books(cloud) is not oldest first: %s", books[0].Version)
	}
}

func TestNewCatalogRefuses(t *testing.T) {
	current := loadBook(t, cloudCurrentPath)
	sameVersion := loadBook(t, cloud2013Path)
	sameVersion.Version = current.Version
	sameStart := loadBook(t, cloud2013Path)
	sameStart.EffectiveFrom = current.EffectiveFrom
	broken := loadBook(t, formaCurrentPath)
	broken.PackSize = dec("0")
	broken.Tiers = nil

	_, err := NewCatalog(current, sameVersion, sameStart, broken, nil)
	wantProblems(t, problems(t, err), map[string]string{
		"books[1].version":        "repeats books[0]",
		"books[2].effective_from": "repeats books[0]",
		"books[3].pack_size":      "greater than zero",
		"books[3].tiers":          "at least one tier",
		"books[4].book":           "is missing",
	})
	_, err = NewCatalog()
	wantProblems(t, problems(t, err), map[string]string{"books": "at least one"})
}

func TestCatalogPrice(t *testing.T) {
	c := sampleCatalog(t)
	req := Request{Currency: core.Cloud, Credits: dec("300")}
	tests := []struct{ at, version, subtotal string }{
		{"2015-01-01T00:00:00Z", "cloud-2013-06", "300.00"},
		{"2025-01-01T00:00:00Z", "cloud-2024-01", "375.00"},
	}
	for _, tt := range tests {
		p, err := c.Price(req, date(tt.at))
		if err != nil || p.PriceBookVersion != tt.version || core.FormatMoney(p.Subtotal) != tt.subtotal {
			t.Errorf("at %s: got %s %s (%v), want %s %s", tt.at, p.PriceBookVersion, p.Subtotal, err, tt.version, tt.subtotal)
		}
	}
	// A bad request is reported whole, currency included.
	_, err := c.Price(Request{Currency: "usd", Credits: dec("-1")}, date("2025-01-01T00:00:00Z"))
	wantProblems(t, problems(t, err), map[string]string{"currency": "must be one of", "credits": "greater than zero"})
}
