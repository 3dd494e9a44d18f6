package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// request is one mutating request the concurrency test may send again:
// label identifies its body (same label, same body), do sends it.
type request struct {
	key   string
	label string
	kind  string
	do    func() (credits.Outcome, error)
}

// answer is what one sending of a request got.
type answer struct {
	label    string
	ok       bool
	body     []byte
	replayed bool
	code     core.Code
}

type chaos struct {
	h      *harness
	t      *testing.T
	users  []string
	budget decimal.Decimal

	mu           sync.Mutex
	requests     []*request
	holds        []string // hold ids (first successes)
	consumptions []string // consumption ids (first successes)
	answers      map[string][]answer
	counts       map[string]int // outcome tallies, for the log
	gaveUp       int
}

func testConcurrency(t *testing.T, h *harness, ops, workers int) {
	if ops <= 0 || workers <= 0 {
		t.Fatalf("concurrency test with %d ops and %d workers", ops, workers)
	}
	start := time.Now()
	h.contract()
	c := &chaos{h: h, t: t, budget: d("1500"), answers: map[string][]answer{}, counts: map[string]int{}}
	for i := range 4 {
		u := fmt.Sprintf("u%d", i)
		h.employee("acme", u)
		c.users = append(c.users, u)
	}
	h.grant("acme", "pool-soon", "1500", sunset(t0.Add(60*day)))
	h.grant("acme", "pool", "2500")
	h.grant("acme", "big", "6000", shards(4))
	h.budget("acme", "p1", c.budget.String())
	lotsBefore := h.lots("acme")
	granted := decimal.Zero
	for _, l := range lotsBefore {
		granted = granted.Add(l.Amount)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d ops, %d workers", seed, ops, workers)

	// The sampler watches the lots while the workers run: no counter may
	// ever be seen negative or out of balance.
	done := make(chan struct{})
	var samples atomic.Int64
	var samplerWG sync.WaitGroup
	samplerWG.Add(1)
	go func() {
		defer samplerWG.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			ls, err := allLots(h.ctx, h.st, "acme")
			if err != nil {
				t.Errorf("sample lots: %v", err)
				return
			}
			for _, l := range ls {
				if l.Remaining.Sign() < 0 || l.Held.Sign() < 0 || !l.Conserves() {
					t.Errorf("sampled lot %s out of balance: amount %s, %s", l.ID, l.Amount, countersOf(l))
					return
				}
			}
			samples.Add(1)
			// Often enough to catch a bad state, rarely enough not to
			// compete with the workers for a slow emulator.
			time.Sleep(20 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	per := (ops + workers - 1) / workers
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range per {
				c.step(rng)
			}
		}()
	}
	wg.Wait()
	close(done)
	samplerWG.Wait()
	if samples.Load() == 0 {
		t.Error("the sampler never read the lots during the run")
	}
	t.Logf("%d ops in %s, %d samples; outcomes %v; %d gave up after retries", per*workers, time.Since(start).Round(time.Millisecond), samples.Load(), c.counts, c.gaveUp)
	if c.gaveUp*50 > per*workers {
		t.Errorf("%d of %d requests gave up after retrying conflicts; re-planning should almost always succeed", c.gaveUp, per*workers)
	}
	if c.counts["consume ok"] < per*workers/20 || c.counts["hold ok"] == 0 || c.counts["settle ok"] == 0 ||
		c.counts["release ok"] == 0 || c.counts["refund ok"] == 0 || c.counts["replayed"] == 0 || c.counts["reused"] == 0 {
		t.Errorf("the run did not exercise every operation: %v", c.counts)
	}
	c.verify(granted)
}

func amount(rng *rand.Rand) decimal.Decimal {
	if rng.IntN(4) == 0 {
		return decimal.New(int64(5+rng.IntN(80)), -1) // 0.5 … 8.4
	}
	return decimal.NewFromInt(int64(1 + rng.IntN(8)))
}

// pick returns a random hold ("holds") or consumption id made so far.
func (c *chaos) pick(rng *rand.Rand, which string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	from := c.holds
	if which == "consumptions" {
		from = c.consumptions
	}
	if len(from) == 0 {
		return "", false
	}
	return from[rng.IntN(len(from))], true
}

func (c *chaos) step(rng *rand.Rand) {
	h := c.h
	var r *request
	switch k := rng.IntN(100); {
	case k < 30 || k >= 92:
		sr := req(c.users[rng.IntN(len(c.users))], "1")
		sr.Credits = amount(rng)
		if rng.IntN(3) == 0 {
			sr.Project = "p1"
		}
		if k >= 92 {
			r = c.reuse(rng, sr)
		} else {
			r = c.consumeReq(h.key().Key, sr)
		}
	case k < 50:
		sr := req(c.users[rng.IntN(len(c.users))], "1")
		sr.Credits = amount(rng).Add(decimal.NewFromInt(2))
		if rng.IntN(3) == 0 {
			sr.Project = "p1"
		}
		r = c.holdReq(h.key().Key, sr)
	case k < 62:
		id, ok := c.pick(rng, "holds")
		if !ok {
			return
		}
		actual := decimal.NewFromInt(int64(rng.IntN(14)))
		r = c.settleReq(h.key().Key, id, actual)
	case k < 68:
		id, ok := c.pick(rng, "holds")
		if !ok {
			return
		}
		r = c.releaseReq(h.key().Key, id)
	case k < 78:
		id, ok := c.pick(rng, "consumptions")
		if !ok {
			return
		}
		part := decimal.Zero
		if rng.IntN(3) > 0 {
			part = decimal.NewFromInt(int64(1 + rng.IntN(3)))
		}
		r = c.refundReq(h.key().Key, id, part)
	default: // replay a request sent before, same key and body
		c.mu.Lock()
		if len(c.requests) == 0 {
			c.mu.Unlock()
			return
		}
		r = c.requests[rng.IntN(len(c.requests))]
		c.mu.Unlock()
	}
	if r == nil {
		return
	}
	c.send(r)
}

// reuse sends another body under a key used before (or a fresh consumption
// when there is none yet).
func (c *chaos) reuse(rng *rand.Rand, sr ledger.SpendRequest) *request {
	c.mu.Lock()
	var prev *request
	if len(c.requests) > 0 {
		prev = c.requests[rng.IntN(len(c.requests))]
	}
	c.mu.Unlock()
	if prev == nil {
		return c.consumeReq(c.h.key().Key, sr)
	}
	sr.Credits = sr.Credits.Add(decimal.NewFromInt(100)) // never the same body as prev
	return c.consumeReq(prev.key, sr)
}

func (c *chaos) remember(r *request) *request {
	c.mu.Lock()
	c.requests = append(c.requests, r)
	c.mu.Unlock()
	return r
}

func (c *chaos) consumeReq(key string, sr ledger.SpendRequest) *request {
	h := c.h
	return c.remember(&request{key: key, kind: "consume", label: fmt.Sprintf("consume %+v", sr), do: func() (credits.Outcome, error) {
		return h.svc.Consume(h.ctx, sr, ledger.Idem{Key: key})
	}})
}

func (c *chaos) holdReq(key string, sr ledger.SpendRequest) *request {
	h := c.h
	return c.remember(&request{key: key, kind: "hold", label: fmt.Sprintf("hold %+v", sr), do: func() (credits.Outcome, error) {
		return h.svc.Hold(h.ctx, sr, ledger.Idem{Key: key})
	}})
}

func (c *chaos) settleReq(key, hold string, actual decimal.Decimal) *request {
	h := c.h
	return c.remember(&request{key: key, kind: "settle", label: "settle " + hold + " " + actual.String(), do: func() (credits.Outcome, error) {
		return h.svc.Settle(h.ctx, "acme", hold, actual, ledger.Idem{Key: key})
	}})
}

func (c *chaos) releaseReq(key, hold string) *request {
	h := c.h
	return c.remember(&request{key: key, kind: "release", label: "release " + hold, do: func() (credits.Outcome, error) {
		return h.svc.Release(h.ctx, "acme", hold, ledger.Idem{Key: key})
	}})
}

func (c *chaos) refundReq(key, consumption string, part decimal.Decimal) *request {
	h := c.h
	return c.remember(&request{key: key, kind: "refund", label: "refund " + consumption + " " + part.String(), do: func() (credits.Outcome, error) {
		return h.svc.Refund(h.ctx, "acme", consumption, part, ledger.Idem{Key: key})
	}})
}

// allowed are the refusals each kind of request may meet in the run.
var allowed = map[string][]core.Code{
	"consume": {core.CodeInsufficientCredits, core.CodeBudgetExceeded, core.CodeIdempotencyKeyReused},
	"hold":    {core.CodeInsufficientCredits, core.CodeBudgetExceeded, core.CodeIdempotencyKeyReused},
	"settle":  {core.CodeConflict, core.CodeInsufficientCredits, core.CodeBudgetExceeded, core.CodeIdempotencyKeyReused},
	"release": {core.CodeConflict, core.CodeIdempotencyKeyReused},
	"refund":  {core.CodeConflict, core.CodeInvalidRequest, core.CodeIdempotencyKeyReused},
}

func (c *chaos) send(r *request) {
	out, err := r.do()
	a := answer{label: r.label, ok: err == nil, body: out.Body, replayed: out.Replayed, code: core.ErrorCode(err)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answers[r.key] = append(c.answers[r.key], a)
	switch {
	case err == nil && out.Replayed:
		c.counts["replayed"]++
	case err == nil:
		c.counts[r.kind+" ok"]++
	case a.code == core.CodeIdempotencyKeyReused:
		c.counts["reused"]++
	default:
		c.counts[r.kind+" "+string(a.code)]++
	}
	if err != nil {
		if strings.Contains(err.Error(), "gave up after") {
			c.gaveUp++
			return
		}
		for _, code := range allowed[r.kind] {
			if a.code == code {
				return
			}
		}
		c.t.Errorf("%s: unexpected %v", r.label, err)
		return
	}
	if out.Replayed {
		return
	}
	switch r.kind {
	case "consume":
		var res ledger.ConsumeResult
		if c.decode(r.label, out.Body, &res) {
			c.consumptions = append(c.consumptions, res.ConsumptionID)
		}
	case "hold":
		var res ledger.HoldResult
		if c.decode(r.label, out.Body, &res) {
			c.holds = append(c.holds, res.HoldID)
		}
	case "settle":
		var res ledger.SettleResult
		if c.decode(r.label, out.Body, &res) && res.ConsumptionID != "" { // settled at 0: no consumption
			c.consumptions = append(c.consumptions, res.ConsumptionID)
		}
	}
}

// decode reads an answer's body into res, failing the test if it can't.
func (c *chaos) decode(label string, body []byte, res any) bool {
	if err := json.Unmarshal(body, res); err != nil {
		c.t.Errorf("%s: %v", label, err)
		return false
	}
	return true
}

// fetchAll reads n items with a few goroutines: after the run the suite
// reads back every record it made, and one read at a time is slow on an
// emulator.
func fetchAll[T any](n int, read func(i int) (T, error)) ([]T, error) {
	out := make([]T, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(16, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				out[i], errs[i] = read(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

type idemRead struct {
	rec ledger.IdempotencyRecord
	ok  bool
}

// verify re-checks every ledger law once the run is over.
func (c *chaos) verify(granted decimal.Decimal) {
	now := c.h.clk.Now()
	start := time.Now()
	defer func() { c.t.Logf("verified in %s", time.Since(start).Round(time.Millisecond)) }()

	c.verifyKeys(now)
	lots, entries := c.lotsAndEntries(granted)
	sums := c.verifyConsumptions(entries)
	c.verifyHolds(entries, &sums)
	c.verifyConservation(lots, granted, sums, now)
	c.verifyBudgetAndUsage(sums, now)
}

// runSums are the run's totals as its consumptions and holds record them.
type runSums struct {
	spent, refunded, net decimal.Decimal // over consumptions
	held                 decimal.Decimal // over open holds
	p1                   decimal.Decimal // charged to project p1: net consumptions and open holds
}

// verifyKeys checks law 4: every key answered one body; replays are
// byte-identical; a reused-key refusal only where another body holds the key.
func (c *chaos) verifyKeys(now time.Time) {
	t, h := c.t, c.h
	keys := make([]string, 0, len(c.answers))
	for k := range c.answers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	records, err := fetchAll(len(keys), func(i int) (idemRead, error) {
		rec, ok, err := h.st.Idempotency(h.ctx, "acme", keys[i], now)
		return idemRead{rec, ok}, err
	})
	if err != nil {
		t.Fatalf("read idempotency records: %v", err)
	}
	for ki, k := range keys {
		c.verifyKey(k, c.answers[k], records[ki])
	}
}

// verifyKey checks the answers given under one key against its stored record.
func (c *chaos) verifyKey(k string, as []answer, stored idemRead) {
	t := c.t
	var first *answer
	fresh := 0
	for i := range as {
		if as[i].ok && !as[i].replayed {
			fresh++
			first = &as[i]
		}
	}
	if fresh > 1 {
		t.Errorf("key %s executed %d times", k, fresh)
	}
	rec, ok := stored.rec, stored.ok
	if first == nil {
		for _, a := range as {
			if a.ok {
				t.Errorf("key %s: a replay without a first execution", k)
			}
			if a.code == core.CodeIdempotencyKeyReused {
				t.Errorf("key %s: refused as reused, but no request under it succeeded", k)
			}
		}
		if ok {
			t.Errorf("key %s: a record exists but no request under it succeeded", k)
		}
		return
	}
	if !ok || !bytes.Equal(rec.Response, first.body) {
		t.Errorf("key %s: stored record %s, present %v; want the first answer %s", k, rec.Response, ok, first.body)
	}
	for _, a := range as {
		switch {
		case a.ok && (a.label != first.label || !bytes.Equal(a.body, first.body)):
			t.Errorf("key %s: answered %q with %s, first %q with %s", k, a.label, a.body, first.label, first.body)
		case a.code == core.CodeIdempotencyKeyReused && a.label == first.label:
			t.Errorf("key %s: the same body was refused as reused", k)
		}
	}
}

// entrySums are a contract's entries summed by ref, lot and kind.
type entrySums map[string]map[string]map[ledger.EntryKind]decimal.Decimal

func (e entrySums) add(x ledger.Entry) {
	byLot := e[x.Ref]
	if byLot == nil {
		byLot = map[string]map[ledger.EntryKind]decimal.Decimal{}
		e[x.Ref] = byLot
	}
	if byLot[x.Lot] == nil {
		byLot[x.Lot] = map[ledger.EntryKind]decimal.Decimal{}
	}
	byLot[x.Lot][x.Kind] = byLot[x.Lot][x.Kind].Add(x.Credits)
}

// byLot sums ref's entries of the given kinds per lot (lots with none left out).
func (e entrySums) byLot(ref string, kinds ...ledger.EntryKind) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for lot, byKind := range e[ref] {
		for _, k := range kinds {
			if v, ok := byKind[k]; ok && !v.IsZero() {
				out[lot] = out[lot].Add(v)
			}
		}
	}
	return out
}

func debitSums(ds []ledger.Debit) map[string]decimal.Decimal {
	out := map[string]decimal.Decimal{}
	for _, x := range ds {
		out[x.Lot] = out[x.Lot].Add(x.Credits)
	}
	return out
}

func sameSums(a, b map[string]decimal.Decimal) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !v.Equal(b[k]) {
			return false
		}
	}
	return true
}

func total(byLot ...map[string]decimal.Decimal) decimal.Decimal {
	sum := decimal.Zero
	for _, m := range byLot {
		for _, v := range m {
			sum = sum.Add(v)
		}
	}
	return sum
}

// lotsAndEntries reads every lot of the contract and its entries, and checks
// that the lots' amounts are what was granted.
func (c *chaos) lotsAndEntries(granted decimal.Decimal) ([]ledger.Lot, entrySums) {
	h := c.h
	entries := entrySums{}
	lots := h.lots("acme")
	amounts := decimal.Zero
	for _, l := range lots {
		amounts = amounts.Add(l.Amount)
		for _, e := range h.entries("acme", l.ID) {
			entries.add(e)
		}
	}
	wantEqual(c.t, "sum of lot amounts", amounts, granted)
	return lots, entries
}

// verifyConsumptions checks every consumption as stored against its entries:
// they post its debits, and its refund entries sum to what it says was
// refunded.
func (c *chaos) verifyConsumptions(entries entrySums) runSums {
	t, h := c.t, c.h
	consumptions, err := fetchAll(len(c.consumptions), func(i int) (ledger.Consumption, error) {
		return h.st.Consumption(h.ctx, "acme", c.consumptions[i])
	})
	if err != nil {
		t.Fatalf("read consumptions: %v", err)
	}
	sums := runSums{spent: decimal.Zero, refunded: decimal.Zero, net: decimal.Zero, held: decimal.Zero, p1: decimal.Zero}
	for _, x := range consumptions {
		id := x.ID
		sums.spent = sums.spent.Add(x.Credits)
		sums.refunded = sums.refunded.Add(x.Refunded)
		sums.net = sums.net.Add(x.Credits.Sub(x.Refunded))
		if x.Project == "p1" {
			sums.p1 = sums.p1.Add(x.Credits.Sub(x.Refunded))
		}
		var posted map[string]decimal.Decimal
		if x.Hold == "" {
			posted = entries.byLot(x.ID, ledger.EntryConsume)
		} else {
			posted = entries.byLot(x.Hold, ledger.EntrySettle, ledger.EntryConsume)
		}
		if want := debitSums(x.Debits); !sameSums(posted, want) {
			t.Errorf("consumption %s: entries post %v, its debits are %v", id, posted, want)
		}
		if back := total(entries.byLot(x.ID, ledger.EntryRefund, ledger.EntryRefundLost)); !back.Equal(x.Refunded) {
			t.Errorf("consumption %s: refunded %s, its refund entries sum to %s", id, x.Refunded, back)
		}
	}
	return sums
}

// verifyHolds checks every hold as stored against its entries: they hold its
// debits; an open one has nothing settled or returned, a closed one all of
// it. Open holds add to sums.
func (c *chaos) verifyHolds(entries entrySums, sums *runSums) {
	t, h := c.t, c.h
	holds, err := fetchAll(len(c.holds), func(i int) (ledger.Hold, error) {
		return h.st.Hold(h.ctx, "acme", c.holds[i])
	})
	if err != nil {
		t.Fatalf("read holds: %v", err)
	}
	for _, x := range holds {
		id := x.ID
		if got, want := entries.byLot(x.ID, ledger.EntryHold), debitSums(x.Debits); !sameSums(got, want) {
			t.Errorf("hold %s: hold entries %v, its debits %v", id, got, want)
		}
		returned := entries.byLot(x.ID, ledger.EntryRelease, ledger.EntryExpire, ledger.EntryWithdraw)
		settled := entries.byLot(x.ID, ledger.EntrySettle)
		out := total(returned, settled)
		switch x.State {
		case ledger.HoldOpen:
			sums.held = sums.held.Add(x.Credits)
			if x.Project == "p1" {
				sums.p1 = sums.p1.Add(x.Credits)
			}
			if !out.IsZero() {
				t.Errorf("open hold %s has %s settled or returned", id, out)
			}
		default:
			if !out.Equal(x.Credits) {
				t.Errorf("%s hold %s of %s: settled and returned %s", x.State, id, x.Credits, out)
			}
		}
	}
}

// verifyConservation checks law 5 in sum: what was granted is what remains,
// plus what is held, plus what was spent net of refunds (nothing expired
// during the run).
func (c *chaos) verifyConservation(lots []ledger.Lot, granted decimal.Decimal, sums runSums, now time.Time) {
	t := c.t
	sumLots := ledger.Lot{}
	for _, l := range lots {
		sumLots = sumLots.Apply(ledger.Movement{Remaining: l.Remaining, Held: l.Held, Spent: l.Spent, Expired: l.Expired, Withdrawn: l.Withdrawn, Refunded: l.Refunded})
	}
	wantEqual(t, "Σ held over lots vs open holds", sumLots.Held, sums.held)
	wantEqual(t, "Σ spent over lots vs consumptions", sumLots.Spent, sums.spent)
	wantEqual(t, "Σ refunded over lots vs consumptions", sumLots.Refunded, sums.refunded)
	wantEqual(t, "Σ remaining", sumLots.Remaining, granted.Sub(sums.net).Sub(sums.held))
	bal := ledger.Balances(lots, "", now)[core.Cloud]
	wantEqual(t, "balance", bal.Total, sumLots.Remaining)
	wantEqual(t, "balance = grants − consumptions net of refunds − held", bal.Total, granted.Sub(sums.net).Sub(sums.held))
}

// verifyBudgetAndUsage checks law 9 (the project's counter is what was
// charged to it, within its cap) and the month's usage roll-ups.
func (c *chaos) verifyBudgetAndUsage(sums runSums, now time.Time) {
	t, h := c.t, c.h
	used := h.budgetUsed("acme", "p1", ledger.Month(now))
	wantEqual(t, "p1 budget counter", used, sums.p1)
	if used.GreaterThan(c.budget) {
		t.Errorf("p1 used %s of a %s cap", used, c.budget)
	}
	rows, err := h.usageRows("acme", ledger.Month(now), ledger.Month(now))
	if err != nil {
		t.Fatal(err)
	}
	usage, count := decimal.Zero, int64(0)
	for _, r := range rows {
		usage = usage.Add(r.Credits)
		count += r.Count
	}
	wantEqual(t, "usage roll-ups", usage, sums.net)
	if count != int64(len(c.consumptions)) {
		t.Errorf("usage counts %d consumptions, the run made %d", count, len(c.consumptions))
	}
}
