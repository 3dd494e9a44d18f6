package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func TestCheckSunset(t *testing.T) {
	now := t0
	stored := &ledger.Sunset{Currency: core.Cloud, SalesEnd: now.Add(24 * time.Hour), FinalExpiry: now.Add(365 * 24 * time.Hour), Successor: core.Flex, Version: 1}
	passed := &ledger.Sunset{Currency: core.Cloud, SalesEnd: now.Add(-24 * time.Hour), FinalExpiry: now.Add(365 * 24 * time.Hour), Successor: core.Flex, Version: 1}
	flexToCloud := &ledger.Sunset{Currency: core.Flex, Successor: core.Cloud}
	for _, tc := range []struct {
		name         string
		cur          core.Currency
		existing     *ledger.Sunset
		next         *ledger.Sunset
		req          ledger.SunsetRequest
		wantProblems []string // fields; none means valid
	}{
		{"a new sunset", core.Cloud, nil, nil, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: now.Add(2 * time.Hour), Successor: core.Flex}, nil},
		{"no successor", core.Cloud, nil, nil, ledger.SunsetRequest{SalesEnd: now, FinalExpiry: now.Add(time.Hour)}, nil},
		{"every problem at once", core.Currency("usd"), nil, nil, ledger.SunsetRequest{Successor: "gold"}, []string{"currency", "final_expiry", "sales_end", "successor"}},
		{"final expiry not after sales end", core.Cloud, nil, nil, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: now.Add(time.Hour)}, []string{"final_expiry"}},
		{"its own successor", core.Cloud, nil, nil, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: now.Add(2 * time.Hour), Successor: core.Cloud}, []string{"successor"}},
		{"a successor retiring into it", core.Cloud, nil, flexToCloud, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: now.Add(2 * time.Hour), Successor: core.Flex}, []string{"successor"}},
		{"dates in the past", core.Cloud, nil, nil, ledger.SunsetRequest{SalesEnd: now.Add(-time.Hour), FinalExpiry: now.Add(-time.Minute * 30)}, []string{"final_expiry", "sales_end"}},
		{"sales end moved earlier, still ahead", core.Cloud, stored, nil, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: stored.FinalExpiry, Successor: core.Flex}, nil},
		{"sales end moved later, still ahead", core.Cloud, stored, nil, ledger.SunsetRequest{SalesEnd: now.Add(48 * time.Hour), FinalExpiry: stored.FinalExpiry, Successor: core.Flex}, nil},
		{"final expiry moved later", core.Cloud, stored, nil, ledger.SunsetRequest{SalesEnd: stored.SalesEnd, FinalExpiry: stored.FinalExpiry.Add(time.Hour), Successor: core.Flex}, []string{"final_expiry"}},
		{"a passed sales end kept, final expiry moved earlier", core.Cloud, passed, nil, ledger.SunsetRequest{SalesEnd: passed.SalesEnd, FinalExpiry: now.Add(time.Hour), Successor: core.Flex}, nil},
		{"a passed sales end moved later", core.Cloud, passed, nil, ledger.SunsetRequest{SalesEnd: now.Add(time.Hour), FinalExpiry: passed.FinalExpiry, Successor: core.Flex}, []string{"sales_end"}},
		{"the successor changed after the sales end", core.Cloud, passed, nil, ledger.SunsetRequest{SalesEnd: passed.SalesEnd, FinalExpiry: passed.FinalExpiry, Successor: core.Forma}, []string{"successor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.CheckSunset(tc.cur, tc.existing, tc.next, tc.req, now)
			if len(tc.wantProblems) == 0 {
				if err != nil {
					t.Fatalf("CheckSunset = %v, want valid", err)
				}
				return
			}
			e := wantCode(t, err, core.CodeInvalidRequest)
			fields, _ := e.Details["fields"].(map[string]string)
			var got []string
			for _, f := range []string{"currency", "final_expiry", "sales_end", "successor"} {
				if _, ok := fields[f]; ok {
					got = append(got, f)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantProblems, ",") {
				t.Errorf("problems with %v, want %v: %v", got, tc.wantProblems, err)
			}
		})
	}
}

// From the sales end, a spend priced in the retiring currency burns its own
// lots (soonest end first) and then the successor's; before it, never.
func TestSpendAfterSunsetDrawsOnTheSuccessor(t *testing.T) {
	x := &ledger.Sunset{Currency: core.Cloud, SalesEnd: t0, FinalExpiry: t0.Add(365 * 24 * time.Hour), Successor: core.Flex}
	lots := []ledger.Lot{
		lot("cloud-a", ledger.Shared, core.Cloud, "30", expires(t0.Add(48*time.Hour))),
		lot("flex-a", ledger.Shared, core.Flex, "100", expires(t0.Add(24*time.Hour))),
		lot("forma-a", ledger.Shared, core.Forma, "500"),
	}
	st := state(lots...)
	st.Sunset = x

	before := envAt(t0.Add(-time.Nanosecond))
	_, err := ledger.PlanConsume(st, spend("alice", "50"), key(), before)
	wantCode(t, err, core.CodeInsufficientCredits)

	dec, err := ledger.PlanConsume(st, spend("alice", "50"), key(), envAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.ConsumeResult
	if err := json.Unmarshal(dec.Response, &res); err != nil {
		t.Fatal(err)
	}
	if got := debitsString(res.Debits); got != "cloud-a:30,flex-a:20" {
		t.Errorf("debits = %s, want cloud-a:30,flex-a:20 (cloud first, though flex ends sooner)", got)
	}
	if res.Debits[0].Currency != "" || res.Debits[1].Currency != core.Flex {
		t.Errorf("debit currencies = %q, %q; want \"\", flex", res.Debits[0].Currency, res.Debits[1].Currency)
	}
	if got := res.BalanceAfter; !got.Equal(d("80")) {
		t.Errorf("balance_after = %s, want 80 (cloud and flex)", got)
	}

	// Forma pays for nothing of cloud's, and the message says what is taken.
	st.Lots = lots[2:]
	_, err = ledger.PlanConsume(st, spend("alice", "5"), key(), envAt(t0))
	if e := wantCode(t, err, core.CodeCurrencyMismatch); e != nil && !strings.Contains(e.Message, "this service takes cloud credits or flex tokens") {
		t.Errorf("message = %q", e.Message)
	}
}

func TestSalesOpen(t *testing.T) {
	x := &ledger.Sunset{Currency: core.Cloud, SalesEnd: t0, FinalExpiry: t0.Add(time.Hour), Successor: core.Flex}
	if err := ledger.SalesOpen(x, t0.Add(-time.Nanosecond)); err != nil {
		t.Errorf("before the sales end: %v", err)
	}
	wantCode(t, ledger.SalesOpen(x, t0), core.CodeSalesClosed)
	if err := ledger.SalesOpen(nil, t0); err != nil {
		t.Errorf("no sunset: %v", err)
	}
}
