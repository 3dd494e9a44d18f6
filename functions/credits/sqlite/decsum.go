package sqlite

import (
	"database/sql/driver"
	"fmt"
	"math"

	"github.com/shopspring/decimal"
	msqlite "modernc.org/sqlite"
)

// sumDecimalSQL names the SQL aggregate that sums decimal text exactly:
// sum_decimal(credits) is the canonical text of the sum of the column's
// values (NULLs skipped; "0" for none). SQLite's own sum() would turn the
// text into floating point; this never does. A value that is not decimal
// text fails the query.
const sumDecimalSQL = "sum_decimal"

func init() {
	msqlite.MustRegisterFunction(sumDecimalSQL, &msqlite.FunctionImpl{
		NArgs:         1,
		Deterministic: true,
		// Step parses its argument and keeps nothing of it.
		VolatileArgs:  true,
		MakeAggregate: func(msqlite.FunctionContext) (msqlite.AggregateFunction, error) { return &decimalSum{}, nil },
	})
}

// microsScale is the fixed point of decimalSum's fast path: millionths,
// core.CreditsScaleMax digits, the most a credit quantity carries.
const microsScale = 6

// decimalSum is one evaluation of sum_decimal. Most values are canonical
// decimal text of at most microsScale fractional digits, summed as int64
// millionths without a decimal parse; any other value, and any sum that
// would leave int64, goes through shopspring's arbitrary precision (rest).
type decimalSum struct {
	micros int64
	rest   decimal.Decimal
}

func (a *decimalSum) Step(_ *msqlite.FunctionContext, args []driver.Value) error {
	var s string
	switch v := args[0].(type) {
	case nil:
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		a.rest = a.rest.Add(decimal.NewFromInt(v))
		return nil
	default:
		return fmt.Errorf("%s: %T is not decimal text", sumDecimalSQL, v)
	}
	if m, ok := parseMicros(s); ok {
		if sum, ok := addInt64(a.micros, m); ok {
			a.micros = sum
			return nil
		}
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("%s: not decimal text: %w", sumDecimalSQL, err)
	}
	a.rest = a.rest.Add(d)
	return nil
}

func (a *decimalSum) WindowInverse(*msqlite.FunctionContext, []driver.Value) error {
	return fmt.Errorf("%s is not a window function", sumDecimalSQL)
}

func (a *decimalSum) WindowValue(*msqlite.FunctionContext) (driver.Value, error) {
	return encodeDecimal(a.sum()), nil
}

func (a *decimalSum) Final(*msqlite.FunctionContext) {}

func (a *decimalSum) sum() decimal.Decimal {
	return decimal.New(a.micros, -microsScale).Add(a.rest)
}

// parseMicros reads decimal text of the form -?digits(.digits)? with at
// most 12 integer and microsScale fractional digits as millionths; ok is
// false for anything else (the caller parses it the slow way).
func parseMicros(s string) (m int64, ok bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intDigits, fracDigits, dot := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot && intDigits > 0:
			dot = true
			continue
		case c < '0' || c > '9':
			return 0, false
		case dot:
			fracDigits++
		default:
			intDigits++
		}
		m = m*10 + int64(c-'0')
	}
	if intDigits == 0 || intDigits > 12 || fracDigits > microsScale || (dot && fracDigits == 0) {
		return 0, false
	}
	for range microsScale - fracDigits {
		m *= 10
	}
	if neg {
		m = -m
	}
	return m, true
}

// addInt64 is a+b, ok false when it would overflow.
func addInt64(a, b int64) (int64, bool) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, false
	}
	return a + b, true
}
