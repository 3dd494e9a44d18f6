package rates

import (
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// Paths are relative to the package, so the tests also run under
// go_js_wasm_exec, where Node provides the file system.
var (
	card2018Path  = filepath.Join("..", "..", "testdata", "ratecards", "2018.json")
	goldenDir     = filepath.Join("..", "..", "testdata", "golden", "estimates")
	card2018Once  sync.Once
	card2018Bytes []byte
	card2018Err   error
)

func read2018(tb testing.TB) []byte {
	tb.Helper()
	card2018Once.Do(func() { card2018Bytes, card2018Err = os.ReadFile(card2018Path) })
	if card2018Err != nil {
		tb.Fatal(card2018Err)
	}
	return card2018Bytes
}

// card2018 parses the sample card afresh, so no test can disturb another.
func card2018(tb testing.TB) *Card {
	tb.Helper()
	c, err := ParseCard(read2018(tb))
	if err != nil {
		tb.Fatalf("ParseCard(2018.json): %v", err)
	}
	return c
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// problemFields returns the sorted field names of an invalid_request error,
// failing the test if err is anything else.
func problemFields(tb testing.TB, err error) []string {
	tb.Helper()
	e, ok := core.AsError(err)
	if !ok || e.Code != core.CodeInvalidRequest {
		tb.Fatalf("got error %v, want an invalid_request *core.Error", err)
	}
	fields, _ := e.Details["fields"].(map[string]string)
	if len(fields) == 0 {
		tb.Fatalf("invalid_request error %v names no fields", err)
	}
	return sortedKeys(fields)
}

func problemMessage(tb testing.TB, err error, field string) string {
	tb.Helper()
	e, _ := core.AsError(err)
	fields, _ := e.Details["fields"].(map[string]string)
	msg, ok := fields[field]
	if !ok {
		tb.Fatalf("error %v has no problem for %s", err, field)
	}
	return msg
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkEstimate asserts what every estimate must satisfy: credits never
// negative, within the ledger's limits, whole unless the rule says none,
// and equal to the sum of the breakdown.
func checkEstimate(tb testing.TB, c *Card, est Estimate) {
	tb.Helper()
	svc, ok := c.Service(est.Service)
	if !ok {
		tb.Fatalf("estimate names service %q, not in the card", est.Service)
	}
	if est.Currency != svc.Currency {
		tb.Errorf("currency: got %s, want %s", est.Currency, svc.Currency)
	}
	if est.RatecardVersion != c.Version {
		tb.Errorf("ratecard_version: got %s, want %s", est.RatecardVersion, c.Version)
	}
	if est.Credits.Sign() < 0 {
		tb.Errorf("credits %s are negative", est.Credits)
	}
	if est.Credits.GreaterThan(decimal.NewFromInt(core.CreditsMax)) {
		tb.Errorf("credits %s are above CreditsMax", est.Credits)
	}
	if svc.Rule.Rounding != RoundNone && !est.Credits.IsInteger() {
		tb.Errorf("credits %s are not whole though the rule rounds up", est.Credits)
	}
	if !est.Credits.Equal(est.Credits.Truncate(core.CreditsScaleMax)) {
		tb.Errorf("credits %s have more than %d decimal places", est.Credits, core.CreditsScaleMax)
	}
	sum := decimal.Zero
	for _, l := range est.Breakdown {
		sum = sum.Add(l.Credits)
	}
	if len(est.Breakdown) == 0 || !sum.Equal(est.Credits) {
		tb.Errorf("breakdown sums to %s over %d lines, want credits %s", sum, len(est.Breakdown), est.Credits)
	}
}
