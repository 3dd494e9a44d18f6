package pricing

import (
	"fmt"
	"strings"
	"testing"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

func TestPrice(t *testing.T) {
	current := loadBook(t, cloudCurrentPath)
	graduated := loadBook(t, cloudGraduatedPath)
	old := loadBook(t, cloud2013Path)
	type want struct {
		credits, packs, tier, unit, subtotal, list, savings string
		position                                            Position // "" when no benchmark
		lines                                               string   // "credits@rate=amount; ..." in graduated mode
	}
	tests := []struct {
		name string
		book *Book
		req  Request
		want want
	}{
		{"5,000 list", current, Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelList},
			want{"5000", "50", "5,000–19,999", "1.25", "6250.00", "6250.00", "0.00", PositionAboveChannel, ""}},
		{"5,000 reseller", current, Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelReseller},
			want{"5000", "50", "5,000–19,999", "1.10", "5500.00", "6250.00", "750.00", PositionWithinChannel, ""}},
		{"empty channel is list", current, Request{Currency: core.Cloud, Credits: dec("5000")},
			want{"5000", "50", "5,000–19,999", "1.25", "6250.00", "6250.00", "0.00", PositionAboveChannel, ""}},
		{"annual volume 4,999 is in 1,000–4,999", current, Request{Currency: core.Cloud, Credits: dec("4900"), Channel: ChannelReseller, PurchasedThisYear: dec("99")},
			want{"4900", "49", "1,000–4,999", "1.20", "5880.00", "6125.00", "245.00", PositionWithinChannel, ""}},
		{"asking 4,999 buys 5,000", current, Request{Currency: core.Cloud, Credits: dec("4999"), Channel: ChannelReseller},
			want{"5000", "50", "5,000–19,999", "1.10", "5500.00", "6250.00", "750.00", PositionWithinChannel, ""}},
		{"1 credit buys a pack of 100", current, Request{Currency: core.Cloud, Credits: dec("1")},
			want{"100", "1", "under 1,000", "1.25", "125.00", "125.00", "0.00", PositionWithinChannel, ""}},
		{"a fraction of a credit buys a pack", current, Request{Currency: core.Cloud, Credits: dec("0.000001")},
			want{"100", "1", "under 1,000", "1.25", "125.00", "125.00", "0.00", PositionWithinChannel, ""}},
		{"101 credits buy two packs", current, Request{Currency: core.Cloud, Credits: dec("101")},
			want{"200", "2", "under 1,000", "1.25", "250.00", "250.00", "0.00", PositionWithinChannel, ""}},
		{"packs", current, Request{Currency: core.Cloud, Packs: dec("3")},
			want{"300", "3", "under 1,000", "1.25", "375.00", "375.00", "0.00", PositionWithinChannel, ""}},
		{"2013: 300 credits for $300", old, Request{Currency: core.Cloud, Credits: dec("300")},
			want{"300", "3", "all volumes", "1.00", "300.00", "300.00", "0.00", "", ""}},
		{"volume: 800 bought + 300 ordered reach 1,000–4,999", current, Request{Currency: core.Cloud, Credits: dec("300"), Channel: ChannelReseller, PurchasedThisYear: dec("800")},
			want{"300", "3", "1,000–4,999", "1.20", "360.00", "375.00", "15.00", PositionWithinChannel, ""}},
		{"graduated: 800 bought + 300 ordered split 200/100", graduated, Request{Currency: core.Cloud, Credits: dec("300"), Channel: ChannelReseller, PurchasedThisYear: dec("800")},
			want{"300", "3", "1,000–4,999", "1.2333", "370.00", "375.00", "5.00", PositionAboveChannel, "200@1.25=250.00; 100@1.20=120.00"}},
		{"graduated: exactly the first tier", graduated, Request{Currency: core.Cloud, Credits: dec("1000"), Channel: ChannelReseller},
			want{"1000", "10", "under 1,000", "1.25", "1250.00", "1250.00", "0.00", PositionAboveChannel, "1000@1.25=1250.00"}},
		{"graduated: across four tiers", graduated, Request{Currency: core.Cloud, Credits: dec("25000"), Channel: ChannelReseller},
			want{"25000", "250", "20,000–99,999", "1.098", "27450.00", "31250.00", "3800.00", PositionAboveChannel,
				"1000@1.25=1250.00; 4000@1.20=4800.00; 15000@1.10=16500.00; 5000@0.98=4900.00"}},
		{"graduated: fractional purchases round each line", graduated, Request{Currency: core.Cloud, Credits: dec("100"), Channel: ChannelReseller, PurchasedThisYear: dec("999.995")},
			want{"100", "1", "1,000–4,999", "1.20", "120.00", "125.00", "5.00", PositionWithinChannel, "0.005@1.25=0.01; 99.995@1.20=119.99"}},
		{"eba at 100,000", current, Request{Currency: core.Cloud, Credits: dec("100000"), Channel: ChannelEBA},
			want{"100000", "1000", "100,000 and up", "0.70", "70000.00", "125000.00", "55000.00", PositionWithinMarket, ""}},
		{"eba reached with purchases", current, Request{Currency: core.Cloud, Credits: dec("1000"), Channel: ChannelEBA, PurchasedThisYear: dec("99000")},
			want{"1000", "10", "100,000 and up", "0.70", "700.00", "1250.00", "550.00", PositionWithinMarket, ""}},
		{"graduated eba entirely in the top tier", graduated, Request{Currency: core.Cloud, Credits: dec("1000"), Channel: ChannelEBA, PurchasedThisYear: dec("100000")},
			want{"1000", "10", "100,000 and up", "0.70", "700.00", "1250.00", "550.00", PositionWithinMarket, "1000@0.70=700.00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.book.Price(tt.req)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			got := want{
				credits: core.FormatCredits(p.Credits), packs: p.Packs.String(), tier: p.Tier.Name,
				unit: FormatRate(p.UnitPrice), subtotal: core.FormatMoney(p.Subtotal),
				list: core.FormatMoney(p.ListTotal), savings: core.FormatMoney(p.Savings),
			}
			if p.Benchmark != nil {
				got.position = p.Benchmark.Position
			}
			var lines []string
			for _, l := range p.Lines {
				lines = append(lines, fmt.Sprintf("%s@%s=%s", l.Credits, FormatRate(l.UnitPrice), core.FormatMoney(l.Amount)))
			}
			got.lines = strings.Join(lines, "; ")
			if got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
			checkPriceLaws(t, tt.book, tt.req, p)
		})
	}
}

// checkPriceLaws holds for every price: whole packs covering the request,
// money in cents, lines summing to the subtotal, savings never negative.
func checkPriceLaws(t testing.TB, b *Book, req Request, p Price) {
	t.Helper()
	if !p.Credits.Equal(p.Packs.Mul(b.PackSize)) {
		t.Errorf("credits %s are not packs %s × pack size %s", p.Credits, p.Packs, b.PackSize)
	}
	if req.Credits.Sign() > 0 && (p.Credits.LessThan(req.Credits) || !p.Credits.Sub(req.Credits).LessThan(b.PackSize)) {
		t.Errorf("credits %s are not the fewest whole packs holding %s", p.Credits, req.Credits)
	}
	for name, m := range map[string]decimal.Decimal{"subtotal": p.Subtotal, "list_total": p.ListTotal, "savings": p.Savings} {
		if !m.Equal(core.RoundMoney(m)) {
			t.Errorf("%s %s is not rounded to cents", name, m)
		}
	}
	if p.Savings.Sign() < 0 {
		t.Errorf("savings %s are negative", p.Savings)
	}
	if !p.AnnualVolume.Equal(p.PurchasedThisYear.Add(p.Credits)) {
		t.Errorf("annual volume %s is not purchased %s + credits %s", p.AnnualVolume, p.PurchasedThisYear, p.Credits)
	}
	if p.Mode == ModeGraduated {
		sum, credits := decimal.Zero, decimal.Zero
		for _, l := range p.Lines {
			sum, credits = sum.Add(l.Amount), credits.Add(l.Credits)
		}
		if !sum.Equal(p.Subtotal) || !credits.Equal(p.Credits) {
			t.Errorf("lines hold %s credits for %s; the price %s for %s", credits, sum, p.Credits, p.Subtotal)
		}
	} else if len(p.Lines) != 0 {
		t.Errorf("volume price has %d lines, want none", len(p.Lines))
	}
}

func TestPriceRefuses(t *testing.T) {
	current := loadBook(t, cloudCurrentPath)
	graduated := loadBook(t, cloudGraduatedPath)
	old := loadBook(t, cloud2013Path)
	packsOf300 := loadBook(t, cloudCurrentPath)
	packsOf300.PackSize = dec("300")
	tests := []struct {
		name    string
		book    *Book
		req     Request
		field   string
		message string
	}{
		{"eba below the top tier", current, Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelEBA},
			"channel", "channel eba is offered from 100,000 credits a year; this order reaches 5,000"},
		{"eba one pack short", current, Request{Currency: core.Cloud, Credits: dec("99900"), Channel: ChannelEBA},
			"channel", "channel eba is offered from 100,000 credits a year; this order reaches 99,900"},
		{"graduated eba straddling the top tier", graduated, Request{Currency: core.Cloud, Credits: dec("50000"), Channel: ChannelEBA, PurchasedThisYear: dec("80000")},
			"channel", "channel eba is offered from 100,000 credits a year; in graduated mode every credit of the order must fall at or above that, and this order starts at 80,000"},
		{"a channel the book never sells", old, Request{Currency: core.Cloud, Credits: dec("300"), Channel: ChannelReseller},
			"channel", "channel reseller is not sold in price book cloud-2013-06"},
		{"another currency's book", current, Request{Currency: core.Forma, Credits: dec("300")},
			"currency", "price book cloud-2024-01 sells cloud credits, not forma credits"},
		{"packs making too many credits", current, Request{Currency: core.Cloud, Packs: dec("10000000001")},
			"packs", "buys 1,000,000,000,100 credits in packs of 100, more than the 1,000,000,000,000 one order may buy"},
		{"credits rounding up past the limit", packsOf300, Request{Currency: core.Cloud, Credits: dec("999999999999")},
			"credits", "buys 1,000,000,000,200 credits in packs of 300, more than the 1,000,000,000,000"},
		{"an invalid request", current, Request{Currency: core.Cloud}, "credits", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.book.Price(tt.req)
			if err == nil {
				t.Fatalf("got price %s, want an error", p.Subtotal)
			}
			wantProblems(t, problems(t, err), map[string]string{tt.field: tt.message})
		})
	}
	// The refusal's message is the sentence itself, for people and clients.
	_, err := current.Price(Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelEBA})
	e, _ := core.AsError(err)
	if got, want := e.Message, "channel eba is offered from 100,000 credits a year; this order reaches 5,000"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	if got := e.Details["offered_from"]; got != "100000" {
		t.Errorf("offered_from: got %v, want 100000", got)
	}
}

// Graduated pricing is additive: buying a and then b this year costs what
// buying a + b at once costs (rates in cents and whole packs keep every line
// exact, so no rounding intervenes).
func TestGraduatedSplitEqualsOneOrder(t *testing.T) {
	b := loadBook(t, cloudGraduatedPath)
	price := func(credits, purchased decimal.Decimal) decimal.Decimal {
		p, err := b.Price(Request{Currency: core.Cloud, Credits: credits, Channel: ChannelReseller, PurchasedThisYear: purchased})
		if err != nil {
			t.Fatalf("price %s after %s: %v", credits, purchased, err)
		}
		return p.Subtotal
	}
	packs := []int64{1, 3, 9, 10, 11, 40, 49, 50, 51, 150, 199, 200, 800, 999, 1000, 1001, 1500}
	for _, purchased := range []int64{0, 700, 999, 1000, 4900, 19900, 99900, 100000} {
		for _, a := range packs {
			for _, c := range packs {
				pa, pc := decimal.NewFromInt(a*100), decimal.NewFromInt(c*100)
				start := decimal.NewFromInt(purchased)
				split := price(pa, start).Add(price(pc, start.Add(pa)))
				whole := price(pa.Add(pc), start)
				if !split.Equal(whole) {
					t.Fatalf("after %d: %s + %s credits cost %s in two orders, %s in one", purchased, pa, pc, split, whole)
				}
			}
		}
	}
}

// In volume mode the rate never rises with volume, so the unit price of an
// order never rises when more was bought earlier in the year.
func TestVolumeUnitPriceNeverRisesWithPurchases(t *testing.T) {
	b := loadBook(t, cloudCurrentPath)
	for _, ch := range []Channel{ChannelList, ChannelReseller} {
		prev := decimal.NewFromInt(RateMax)
		for purchased := int64(0); purchased <= 150_000; purchased += 700 {
			p, err := b.Price(Request{Currency: core.Cloud, Credits: dec("300"), Channel: ch, PurchasedThisYear: decimal.NewFromInt(purchased)})
			if err != nil {
				t.Fatal(err)
			}
			if p.UnitPrice.GreaterThan(prev) {
				t.Fatalf("%s after %d: unit price %s rose from %s", ch, purchased, p.UnitPrice, prev)
			}
			prev = p.UnitPrice
		}
	}
}

func TestBenchmarkPositions(t *testing.T) {
	b := loadBook(t, cloudCurrentPath)
	tests := []struct {
		volume, unit string
		want         Position
	}{
		// 5,000–19,999: channel 0.98–1.10, market 0.82–0.98, advisory 0.70–0.82.
		{"10000", "1.25", PositionAboveChannel},
		{"10000", "1.1001", PositionAboveChannel},
		{"10000", "1.10", PositionWithinChannel},
		{"10000", "0.9801", PositionWithinChannel},
		{"10000", "0.98", PositionWithinMarket}, // a shared bound counts in the cheaper range
		{"10000", "0.90", PositionWithinMarket},
		{"10000", "0.82", PositionWithinAdvisory},
		{"10000", "0.70", PositionWithinAdvisory},
		{"10000", "0.6999", PositionBelowAdvisory},
		// 100,000 and up: the seed's market 0.55–0.70 overlaps advisory 0.45–0.58.
		{"100000", "0.70", PositionWithinMarket},
		{"100000", "0.59", PositionWithinMarket},
		{"100000", "0.56", PositionWithinAdvisory},
		{"100000", "0.45", PositionWithinAdvisory},
		{"100000", "0.44", PositionBelowAdvisory},
		// under 1,000: channel 1.20–1.25.
		{"999", "1.25", PositionWithinChannel},
		{"999", "1.26", PositionAboveChannel},
	}
	for _, tt := range tests {
		credits := dec("300")
		r := b.benchmark(dec(tt.volume), dec(tt.unit).Mul(credits), credits, dec(tt.unit))
		if r == nil || r.Position != tt.want {
			t.Errorf("volume %s at %s: got %+v, want %s", tt.volume, tt.unit, r, tt.want)
			continue
		}
		if !strings.HasPrefix(r.Message, FormatRate(dec(tt.unit))+" per credit is ") || !strings.Contains(r.Message, r.Band) {
			t.Errorf("volume %s at %s: message %q does not state the price and band", tt.volume, tt.unit, r.Message)
		}
	}
	if r := loadBook(t, cloud2013Path).benchmark(dec("300"), dec("300"), dec("300"), dec("1")); r != nil {
		t.Errorf("a book without benchmarks reported %+v", r)
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.1", "1.10"}, {"1.25", "1.25"}, {"0.7", "0.70"}, {"2", "2.00"},
		{"1.2333333", "1.2333"}, {"1.23335", "1.2334"}, {"2.352", "2.352"}, {"0.00005", "0.0001"}, {"1.098", "1.098"},
	}
	for _, tt := range tests {
		if got := FormatRate(dec(tt.in)); got != tt.want {
			t.Errorf("FormatRate(%s): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	n := func(s string) decimal.NullDecimal { return decimal.NewNullDecimal(dec(s)) }
	tests := []struct {
		from string
		to   decimal.NullDecimal
		want string
	}{
		{"0", n("1000"), "under 1,000"},
		{"1000", n("5000"), "1,000–4,999"},
		{"100000", decimal.NullDecimal{}, "100,000 and up"},
		{"1000000", n("1000000000000"), "1,000,000–999,999,999,999"},
	}
	for _, tt := range tests {
		if got := bandLabel(dec(tt.from), tt.to); got != tt.want {
			t.Errorf("bandLabel(%s, %v): got %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
	for in, want := range map[string]string{"0": "0", "999": "999", "1000": "1,000", "-1234567.5": "-1,234,567.5", "100000": "100,000"} {
		if got := groupThousands(dec(in)); got != want {
			t.Errorf("groupThousands(%s): got %q, want %q", in, got, want)
		}
	}
}
