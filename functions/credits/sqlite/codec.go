package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// The instants a Unix-nanosecond int64 can hold: 1677-09-21 to 2262-04-11.
var (
	timeMin = time.Unix(0, math.MinInt64).UTC()
	timeMax = time.Unix(0, math.MaxInt64).UTC()
)

// encodeTime turns t into a column value: NULL for the zero time, else its
// Unix nanoseconds. An instant outside int64 nanoseconds is refused, never
// wrapped around.
func encodeTime(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(timeMin) || t.After(timeMax) {
		return nil, core.Invalid("time", "%s is outside the range the store keeps (%s to %s)",
			t.Format(time.RFC3339), timeMin.Format(time.DateOnly), timeMax.Format(time.DateOnly))
	}
	return t.UnixNano(), nil
}

// decodeTime is encodeTime's inverse; times come back in UTC.
func decodeTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

// decZero is what "0" decodes to (as decimal.NewFromString decodes it),
// one value shared by every column that holds 0 — most of a lot's
// counters: a decimal is never changed in place, so sharing it is safe.
var decZero = decimal.New(0, 0)

// encodeDecimal is the one text form of a decimal in the database.
func encodeDecimal(d decimal.Decimal) string {
	if d.IsZero() {
		return "0" // d.String(), without its allocations: most counters are 0
	}
	return d.String()
}

func decodeDecimal(column, s string) (decimal.Decimal, error) {
	if s == "0" {
		return decZero, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("column %s holds %q, not a decimal: %w", column, s, err)
	}
	return d, nil
}

func encodeBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

func decodeJSON(column, s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("column %s holds invalid JSON: %w", column, err)
	}
	return nil
}

// timeCol scans a time column (NULL: the zero time) into t.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	*c.t = decodeTime(v)
	return nil
}

// decCol scans a decimal column (text) into d.
type decCol struct {
	column string
	d      *decimal.Decimal
}

func (c decCol) Scan(src any) error {
	s, err := textValue(src)
	if err != nil {
		return err
	}
	d, err := decodeDecimal(c.column, s)
	*c.d = d
	return err
}

// jsonCol scans a JSON column (text) into v.
type jsonCol struct {
	column string
	v      any
}

func (c jsonCol) Scan(src any) error {
	s, err := textValue(src)
	if err != nil {
		return err
	}
	return decodeJSON(c.column, s, c.v)
}

// textCol scans a text column into a string kind (a currency, a state).
type textCol[S ~string] struct{ p *S }

func (c textCol[S]) Scan(src any) error {
	s, err := textValue(src)
	if err != nil {
		return err
	}
	*c.p = S(s)
	return nil
}

// textValue is a text column's value; NULL is refused, as database/sql
// refuses it for a string.
func textValue(src any) (string, error) {
	var v sql.NullString
	if err := v.Scan(src); err != nil {
		return "", err
	}
	if !v.Valid {
		return "", fmt.Errorf("converting NULL to string is unsupported")
	}
	return v.String, nil
}

// values collects the column values of one row, remembering the first
// encoding error so a long argument list needs one check at the end.
type values struct {
	args []any
	err  error
}

// valuesCap is the columns a row's values are allocated for at first: the
// widest row a spend writes fits without growing.
const valuesCap = 24

func (v *values) add(a ...any) {
	if v.args == nil {
		v.args = make([]any, 0, valuesCap)
	}
	v.args = append(v.args, a...)
}

func (v *values) time(t time.Time) {
	a, err := encodeTime(t)
	if err != nil && v.err == nil {
		v.err = err
	}
	v.args = append(v.args, a)
}

func (v *values) dec(d decimal.Decimal) {
	if d.IsZero() {
		v.args = append(v.args, zeroText) // no string to box
		return
	}
	v.args = append(v.args, encodeDecimal(d))
}

// zeroText is encodeDecimal(0) as a column value.
var zeroText any = "0"

func (v *values) json(x any) {
	s, err := encodeJSON(x)
	if err != nil && v.err == nil {
		v.err = err
	}
	v.args = append(v.args, s)
}
