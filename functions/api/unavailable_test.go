package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/functions/api"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/internal/faultproxy"
	"cloudcredits/functions/sampledata"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shopspring/decimal"
)

// TestStoreFaultsAnswerUnavailable races spends and user adds through the
// real handler on the DynamoDB adapter while a proxy in front of DynamoDB
// Local throttles 30% of calls and loses the answer of another 15% (applied,
// but never answered). No request may answer 500: each answers its result,
// a refusal, or 503 unavailable with Retry-After. Afterwards every key is
// sent again without faults: a key that was answered replays byte for byte,
// a key that answered 503 replays or runs now, and the credits spent are
// exactly the sum of the consumptions answered — none lost, none twice.
// Half the users added may spend, so their adds grant credits: each grant
// is made once, and every lot conserves its credits.
func TestStoreFaultsAnswerUnavailable(t *testing.T) {
	e, h, proxy := faultyEnv(t, faultproxy.Faults{ThrottlePerMille: 300, LosePerMille: 150, Seed: 7})

	type call struct {
		who, path, key, body string
		status               int
		retryAfter           string
		answer               []byte
	}
	const spends, adds = 50, 6
	calls := make([]*call, 0, spends+adds)
	for i := range spends {
		calls = append(calls, &call{who: "service", path: "/v1/contracts/c1/consumptions", key: fmt.Sprintf("race-%d", i),
			body: `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10"}`})
	}
	for i := range adds {
		calls = append(calls, &call{who: "admin", path: "/v1/contracts/c1/users", key: fmt.Sprintf("add-%d", i),
			body: fmt.Sprintf(`{"user":"new-%d","kind":"employee","entity":"c1-hq","can_spend":%t}`, i, i%2 == 0)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			req := httptest.NewRequestWithContext(ctx, "POST", c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+e.tokens[c.who])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", c.key)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			c.status, c.retryAfter, c.answer = rec.Code, rec.Header().Get("Retry-After"), rec.Body.Bytes()
		})
	}
	wg.Wait()
	answers := make([]faultproxy.Answer, len(calls))
	for i, c := range calls {
		answers[i] = faultproxy.Answer{Key: c.key, Status: c.status, RetryAfter: c.retryAfter, Body: string(c.answer)}
	}
	// A refusal (4xx) is an answer; no other 5xx, and no redirect.
	proxy.CheckAnswers(t, answers, func(status int) bool { return status >= 200 && status < 300 || status >= 400 && status < 500 })

	spent := decimal.Zero
	for _, c := range calls {
		again := e.do(t, c.who, "POST", c.path, c.key, c.body)
		switch {
		case c.status >= 200 && c.status < 300:
			if again.Code != c.status || !bytes.Equal(again.Body.Bytes(), c.answer) || again.Header().Get("Idempotent-Replayed") != "true" {
				t.Errorf("%s: the retry answered %d %s (replayed %q); want the first answer %d %s byte for byte",
					c.key, again.Code, again.Body, again.Header().Get("Idempotent-Replayed"), c.status, c.answer)
			}
		case c.status == http.StatusServiceUnavailable:
			if again.Code != 201 {
				t.Errorf("%s: after a 503, the retry answered %d: %s", c.key, again.Code, again.Body)
			}
		}
		if strings.HasPrefix(c.key, "race-") && again.Code == 201 {
			var got struct {
				Credits string `json:"credits"`
			}
			if err := json.Unmarshal(again.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			spent = spent.Add(decimal.RequireFromString(got.Credits))
		}
	}
	if want := decimal.NewFromInt(10 * spends); !spent.Equal(want) {
		t.Errorf("the consumptions answered sum to %s credits, want %s (every spend once)", spent, want)
	}
	lots, err := e.svc.Lots(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	debited, granted := decimal.Zero, decimal.Zero
	for _, l := range lots {
		debited = debited.Add(l.Amount.Sub(l.Remaining))
		granted = granted.Add(l.Amount)
		if l.Remaining.Sign() < 0 || !l.Amount.Equal(l.Remaining.Add(l.Spent).Add(l.Held).Add(l.Expired).Add(l.Withdrawn).Sub(l.Refunded)) {
			t.Errorf("lot %s does not conserve its credits: %+v", l.ID, l)
		}
	}
	if !debited.Equal(spent) {
		t.Errorf("the lots of c1 were debited %s credits; the consumptions answered sum to %s", debited, spent)
	}
	// The pool, ann's grant and one grant for each user added who may
	// spend: a user add whose answer was lost granted once.
	if want := decimal.NewFromInt(1000 + 100*(1+adds/2)); !granted.Equal(want) {
		t.Errorf("the lots of c1 hold %s credits in all; want %s (each grant once)", granted, want)
	}
}

// faultyClient is the DynamoDB client the deployed functions use, pointed at
// the fault-injecting proxy.
func faultyClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), DisableValidateResponseChecksum: true,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, dynamo.Configure)
}

// faultyEnv is e's handler on a store reached through a proxy with faults f.
func faultyEnv(t *testing.T, f faultproxy.Faults) (*env, http.Handler, *faultproxy.Proxy) {
	t.Helper()
	endpoint := ddblocal.Endpoint(t)
	direct := ddblocal.Client(endpoint)
	table := ddblocal.UniqueName("faults")
	if err := dynamo.CreateTable(context.Background(), direct, table); err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, dynamo.New(direct, table))
	proxy := faultproxy.Start(t, endpoint, f)
	faulty := credits.New(dynamo.New(faultyClient(proxy.URL), table), e.svc.Now)
	rc, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Credits: faulty, Keys: e.keys, Now: e.svc.Now,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return e, h, proxy
}

// TestThrottledStoreAnswers503 throttles every call: the spend answers 503
// unavailable with Retry-After once the client's retries are spent, and
// changes nothing.
func TestThrottledStoreAnswers503(t *testing.T) {
	e, h, proxy := faultyEnv(t, faultproxy.Faults{ThrottlePerMille: 1000})
	before := e.dump(t)
	faulty := *e
	faulty.h = h
	// The answer is checked against the OpenAPI document too.
	rec := newOpenAPICheck(t, &faulty).call("service", "POST", "/v1/contracts/c1/consumptions", "throttled-1",
		`{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10"}`, 503, false)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
		t.Errorf("answer = %d (Retry-After %q) %s; want 503 unavailable with Retry-After: 1", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if got := proxy.Counts().Throttled; got < dynamo.RetryAttemptsMax {
		t.Errorf("the store was called %d times; want the client's %d attempts", got, dynamo.RetryAttemptsMax)
	}
	if after := e.dump(t); !slices.Equal(before, after) {
		t.Error("a 503 changed the ledger")
	}
}

// TestLostWriteAnswersOnce loses the answer of every transaction after
// DynamoDB applied it: the spend still answers the consumption, once (its
// retries replay the stored answer), and the credits fall once.
func TestLostWriteAnswersOnce(t *testing.T) {
	e, h, proxy := faultyEnv(t, faultproxy.Faults{LosePerMille: 1000, Only: []string{"TransactWriteItems"}})
	body := `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10"}`
	req := httptest.NewRequest("POST", "/v1/contracts/c1/consumptions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens["service"])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "lost-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if proxy.Counts().Lost == 0 {
		t.Fatal("no answer was lost: the test proves nothing")
	}
	if rec.Code != 201 && rec.Code != 503 {
		t.Fatalf("answer = %d %s; want 201 (replayed) or 503", rec.Code, rec.Body)
	}
	again := e.do(t, "service", "POST", "/v1/contracts/c1/consumptions", "lost-1", body)
	e.ok(t, again, 201)
	if again.Header().Get("Idempotent-Replayed") != "true" || rec.Code == 201 && !bytes.Equal(again.Body.Bytes(), rec.Body.Bytes()) {
		t.Errorf("retry = %s (replayed %q); want the stored answer %s", again.Body, again.Header().Get("Idempotent-Replayed"), rec.Body)
	}
	bal := e.do(t, "admin", "GET", "/v1/contracts/c1/balance", "", "")
	if !strings.Contains(bal.Body.String(), `"cloud":{"total":"1090"`) {
		t.Errorf("balance = %s; want 1090 (1000 shared + 100 individual, 10 spent once)", bal.Body)
	}
}

// TestUnansweredStoreAnswers503InTime: a request comes with a deadline (a
// Lambda function's timeout) and the store never answers — its reads, or
// only its transaction. The handler answers 503 unavailable with
// Retry-After before the deadline (AnswerMargin ahead of it), not a 500 and
// not a function cut off mid-request, and nothing changes.
func TestUnansweredStoreAnswers503InTime(t *testing.T) {
	for name, only := range map[string][]string{"every call": nil, "the write": {"TransactWriteItems"}} {
		t.Run(name, func(t *testing.T) {
			e, h, proxy := faultyEnv(t, faultproxy.Faults{HangPerMille: 1000, Only: only})
			before := e.dump(t)
			const timeout = 4 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, "POST", "/v1/contracts/c1/consumptions",
				strings.NewReader(`{"user":"ann","entity":"c1-hq","service":"rendering","credits":"10"}`))
			req.Header.Set("Authorization", "Bearer "+e.tokens["service"])
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "unanswered")
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			elapsed := time.Since(start)
			if proxy.Counts().Hung == 0 {
				t.Fatal("no call hung: the test proves nothing")
			}
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
				t.Errorf("answer = %d (Retry-After %q) %s; want 503 unavailable with Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
			}
			if limit := timeout - api.AnswerMargin/2; elapsed > limit {
				t.Errorf("answered after %v; want it within %v (the deadline less the margin to answer)", elapsed, limit)
			}
			if after := e.dump(t); !slices.Equal(before, after) {
				t.Error("an unanswered store's 503 changed the ledger")
			}
		})
	}
}
