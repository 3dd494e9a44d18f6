package pricing

import (
	"fmt"

	"cloudcredits/core"

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
		// price > x ⟺ cost > x × credits: no division, no rounding.
		above := func(x decimal.Decimal) bool { return cost.GreaterThan(x.Mul(credits)) }
		r := &BenchmarkReport{Band: m.Label(), Channel: m.Channel, Market: m.Market, Advisory: m.Advisory}
		price := FormatRate(unit) + " per credit"
		band := "for the annual volume band " + r.Band
		switch {
		case above(m.Channel.High):
			r.Position = PositionAboveChannel
			r.Message = fmt.Sprintf("%s is above the standard channel rate (%s) %s; the market rate is %s and the advisory best rate %s.",
				price, m.Channel, band, m.Market, m.Advisory)
		case above(m.Market.High):
			r.Position = PositionWithinChannel
			r.Message = fmt.Sprintf("%s is within the standard channel rate (%s) %s, above the market rate of %s; the advisory best rate is %s.",
				price, m.Channel, band, m.Market, m.Advisory)
		case above(m.Advisory.High):
			r.Position = PositionWithinMarket
			r.Message = fmt.Sprintf("%s is within the market rate (%s) %s; the standard channel rate is %s and the advisory best rate %s.",
				price, m.Market, band, m.Channel, m.Advisory)
		case !cost.LessThan(m.Advisory.Low.Mul(credits)):
			r.Position = PositionWithinAdvisory
			r.Message = fmt.Sprintf("%s is within the advisory best rate (%s) %s; the standard channel rate is %s and the market rate %s.",
				price, m.Advisory, band, m.Channel, m.Market)
		default:
			r.Position = PositionBelowAdvisory
			r.Message = fmt.Sprintf("%s is below the advisory best rate (%s) %s; the standard channel rate is %s and the market rate %s.",
				price, m.Advisory, band, m.Channel, m.Market)
		}
		return r
	}
	return nil
}

type benchmarkReportJSON struct {
	Band          string    `json:"band"`
	ChannelRange  rangeJSON `json:"channel_range"`
	MarketRange   rangeJSON `json:"market_range"`
	AdvisoryRange rangeJSON `json:"advisory_range"`
	Position      Position  `json:"position"`
	Message       string    `json:"message"`
}

func (r Range) wire() rangeJSON { return rangeJSON{Low: FormatRate(r.Low), High: FormatRate(r.High)} }

func (r *BenchmarkReport) wire() *benchmarkReportJSON {
	return &benchmarkReportJSON{
		Band:          r.Band,
		ChannelRange:  r.Channel.wire(),
		MarketRange:   r.Market.wire(),
		AdvisoryRange: r.Advisory.wire(),
		Position:      r.Position,
		Message:       r.Message,
	}
}

// MarshalJSON writes the public API shape of a benchmark report.
func (r *BenchmarkReport) MarshalJSON() ([]byte, error) {
	return core.EncodeJSON(r.wire())
}
