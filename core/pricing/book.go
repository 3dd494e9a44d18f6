package pricing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/jsontext"

	"github.com/shopspring/decimal"
)

// Limits on a price book, so that a book, however it was written, costs a
// bounded amount to load, validate and price against.
const (
	// TiersMax is the most tiers a book may have.
	TiersMax = 16
	// BenchmarksMax is the most benchmark bands a book may have.
	BenchmarksMax = 16
	// BookBytesMax is the largest price book document ParseBook reads.
	BookBytesMax = 256 << 10
	// VersionLenMax is the longest version string; versions are printed on
	// every price and quote.
	VersionLenMax = 64
	// NameLenMax is the longest tier or band name.
	NameLenMax = 64
	// NotesLenMax is the longest free-text note a book may carry.
	NotesLenMax = 2000
	// PackSizeMax is the largest pack a book may sell.
	PackSizeMax = 1_000_000
	// RateMax is the highest rate (money per credit) a book may set.
	RateMax = 1_000_000
)

// Book is one version of a currency's price book: what credits cost, per
// channel and volume tier, from EffectiveFrom until a later book of the same
// currency takes effect. A Book is a value to read: once validated (ParseBook
// and NewCatalog do it), it must not be changed.
type Book struct {
	// Version names the book on every price and quote ("cloud-2024-01").
	Version string
	// Currency is the one currency the book sells.
	Currency core.Currency
	// EffectiveFrom is the first instant the book prices orders.
	EffectiveFrom time.Time
	// PackSize is how many credits one pack holds; orders buy whole packs.
	PackSize decimal.Decimal
	// Mode is ModeVolume (also when empty) or ModeGraduated.
	Mode Mode
	// Tiers partition annual volume, in ascending order of From.
	Tiers []Tier
	// Benchmarks are the buyer-side market bands a price is compared with;
	// optional (a book without them reports no benchmark).
	Benchmarks []Benchmark
	// Notes is free text for people (where the numbers come from).
	Notes string
}

// Tier is a band of annual volume and the rate of each channel sold in it.
//
// A tier covers [From, To): From is included, To is not, so the tier
// "1,000–4,999" is From 1000, To 5000, and 5,000 credits are in the next one.
// The last tier has no To (open-ended). The tiers of a valid book start at 0,
// meet without gaps or overlaps, and are listed in ascending order.
type Tier struct {
	From decimal.Decimal
	To   decimal.NullDecimal // not Valid on the last, open-ended tier
	// Name is the tier's label for people; empty means bandLabel's
	// ("under 1,000", "1,000–4,999", "100,000 and up").
	Name string
	// Rates holds money per credit for each channel sold at this tier. A
	// channel absent from the map is not sold at this tier. List is present
	// on every tier, and no channel's rate exceeds the list rate of its tier.
	Rates map[Channel]decimal.Decimal
}

// Label is the tier's name, or one made from its bounds.
func (t Tier) Label() string {
	if t.Name != "" {
		return t.Name
	}
	return bandLabel(t.From, t.To)
}

// Contains reports whether x lies in [From, To).
func (t Tier) Contains(x decimal.Decimal) bool {
	return inBand(x, t.From, t.To)
}

// Range is an inclusive range of money per credit, Low ≤ High.
type Range struct {
	Low, High decimal.Decimal
}

func (r Range) String() string { return FormatRate(r.Low) + "–" + FormatRate(r.High) }

// Benchmark is one annual-volume band of the buyer-side benchmarks (the
// seed's pricing table): the standard channel rate, the market rate and the
// advisory best rate for buyers of that volume. Bands cover [From, To) like
// tiers. Within a band the three ranges run cheapest first (advisory, market,
// channel) and each starts no higher than the one below it ends: neighbours
// meet or overlap, never leave a gap, so every price has exactly one
// position (see Position).
type Benchmark struct {
	From     decimal.Decimal
	To       decimal.NullDecimal
	Name     string
	Channel  Range
	Market   Range
	Advisory Range
}

// Label is the band's name, or one made from its bounds.
func (m Benchmark) Label() string {
	if m.Name != "" {
		return m.Name
	}
	return bandLabel(m.From, m.To)
}

func inBand(x, from decimal.Decimal, to decimal.NullDecimal) bool {
	return x.Cmp(from) >= 0 && (!to.Valid || x.Cmp(to.Decimal) < 0)
}

// mode is the book's mode with the default applied.
func (b *Book) mode() Mode {
	if b.Mode == "" {
		return ModeVolume
	}
	return b.Mode
}

// TierAt returns the tier whose [From, To) holds the annual volume x. It
// reports false only for a negative x or an invalid book.
func (b *Book) TierAt(x decimal.Decimal) (Tier, bool) {
	for _, t := range b.Tiers {
		if t.Contains(x) {
			return t, true
		}
	}
	return Tier{}, false
}

// offeredFrom returns the From of the lowest tier that sells channel c.
func (b *Book) offeredFrom(c Channel) (decimal.Decimal, bool) {
	for _, t := range b.Tiers {
		if _, ok := t.Rates[c]; ok {
			return t.From, true
		}
	}
	return decimal.Zero, false
}

// The wire form of a book: every number a decimal string, times RFC 3339.
type bookJSON struct {
	Version       string          `json:"version"`
	Currency      string          `json:"currency"`
	EffectiveFrom string          `json:"effective_from"`
	PackSize      string          `json:"pack_size"`
	Mode          string          `json:"mode,omitempty"`
	Notes         string          `json:"notes,omitempty"`
	Tiers         []tierJSON      `json:"tiers"`
	Benchmarks    []benchmarkJSON `json:"benchmarks,omitempty"`
}

type tierJSON struct {
	From  string            `json:"from"`
	To    *string           `json:"to,omitempty"`
	Name  string            `json:"name,omitempty"`
	Rates map[string]string `json:"rates"`
}

type benchmarkJSON struct {
	From     string    `json:"from"`
	To       *string   `json:"to,omitempty"`
	Name     string    `json:"name,omitempty"`
	Channel  rangeJSON `json:"channel"`
	Market   rangeJSON `json:"market"`
	Advisory rangeJSON `json:"advisory"`
}

type rangeJSON struct {
	Low  string `json:"low"`
	High string `json:"high"`
}

// ParseBook reads a price book document strictly (no unknown fields, no
// trailing data, decimals as strings, times in RFC 3339) and validates it,
// reporting every problem at once as one invalid_request error.
func ParseBook(data []byte) (*Book, error) {
	if len(data) > BookBytesMax {
		return nil, core.Errorf(core.CodeTooLarge, "a price book may be at most %d bytes; this one is %d", BookBytesMax, len(data))
	}
	var p core.Problems
	w, err := readBook(&p, data)
	if err != nil {
		return nil, err
	}
	b := &Book{Version: w.Version, Currency: core.Currency(w.Currency), Notes: w.Notes, Mode: Mode(w.Mode)}
	if w.Mode == "" {
		b.Mode = ModeVolume
	}
	if w.EffectiveFrom == "" {
		p.Add("effective_from", "is required")
	} else if t, err := time.Parse(time.RFC3339, w.EffectiveFrom); err != nil {
		p.Add("effective_from", "must be an RFC 3339 time such as \"2024-01-01T00:00:00Z\", got %s", echo(w.EffectiveFrom))
	} else {
		b.EffectiveFrom = t.UTC()
	}
	b.PackSize = parseInto(&p, "pack_size", w.PackSize, core.CreditsScaleMax)
	if len(w.Tiers) > TiersMax {
		p.Add("tiers", "has %d tiers; a book may have at most %d", len(w.Tiers), TiersMax)
	} else {
		for i, wt := range w.Tiers {
			field := fmt.Sprintf("tiers[%d]", i)
			t := Tier{Name: wt.Name}
			t.From = parseInto(&p, field+".from", wt.From, core.CreditsScaleMax)
			if wt.To != nil {
				t.To = decimal.NewNullDecimal(parseInto(&p, field+".to", *wt.To, core.CreditsScaleMax))
			}
			if len(wt.Rates) > ChannelsMax {
				p.Add(field+".rates", "has %d channels; at most %d (%s)", len(wt.Rates), ChannelsMax, channelNames())
			} else {
				t.Rates = make(map[Channel]decimal.Decimal, len(wt.Rates))
				for c, r := range wt.Rates {
					t.Rates[Channel(c)] = parseInto(&p, field+".rates."+fieldKey(c), r, RateScaleMax)
				}
			}
			b.Tiers = append(b.Tiers, t)
		}
	}
	if len(w.Benchmarks) > BenchmarksMax {
		p.Add("benchmarks", "has %d bands; a book may have at most %d", len(w.Benchmarks), BenchmarksMax)
	} else {
		for i, wm := range w.Benchmarks {
			field := fmt.Sprintf("benchmarks[%d]", i)
			m := Benchmark{Name: wm.Name}
			m.From = parseInto(&p, field+".from", wm.From, core.CreditsScaleMax)
			if wm.To != nil {
				m.To = decimal.NewNullDecimal(parseInto(&p, field+".to", *wm.To, core.CreditsScaleMax))
			}
			m.Channel = parseRange(&p, field+".channel", wm.Channel)
			m.Market = parseRange(&p, field+".market", wm.Market)
			m.Advisory = parseRange(&p, field+".advisory", wm.Advisory)
			b.Benchmarks = append(b.Benchmarks, m)
		}
	}
	// Validation problems on a field that already failed to parse are
	// consequences of that failure; Problems keeps the first one per field.
	p.Merge("", b.Validate())
	if err := p.Err(); err != nil {
		return nil, err
	}
	return b, nil
}

func parseRange(p *core.Problems, field string, w rangeJSON) Range {
	return Range{
		Low:  parseInto(p, field+".low", w.Low, RateScaleMax),
		High: parseInto(p, field+".high", w.High, RateScaleMax),
	}
}

// parseInto parses a decimal string, recording a problem (and returning
// zero) when it is not one.
func parseInto(p *core.Problems, field, s string, scaleMax int32) decimal.Decimal {
	d, err := core.ParseDecimal(field, s, scaleMax)
	if err != nil {
		p.Merge("", err)
		return decimal.Zero
	}
	return d
}

// fieldKey makes a client's map key safe to use in a field name.
func fieldKey(k string) string {
	if k == "" {
		return `""`
	}
	if len(k) > echoMax {
		return strings.ToValidUTF8(k[:echoMax], "") + "…"
	}
	return k
}

// MarshalJSON writes the book in the form ParseBook reads.
func (b *Book) MarshalJSON() ([]byte, error) {
	w := bookJSON{
		Version:       b.Version,
		Currency:      string(b.Currency),
		EffectiveFrom: b.EffectiveFrom.UTC().Format(time.RFC3339),
		PackSize:      b.PackSize.String(),
		Mode:          string(b.mode()),
		Notes:         b.Notes,
		Tiers:         make([]tierJSON, 0, len(b.Tiers)),
	}
	for _, t := range b.Tiers {
		wt := tierJSON{From: t.From.String(), To: nullString(t.To), Name: t.Name, Rates: make(map[string]string, len(t.Rates))}
		for c, r := range t.Rates {
			wt.Rates[string(c)] = FormatRate(r)
		}
		w.Tiers = append(w.Tiers, wt)
	}
	for _, m := range b.Benchmarks {
		w.Benchmarks = append(w.Benchmarks, benchmarkJSON{
			From: m.From.String(), To: nullString(m.To), Name: m.Name,
			Channel:  m.Channel.wire(),
			Market:   m.Market.wire(),
			Advisory: m.Advisory.wire(),
		})
	}
	return core.EncodeJSON(w)
}

func (r Range) wire() rangeJSON { return rangeJSON{Low: FormatRate(r.Low), High: FormatRate(r.High)} }

func nullString(d decimal.NullDecimal) *string {
	if !d.Valid {
		return nil
	}
	s := d.Decimal.String()
	return &s
}

// Validate checks the book and reports every problem at once: identity
// (version, currency, effective date), pack size, mode, the tiers (start at
// 0, contiguous [from, to) bands in ascending order, only the last one
// open-ended, at most TiersMax), the rates (known channels only, list on every
// tier, none negative or above the tier's list rate, at most RateScaleMax
// decimals, a channel once offered is offered on every higher tier) and the
// benchmark bands (the same band rules; ranges ordered and meeting).
func (b *Book) Validate() error {
	var p core.Problems
	if b == nil {
		p.Add("book", "is missing")
		return p.Err()
	}
	switch {
	case b.Version == "":
		p.Add("version", "is required")
	case len(b.Version) > VersionLenMax:
		p.Add("version", "must be at most %d characters", VersionLenMax)
	case !versionChars(b.Version):
		p.Add("version", "may hold only letters, digits, '.', '_' and '-', got %s", echo(b.Version))
	}
	if _, ok := core.ParseCurrency(string(b.Currency)); !ok {
		if b.Currency == "" {
			p.Add("currency", "is required")
		} else {
			p.Add("currency", "must be one of cloud, forma, flex, got %s", echo(string(b.Currency)))
		}
	}
	if b.EffectiveFrom.IsZero() {
		p.Add("effective_from", "is required")
	}
	switch {
	case b.PackSize.Sign() <= 0:
		p.Add("pack_size", "must be greater than zero")
	case !isWhole(b.PackSize):
		p.Add("pack_size", "must be a whole number of credits")
	case b.PackSize.GreaterThan(decimal.NewFromInt(PackSizeMax)):
		p.Add("pack_size", "must be at most %d", PackSizeMax)
	}
	if b.Mode != "" {
		if _, ok := ParseMode(string(b.Mode)); !ok {
			p.Add("mode", "must be volume or graduated, got %s", echo(string(b.Mode)))
		}
	}
	if len(b.Notes) > NotesLenMax {
		p.Add("notes", "must be at most %d characters", NotesLenMax)
	}
	validateTiers(&p, b.Tiers)
	validateBenchmarks(&p, b.Benchmarks)
	return p.Err()
}

func validateTiers(p *core.Problems, tiers []Tier) {
	switch {
	case len(tiers) == 0:
		p.Add("tiers", "must have at least one tier")
		return
	case len(tiers) > TiersMax:
		p.Add("tiers", "has %d tiers; a book may have at most %d", len(tiers), TiersMax)
		return
	}
	bands := make([]band, len(tiers))
	for i, t := range tiers {
		bands[i] = band{t.From, t.To}
		field := fmt.Sprintf("tiers[%d]", i)
		if len(t.Name) > NameLenMax {
			p.Add(field+".name", "must be at most %d characters", NameLenMax)
		}
		if len(t.Rates) > ChannelsMax {
			p.Add(field+".rates", "has %d channels; at most %d (%s)", len(t.Rates), ChannelsMax, channelNames())
			continue
		}
		list, hasList := t.Rates[ChannelList]
		if !hasList {
			p.Add(field+".rates.list", "is required: the list channel is sold on every tier")
		}
		for c, r := range t.Rates {
			rf := field + ".rates." + fieldKey(string(c))
			if _, ok := ParseChannel(string(c)); !ok {
				p.Add(rf, "is not a channel; use %s", channelNames())
				continue
			}
			checkRate(p, rf, r)
			if hasList && r.GreaterThan(list) {
				p.Add(rf, "must not exceed the list rate of the same tier (%s), got %s", FormatRate(list), FormatRate(r))
			}
		}
	}
	order := checkBands(p, "tiers", "tier", bands)
	// A channel, once offered, is offered on every higher tier, so "offered
	// from N credits a year" is a true sentence and refusals can say it.
	for _, c := range Channels()[1:] {
		first := -1
		for _, i := range order {
			if _, ok := tiers[i].Rates[c]; ok {
				if first < 0 {
					first = i
				}
			} else if first >= 0 {
				p.Add(fmt.Sprintf("tiers[%d].rates.%s", i, c), "is required: %s is offered from tiers[%d] (%s credits) and so must be on every higher tier",
					c, first, groupThousands(tiers[first].From))
			}
		}
	}
}

func validateBenchmarks(p *core.Problems, marks []Benchmark) {
	if len(marks) == 0 {
		return
	}
	if len(marks) > BenchmarksMax {
		p.Add("benchmarks", "has %d bands; a book may have at most %d", len(marks), BenchmarksMax)
		return
	}
	bands := make([]band, len(marks))
	for i, m := range marks {
		bands[i] = band{m.From, m.To}
		field := fmt.Sprintf("benchmarks[%d]", i)
		if len(m.Name) > NameLenMax {
			p.Add(field+".name", "must be at most %d characters", NameLenMax)
		}
		for _, r := range []struct {
			name string
			r    Range
		}{{"advisory", m.Advisory}, {"market", m.Market}, {"channel", m.Channel}} {
			checkRate(p, field+"."+r.name+".low", r.r.Low)
			checkRate(p, field+"."+r.name+".high", r.r.High)
			if r.r.High.LessThan(r.r.Low) {
				p.Add(field+"."+r.name+".high", "must not be below low (%s)", FormatRate(r.r.Low))
			}
		}
		// Cheapest first, each range starting and ending no lower than the
		// one below it, and no gap between neighbours (they may overlap, as
		// the seed's 100,000+ band does: market 0.55–0.70, advisory
		// 0.45–0.58).
		order := func(field string, got, floor decimal.Decimal, floorName, why string) {
			if got.LessThan(floor) {
				p.Add(field, "must be at least %s (%s): %s", floorName, FormatRate(floor), why)
			}
		}
		const ordered = "the ranges run cheapest first (advisory, market, channel)"
		order(field+".market.low", m.Market.Low, m.Advisory.Low, "advisory.low", ordered)
		order(field+".market.high", m.Market.High, m.Advisory.High, "advisory.high", ordered)
		order(field+".channel.low", m.Channel.Low, m.Market.Low, "market.low", ordered)
		order(field+".channel.high", m.Channel.High, m.Market.High, "market.high", ordered)
		const noGap = "neighbouring ranges may overlap but not leave a gap, so every price has a position"
		if m.Market.Low.GreaterThan(m.Advisory.High) {
			p.Add(field+".market.low", "must be at most advisory.high (%s): %s", FormatRate(m.Advisory.High), noGap)
		}
		if m.Channel.Low.GreaterThan(m.Market.High) {
			p.Add(field+".channel.low", "must be at most market.high (%s): %s", FormatRate(m.Market.High), noGap)
		}
	}
	checkBands(p, "benchmarks", "band", bands)
}

func checkRate(p *core.Problems, field string, r decimal.Decimal) {
	switch {
	case r.Sign() < 0:
		p.Add(field, "must not be negative, got %s", r.String())
	case r.GreaterThan(decimal.NewFromInt(RateMax)):
		p.Add(field, "must be at most %d", RateMax)
	case !r.Equal(r.Truncate(RateScaleMax)):
		p.Add(field, "has more than %d decimal places", RateScaleMax)
	}
}

// band is a [from, to) range of annual volume: a tier's or a benchmark's.
type band struct {
	from decimal.Decimal
	to   decimal.NullDecimal
}

// checkBands checks that bands partition [0, ∞): whole bounds within
// CreditsMax, from < to, ascending order, the first starting at 0, each
// ending where the next starts, and only the last open-ended. It judges
// contiguity on a sorted copy, so one misplaced band is reported once, and
// returns that order (indices into bands).
func checkBands(p *core.Problems, list, noun string, bands []band) []int {
	creditsMax := decimal.NewFromInt(core.CreditsMax)
	bound := func(field string, d decimal.Decimal) {
		switch {
		case d.Sign() < 0:
			p.Add(field, "must not be negative")
		case !isWhole(d):
			p.Add(field, "must be a whole number of credits")
		case d.GreaterThan(creditsMax):
			p.Add(field, "must be at most %d", core.CreditsMax)
		}
	}
	for i, bd := range bands {
		field := fmt.Sprintf("%s[%d]", list, i)
		bound(field+".from", bd.from)
		if bd.to.Valid {
			bound(field+".to", bd.to.Decimal)
			if bd.to.Decimal.Cmp(bd.from) <= 0 {
				p.Add(field+".to", "must be greater than from (%s): a %s covers [from, to)", bd.from.String(), noun)
			}
		}
	}
	order := make([]int, len(bands))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bands[a].from.Cmp(bands[b].from) })
	if !slices.IsSorted(order) {
		p.Add(list, "must be listed in ascending order of from")
	}
	name := func(i int) string { return fmt.Sprintf("%s[%d]", list, i) }
	if first := bands[order[0]]; first.from.Sign() != 0 {
		p.Add(name(order[0])+".from", "must be 0: the first %s starts at zero credits, got %s", noun, first.from.String())
	}
	for k := 1; k < len(order); k++ {
		prev, cur := bands[order[k-1]], bands[order[k]]
		if !prev.to.Valid {
			p.Add(name(order[k-1])+".to", "is required: only the last %s may be open-ended", noun)
			continue
		}
		switch c := cur.from.Cmp(prev.to.Decimal); {
		case c < 0:
			p.Add(name(order[k])+".from", "overlaps %s: it starts at %s, before %s where %s ends",
				name(order[k-1]), cur.from.String(), prev.to.Decimal.String(), name(order[k-1]))
		case c > 0:
			p.Add(name(order[k])+".from", "leaves a gap: credits from %s up to %s are in no %s; it must start at %s",
				prev.to.Decimal.String(), cur.from.String(), noun, prev.to.Decimal.String())
		}
	}
	if last := order[len(order)-1]; bands[last].to.Valid {
		p.Add(name(last)+".to", "must be left out: the last %s is open-ended, so every volume has one", noun)
	}
	return order
}

func isWhole(d decimal.Decimal) bool { return d.Equal(d.Truncate(0)) }

func versionChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// bookDepthMax bounds the nesting of a price book document.
const bookDepthMax = 16

// readBook reads a price book document strictly: unknown fields and
// trailing data are refused, and a member of the wrong JSON type is an
// invalid_request problem naming the field the way a struct decoder names
// it ("tiers.rates"). A document that cannot be read at all is returned as
// an error; what can be read is returned with the problems in p.
func readBook(p *core.Problems, data []byte) (bookJSON, error) {
	var w bookJSON
	v, err := jsontext.Parse(data, bookDepthMax)
	if err != nil {
		return w, jsonProblem(err)
	}
	top, ok := v.(jsontext.Object)
	if !ok {
		return w, core.Invalid("body", "must be a JSON object, not %s", jsontext.KindOf(v))
	}
	r := bookReader{p: p}
	r.object("", top, func(key, field string, v any) bool {
		switch key {
		case "version":
			w.Version = r.str(field, v)
		case "currency":
			w.Currency = r.str(field, v)
		case "effective_from":
			w.EffectiveFrom = r.str(field, v)
		case "pack_size":
			w.PackSize = r.str(field, v)
		case "mode":
			w.Mode = r.str(field, v)
		case "notes":
			w.Notes = r.str(field, v)
		case "tiers":
			for _, e := range r.array(field, v) {
				var t tierJSON
				r.object(field, e, func(key, field string, v any) bool {
					switch key {
					case "from":
						t.From = r.str(field, v)
					case "to":
						t.To = r.optional(field, v)
					case "name":
						t.Name = r.str(field, v)
					case "rates":
						t.Rates = r.strings(field, v)
					default:
						return false
					}
					return true
				})
				w.Tiers = append(w.Tiers, t)
			}
		case "benchmarks":
			for _, e := range r.array(field, v) {
				var m benchmarkJSON
				r.object(field, e, func(key, field string, v any) bool {
					switch key {
					case "from":
						m.From = r.str(field, v)
					case "to":
						m.To = r.optional(field, v)
					case "name":
						m.Name = r.str(field, v)
					case "channel":
						m.Channel = r.rng(field, v)
					case "market":
						m.Market = r.rng(field, v)
					case "advisory":
						m.Advisory = r.rng(field, v)
					default:
						return false
					}
					return true
				})
				w.Benchmarks = append(w.Benchmarks, m)
			}
		default:
			return false
		}
		return true
	})
	return w, r.err
}

// bookReader converts a parsed book into its wire struct. The first
// unknown field or wrong type stops the reading (err), as a struct decoder
// stops at it; a null member is left at its zero value.
type bookReader struct {
	p   *core.Problems
	err error
}

func (r *bookReader) fail(field, want string, v any) {
	if r.err != nil {
		return
	}
	if field == "" {
		field = "body"
	}
	if want == "string" {
		r.err = core.Invalid(field, "must be a JSON string such as \"1.25\" (send numbers as strings), not %s", jsontext.KindOf(v))
		return
	}
	r.err = core.Invalid(field, "must be a JSON %s, not %s", want, jsontext.KindOf(v))
}

// object calls member for each member of v (an object); member returns
// false for a key it does not know.
func (r *bookReader) object(field string, v any, member func(key, field string, v any) bool) {
	obj, ok := v.(jsontext.Object)
	if !ok {
		if v != nil {
			r.fail(field, "object", v)
		}
		return
	}
	for _, m := range obj {
		if r.err != nil {
			return
		}
		if !member(m.Key, joinField(field, m.Key), m.Value) && r.err == nil {
			r.err = core.Invalid("body", "has an unknown field %s", strconv.Quote(m.Key))
		}
	}
}

func (r *bookReader) array(field string, v any) []any {
	arr, ok := v.([]any)
	if !ok && v != nil {
		r.fail(field, "array", v)
	}
	return arr
}

func (r *bookReader) str(field string, v any) string {
	s, ok := v.(string)
	if !ok && v != nil {
		r.fail(field, "string", v)
	}
	return s
}

func (r *bookReader) optional(field string, v any) *string {
	if v == nil {
		return nil
	}
	s := r.str(field, v)
	return &s
}

func (r *bookReader) strings(field string, v any) map[string]string {
	obj, ok := v.(jsontext.Object)
	if !ok {
		if v != nil {
			r.fail(field, "object", v)
		}
		return nil
	}
	out := make(map[string]string, len(obj))
	for _, m := range obj {
		out[m.Key] = r.str(field, m.Value)
	}
	return out
}

func (r *bookReader) rng(field string, v any) rangeJSON {
	var g rangeJSON
	r.object(field, v, func(key, field string, v any) bool {
		switch key {
		case "low":
			g.Low = r.str(field, v)
		case "high":
			g.High = r.str(field, v)
		default:
			return false
		}
		return true
	})
	return g
}

// joinField names a member as a struct decoder does: object keys joined by
// dots, array indices left out.
func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// jsonProblem turns a document that cannot be read into the error the
// caller reports.
func jsonProblem(err error) error {
	e := err.(*jsontext.Error)
	switch e.Kind {
	case jsontext.Empty:
		return core.Invalid("body", "is empty; send a JSON object")
	case jsontext.Incomplete:
		return core.Invalid("body", "ends before the JSON is complete")
	case jsontext.Trailing:
		return core.Invalid("body", "has data after the JSON object")
	case jsontext.TooDeep:
		return core.Invalid("body", "nests deeper than %d levels", bookDepthMax)
	}
	return core.Invalid("body", "is not valid JSON at byte %d: %s", e.Offset, e.Message)
}
