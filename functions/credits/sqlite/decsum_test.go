package sqlite

import (
	"context"
	"testing"

	"cloudcredits/functions/credits"
)

var _ credits.UsageSummer = (*Store)(nil)

// TestParseMicros: the fast path of sum_decimal takes only text it reads
// exactly, and leaves the rest to the decimal parser.
func TestParseMicros(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"7", 7_000_000, true}, {"-7", -7_000_000, true}, {"1.5", 1_500_000, true},
		{"0.000001", 1, true}, {"-0.000001", -1, true}, {"999999999999.999999", 999_999_999_999_999_999, true},
		{"0.0000001", 0, false}, {"1000000000000", 0, false}, {"1e3", 0, false}, {"", 0, false}, {"-", 0, false},
		{".5", 0, false}, {"5.", 0, false}, {"1.2.3", 0, false}, {"+1", 0, false}, {" 1", 0, false},
	} {
		got, ok := parseMicros(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseMicros(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestSumDecimal: sum_decimal is exact where SQLite's sum() is not, past
// int64 millionths too, and refuses text that is not a decimal.
func TestSumDecimal(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	for _, c := range []struct{ values, want string }{
		{"('0.1'), ('0.2')", "0.3"},
		{"('9000000000000'), ('9000000000000'), ('0.000001')", "18000000000000.000001"},
		{"('999999999999.999999'), ('999999999999.999999'), ('-1')", "1999999999998.999998"},
		{"('1E+2'), ('0.00000001'), (NULL)", "100.00000001"},
		{"(NULL)", "0"},
	} {
		var got string
		if err := st.reader.QueryRowContext(ctx, "SELECT sum_decimal(column1) FROM (VALUES "+c.values+")").Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.values, err)
		}
		if got != c.want {
			t.Errorf("sum_decimal of %s = %s, want %s", c.values, got, c.want)
		}
	}
	var got string
	if err := st.reader.QueryRowContext(ctx, "SELECT sum_decimal(column1) FROM (VALUES ('1'), ('one'))").Scan(&got); err == nil {
		t.Errorf("sum_decimal of 'one' = %s, want an error", got)
	}
}
