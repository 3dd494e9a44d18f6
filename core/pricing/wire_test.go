package pricing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// The wire form of a price: every number a decimal string, money with two
// fractional digits, rates with two to four.
type priceJSON struct {
	Credits           string               `json:"credits"`
	RequestedCredits  string               `json:"requested_credits"`
	Packs             string               `json:"packs"`
	PackSize          string               `json:"pack_size"`
	Tier              tierRefJSON          `json:"tier"`
	UnitPrice         string               `json:"unit_price"`
	Subtotal          string               `json:"subtotal"`
	ListTotal         string               `json:"list_total"`
	Savings           string               `json:"savings"`
	PriceBookVersion  string               `json:"price_book_version"`
	Currency          string               `json:"currency"`
	Channel           string               `json:"channel"`
	Mode              string               `json:"mode"`
	PurchasedThisYear string               `json:"purchased_this_year"`
	AnnualVolume      string               `json:"annual_volume"`
	Lines             []lineJSON           `json:"lines,omitempty"`
	Benchmark         *benchmarkReportJSON `json:"benchmark,omitempty"`
}

type tierRefJSON struct {
	From string  `json:"from"`
	To   *string `json:"to,omitempty"`
	Name string  `json:"name"`
}

type lineJSON struct {
	Tier      tierRefJSON `json:"tier"`
	Credits   string      `json:"credits"`
	UnitPrice string      `json:"unit_price"`
	Amount    string      `json:"amount"`
}

func (t TierRef) wire() tierRefJSON {
	return tierRefJSON{From: t.From.String(), To: nullString(t.To), Name: t.Name}
}

type benchmarkReportJSON struct {
	Band          string    `json:"band"`
	ChannelRange  rangeJSON `json:"channel_range"`
	MarketRange   rangeJSON `json:"market_range"`
	AdvisoryRange rangeJSON `json:"advisory_range"`
	Position      Position  `json:"position"`
	Message       string    `json:"message"`
}

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

// wireOf is the price as the struct encoding/json wrote before AppendJSON.
func wireOf(p Price) priceJSON {
	w := priceJSON{
		Credits:           core.FormatCredits(p.Credits),
		RequestedCredits:  core.FormatCredits(p.RequestedCredits),
		Packs:             p.Packs.String(),
		PackSize:          p.PackSize.String(),
		Tier:              p.Tier.wire(),
		UnitPrice:         FormatRate(p.UnitPrice),
		Subtotal:          core.FormatMoney(p.Subtotal),
		ListTotal:         core.FormatMoney(p.ListTotal),
		Savings:           core.FormatMoney(p.Savings),
		PriceBookVersion:  p.PriceBookVersion,
		Currency:          string(p.Currency),
		Channel:           string(p.Channel),
		Mode:              string(p.Mode),
		PurchasedThisYear: core.FormatCredits(p.PurchasedThisYear),
		AnnualVolume:      core.FormatCredits(p.AnnualVolume),
	}
	for _, l := range p.Lines {
		w.Lines = append(w.Lines, lineJSON{
			Tier:      l.Tier.wire(),
			Credits:   core.FormatCredits(l.Credits),
			UnitPrice: FormatRate(l.UnitPrice),
			Amount:    core.FormatMoney(l.Amount),
		})
	}
	if p.Benchmark != nil {
		w.Benchmark = p.Benchmark.wire()
	}
	return w
}

// TestPriceJSONIsEncodingJSONs: the hand-written JSON of a price is byte for
// byte what encoding/json writes for the documented shape, for every book,
// channel and a spread of quantities (graduated lines and benchmarks
// included), with HTML-unsafe text in names and messages.
func TestPriceJSONIsEncodingJSONs(t *testing.T) {
	checked := 0
	for _, path := range append(salesBookPaths, cloudGraduatedPath) {
		b := loadBook(t, path)
		if len(b.Tiers) > 0 {
			b.Tiers[0].Name = "<under> & \"quoted\""
		}
		for _, ch := range Channels() {
			for _, credits := range []string{"1", "999", "1000", "5000", "20001", "150000", "2500000"} {
				for _, bought := range []string{"0", "4999", "99000"} {
					p, err := b.Price(Request{Currency: b.Currency, Credits: dec(credits), Channel: ch, PurchasedThisYear: dec(bought)})
					if err != nil {
						continue
					}
					want, err := core.EncodeJSON(wireOf(p))
					if err != nil {
						t.Fatal(err)
					}
					got := p.AppendJSON(nil)
					if !bytes.Equal(got, want) {
						t.Fatalf("%s %s %s+%s:\n got: %s\nwant: %s", b.Version, ch, credits, bought, got, want)
					}
					checked++
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d prices checked", checked)
	}
}

// TestFormatRateIsStringFixedTrimmed: FormatRate writes what it always
// wrote, StringFixed(RateScaleMax) with zeros beyond the second digit
// dropped.
func TestFormatRateIsStringFixedTrimmed(t *testing.T) {
	old := func(d decimal.Decimal) string {
		s := d.StringFixed(RateScaleMax)
		dot := strings.IndexByte(s, '.')
		if dot < 0 {
			return s
		}
		end := len(s)
		for end > dot+1+rateScaleMin && s[end-1] == '0' {
			end--
		}
		return s[:end]
	}
	for _, s := range []string{"0", "1", "1.1", "1.10", "1.25", "0.98", "1.18333", "1.18335", "0.00004", "0.00005", "-0.00004", "-1.5", "12345.6789", "99999.99995", "7", "0.7", "1000000"} {
		d := dec(s)
		for _, x := range []decimal.Decimal{d, d.Div(dec("3")), d.Mul(dec("1.0001"))} {
			if got, want := FormatRate(x), old(x); got != want {
				t.Errorf("FormatRate(%s) = %q, want %q", x, got, want)
			}
		}
	}
}
