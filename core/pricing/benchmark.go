package pricing

import (
	"cloudcredits/core/jsontext"

	"github.com/shopspring/decimal"
)

// Position says where a unit price sits against the benchmark band of the
// buyer's annual volume, from dearest to cheapest. The band's three ranges
// meet (advisory.high = market.low, market.high = channel.low), and a price
// exactly on a shared bound counts in the cheaper range, so every price has
// exactly one position:
//
//	above_channel    price > channel.high: dearer than the standard channel rate
//	within_channel   market.high < price ≤ channel.high: a standard channel price, above market
//	within_market    advisory.high < price ≤ market.high: at the market benchmark
//	within_advisory  advisory.low ≤ price ≤ advisory.high: at the advisory best rate
//	below_advisory   price < advisory.low: cheaper than the best advised rate
//
// Positions are appended only; clients match on them.
type Position string

const (
	PositionAboveChannel   Position = "above_channel"
	PositionWithinChannel  Position = "within_channel"
	PositionWithinMarket   Position = "within_market"
	PositionWithinAdvisory Position = "within_advisory"
	PositionBelowAdvisory  Position = "below_advisory"
)

// BenchmarkReport places a price against the benchmark band of its annual
// volume.
type BenchmarkReport struct {
	// Band is the band's label ("5,000–19,999").
	Band     string
	Channel  Range // the standard channel rate
	Market   Range // the market rate: what comparable buyers pay
	Advisory Range // the advisory best rate: what negotiation achieves
	Position Position
	Message  string
}

// benchmark compares cost / credits (the unit price, exactly) with the band
// holding volume; nil when the book has no benchmarks. unit is the displayed
// unit price, used in the message only.
func (b *Book) benchmark(volume, cost, credits, unit decimal.Decimal) *BenchmarkReport {
	for _, m := range b.Benchmarks {
		if !inBand(volume, m.From, m.To) {
			continue
		}
		// price > x ⟺ cost > x × credits: no division, no rounding. The
		// messages are concatenated, not formatted: prices are asked for
		// on every keystroke in the browser.
		above := func(x decimal.Decimal) bool { return cost.GreaterThan(x.Mul(credits)) }
		r := &BenchmarkReport{Band: m.Label(), Channel: m.Channel, Market: m.Market, Advisory: m.Advisory}
		price := FormatRate(unit) + " per credit"
		band := "for the annual volume band " + r.Band
		switch {
		case above(m.Channel.High):
			r.Position = PositionAboveChannel
			r.Message = price + " is above the standard channel rate (" + m.Channel.String() + ") " + band + "; the market rate is " + m.Market.String() + " and the advisory best rate " + m.Advisory.String() + "."
		case above(m.Market.High):
			r.Position = PositionWithinChannel
			r.Message = price + " is within the standard channel rate (" + m.Channel.String() + ") " + band + ", above the market rate of " + m.Market.String() + "; the advisory best rate is " + m.Advisory.String() + "."
		case above(m.Advisory.High):
			r.Position = PositionWithinMarket
			r.Message = price + " is within the market rate (" + m.Market.String() + ") " + band + "; the standard channel rate is " + m.Channel.String() + " and the advisory best rate " + m.Advisory.String() + "."
		case !cost.LessThan(m.Advisory.Low.Mul(credits)):
			r.Position = PositionWithinAdvisory
			r.Message = price + " is within the advisory best rate (" + m.Advisory.String() + ") " + band + "; the standard channel rate is " + m.Channel.String() + " and the market rate " + m.Market.String() + "."
		default:
			r.Position = PositionBelowAdvisory
			r.Message = price + " is below the advisory best rate (" + m.Advisory.String() + ") " + band + "; the standard channel rate is " + m.Channel.String() + " and the market rate " + m.Market.String() + "."
		}
		return r
	}
	return nil
}

// MarshalJSON writes the public API shape of a benchmark report:
// AppendJSON's bytes.
func (r *BenchmarkReport) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends the report's JSON to b, the bytes encoding/json writes
// for benchmarkReportJSON, written by hand.
func (r *BenchmarkReport) AppendJSON(b []byte) []byte {
	rng := func(b []byte, key string, g Range) []byte {
		b = append(b, ',')
		b = jsontext.AppendString(b, key)
		b = append(b, `:{"low":`...)
		b = jsontext.AppendString(b, FormatRate(g.Low))
		b = append(b, `,"high":`...)
		b = jsontext.AppendString(b, FormatRate(g.High))
		return append(b, '}')
	}
	b = append(b, `{"band":`...)
	b = jsontext.AppendString(b, r.Band)
	b = rng(b, "channel_range", r.Channel)
	b = rng(b, "market_range", r.Market)
	b = rng(b, "advisory_range", r.Advisory)
	b = append(b, `,"position":`...)
	b = jsontext.AppendString(b, string(r.Position))
	b = append(b, `,"message":`...)
	b = jsontext.AppendString(b, r.Message)
	return append(b, '}')
}
