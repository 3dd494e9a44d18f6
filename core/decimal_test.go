package core_test

import (
	"testing"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  string // "" when an error is wanted
		scale int32
	}{
		{"12", "12", 6},
		{"12.5", "12.5", 6},
		{"0.000001", "0.000001", 6},
		{"1.50000000", "1.5", 6}, // trailing zeros carry no precision
		{"-3", "-3", 6},
		{"0.0000001", "", 6},
		{"1e3", "", 6},
		{"+1", "", 6},
		{" 1", "", 6},
		{"1.", "", 6},
		{".5", "", 6},
		{"0x10", "", 6},
		{"NaN", "", 6},
		{"", "", 6},
		{"12345678901234567890123456789012345678901234567890123456789012345", "", 6},
	} {
		got, err := core.ParseDecimal("f", tc.in, tc.scale)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDecimal(%q) = %s, want an error", tc.in, got)
		case tc.want == "" && core.ErrorCode(err) != core.CodeInvalidRequest:
			t.Errorf("ParseDecimal(%q) error code = %s, want invalid_request", tc.in, core.ErrorCode(err))
		case tc.want != "" && err != nil:
			t.Errorf("ParseDecimal(%q) error %v, want %s", tc.in, err, tc.want)
		case tc.want != "" && !got.Equal(decimal.RequireFromString(tc.want)):
			t.Errorf("ParseDecimal(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseCreditsLimits(t *testing.T) {
	for _, in := range []string{"0", "-1", "1000000000001", "0.0000001"} {
		if _, err := core.ParseCredits("credits", in); err == nil {
			t.Errorf("ParseCredits(%q) accepted, want invalid_request", in)
		}
	}
	if got, err := core.ParseCredits("credits", "1000000000000"); err != nil || got.String() != "1000000000000" {
		t.Errorf("ParseCredits(max) = %s, %v", got, err)
	}
}

func TestRoundMoneyHalfUp(t *testing.T) {
	for in, want := range map[string]string{
		"1.005": "1.01", "1.004": "1.00", "6250": "6250.00", "0.125": "0.13", "2.675": "2.68", "-1.005": "-1.01",
	} {
		if got := core.FormatMoney(decimal.RequireFromString(in)); got != want {
			t.Errorf("FormatMoney(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestProblemsCollectsEveryField(t *testing.T) {
	var p core.Problems
	p.Add("b", "bad %d", 2)
	p.Add("a", "bad %d", 1)
	p.Add("a", "ignored: the first problem of a field wins")
	err := p.Err()
	e, ok := core.AsError(err)
	if !ok || e.Code != core.CodeInvalidRequest {
		t.Fatalf("Err() = %v, want invalid_request", err)
	}
	fields := e.Details["fields"].(map[string]string)
	if len(fields) != 2 || fields["a"] != "bad 1" || fields["b"] != "bad 2" {
		t.Errorf("fields = %v", fields)
	}
	if e.Message != "a: bad 1; b: bad 2" {
		t.Errorf("message = %q", e.Message)
	}
	var none core.Problems
	if none.Err() != nil {
		t.Error("empty Problems returned an error")
	}
}

func TestCurrencies(t *testing.T) {
	for _, c := range core.Currencies() {
		got, ok := core.ParseCurrency(string(c))
		if !ok || got != c {
			t.Errorf("ParseCurrency(%s) = %s, %v", c, got, ok)
		}
	}
	for _, bad := range []string{"", "CLOUD", "usd", "cloud "} {
		if _, ok := core.ParseCurrency(bad); ok {
			t.Errorf("ParseCurrency(%q) accepted", bad)
		}
	}
	if core.Forma.Name() != "forma credits" {
		t.Errorf("Forma.Name() = %q", core.Forma.Name())
	}
}

// TestFormatDecimalIsString: FormatDecimal writes what String writes, on
// both sides of its fast path's limits.
func TestFormatDecimalIsString(t *testing.T) {
	texts := []string{"0", "-0", "0.00", "1", "-1", "12.50", "12.5", "0.000001", "-0.0000010", "1000", "123456789012345678",
		"1234567890123456789", "999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"0.123456789012345678", "0.1234567890123456789", "100.000", "5", "7.20000000", "1.8", "300"}
	var ds []decimal.Decimal
	for _, s := range texts {
		ds = append(ds, decimal.RequireFromString(s))
	}
	for exp := int32(-20); exp <= 20; exp++ {
		for _, c := range []int64{0, 1, -1, 7, 10, 120, -3500, 999999999999999999, 123456789} {
			ds = append(ds, decimal.New(c, exp))
		}
	}
	for _, d := range ds {
		if got, want := core.FormatDecimal(d), d.String(); got != want {
			t.Errorf("FormatDecimal(%s e%d) = %q, want %q", d.Coefficient(), d.Exponent(), got, want)
		}
	}
}

func FuzzFormatDecimal(f *testing.F) {
	f.Add(int64(1250), int32(-2))
	f.Add(int64(-7), int32(3))
	f.Fuzz(func(t *testing.T, c int64, exp int32) {
		if exp < -40 || exp > 40 {
			return
		}
		d := decimal.New(c, exp)
		if got, want := core.FormatDecimal(d), d.String(); got != want {
			t.Errorf("FormatDecimal(%d e%d) = %q, want %q", c, exp, got, want)
		}
	})
}

func TestFormatMoneyIsRoundedStringFixed(t *testing.T) {
	for _, s := range []string{"0", "-0.001", "1", "1.5", "1.25", "1.005", "-1.005", "6250", "0.1", "1234567.8", "99.999", "-3", "-0.5", "12.30"} {
		d := decimal.RequireFromString(s)
		for _, x := range []decimal.Decimal{d, d.Mul(decimal.New(1, 3)), d.Div(decimal.NewFromInt(7))} {
			if got, want := core.FormatMoney(x), core.RoundMoney(x).StringFixed(core.MoneyScale); got != want {
				t.Errorf("FormatMoney(%s) = %q, want %q", x, got, want)
			}
		}
	}
}
