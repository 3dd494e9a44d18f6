package pricing

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// RateScaleMax is the most fractional digits a rate (money per credit) may
// carry in a book, and the most a displayed unit price shows.
const RateScaleMax = 4

// rateScaleMin is the fewest fractional digits a rate is displayed with, so
// that "1.1" reads as money: "1.10".
const rateScaleMin = 2

// echoMax bounds how much of a client's text is echoed back in a message.
const echoMax = 40

// FormatRate renders money per credit with two to four fractional digits:
// rounded half-up to RateScaleMax digits, then trailing zeros beyond the
// second dropped ("1.10", "1.1833", "0.70").
func FormatRate(d decimal.Decimal) string {
	// d.StringFixed(RateScaleMax) with the zeros beyond the second digit
	// dropped is the rounded value's shortest text padded to two digits.
	if d.Exponent() < -RateScaleMax {
		d = d.Round(RateScaleMax) // else rounding changes nothing
	}
	return core.FormatDecimalPadded(d, rateScaleMin)
}

// roundRate rounds a unit price the way FormatRate displays it.
func roundRate(d decimal.Decimal) decimal.Decimal { return d.Round(RateScaleMax) }

// groupThousands renders a quantity for people: "100,000", "1,234.5".
func groupThousands(d decimal.Decimal) string {
	s := core.FormatDecimal(d)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// bandLabel names a [from, to) band of whole credits for people:
// "under 1,000", "1,000–4,999", "100,000 and up".
func bandLabel(from decimal.Decimal, to decimal.NullDecimal) string {
	switch {
	case !to.Valid:
		return groupThousands(from) + " and up"
	case from.Sign() == 0:
		return "under " + groupThousands(to.Decimal)
	default:
		return groupThousands(from) + "–" + groupThousands(to.Decimal.Sub(decimal.NewFromInt(1)))
	}
}

// echo quotes a client's text for a message, cut to echoMax bytes.
func echo(s string) string {
	if len(s) > echoMax {
		cut := echoMax
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
