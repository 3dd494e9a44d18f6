package governance

import (
	"fmt"
	"slices"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"

	"github.com/shopspring/decimal"
)

// Holt's linear method with a damped trend; the parameters are fixed, not
// fitted, so a forecast is reproducible and explainable (see doc.go).
var (
	holtAlpha = dec("0.5") // level smoothing
	holtBeta  = dec("0.2") // trend smoothing
	holtPhi   = dec("0.8") // trend damping: a spike's slope fades
	// SafetyMarginMin and SafetyMarginMax bound the purchase margin, which
	// is otherwise the forecast's own backtest error (MAPE).
	SafetyMarginMin = dec("0.10")
	SafetyMarginMax = dec("0.30")
	// VariabilityMax caps the relative demand swing of the expiry scenarios.
	VariabilityMax = dec("0.9")
	// ExtensionMonths and PriceCuts are the seed's alternatives: carry
	// unused credits forward 6–12 months, or a 10–15% lower price.
	ExtensionMonths = []int{6, 12}
	PriceCuts       = []decimal.Decimal{dec("0.10"), dec("0.15")}
)

// Holt forecasts h values after series with Holt's damped linear method,
// never below zero. Arithmetic is decimal, rounded to 6 digits a step so the
// scale stays bounded.
func Holt(series []decimal.Decimal, h int) []decimal.Decimal {
	out := make([]decimal.Decimal, h)
	for i := range out {
		out[i] = decimal.Zero
	}
	if len(series) == 0 {
		return out
	}
	level, trend := series[0], decimal.Zero
	if n := min(3, len(series)-1); n > 0 {
		trend = series[n].Sub(series[0]).Div(decimal.NewFromInt(int64(n)))
	}
	for _, y := range series[1:] {
		prev := level
		damped := trend.Mul(holtPhi)
		level = holtAlpha.Mul(y).Add(one.Sub(holtAlpha).Mul(prev.Add(damped))).Round(6)
		trend = holtBeta.Mul(level.Sub(prev)).Add(one.Sub(holtBeta).Mul(damped)).Round(6)
	}
	phiSum, phiPow := decimal.Zero, one
	for i := range out {
		phiPow = phiPow.Mul(holtPhi)
		phiSum = phiSum.Add(phiPow)
		out[i] = maxDec(decimal.Zero, level.Add(phiSum.Mul(trend))).Round(6)
	}
	return out
}

// Backtest is the error of a forecast against what happened.
type Backtest struct {
	HoldoutMonths int             `json:"holdout_months"`
	MAE           decimal.Decimal `json:"mae"`
	// MAPE is the mean absolute percentage error over the held-out months
	// with demand, as a percentage; absent when none had demand.
	MAPE *decimal.Decimal `json:"mape_percent,omitempty"`
}

// BacktestHolt fits on all but the last holdout values and compares the
// forecast of those with what they were.
func BacktestHolt(series [][]decimal.Decimal, holdout int) Backtest {
	bt := Backtest{HoldoutMonths: holdout, MAE: decimal.Zero}
	if len(series) == 0 || len(series[0]) <= holdout {
		return bt
	}
	n := len(series[0]) - holdout
	pred := make([]decimal.Decimal, holdout)
	actual := make([]decimal.Decimal, holdout)
	for i := range pred {
		pred[i], actual[i] = decimal.Zero, decimal.Zero
	}
	// The total is the sum of the parts' forecasts, as in Forecast.
	for _, s := range series {
		for i, v := range Holt(s[:n], holdout) {
			pred[i] = pred[i].Add(v)
			actual[i] = actual[i].Add(s[n+i])
		}
	}
	absSum, pctSum, pctN := decimal.Zero, decimal.Zero, 0
	for i := range pred {
		e := pred[i].Sub(actual[i]).Abs()
		absSum = absSum.Add(e)
		if actual[i].Sign() > 0 {
			pctSum = pctSum.Add(e.Div(actual[i]))
			pctN++
		}
	}
	bt.MAE = absSum.Div(decimal.NewFromInt(int64(holdout))).Round(1)
	if pctN > 0 {
		m := pctSum.Div(decimal.NewFromInt(int64(pctN))).Mul(hundred).Round(1)
		bt.MAPE = &m
	}
	return bt
}

// MonthCredits is a month's credits.
type MonthCredits struct {
	Month   string          `json:"month"`
	Credits decimal.Decimal `json:"credits"`
}

// ServiceForecast is one service's history and forecast.
type ServiceForecast struct {
	Service  string          `json:"service"`
	History  []MonthCredits  `json:"history"`
	Forecast []MonthCredits  `json:"forecast"`
	Total    decimal.Decimal `json:"total"`
}

// CurrencyForecast is one currency's forecast, its backtest and advice.
type CurrencyForecast struct {
	Currency core.Currency     `json:"currency"`
	Services []ServiceForecast `json:"services"`
	// Forecast is the sum of the services' forecasts by month.
	Forecast     []MonthCredits  `json:"forecast"`
	Total        decimal.Decimal `json:"total"`
	HistoryTotal decimal.Decimal `json:"history_total"`
	Backtest     Backtest        `json:"backtest"`
	// Variability is the mean absolute deviation of monthly demand over
	// its mean, capped at VariabilityMax: how spiky demand is.
	Variability decimal.Decimal `json:"variability"`
	Advisor     *Advice         `json:"advisor,omitempty"`
}

// ForecastReport is the answer of GET /v1/contracts/{c}/forecast.
type ForecastReport struct {
	AsOf          time.Time          `json:"as_of"`
	Method        string             `json:"method"`
	HistoryMonths int                `json:"history_months"`
	Months        int                `json:"months"`
	Currencies    []CurrencyForecast `json:"currencies"`
}

// Pricer prices a purchase; the caller binds the price book catalog and the
// time (pricing.Catalog.Price at the report's time).
type Pricer func(pricing.Request) (pricing.Price, error)

// ForecastOptions are the forecast's inputs beyond the usage rows.
type ForecastOptions struct {
	// Months is the horizon; 0 means ForecastMonthsDefault.
	Months int
	// Lots are the contract's lots: their live, forecast-to-be-used credits
	// are subtracted from the recommended purchase.
	Lots []ledger.Lot
	// Channel is the contract's channel, whose price the expiry analysis
	// values credits at; "" means list.
	Channel pricing.Channel
	// Price prices the advice; nil leaves the advisor out.
	Price Pricer
}

// Forecast forecasts the next months of demand by currency and service from
// the HistoryMonths complete months before at, with Holt's damped linear
// method (doc.go says why), backtests it on the last HoldoutMonths, and
// advises a purchase for each currency with demand.
func Forecast(rows []ledger.Usage, at time.Time, opt ForecastOptions) ForecastReport {
	h := opt.Months
	if h <= 0 {
		h = ForecastMonthsDefault
	}
	h = min(h, ForecastMonthsMax)
	last := AddMonths(ledger.Month(at), -1)
	first := AddMonths(last, -(HistoryMonths - 1))
	hist := months(first, last)
	next := months(AddMonths(last, 1), AddMonths(last, h))
	rep := ForecastReport{AsOf: at.UTC(), HistoryMonths: HistoryMonths, Months: h, Currencies: []CurrencyForecast{},
		Method: fmt.Sprintf("Holt's linear exponential smoothing with a damped trend (alpha %s, beta %s, phi %s) per service, over the %d complete months before now; totals are sums of the services' forecasts",
			holtAlpha, holtBeta, holtPhi, HistoryMonths)}
	idx := map[string]int{}
	for i, m := range hist {
		idx[m] = i
	}
	series := map[core.Currency]map[string][]decimal.Decimal{}
	for _, u := range rows {
		i, ok := idx[u.Key.Month]
		if !ok {
			continue
		}
		bySvc := series[u.Key.Currency]
		if bySvc == nil {
			bySvc = map[string][]decimal.Decimal{}
			series[u.Key.Currency] = bySvc
		}
		s := bySvc[u.Key.Service]
		if s == nil {
			s = make([]decimal.Decimal, len(hist))
			for j := range s {
				s[j] = decimal.Zero
			}
			bySvc[u.Key.Service] = s
		}
		s[i] = s[i].Add(u.Credits)
	}
	burns := BurnRates(rows, at)
	for _, cur := range core.Currencies() {
		bySvc := series[cur]
		if len(bySvc) == 0 {
			continue
		}
		cf := CurrencyForecast{Currency: cur, Services: []ServiceForecast{}, Total: decimal.Zero, HistoryTotal: decimal.Zero}
		cf.Forecast = make([]MonthCredits, h)
		for i, m := range next {
			cf.Forecast[i] = MonthCredits{Month: m, Credits: decimal.Zero}
		}
		names := make([]string, 0, len(bySvc))
		for s := range bySvc {
			names = append(names, s)
		}
		slices.Sort(names)
		all := make([][]decimal.Decimal, 0, len(names))
		totals := make([]decimal.Decimal, len(hist))
		for i := range totals {
			totals[i] = decimal.Zero
		}
		for _, name := range names {
			s := bySvc[name]
			all = append(all, s)
			sf := ServiceForecast{Service: name, Total: decimal.Zero}
			for i, v := range s {
				sf.History = append(sf.History, MonthCredits{Month: hist[i], Credits: v})
				totals[i] = totals[i].Add(v)
				cf.HistoryTotal = cf.HistoryTotal.Add(v)
			}
			for i, v := range Holt(s, h) {
				r := RoundForecast(v)
				sf.Forecast = append(sf.Forecast, MonthCredits{Month: next[i], Credits: r})
				sf.Total = sf.Total.Add(r)
				cf.Forecast[i].Credits = cf.Forecast[i].Credits.Add(r)
			}
			cf.Total = cf.Total.Add(sf.Total)
			cf.Services = append(cf.Services, sf)
		}
		cf.Backtest = BacktestHolt(all, HoldoutMonths)
		cf.Variability = variability(totals)
		if opt.Price != nil && cf.Total.Sign() > 0 {
			usable := decimal.Zero
			for _, p := range Project(opt.Lots, burns[cur], cur, at).Lots {
				usable = usable.Add(p.Used)
			}
			adv := advise(cf, RoundForecast(usable), opt)
			cf.Advisor = &adv
		}
		rep.Currencies = append(rep.Currencies, cf)
	}
	return rep
}

// variability is the mean absolute deviation of the series over its mean.
func variability(s []decimal.Decimal) decimal.Decimal {
	if len(s) == 0 {
		return decimal.Zero
	}
	n := decimal.NewFromInt(int64(len(s)))
	sum := decimal.Zero
	for _, v := range s {
		sum = sum.Add(v)
	}
	if sum.Sign() <= 0 {
		return decimal.Zero
	}
	mean := sum.Div(n)
	dev := decimal.Zero
	for _, v := range s {
		dev = dev.Add(v.Sub(mean).Abs())
	}
	return minDec(VariabilityMax, dev.Div(n).Div(mean)).Round(3)
}
