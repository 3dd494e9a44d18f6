package pricing

import (
	"fmt"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// Price is what an order of credits costs under one book: the answer of
// POST /v1/prices, and what checkout charges and quotes sign.
type Price struct {
	// Credits is what the order buys: Packs × PackSize, at least what was
	// asked for.
	Credits decimal.Decimal
	// RequestedCredits is what was asked for (packs × pack size when the
	// request named packs).
	RequestedCredits decimal.Decimal
	Packs            decimal.Decimal
	PackSize         decimal.Decimal
	// Tier is the tier the order reaches: in volume mode the tier holding
	// PurchasedThisYear + Credits, in graduated mode the tier of the order's
	// last credit.
	Tier TierRef
	// UnitPrice is Subtotal / Credits rounded half-up to RateScaleMax digits;
	// in volume mode it is the tier's rate exactly. It is for display and
	// comparison: no amount is ever computed from it.
	UnitPrice decimal.Decimal
	// Subtotal is what the order costs on its channel, rounded to cents.
	Subtotal decimal.Decimal
	// ListTotal is what the same order costs on the list channel.
	ListTotal decimal.Decimal
	// Savings is ListTotal − Subtotal; never negative in a valid book.
	Savings           decimal.Decimal
	PriceBookVersion  string
	Currency          core.Currency
	Channel           Channel
	Mode              Mode
	PurchasedThisYear decimal.Decimal
	// AnnualVolume is PurchasedThisYear + Credits: what picks the tier (in
	// volume mode) and the benchmark band.
	AnnualVolume decimal.Decimal
	// Lines splits a graduated price by tier; nil in volume mode.
	Lines []Line
	// Benchmark places UnitPrice against the book's market bands; nil when
	// the book has none.
	Benchmark *BenchmarkReport
}

// TierRef names a tier in a price: its [From, To) bounds and label.
type TierRef struct {
	From decimal.Decimal
	To   decimal.NullDecimal // not Valid for the open-ended top tier
	Name string
}

func tierRef(t Tier) TierRef { return TierRef{From: t.From, To: t.To, Name: t.Label()} }

// Line is the part of a graduated order that falls in one tier.
type Line struct {
	Tier      TierRef
	Credits   decimal.Decimal
	UnitPrice decimal.Decimal // the tier's rate for the channel
	Amount    decimal.Decimal // Credits × UnitPrice, rounded to cents
}

var one = decimal.NewFromInt(1)

// Price prices req under b. Credits are bought in whole packs: the quantity
// is rounded up to the next multiple of the pack size (1 credit buys one pack
// of 100). Amounts are computed exactly and rounded once, half-up to cents,
// per line with core.RoundMoney. A channel the reached tier does not sell is
// an invalid_request error that says from what volume it is sold.
//
// b must be valid (ParseBook and NewCatalog guarantee it; call Validate on a
// book built by hand).
func (b *Book) Price(req Request) (Price, error) {
	if err := req.Validate(); err != nil {
		return Price{}, err
	}
	return b.price(req)
}

// price is Price for a request already validated.
func (b *Book) price(req Request) (Price, error) {
	if req.Currency != b.Currency {
		return Price{}, core.Invalid("currency", "price book %s sells %s, not %s", b.Version, b.Currency.Name(), req.Currency.Name())
	}
	if b.PackSize.Sign() <= 0 {
		return Price{}, core.Errorf(core.CodeInternal, "price book %s has no valid pack size", b.Version)
	}
	channel := req.Channel
	if channel == "" {
		channel = ChannelList
	}
	p := Price{
		PackSize:          b.PackSize,
		PriceBookVersion:  b.Version,
		Currency:          b.Currency,
		Channel:           channel,
		Mode:              b.mode(),
		PurchasedThisYear: req.PurchasedThisYear,
	}
	field := "credits"
	if req.Packs.Sign() > 0 {
		field = "packs"
		p.Packs = req.Packs
		p.Credits = req.Packs.Mul(b.PackSize)
		p.RequestedCredits = p.Credits
	} else {
		q, r := req.Credits.QuoRem(b.PackSize, 0)
		if r.Sign() > 0 {
			q = q.Add(one)
		}
		p.Packs = q
		p.Credits = q.Mul(b.PackSize)
		p.RequestedCredits = req.Credits
	}
	if p.Credits.GreaterThan(decimal.NewFromInt(core.CreditsMax)) {
		return Price{}, core.Invalid(field, "buys %s credits in packs of %s, more than the %s one order may buy",
			groupThousands(p.Credits), groupThousands(b.PackSize), groupThousands(decimal.NewFromInt(core.CreditsMax)))
	}
	p.AnnualVolume = p.PurchasedThisYear.Add(p.Credits)

	// cost is the exact amount the unit price stands for, compared with the
	// benchmark bands without rounding.
	var cost decimal.Decimal
	switch p.Mode {
	case ModeGraduated:
		if err := b.priceGraduated(&p); err != nil {
			return Price{}, err
		}
		p.UnitPrice = p.Subtotal.DivRound(p.Credits, RateScaleMax)
		cost = p.Subtotal
	default:
		t, ok := b.TierAt(p.AnnualVolume)
		if !ok {
			return Price{}, core.Errorf(core.CodeInternal, "price book %s has no tier for %s credits", b.Version, p.AnnualVolume)
		}
		rate, sold := t.Rates[channel]
		if !sold {
			return Price{}, b.channelRefused(channel, p.AnnualVolume, false)
		}
		p.Tier = tierRef(t)
		p.UnitPrice = rate
		cost = p.Credits.Mul(rate)
		p.Subtotal = core.RoundMoney(cost)
		p.ListTotal = core.RoundMoney(p.Credits.Mul(t.Rates[ChannelList]))
	}
	p.Savings = p.ListTotal.Sub(p.Subtotal)
	p.Benchmark = b.benchmark(p.AnnualVolume, cost, p.Credits, p.UnitPrice)
	return p, nil
}

// priceGraduated splits the order by tier. Credits already bought this year
// occupy positions [0, purchased); the order occupies [purchased, purchased
// + credits), and a tier [from, to) holds the positions from ≤ x < to, that
// is to − from credits. Each line is rounded to cents on its own.
func (b *Book) priceGraduated(p *Price) error {
	start, end := p.PurchasedThisYear, p.AnnualVolume
	counted := decimal.Zero
	for _, t := range b.Tiers {
		lo := decimal.Max(start, t.From)
		hi := end
		if t.To.Valid && t.To.Decimal.LessThan(hi) {
			hi = t.To.Decimal
		}
		if hi.Cmp(lo) <= 0 {
			continue
		}
		rate, sold := t.Rates[p.Channel]
		if !sold {
			return b.channelRefused(p.Channel, start, true)
		}
		credits := hi.Sub(lo)
		line := Line{Tier: tierRef(t), Credits: credits, UnitPrice: rate, Amount: core.RoundMoney(credits.Mul(rate))}
		p.Lines = append(p.Lines, line)
		p.Subtotal = p.Subtotal.Add(line.Amount)
		p.ListTotal = p.ListTotal.Add(core.RoundMoney(credits.Mul(t.Rates[ChannelList])))
		p.Tier = line.Tier
		counted = counted.Add(credits)
	}
	if !counted.Equal(p.Credits) {
		panic(fmt.Sprintf("pricing: graduated lines of book %s hold %s credits, the order %s", b.Version, counted, p.Credits))
	}
	return nil
}

// channelRefused explains why channel is not sold for this order. at is the
// annual volume the order reaches (volume mode) or where its first credit
// falls (graduated mode).
func (b *Book) channelRefused(channel Channel, at decimal.Decimal, graduated bool) error {
	from, sold := b.offeredFrom(channel)
	var msg string
	switch {
	case !sold:
		msg = fmt.Sprintf("channel %s is not sold in price book %s", channel, b.Version)
	case graduated:
		msg = fmt.Sprintf("channel %s is offered from %s credits a year; in graduated mode every credit of the order must fall at or above that, and this order starts at %s",
			channel, groupThousands(from), groupThousands(at))
	default:
		msg = fmt.Sprintf("channel %s is offered from %s credits a year; this order reaches %s",
			channel, groupThousands(from), groupThousands(at))
	}
	e := &core.Error{Code: core.CodeInvalidRequest, Message: msg, Details: map[string]any{
		"fields": map[string]string{"channel": msg},
	}}
	switch {
	case sold && graduated:
		e.Details["offered_from"] = from.String()
		e.Details["order_starts_at"] = at.String()
	case sold:
		e.Details["offered_from"] = from.String()
		e.Details["annual_volume"] = at.String()
	}
	return e
}

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

// MarshalJSON writes the public API shape of a price.
func (p Price) MarshalJSON() ([]byte, error) {
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
	return core.EncodeJSON(w)
}
