package governance

import (
	"time"

	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// Limits and the seed's numbers, named once.
const (
	// MonthsMax bounds every period a report covers (usage, history, audit):
	// three contract years of monthly roll-ups.
	MonthsMax = 36
	// BurnMonths is how many complete months the burn rate averages.
	BurnMonths = 3
	// WarnDays is how far ahead the expiry calendar warns (the seed: start
	// acceleration or extension talks at least 90 days before expiry): the
	// same rule as the ledger's expiry warnings.
	WarnDays = ledger.ExpiryWarningDays
	// ForecastMonthsDefault is the forecast horizon PRODUCT.md asks for.
	ForecastMonthsDefault = 12
	// ForecastMonthsMax bounds a forecast's horizon.
	ForecastMonthsMax = 24
	// HistoryMonths is the history the forecast learns from: the last
	// complete contract year.
	HistoryMonths = 12
	// HoldoutMonths is what the backtest holds out of the history.
	HoldoutMonths = 3
	// ProjectionMonthsMax bounds the expiry simulation: lots without an end
	// are not followed past it.
	ProjectionMonthsMax = 60
	// RowsMax bounds the roll-up rows a report accepts.
	RowsMax = 200_000
)

var (
	// BaselineShare is the seed's monitoring threshold: flag any consumption
	// exceeding 15% of the monthly budget baseline.
	BaselineShare = decimal.RequireFromString("0.15")
	zero          = decimal.Zero
	one           = decimal.NewFromInt(1)
	hundred       = decimal.NewFromInt(100)
	// secondsPerMonth is the mean Gregorian month (365.2425 / 12 days): a
	// monthly burn rate is spread over time at this pace.
	secondsPerMonth = decimal.NewFromInt(2_629_746)
)

const monthLayout = "2006-01"

// ParseMonth parses "2006-01" into the first instant of that UTC month.
func ParseMonth(s string) (time.Time, bool) {
	if len(s) != len(monthLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(monthLayout, s)
	return t, err == nil
}

// AddMonths returns the month k months after m ("2006-01"); m must be valid.
func AddMonths(m string, k int) string {
	t, ok := ParseMonth(m)
	if !ok {
		return m
	}
	return ledger.Month(t.AddDate(0, k, 0))
}

// MonthsBetween counts the months from a to b, inclusive of both (0 when b
// is before a).
func MonthsBetween(a, b string) int {
	ta, ok1 := ParseMonth(a)
	tb, ok2 := ParseMonth(b)
	if !ok1 || !ok2 || tb.Before(ta) {
		return 0
	}
	return (tb.Year()-ta.Year())*12 + int(tb.Month()-ta.Month()) + 1
}

// months lists the months from a to b inclusive.
func months(a, b string) []string {
	n := MonthsBetween(a, b)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, AddMonths(a, i))
	}
	return out
}

// RoundForecast is the one rounding of forecast quantities: half-up to whole
// credits. Forecasts are estimates; stored quantities are never rounded.
func RoundForecast(d decimal.Decimal) decimal.Decimal { return d.Round(0) }

// percent renders a fraction as a percentage with one decimal ("12.5").
func percent(f decimal.Decimal) string { return f.Mul(hundred).Round(1).String() }

func maxDec(a, b decimal.Decimal) decimal.Decimal {
	if a.GreaterThan(b) {
		return a
	}
	return b
}

func minDec(a, b decimal.Decimal) decimal.Decimal {
	if a.LessThan(b) {
		return a
	}
	return b
}
