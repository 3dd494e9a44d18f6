package governance

import (
	"fmt"

	"cloudcredits/core"
	"cloudcredits/core/pricing"

	"github.com/shopspring/decimal"
)

// ChannelQuote is the recommended volume priced on one channel.
type ChannelQuote struct {
	Channel   pricing.Channel `json:"channel"`
	Available bool            `json:"available"`
	Tier      string          `json:"tier,omitempty"`
	UnitPrice string          `json:"unit_price,omitempty"`
	Total     string          `json:"total,omitempty"`
	// Position and Benchmark place the unit price against the seed's
	// market and advisory bands for the annual volume.
	Position  pricing.Position `json:"position,omitempty"`
	Benchmark string           `json:"benchmark,omitempty"`
	// Reason says why the channel does not sell this volume.
	Reason string `json:"reason,omitempty"`
}

// Option is one contract term the buyer may negotiate.
type Option struct {
	Kind string `json:"kind"` // expiry_extension or price_cut
	// Months is the extension's length; Percent the cut's size.
	Months  int    `json:"months,omitempty"`
	Percent string `json:"percent,omitempty"`
	// CreditsSaved is the expected credits saved from expiry (zero for a
	// price cut, which saves money, not credits).
	CreditsSaved decimal.Decimal `json:"credits_saved"`
	// Value is the expected dollar value of the term over one purchase.
	Value string `json:"value"`
}

// Advice is the purchase advisor's answer for one currency.
type Advice struct {
	ForecastCredits decimal.Decimal `json:"forecast_credits"`
	// SafetyMargin is the share added to the forecast: the backtest MAPE,
	// within [SafetyMarginMin, SafetyMarginMax].
	SafetyMargin decimal.Decimal `json:"safety_margin"`
	// AnnualVolume is forecast × (1 + margin), rounded up to whole credits:
	// the year's demand to commit to, which picks the tier.
	AnnualVolume decimal.Decimal `json:"annual_volume"`
	// UsableBalance is what the live lots are forecast to still serve.
	UsableBalance decimal.Decimal `json:"usable_balance"`
	// RecommendedPurchase is AnnualVolume − UsableBalance, at least zero.
	RecommendedPurchase decimal.Decimal `json:"recommended_purchase"`
	Channels            []ChannelQuote  `json:"channels"`
	// Expiry analysis: the annual volume bought at once on the contract's
	// channel, against three equally likely demand scenarios, the
	// forecast × (1 − v), × 1 and × (1 + v), v the variability.
	UnitPrice      string          `json:"unit_price"`
	ExpectedUnused decimal.Decimal `json:"expected_unused"`
	Options        []Option        `json:"options"`
	Best           string          `json:"best"`
	Recommendation string          `json:"recommendation"`
}

// advise prices the recommended volume and weighs an expiry extension
// against a price cut for this demand.
func advise(cf CurrencyForecast, usable decimal.Decimal, opt ForecastOptions) Advice {
	a := Advice{ForecastCredits: cf.Total, UsableBalance: usable, Channels: []ChannelQuote{}, Options: []Option{}}
	margin := SafetyMarginMin
	if cf.Backtest.MAPE != nil {
		margin = minDec(SafetyMarginMax, maxDec(SafetyMarginMin, cf.Backtest.MAPE.Div(hundred)))
	}
	a.SafetyMargin = margin.Round(3)
	a.AnnualVolume = cf.Total.Mul(one.Add(a.SafetyMargin)).Ceil()
	a.RecommendedPurchase = maxDec(decimal.Zero, a.AnnualVolume.Sub(usable))
	channel := opt.Channel
	if channel == "" {
		channel = pricing.ChannelList
	}
	unit := decimal.Zero
	for _, ch := range pricing.Channels() {
		q := ChannelQuote{Channel: ch}
		p, err := opt.Price(pricing.Request{Currency: cf.Currency, Credits: a.AnnualVolume, Channel: ch})
		if err != nil {
			if e, ok := core.AsError(err); ok {
				q.Reason = e.Message
			} else {
				q.Reason = err.Error()
			}
			a.Channels = append(a.Channels, q)
			continue
		}
		q.Available, q.Tier, q.UnitPrice, q.Total = true, p.Tier.Name, pricing.FormatRate(p.UnitPrice), core.FormatMoney(p.Subtotal)
		if p.Benchmark != nil {
			q.Position, q.Benchmark = p.Benchmark.Position, p.Benchmark.Message
		}
		if ch == channel || (unit.IsZero() && ch == pricing.ChannelList) {
			unit = p.UnitPrice
		}
		a.Channels = append(a.Channels, q)
	}
	a.UnitPrice = pricing.FormatRate(unit)

	// Expected credits left to expire: V bought at once, demand D over the
	// lot's 12 months (+ e months with an extension: the burn order spends
	// the extended lot first, so it serves the next months' demand).
	v := cf.Variability
	scen := []decimal.Decimal{cf.Total.Mul(one.Sub(v)), cf.Total, cf.Total.Mul(one.Add(v))}
	unused := func(extra int) decimal.Decimal {
		sum := decimal.Zero
		for _, d := range scen {
			served := d.Mul(decimal.NewFromInt(int64(12 + extra))).Div(decimal.NewFromInt(12))
			sum = sum.Add(maxDec(decimal.Zero, a.AnnualVolume.Sub(served)))
		}
		return sum.Div(decimal.NewFromInt(int64(len(scen))))
	}
	base := unused(0)
	a.ExpectedUnused = RoundForecast(base)
	bestValue := decimal.NewFromInt(-1)
	for _, e := range ExtensionMonths {
		saved := RoundForecast(base.Sub(unused(e)))
		o := Option{Kind: "expiry_extension", Months: e, CreditsSaved: saved, Value: core.FormatMoney(saved.Mul(unit))}
		if val := core.RoundMoney(saved.Mul(unit)); val.GreaterThan(bestValue) {
			bestValue, a.Best = val, fmt.Sprintf("a %d-month expiry extension", e)
		}
		a.Options = append(a.Options, o)
	}
	spend := a.AnnualVolume.Mul(unit)
	for _, c := range PriceCuts {
		val := core.RoundMoney(spend.Mul(c))
		a.Options = append(a.Options, Option{Kind: "price_cut", Percent: percent(c), CreditsSaved: decimal.Zero, Value: core.FormatMoney(val)})
		if val.GreaterThan(bestValue) {
			bestValue, a.Best = val, fmt.Sprintf("a %s%% price cut", percent(c))
		}
	}
	ext, cut := a.Options[len(ExtensionMonths)-1], a.Options[len(a.Options)-1]
	shape := "steady"
	if v.GreaterThanOrEqual(dec("0.25")) {
		shape = "variable"
	}
	worth := "the price cut is worth more"
	if ext.Value > "" && dec(ext.Value).GreaterThan(dec(cut.Value)) {
		worth = "the expiry extension is worth more"
	}
	a.Recommendation = fmt.Sprintf(
		"Forecast demand is %s %s over %d months (%s, variability %s%%); buy %s for the year with a %s%% margin (%s after the usable balance). "+
			"Bought at once at %s, an expected %s would expire; a %d-month extension saves %s credits ($%s), a %s%% price cut $%s: for this demand %s. Best: %s.",
		cf.Total, cf.Currency.Name(), len(cf.Forecast), shape, percent(v), a.AnnualVolume, percent(a.SafetyMargin), a.RecommendedPurchase,
		a.UnitPrice, a.ExpectedUnused, ext.Months, ext.CreditsSaved, ext.Value, cut.Percent, cut.Value, worth, a.Best)
	return a
}
