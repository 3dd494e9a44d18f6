package governance

import (
	"slices"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// LotExpiry is one line of the expiry calendar.
type LotExpiry struct {
	Lot       string          `json:"lot"`
	Currency  core.Currency   `json:"currency"`
	Kind      ledger.Kind     `json:"kind"`
	Owner     string          `json:"owner,omitempty"`
	Remaining decimal.Decimal `json:"remaining"`
	// ExpiresAt is the lot's end (expiry or withdrawal close); absent for a
	// lot without one.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// DaysLeft is the whole days until ExpiresAt; absent without one.
	DaysLeft *int `json:"days_left,omitempty"`
	// Warn is set when the lot ends within WarnDays and holds credits.
	Warn bool `json:"warn"`
	// ForecastUsed and ForecastUnused split Remaining at the current burn:
	// what will be consumed before the end, and what will expire.
	ForecastUsed   decimal.Decimal `json:"forecast_used"`
	ForecastUnused decimal.Decimal `json:"forecast_unused"`
	// ForecastEmptyAt is when the lot is forecast to be used up.
	ForecastEmptyAt time.Time `json:"forecast_empty_at,omitzero"`
}

// CurrencyExpiry sums the calendar of one currency.
type CurrencyExpiry struct {
	Currency       core.Currency   `json:"currency"`
	Remaining      decimal.Decimal `json:"remaining"`
	MonthlyBurn    decimal.Decimal `json:"monthly_burn"`
	ExpiringIn90   decimal.Decimal `json:"expiring_within_warn_days"`
	ForecastUnused decimal.Decimal `json:"forecast_unused"`
	// PoolRunsOutAt is when the shared pool is forecast to be empty.
	PoolRunsOutAt time.Time `json:"pool_runs_out_at,omitzero"`
}

// ExpiryCalendar is the answer of GET /v1/contracts/{c}/expirations.
type ExpiryCalendar struct {
	AsOf       time.Time        `json:"as_of"`
	WarnDays   int              `json:"warn_days"`
	BurnMonths int              `json:"burn_months"`
	Currencies []CurrencyExpiry `json:"currencies"`
	Lots       []LotExpiry      `json:"lots"`
}

// Expirations lists every lot that still holds credits and has not ended at
// at, by end (soonest first, lots without an end last), warns those ending
// within WarnDays, and forecasts what each will leave unused at the current
// burn (see Project).
func Expirations(lots []ledger.Lot, rows []ledger.Usage, at time.Time) ExpiryCalendar {
	cal := ExpiryCalendar{AsOf: at.UTC(), WarnDays: WarnDays, BurnMonths: BurnMonths, Currencies: []CurrencyExpiry{}, Lots: []LotExpiry{}}
	burns := BurnRates(rows, at)
	warnBy := at.AddDate(0, 0, WarnDays)
	for _, cur := range currenciesOf(lots, nil) {
		pr := Project(lots, burns[cur], cur, at)
		ce := CurrencyExpiry{Currency: cur, Remaining: decimal.Zero, MonthlyBurn: RoundForecast(pr.Burn),
			ExpiringIn90: decimal.Zero, ForecastUnused: decimal.Zero, PoolRunsOutAt: pr.PoolRunsOutAt.UTC()}
		if len(pr.Lots) == 0 {
			continue
		}
		for _, p := range pr.Lots {
			l := p.Lot
			le := LotExpiry{Lot: l.ID, Currency: l.Currency, Kind: l.Kind, Owner: l.Owner, Remaining: l.Remaining,
				ForecastUnused: minDec(l.Remaining, RoundForecast(p.Unused)), ForecastEmptyAt: p.EmptyAt.UTC()}
			le.ForecastUsed = l.Remaining.Sub(le.ForecastUnused)
			if end := l.End(); !end.IsZero() {
				le.ExpiresAt = end.UTC()
				days := int(end.Sub(at) / (24 * time.Hour))
				le.DaysLeft = &days
				le.Warn = end.Before(warnBy)
				if le.Warn {
					ce.ExpiringIn90 = ce.ExpiringIn90.Add(l.Remaining)
				}
			}
			ce.Remaining = ce.Remaining.Add(l.Remaining)
			ce.ForecastUnused = ce.ForecastUnused.Add(le.ForecastUnused)
			cal.Lots = append(cal.Lots, le)
		}
		cal.Currencies = append(cal.Currencies, ce)
	}
	slices.SortStableFunc(cal.Lots, func(a, b LotExpiry) int {
		switch {
		case a.ExpiresAt.IsZero() && !b.ExpiresAt.IsZero():
			return 1
		case !a.ExpiresAt.IsZero() && b.ExpiresAt.IsZero():
			return -1
		}
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		if a.Lot < b.Lot {
			return -1
		} else if a.Lot > b.Lot {
			return 1
		}
		return 0
	})
	return cal
}
