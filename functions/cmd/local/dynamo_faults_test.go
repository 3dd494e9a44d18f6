package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/internal/faultproxy"
)

// faultyLocal runs the local server as `make run --store dynamodb` does, on
// DynamoDB Local reached through a switch: calls go straight through while
// the server starts (creating the table, seeding the demo contract), then
// through a fault-injecting proxy with faults f once faults() is called.
func faultyLocal(t *testing.T, f faultproxy.Faults) (base string, a *app, proxy *faultproxy.Proxy, faults func()) {
	t.Helper()
	endpoint := ddblocal.Endpoint(t)
	proxy = faultproxy.Start(t, endpoint, f)
	direct, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	faulty, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	var on atomic.Bool
	sw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := direct
		if on.Load() {
			target = faulty
		}
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ErrorLog = log.New(io.Discard, "", 0) // a lost answer is the point
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(sw.Close)
	base, a = serveLocal(t, config{data: t.TempDir(), storeKind: "dynamodb", endpoint: sw.URL,
		table: ddblocal.UniqueName("local-faults"), getenv: func(string) string { return "" }})
	return base, a, proxy, func() { on.Store(true) }
}

func mintLocal(t *testing.T, a *app, p auth.Principal) string {
	t.Helper()
	tok, err := a.keys.Mint(p, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLocalDynamoRetryBudget: the local server's DynamoDB client retries a
// throttled call as the deployed functions' does (dynamo.Configure:
// RetryAttemptsMax attempts with backoff), then answers 503 unavailable with
// Retry-After, without also reading the key's record from a store that
// just proved unavailable.
func TestLocalDynamoRetryBudget(t *testing.T) {
	base, a, proxy, faults := faultyLocal(t, faultproxy.Faults{ThrottlePerMille: 1000, Only: []string{"BatchGetItem", "GetItem"}})
	svc := mintLocal(t, a, auth.Principal{Subject: "render", Role: auth.Service, Contract: "demo"})
	faults()
	req, err := http.NewRequest("POST", base+"/v1/contracts/demo/consumptions",
		strings.NewReader(`{"user":"ann","entity":"demo-eng","service":"rendering","credits":"10"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+svc)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "throttled")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"code":"unavailable"`) {
		t.Errorf("answer = %d (Retry-After %q) %s; want 503 unavailable with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if got := proxy.Counts().Throttled; got != dynamo.RetryAttemptsMax {
		t.Errorf("the throttled read was tried %d times; want the deployed client's %d attempts", got, dynamo.RetryAttemptsMax)
	}
}

// TestLocalDynamoFaultsAnswerUnavailable races spends and user adds over
// HTTP against the local server while 30% of its DynamoDB calls are
// throttled and 15% applied with their answer lost: no request answers a
// 500, a 503 carries Retry-After, and sent again each key answers once.
func TestLocalDynamoFaultsAnswerUnavailable(t *testing.T) {
	base, a, proxy, faults := faultyLocal(t, faultproxy.Faults{ThrottlePerMille: 300, LosePerMille: 150, Seed: 11})
	svc := mintLocal(t, a, auth.Principal{Subject: "render", Role: auth.Service, Contract: "demo"})
	adm := mintLocal(t, a, auth.Principal{Subject: "carol", Role: auth.ContractAdmin, Contract: "demo"})
	type call struct {
		tok, path, key, body string
		status               int
		retryAfter, answer   string
	}
	var calls []*call
	for i := range 30 {
		calls = append(calls, &call{tok: svc, path: "/v1/contracts/demo/consumptions", key: fmt.Sprintf("spend-%d", i),
			body: `{"user":"ann","entity":"demo-eng","service":"rendering","credits":"10"}`})
	}
	for i := range 6 {
		calls = append(calls, &call{tok: adm, path: "/v1/contracts/demo/users", key: fmt.Sprintf("add-%d", i),
			body: fmt.Sprintf(`{"user":"new-%d","kind":"employee","entity":"demo-eng","can_spend":true}`, i)})
	}
	send := func(c *call) (int, string, string) {
		req, err := http.NewRequest("POST", base+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", c.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", c.key, err)
			return 0, "", ""
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	faults()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() { c.status, c.retryAfter, c.answer = send(c) })
	}
	wg.Wait()
	answers := make([]faultproxy.Answer, len(calls))
	for i, c := range calls {
		answers[i] = faultproxy.Answer{Key: c.key, Status: c.status, RetryAfter: c.retryAfter, Body: c.answer}
	}
	proxy.CheckAnswers(t, answers, func(status int) bool { return status >= 200 && status < 300 || status == http.StatusConflict })
}
