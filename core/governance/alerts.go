package governance

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// Alert codes. Appended only; clients match on them.
const (
	AlertUserOverBaseline        = "user_over_baseline_share"
	AlertProjectOverBaseline     = "project_over_baseline_share"
	AlertConsumptionOverBaseline = "consumption_over_baseline_share"
	AlertPoolRunsOut             = "pool_runs_out_before_expiry"
	AlertPoolExpiresUnused       = "pool_expires_unused"
)

// AlertsMax bounds the alerts of one answer; the rest are counted, not listed.
const AlertsMax = 500

// Alert is one governance alert. Details carries the numbers of the message
// as strings (credits as decimal text, times as RFC 3339).
type Alert struct {
	Code     string            `json:"code"`
	Currency core.Currency     `json:"currency"`
	Message  string            `json:"message"`
	Details  map[string]string `json:"details"`
}

// AlertReport is the answer of GET /v1/contracts/{c}/alerts.
type AlertReport struct {
	AsOf time.Time `json:"as_of"`
	// Months are the months the baseline checks looked at: the last
	// complete month and the current one.
	Months    []string        `json:"months"`
	Baseline  decimal.Decimal `json:"monthly_baseline"`
	Threshold decimal.Decimal `json:"threshold"`
	Alerts    []Alert         `json:"alerts"`
	// Omitted counts alerts beyond AlertsMax.
	Omitted int `json:"omitted"`
}

// AlertHistoryFrom is the first month whose roll-ups Alerts reads for a
// check at `at`: the BurnMonths complete months before at's month (the burn
// rate) — the baseline checks look at fewer. Rows before it change nothing,
// so the hourly check reads 4 months of roll-ups, not a year.
func AlertHistoryFrom(at time.Time) string { return AddMonths(ledger.Month(at), -BurnMonths) }

// Alerts checks the contract at at:
//
//   - any user or project whose consumption in a currency in the last
//     complete month or the current one is above BaselineShare of the
//     contract's monthly baseline (the baseline is in credits and applies
//     to each currency alone; a zero baseline turns these checks off);
//   - any single consumption above that threshold. The roll-ups do not keep
//     single consumptions, so this is what they can prove: a row of count 1
//     above the threshold is one consumption; a row whose average
//     (credits / count) is above it holds at least one. A large job hidden
//     in a row whose average is below the threshold is not seen;
//   - a currency's shared pool forecast to run out before its last lot
//     expires, and one forecast to expire with credits unused, at the burn
//     of the last BurnMonths complete months (see Project). A contract that
//     has not yet lived through a complete month gets no pool alerts: its
//     burn is unknown, not zero, and "everything will expire unused" on
//     its first day would be noise.
//
// Alerts come sorted by code, currency, then message.
func Alerts(c ledger.Contract, lots []ledger.Lot, rows []ledger.Usage, at time.Time) AlertReport {
	rep := AllAlerts(c, lots, rows, at)
	if len(rep.Alerts) > AlertsMax {
		rep.Omitted = len(rep.Alerts) - AlertsMax
		rep.Alerts = rep.Alerts[:AlertsMax]
	}
	return rep
}

// AllAlerts is Alerts without the AlertsMax cut: what the alert check
// records (every alert event reaches the outbox, whatever its rank).
func AllAlerts(c ledger.Contract, lots []ledger.Lot, rows []ledger.Usage, at time.Time) AlertReport {
	cur := ledger.Month(at)
	prev := AddMonths(cur, -1)
	threshold := c.MonthlyBaseline.Mul(BaselineShare)
	rep := AlertReport{AsOf: at.UTC(), Months: []string{prev, cur}, Baseline: c.MonthlyBaseline, Threshold: threshold, Alerts: []Alert{}}
	var out []Alert
	if c.MonthlyBaseline.Sign() > 0 {
		type sumKey struct {
			month, who string
			currency   core.Currency
		}
		users, projects := map[sumKey]decimal.Decimal{}, map[sumKey]decimal.Decimal{}
		for _, u := range rows {
			k := u.Key
			if k.Month != cur && k.Month != prev {
				continue
			}
			users[sumKey{k.Month, k.User, k.Currency}] = users[sumKey{k.Month, k.User, k.Currency}].Add(u.Credits)
			if k.Project != "" {
				projects[sumKey{k.Month, k.Project, k.Currency}] = projects[sumKey{k.Month, k.Project, k.Currency}].Add(u.Credits)
			}
			if u.Count <= 0 {
				continue
			}
			avg := u.Credits.Div(decimal.NewFromInt(u.Count))
			if !avg.GreaterThan(threshold) {
				continue
			}
			a := Alert{Code: AlertConsumptionOverBaseline, Currency: k.Currency, Details: map[string]string{
				"month": k.Month, "user": k.User, "service": k.Service, "project": k.Project, "entity": k.Entity,
				"credits": u.Credits.String(), "count": fmt.Sprint(u.Count), "threshold": threshold.String(),
			}}
			if u.Count == 1 {
				a.Message = fmt.Sprintf("In %s one %s job by %s consumed %s %s, above %s (15%% of the monthly baseline of %s).",
					k.Month, k.Service, k.User, u.Credits, k.Currency.Name(), threshold, c.MonthlyBaseline)
			} else {
				a.Details["average"] = RoundForecast(avg).String()
				a.Message = fmt.Sprintf("In %s %d %s jobs by %s consumed %s %s, %s on average: at least one was above %s (15%% of the monthly baseline of %s).",
					k.Month, u.Count, k.Service, k.User, u.Credits, k.Currency.Name(), RoundForecast(avg), threshold, c.MonthlyBaseline)
			}
			out = append(out, a)
		}
		over := func(code, noun string, sums map[sumKey]decimal.Decimal) {
			for k, v := range sums {
				if !v.GreaterThan(threshold) {
					continue
				}
				share := v.Div(c.MonthlyBaseline)
				out = append(out, Alert{Code: code, Currency: k.currency,
					Message: fmt.Sprintf("%s %s consumed %s %s in %s: %s%% of the monthly baseline of %s, above the 15%% threshold (%s).",
						noun, k.who, v, k.currency.Name(), k.month, percent(share), c.MonthlyBaseline, threshold),
					Details: map[string]string{"month": k.month, noun: k.who, "credits": v.String(),
						"threshold": threshold.String(), "share_percent": percent(share)}})
			}
		}
		over(AlertUserOverBaseline, "user", users)
		over(AlertProjectOverBaseline, "project", projects)
	}
	burns := BurnRates(rows, at)
	pools := currenciesOf(lots, nil)
	if ledger.Month(c.Start) > prev {
		pools = nil // no complete month yet: no burn to forecast from
	}
	for _, cur := range pools {
		pr := Project(lots, burns[cur], cur, at)
		if pr.PoolRemaining.Sign() <= 0 {
			continue
		}
		burn := RoundForecast(pr.Burn).String()
		if !pr.PoolRunsOutAt.IsZero() && (pr.PoolEnd.IsZero() || pr.PoolRunsOutAt.Before(pr.PoolEnd)) {
			d := map[string]string{"pool_remaining": pr.PoolRemaining.String(), "monthly_burn": burn,
				"runs_out_at": pr.PoolRunsOutAt.UTC().Format(time.RFC3339)}
			until := "it has no expiry"
			if !pr.PoolEnd.IsZero() {
				d["pool_expires_at"] = pr.PoolEnd.UTC().Format(time.RFC3339)
				until = "its last lot expires on " + pr.PoolEnd.UTC().Format(time.DateOnly)
			}
			out = append(out, Alert{Code: AlertPoolRunsOut, Currency: cur, Details: d,
				Message: fmt.Sprintf("The shared pool of %s %s runs out around %s at the current burn of %s a month; %s.",
					pr.PoolRemaining, cur.Name(), pr.PoolRunsOutAt.UTC().Format(time.DateOnly), burn, until)})
		}
		if unused := RoundForecast(pr.PoolUnused); unused.Sign() > 0 {
			d := map[string]string{"pool_remaining": pr.PoolRemaining.String(), "monthly_burn": burn, "forecast_unused": unused.String()}
			first := time.Time{}
			for _, p := range pr.Lots {
				if p.Lot.Kind == ledger.Shared && p.Unused.Sign() > 0 && (first.IsZero() || p.Lot.End().Before(first)) {
					first = p.Lot.End()
				}
			}
			d["first_expiry_at"] = first.UTC().Format(time.RFC3339)
			out = append(out, Alert{Code: AlertPoolExpiresUnused, Currency: cur, Details: d,
				Message: fmt.Sprintf("At the current burn of %s a month, %s of the %s %s in the shared pool will expire unused, the first on %s: accelerate consumption or negotiate an expiry extension at least %d days before.",
					burn, unused, pr.PoolRemaining, cur.Name(), first.UTC().Format(time.DateOnly), WarnDays)})
		}
	}
	slices.SortFunc(out, func(a, b Alert) int {
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Currency), string(b.Currency)); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	if out != nil {
		rep.Alerts = out
	}
	return rep
}
