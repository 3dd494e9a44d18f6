package core

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Limits on every decimal the domain accepts from outside. They keep
// arithmetic exact and bounded, and turn absurd input into a clear error.
const (
	// CreditsMax is the largest quantity of credits accepted in one request
	// or held in one lot: a trillion.
	CreditsMax = 1_000_000_000_000
	// CreditsScaleMax is the most fractional digits a credit quantity may
	// carry. Rate rules produce whole credits unless a rule says otherwise;
	// six digits leave room for fractional rules without hiding dust.
	CreditsScaleMax = 6
	// MoneyScale is the number of fractional digits money is rounded to.
	MoneyScale = 2
	// decimalTextMax bounds the length of a decimal's text before parsing,
	// so a megabyte of digits never reaches the big-number parser.
	decimalTextMax = 64
)

var creditsMax = decimal.NewFromInt(CreditsMax)

// RoundMoney is the one rounding rule for money: half-up (away from zero on a
// tie) to cents. Prices are computed exactly and rounded here once, at the
// line.
func RoundMoney(d decimal.Decimal) decimal.Decimal {
	return d.Round(MoneyScale)
}

// FormatMoney renders money with exactly two fractional digits ("6250.00").
func FormatMoney(d decimal.Decimal) string {
	if d.Exponent() < -MoneyScale {
		return RoundMoney(d).StringFixed(MoneyScale)
	}
	// Already in cents: the shortest text padded to two digits is
	// StringFixed's, without its rescaling.
	return FormatDecimalPadded(d, MoneyScale)
}

// FormatDecimalPadded is FormatDecimal with at least minFrac fractional
// digits, zeros added as needed ("1.1" with 2: "1.10"; "3": "3.00").
func FormatDecimalPadded(d decimal.Decimal, minFrac int) string {
	s := FormatDecimal(d)
	frac := 0
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		frac = len(s) - dot - 1
	} else if minFrac > 0 {
		s += "."
	}
	if frac >= minFrac {
		return s
	}
	return s + strings.Repeat("0", minFrac-frac)
}

// FormatCredits renders credits without trailing zeros ("300", "12.5").
func FormatCredits(d decimal.Decimal) string {
	return FormatDecimal(d)
}

// pow10 holds 10^0 to 10^18.
var pow10 = func() (p [19]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// FormatDecimal is d.String() (trailing zeros trimmed, never scientific
// notation): the text every decimal of the API is written as. Decimals
// whose digits fit in 64 bits, which are all the quantities, rates and
// credits of an estimate, are written without the big-number conversion
// String makes; the others, and any change to the decimal package's
// formatting defaults, go through String.
func FormatDecimal(d decimal.Decimal) string {
	exp := d.Exponent()
	if exp < -18 || exp > 18 || !decimal.TrimTrailingZeros || decimal.UseScientificNotation || d.NumDigits() > 18 {
		return d.String()
	}
	c := d.CoefficientInt64()
	u := uint64(c)
	if c < 0 {
		u = -u
	}
	var buf [48]byte
	b := buf[:0]
	if c < 0 {
		b = append(b, '-')
	}
	if exp >= 0 {
		if exp > 0 && u > (1<<63)/pow10[exp] {
			return d.String()
		}
		return string(strconv.AppendUint(b, u*pow10[exp], 10))
	}
	var digitsBuf [20]byte
	digits := strconv.AppendUint(digitsBuf[:0], u, 10)
	scale := int(-exp)
	var intPart, frac []byte
	zeros := 0
	if len(digits) > scale {
		intPart, frac = digits[:len(digits)-scale], digits[len(digits)-scale:]
	} else {
		intPart, frac, zeros = []byte{'0'}, digits, scale-len(digits)
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	b = append(b, intPart...)
	if len(frac) > 0 {
		b = append(b, '.')
		for ; zeros > 0; zeros-- {
			b = append(b, '0')
		}
		b = append(b, frac...)
	}
	return string(b)
}

// ParseDecimal parses a plain decimal numeral: an optional minus sign, digits,
// an optional fraction. No exponents, no spaces, no "+", no hex, no NaN; at
// most maxScale fractional digits and at most decimalTextMax characters. The
// error names field.
func ParseDecimal(field, s string, maxScale int32) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, Invalid(field, "is required")
	}
	if len(s) > decimalTextMax {
		return decimal.Zero, Invalid(field, "is too long to be a number")
	}
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return decimal.Zero, Invalid(field, "must be a decimal number such as \"12\" or \"12.5\", got %q", s)
	}
	if int32(len(strings.TrimRight(frac, "0"))) > maxScale {
		return decimal.Zero, Invalid(field, "has more than %d decimal places", maxScale)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, Invalid(field, "must be a decimal number, got %q", s)
	}
	return d, nil
}

// ParseCredits parses a positive quantity of credits within CreditsMax and
// CreditsScaleMax.
func ParseCredits(field, s string) (decimal.Decimal, error) {
	d, err := ParseDecimal(field, s, CreditsScaleMax)
	if err != nil {
		return d, err
	}
	return d, CheckCredits(field, d)
}

// CheckCredits reports whether d is a positive quantity of credits within
// the limits.
func CheckCredits(field string, d decimal.Decimal) error {
	switch {
	case d.Sign() <= 0:
		return Invalid(field, "must be greater than zero")
	case d.GreaterThan(creditsMax):
		return Invalid(field, "must be at most %d", CreditsMax)
	case -d.Exponent() > CreditsScaleMax && !d.Equal(d.Truncate(CreditsScaleMax)):
		return Invalid(field, "has more than %d decimal places", CreditsScaleMax)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
