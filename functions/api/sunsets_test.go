package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// TestSunsetRoute: only a vendor admin sets a sunset; every problem with the
// request is a 400 naming its field; the sunset reads back to every role.
func TestSunsetRoute(t *testing.T) {
	e := newEnv(t)
	url := "/v1/currencies/cloud/sunset"
	good := `{"sales_end":"2026-04-01T00:00:00Z","final_expiry":"2026-12-01T00:00:00Z","successor":"flex"}`
	for _, tc := range []struct {
		name, who, path, body string
		status                int
		code, field           string
	}{
		{"a contract admin", "admin", url, good, 403, "forbidden", ""},
		{"a service", "service", url, good, 403, "forbidden", ""},
		{"a reseller", "reseller", url, good, 403, "forbidden", ""},
		{"final expiry before the sales end", "vendor", url, `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-04-01T00:00:00Z"}`, 400, "invalid_request", "final_expiry"},
		{"final expiry at the sales end", "vendor", url, `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-05-01T00:00:00Z"}`, 400, "invalid_request", "final_expiry"},
		{"an unknown currency", "vendor", "/v1/currencies/usd/sunset", good, 400, "invalid_request", "currency"},
		{"the currency as its own successor", "vendor", url, `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-06-01T00:00:00Z","successor":"cloud"}`, 400, "invalid_request", "successor"},
		{"an unknown successor", "vendor", url, `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-06-01T00:00:00Z","successor":"gold"}`, 400, "invalid_request", "successor"},
		{"a sales end in the past", "vendor", url, `{"sales_end":"2026-01-01T00:00:00Z","final_expiry":"2026-06-01T00:00:00Z"}`, 400, "invalid_request", "sales_end"},
		{"no dates", "vendor", url, `{}`, 400, "invalid_request", "sales_end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.dump(t)
			rec := e.do(t, tc.who, "PUT", tc.path, "k-"+tc.name, tc.body)
			wantError(t, rec, tc.status, tc.code)
			if tc.field != "" && !strings.Contains(rec.Body.String(), `"`+tc.field+`"`) {
				t.Errorf("the error does not name %s: %s", tc.field, rec.Body)
			}
			if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("a refused sunset changed the ledger")
			}
		})
	}
	wantError(t, e.do(t, "ann", "GET", url, "", ""), 404, "not_found")
	e.ok(t, e.do(t, "vendor", "PUT", url, "s-1", good), 200)
	for _, who := range []string{"vendor", "admin", "ann", "service", "reseller"} {
		rec := e.do(t, who, "GET", url, "", "")
		e.ok(t, rec, 200)
		if !strings.Contains(rec.Body.String(), `"successor":"flex"`) || !strings.Contains(rec.Body.String(), `"final_expiry":"2026-12-01T00:00:00Z"`) {
			t.Errorf("GET as %s = %s", who, rec.Body)
		}
	}
	wantError(t, e.do(t, "ann", "GET", "/v1/currencies/gold/sunset", "", ""), 404, "not_found")
	// The final expiry moves earlier, never later.
	wantError(t, e.do(t, "vendor", "PUT", url, "s-2", `{"sales_end":"2026-04-01T00:00:00Z","final_expiry":"2027-01-01T00:00:00Z","successor":"flex"}`), 400, "invalid_request")
	e.ok(t, e.do(t, "vendor", "PUT", url, "s-3", `{"sales_end":"2026-04-01T00:00:00Z","final_expiry":"2026-11-01T00:00:00Z","successor":"flex"}`), 200)
	if rec := e.do(t, "vendor", "GET", url, "", ""); !strings.Contains(rec.Body.String(), `"version":2`) {
		t.Errorf("after a change, GET = %s; want version 2", rec.Body)
	}
}

// TestSunsetClosesSalesAndEndsLots: setting a sunset ends the currency's
// lots by its final expiry; orders and quotes of it are refused from its
// sales end (sales_closed, 422), others are not.
func TestSunsetClosesSalesAndEndsLots(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	final := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	url := "/v1/currencies/cloud/sunset"
	// Sales end in an hour: still open now.
	e.ok(t, e.do(t, "vendor", "PUT", url, "s-1", `{"sales_end":"2026-03-10T10:00:00Z","final_expiry":"2026-12-01T00:00:00Z","successor":"flex"}`), 200)
	for _, c := range []string{"c1", "c2"} {
		l, err := e.st.Lot(ctx, c, c+"-pool")
		if err != nil {
			t.Fatal(err)
		}
		if !l.End().Equal(final) {
			t.Errorf("%s-pool ends %v, want the final expiry %v", c, l.End(), final)
		}
	}
	lots, err := e.st.Lots(ctx, "c1", "", ledger.LotsPageMax)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lots {
		if l.Currency == core.Cloud && (l.End().IsZero() || l.End().After(final)) {
			t.Errorf("cloud lot %s ends %v, after the final expiry", l.ID, l.End())
		}
	}
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "o-open", cardOrder), 201)
	e.ok(t, e.do(t, "reseller", "POST", "/v1/quotes", "q-open", `{"customer":"x","currency":"cloud","credits":"100"}`), 201)
	quoted := jsonField(t, e.do(t, "vendor", "POST", "/v1/quotes", "q-before", `{"customer":"x","currency":"cloud","packs":1,"channel":"list"}`), "token")

	// Sales end now (moved earlier while still in the future).
	e.ok(t, e.do(t, "vendor", "PUT", url, "s-2", `{"sales_end":"2026-03-10T09:00:00Z","final_expiry":"2026-12-01T00:00:00Z","successor":"flex"}`), 200)
	rec := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "o-closed", cardOrder)
	wantError(t, rec, 422, "sales_closed")
	if !strings.Contains(rec.Body.String(), "flex tokens") {
		t.Errorf("sales_closed does not name the successor: %s", rec.Body)
	}
	wantError(t, e.do(t, "reseller", "POST", "/v1/quotes", "q-closed", `{"customer":"x","currency":"cloud","credits":"100"}`), 422, "sales_closed")
	// A quote made before the sales end is refused when accepted after it.
	wantError(t, e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "o-quoted", `{"payment":"card","quote_token":"`+quoted+`"}`), 422, "sales_closed")
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "o-flex", `{"currency":"flex","credits":"100","payment":"card"}`), 201)
	// Once the sales end has passed it can't move later, nor the successor change.
	wantError(t, e.do(t, "vendor", "PUT", url, "s-3", `{"sales_end":"2026-04-01T00:00:00Z","final_expiry":"2026-12-01T00:00:00Z","successor":"flex"}`), 400, "invalid_request")
	wantError(t, e.do(t, "vendor", "PUT", url, "s-4", `{"sales_end":"2026-03-10T09:00:00Z","final_expiry":"2026-12-01T00:00:00Z"}`), 400, "invalid_request")
}
