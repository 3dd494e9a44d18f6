// Package faultproxy is a test harness: an HTTP reverse proxy placed between
// a DynamoDB client and DynamoDB Local that injects the failures a real
// DynamoDB shows under load. A share of calls is throttled (answered 400
// with DynamoDB's ProvisionedThroughputExceededException or
// ThrottlingException error shape, never forwarded); another share is
// forwarded and applied, but its answer is lost (the connection is closed,
// or a 500 with a garbled body is answered instead); another share is never
// answered at all (the call hangs until the client gives up). The rest pass
// through.
//
// It is for tests only: it never starts DynamoDB, holds no credentials and
// keeps no state beyond its counters.
package faultproxy

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Faults says which share of calls fails and how. Shares are in per mille
// (0–1000) and must sum to at most 1000.
type Faults struct {
	// ThrottlePerMille of calls are answered as throttled without being
	// forwarded.
	ThrottlePerMille int
	// LosePerMille of calls are forwarded (and so applied), but their answer
	// never reaches the client.
	LosePerMille int
	// HangPerMille of calls are neither forwarded nor answered: the proxy
	// holds them until the client gives up (its attempt times out or its
	// context ends).
	HangPerMille int
	// Seed makes the choice of calls repeatable for one order of calls.
	Seed uint64
	// Only limits the faults to calls of these operations (the action of
	// the X-Amz-Target header, such as "TransactWriteItems"); empty means
	// every call.
	Only []string
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's base URL: give it to the client as its endpoint.
	URL string

	target string
	faults Faults
	client *http.Client

	mu  sync.Mutex
	rnd *rand.Rand

	throttled atomic.Int64
	lost      atomic.Int64
	hung      atomic.Int64
	passed    atomic.Int64
}

// hangMax bounds how long a hung call is held when its client never gives
// up, so the proxy can always be closed.
const hangMax = 2 * time.Minute

// Counts are the calls the proxy has seen, by what it did with them.
type Counts struct{ Throttled, Lost, Hung, Passed int64 }

// Start runs a proxy to target (DynamoDB Local's base URL) until tb ends.
func Start(tb testing.TB, target string, f Faults) *Proxy {
	tb.Helper()
	if f.ThrottlePerMille < 0 || f.LosePerMille < 0 || f.HangPerMille < 0 || f.ThrottlePerMille+f.LosePerMille+f.HangPerMille > 1000 {
		tb.Fatalf("faultproxy: shares %d, %d and %d per mille are not a split of 1000", f.ThrottlePerMille, f.LosePerMille, f.HangPerMille)
	}
	p := &Proxy{target: target, faults: f, client: &http.Client{}, rnd: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Counts returns what the proxy has done so far.
func (p *Proxy) Counts() Counts {
	return Counts{Throttled: p.throttled.Load(), Lost: p.lost.Load(), Hung: p.hung.Load(), Passed: p.passed.Load()}
}

// fault is what happens to one call.
type fault int

const (
	pass fault = iota
	throttle
	lose
	hang
)

func (p *Proxy) pick() (fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, variant := p.rnd.IntN(1000), p.rnd.IntN(2)
	switch {
	case n < p.faults.ThrottlePerMille:
		return throttle, variant
	case n < p.faults.ThrottlePerMille+p.faults.LosePerMille:
		return lose, variant
	case n < p.faults.ThrottlePerMille+p.faults.LosePerMille+p.faults.HangPerMille:
		return hang, variant
	}
	return pass, variant
}

// throttleBodies are DynamoDB's two throttling answers, as its JSON protocol
// sends them.
var throttleBodies = []string{
	`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}`,
	`{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`,
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	what, variant := p.pick()
	if len(p.faults.Only) > 0 {
		_, action, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		if !slices.Contains(p.faults.Only, action) {
			what = pass
		}
	}
	if what == hang {
		p.hung.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(hangMax):
		}
		return
	}
	if what == throttle {
		p.throttled.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, throttleBodies[variant])
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(w, "faultproxy: forward: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, "faultproxy: read answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	if what == lose {
		p.lost.Add(1)
		if variant == 0 {
			// The call was applied; its answer is dropped with the connection.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(answer[:len(answer)/2])
		return
	}
	p.passed.Add(1)
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// Answer is what one request answered while the proxy injected faults.
type Answer struct {
	Key        string // the request's idempotency key, naming it in failures
	Status     int
	RetryAfter string
	Body       string
}

// CheckAnswers fails tb unless the proxy injected both throttles and lost
// answers (else the test proves nothing), every 503 is the API's
// unavailable error with Retry-After, and every other answer is one that
// may be allowed. It returns how many answered 503.
func (p *Proxy) CheckAnswers(tb testing.TB, answers []Answer, allowed func(status int) bool) int {
	tb.Helper()
	counts := p.Counts()
	if counts.Throttled == 0 || counts.Lost == 0 {
		tb.Fatalf("the proxy injected no faults (%+v): the test proves nothing", counts)
	}
	unavailable := 0
	for _, a := range answers {
		switch {
		case a.Status == http.StatusServiceUnavailable:
			unavailable++
			if a.RetryAfter == "" || !strings.Contains(a.Body, `"code":"unavailable"`) {
				tb.Errorf("%s answered 503 without Retry-After or the unavailable code (Retry-After %q): %s", a.Key, a.RetryAfter, a.Body)
			}
		case !allowed(a.Status):
			tb.Errorf("%s answered %d: %s", a.Key, a.Status, a.Body)
		}
	}
	tb.Logf("proxy: %+v; %d of %d requests answered 503", counts, unavailable, len(answers))
	return unavailable
}
