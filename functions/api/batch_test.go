package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/api"

	"github.com/shopspring/decimal"
)

const batchURL = "/v1/contracts/c1/consumptions/batch"

// batchItemResult is one item of a batch's answer, its consumption kept as
// the bytes answered.
type batchItemResult struct {
	Key         *string         `json:"idempotency_key"`
	Status      int             `json:"status"`
	Replayed    bool            `json:"replayed"`
	Consumption json.RawMessage `json:"consumption"`
	Error       *struct {
		Code    string         `json:"code"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// batch posts items (each a JSON object) as the service and returns the
// results, requiring 200 and one result per item.
func (e *env) batch(t *testing.T, items ...string) []batchItemResult {
	t.Helper()
	rec := e.do(t, "service", "POST", batchURL, "", `{"items":[`+strings.Join(items, ",")+`]}`)
	e.ok(t, rec, http.StatusOK)
	var got struct {
		Results []batchItemResult `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("answer is not a batch answer: %v: %s", err, rec.Body)
	}
	if len(got.Results) != len(items) {
		t.Fatalf("%d results for %d items: %s", len(got.Results), len(items), rec.Body)
	}
	return got.Results
}

// spentOn sums what the lots of c1 have spent, checking each conserves.
func (e *env) spentOn(t *testing.T) decimal.Decimal {
	t.Helper()
	lots, err := e.st.Lots(context.Background(), "c1", "", ledger.LotsPageMax)
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, l := range lots {
		if !l.Conserves() {
			t.Errorf("lot %s does not conserve: %+v", l.ID, l)
		}
		sum = sum.Add(l.Spent)
	}
	return sum
}

// gusAttempts counts the refused attempts recorded for gus on c1.
func gusAttempts(t *testing.T, e *env) int {
	t.Helper()
	as, err := e.st.Attempts(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range as {
		if a.User == "gus" {
			n++
		}
	}
	return n
}

func creditsOf(t *testing.T, consumption []byte) decimal.Decimal {
	t.Helper()
	var c ledger.ConsumeResult
	if err := json.Unmarshal(consumption, &c); err != nil {
		t.Fatalf("consumption %s: %v", consumption, err)
	}
	return c.Credits
}

// TestBatchAnswersEachItemAsAlone: one batch of every kind of item. Each is
// answered in order with the status it would have had alone, a refused or
// malformed item refuses no other, a later item sees an earlier one's
// debits, and the ledger holds exactly the accepted items' credits.
func TestBatchAnswersEachItemAsAlone(t *testing.T) {
	e := newEnv(t)
	e.ok(t, e.do(t, "admin", "POST", "/v1/contracts/c1/users", "u-gus", `{"user":"gus","kind":"guest","entity":"c1-hq"}`), 201)
	consumptions := "/v1/contracts/c1/consumptions"
	single := `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"7"}`
	first := e.do(t, "service", "POST", consumptions, "alone-1", single)
	e.ok(t, first, 201)
	e.ok(t, e.do(t, "service", "POST", consumptions, "alone-2", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"3"}`), 201)
	attempts := gusAttempts(t, e)

	items := []struct {
		body   string
		status int
		code   string
	}{
		{`{"idempotency_key":"m-0","user":"ann","entity":"c1-hq","service":"rendering","credits":"30"}`, 201, ""},
		{`{"idempotency_key":"m-1","user":"ann","entity":"c1-hq","service":"rendering","credits":"5000"}`, 422, "insufficient_credits"},
		{`{"idempotency_key":"m-2","user":"gus","entity":"c1-hq","service":"rendering","credits":"1"}`, 422, "not_eligible"},
		{`{"idempotency_key":"m-3","user":"ann","entity":"c1-hq","service":"rendering","credits":5}`, 400, "invalid_request"},
		{`{"idempotency_key":"alone-1",` + single[1:], 201, ""}, // the single route's consumption, replayed
		{`{"idempotency_key":"alone-2","user":"ann","entity":"c1-hq","service":"rendering","credits":"4"}`, 409, "idempotency_key_reused"},
		{`{"idempotency_key":"m-0","user":"ann","entity":"c1-hq","service":"rendering","credits":"30"}`, 400, "invalid_request"}, // m-0 again
		{`{"user":"ann","entity":"c1-sub","service":"rendering","credits":"20",  "idempotency_key" : "m-7"}`, 201, ""},
		{`{"idempotency_key":"m-8","user":"ann","entity":"c1-hq","service":"teleportation","credits":"1"}`, 400, "invalid_request"},
		{`{"idempotency_key":"m-9","user":"ann","entity":"c1-hq","service":"rendering","credits":"1.0000001"}`, 400, "invalid_request"},
		{`{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}`, 400, "idempotency_key_missing"},
		{`"m-11"`, 400, "invalid_request"},
	}
	bodies := make([]string, len(items))
	for i, it := range items {
		bodies[i] = it.body
	}
	got := e.batch(t, bodies...)
	for i, it := range items {
		g := got[i]
		code := ""
		if g.Error != nil {
			code = g.Error.Code
		}
		if g.Status != it.status || code != it.code || (it.status == 201) != (g.Consumption != nil) {
			t.Errorf("item %d: status %d, error %q, consumption %s; want %d %q", i, g.Status, code, g.Consumption, it.status, it.code)
		}
	}
	if got[6].Error != nil && !strings.Contains(fmt.Sprint(got[6].Error.Details), "items[0]") {
		t.Errorf("the duplicate key's error does not name the item it repeats: %v", got[6].Error.Details)
	}
	if k := got[7].Key; k == nil || *k != "m-7" || got[10].Key != nil || got[11].Key != nil {
		t.Errorf("keys answered: %v, %v, %v; want m-7, null, null", got[7].Key, got[10].Key, got[11].Key)
	}
	// The single route's answer, byte for byte, marked replayed.
	if !got[4].Replayed || !bytes.Equal(got[4].Consumption, bytes.TrimSpace(first.Body.Bytes())) {
		t.Errorf("replayed item: replayed %v, %s; want %s", got[4].Replayed, got[4].Consumption, first.Body)
	}
	if got[0].Replayed || got[7].Replayed {
		t.Error("a first consumption is marked replayed")
	}
	// Item 7 plans on what item 0 left: 1100 − 7 − 3 − 30 − 20.
	var c7 ledger.ConsumeResult
	if err := json.Unmarshal(got[7].Consumption, &c7); err != nil || c7.BalanceAfter.String() != "1040" {
		t.Errorf("item 7: balance_after %s (%v); want 1040", c7.BalanceAfter, err)
	}
	if spent := e.spentOn(t); spent.String() != "60" {
		t.Errorf("lots spent %s; want 60 (7 and 3 alone, 30 and 20 in the batch)", spent)
	}
	if after := gusAttempts(t, e); after != attempts+1 {
		t.Errorf("gus's attempts: %d before, %d after; want his refused attempt recorded", attempts, after)
	}

	// The same batch again: every consumption replays byte for byte, the
	// refusals are refused again, and nothing more is spent.
	again := e.batch(t, bodies...)
	for i, g := range again {
		if g.Status != got[i].Status || !bytes.Equal(g.Consumption, got[i].Consumption) || (g.Status == 201) != g.Replayed {
			t.Errorf("item %d again: %d replayed %v %s; want %d replayed, %s", i, g.Status, g.Replayed, g.Consumption, got[i].Status, got[i].Consumption)
		}
	}
	if spent := e.spentOn(t); spent.String() != "60" {
		t.Errorf("after the replay, lots spent %s; want still 60", spent)
	}
	// And one item of it through the single route replays too.
	alone := e.do(t, "service", "POST", consumptions, "m-7", `{"user":"ann","entity":"c1-sub","service":"rendering","credits":"20"}`)
	e.ok(t, alone, 201)
	wantReplayed(t, alone, true)
	if !bytes.Equal(bytes.TrimSpace(alone.Body.Bytes()), got[7].Consumption) {
		t.Errorf("item 7 through the single route: %s; want %s", alone.Body, got[7].Consumption)
	}
}

// TestBatchOfAThousand: the largest batch, over the 64 KiB other routes
// take, consumes every item; one more item is refused as a whole.
func TestBatchOfAThousand(t *testing.T) {
	e := newEnv(t)
	items := make([]string, 1000)
	for i := range items {
		items[i] = fmt.Sprintf(`{"idempotency_key":"metering-2026-03-10-%06d","user":"ann","entity":"c1-hq","project":"p1","service":"rendering","credits":"1"}`, i)
	}
	if n := len(strings.Join(items, ",")); n <= api.BodyMax {
		t.Fatalf("the batch is %d bytes: not over the 64 KiB the other routes take", n)
	}
	got := e.batch(t, items...)
	total := decimal.Zero
	for i, g := range got {
		if g.Status != 201 || g.Key == nil || *g.Key != fmt.Sprintf("metering-2026-03-10-%06d", i) {
			t.Fatalf("item %d: %d, key %v", i, g.Status, g.Key)
		}
		total = total.Add(creditsOf(t, g.Consumption))
	}
	if spent := e.spentOn(t); spent.String() != "1000" || total.String() != "1000" {
		t.Errorf("spent %s on the lots, %s in the answers; want 1000", spent, total)
	}
	before := e.dump(t)
	rec := e.do(t, "service", "POST", batchURL, "", `{"items":[`+strings.Join(append(items, items[0]), ",")+`]}`)
	e.ok(t, rec, 400)
	if !slices.Equal(before, e.dump(t)) {
		t.Error("a batch of 1,001 items changed the ledger")
	}
}

// TestBatchEnvelopeRefusalsChangeNothing: a request whose envelope is not a
// batch is refused as a whole with the usual error, and the ledger is as it
// was, byte for byte.
func TestBatchEnvelopeRefusalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	item := `{"idempotency_key":"env-1","user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}`
	huge := `{"items":[` + item + `],"pad":"` + strings.Repeat("x", api.BatchBodyMax) + `"}`
	cases := []struct {
		name, who, contentType, body string
		chunked                      bool
		status                       int
		code                         string
	}{
		{"no items", "service", "application/json", `{"items":[]}`, false, 400, "invalid_request"},
		{"items missing", "service", "application/json", `{}`, false, 400, "invalid_request"},
		{"items not a list", "service", "application/json", `{"items":` + item + `}`, false, 400, "invalid_request"},
		{"another field", "service", "application/json", `{"items":[` + item + `],"dry_run":true}`, false, 400, "invalid_request"},
		{"not JSON", "service", "application/json", `{"items":[` + item, false, 400, "invalid_request"},
		{"an empty body", "service", "", ``, false, 400, "invalid_request"},
		{"not a JSON object", "service", "application/json", `[` + item + `]`, false, 400, "invalid_request"},
		{"over 1 MiB, declared", "service", "application/json", huge, false, 413, "too_large"},
		{"over 1 MiB, chunked", "service", "application/json", huge, true, 413, "too_large"},
		{"not JSON by type", "service", "text/plain", `{"items":[` + item + `]}`, false, 415, "unsupported_media_type"},
		{"another role", "admin", "application/json", `{"items":[` + item + `]}`, false, 403, "forbidden"},
		{"no token", "", "application/json", `{"items":[` + item + `]}`, false, 401, "unauthenticated"},
	}
	before := e.dump(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(body) // no length: read to find it too large
			}
			req := httptest.NewRequest("POST", batchURL, body)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if c.who != "" {
				req.Header.Set("Authorization", "Bearer "+e.tokens[c.who])
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), `"code":"`+c.code+`"`) {
				t.Errorf("%d %s; want %d %s", rec.Code, rec.Body, c.status, c.code)
			}
			if after := e.dump(t); !slices.Equal(before, after) {
				t.Errorf("the refused request changed the ledger")
			}
		})
	}
	// Another contract's batch is not found, and changes nothing either.
	rec := e.do(t, "service", "POST", "/v1/contracts/c2/consumptions/batch", "", `{"items":[`+item+`]}`)
	e.ok(t, rec, 404)
	if !slices.Equal(before, e.dump(t)) {
		t.Error("another contract's batch changed the ledger")
	}
	// The single route keeps its own 64 KiB bound.
	big := `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","project":"` + strings.Repeat("p", api.BodyMax) + `"}`
	e.ok(t, e.do(t, "service", "POST", "/v1/contracts/c1/consumptions", "big", big), 413)
}
