package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// item is one consumption of a batch under its own key.
func item(r ledger.SpendRequest, idem ledger.Idem) credits.BatchItem {
	return credits.BatchItem{Req: r, Idem: idem}
}

func (h *harness) consumeBatch(items []credits.BatchItem) []credits.BatchResult {
	h.t.Helper()
	res, err := h.svc.ConsumeBatch(h.ctx, "acme", items)
	if err != nil {
		h.t.Fatalf("consume a batch of %d: %v", len(items), err)
	}
	if len(res) != len(items) {
		h.t.Fatalf("%d results for %d items", len(res), len(items))
	}
	return res
}

// testBatchInOrder: a batch of every kind of item. Each is answered as it
// would be alone, in order; each later item plans on what the earlier ones
// debited and counted against the budget; a refused item changes no other.
func testBatchInOrder(t *testing.T, h *harness) {
	h.contract()
	alice := h.employee("acme", "alice")
	bob := h.employee("acme", "bob")
	h.addUser("acme", "gus", ledger.Guest, false)
	h.grant("acme", "pool", "500")
	h.budget("acme", "p1", "50")
	pre, other := h.key(), h.key()
	first, err := h.svc.Consume(h.ctx, req("bob", "5"), pre)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Consume(h.ctx, req("bob", "6"), other); err != nil {
		t.Fatal(err)
	}
	k0 := h.key()
	items := []credits.BatchItem{
		item(req("alice", "60"), k0),
		item(req("alice", "5000"), h.key()),
		item(req("gus", "1"), h.key()),
		item(req("alice", "50"), h.key()), // 40 left on her lot after item 0, then the pool
		item(req("bob", "30", project("p1")), h.key()),
		item(req("bob", "30", project("p1")), h.key()), // 30 of 50 used by item 4
		item(req("bob", "20", project("p1")), h.key()),
		{Req: req("alice", "1"), Idem: h.key(), Refused: core.Invalid("credits", "is malformed")},
		item(req("alice", "1"), k0),
		item(req("alice", "1"), ledger.Idem{}),
		item(req("bob", "7"), other),
		item(req("bob", "5"), pre),
	}
	want := []core.Code{"", core.CodeInsufficientCredits, core.CodeNotEligible, "", "", core.CodeBudgetExceeded, "",
		core.CodeInvalidRequest, core.CodeInvalidRequest, core.CodeIdempotencyKeyMissing, core.CodeIdempotencyKeyReused, ""}
	attempts := len(h.attempts("acme"))
	res := h.consumeBatch(items)
	for i, r := range res {
		if got := core.ErrorCode(r.Err); r.Err != nil && got != want[i] || r.Err == nil && want[i] != "" {
			t.Errorf("item %d: %v (code %s); want code %q", i, r.Err, got, want[i])
		}
	}
	if !res[11].Replayed || !bytes.Equal(res[11].Body, first.Body) {
		t.Errorf("item 11: replayed %v, %s; want the first answer %s", res[11].Replayed, res[11].Body, first.Body)
	}
	var third ledger.ConsumeResult
	decode(t, res[3].Outcome, &third)
	if got := debitsString(third.Debits); got != alice.ID+":40,pool:10" {
		t.Errorf("item 3 debited %s; want %s:40,pool:10 (item 0 took 60 of her 100)", got, alice.ID)
	}
	h.wantLot("acme", alice.ID, counters{spent: "100"})
	h.wantLot("acme", bob.ID, counters{remaining: "39", spent: "61"})
	h.wantLot("acme", "pool", counters{remaining: "490", spent: "10"})
	wantEqual(t, "p1's month", h.budgetUsed("acme", "p1", ledger.Month(t0)), d("50"))
	if n := len(h.attempts("acme")); n != attempts+1 {
		t.Errorf("%d attempts recorded; want 1 more than the %d before (gus's)", n, attempts)
	}
}

// testBatchConcurrentReplay: one batch sent four times at once. Each item is
// consumed exactly once: one answer is its first, the others replay it byte
// for byte; the item that can't be covered is refused every time; and the
// lots hold exactly the consumed credits.
func testBatchConcurrentReplay(t *testing.T, h *harness) {
	h.contract()
	h.employee("acme", "alice")
	h.employee("acme", "bob")
	h.grant("acme", "pool", "300", shards(3))
	const n, runs = 40, 4
	items := make([]credits.BatchItem, 0, n+1)
	want := decimal.Zero
	for i := range n {
		user := []string{"alice", "bob"}[i%2]
		amount := fmt.Sprint(i%5 + 1)
		items = append(items, item(req(user, amount, project("p1")), h.key()))
		want = want.Add(d(amount))
	}
	items = append(items, item(req("alice", "1000"), h.key())) // more than the 500 there are
	before := h.balance("acme", "")

	results := make([][]credits.BatchResult, runs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r := range runs {
		wg.Go(func() {
			<-start
			res, err := h.svc.ConsumeBatch(h.ctx, "acme", items)
			if err != nil {
				t.Errorf("run %d: %v", r, err)
			}
			results[r] = res
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range n {
		firsts := 0
		for r := range runs {
			got := results[r][i]
			if got.Err != nil {
				t.Errorf("item %d, run %d: %v", i, r, got.Err)
				continue
			}
			if !got.Replayed {
				firsts++
			}
			if !bytes.Equal(got.Body, results[0][i].Body) {
				t.Errorf("item %d: run %d answered %s, run 0 %s", i, r, got.Body, results[0][i].Body)
			}
		}
		if firsts != 1 {
			t.Errorf("item %d was consumed %d times; want exactly once", i, firsts)
		}
	}
	for r := range runs {
		wantCode(t, results[r][n].Err, core.CodeInsufficientCredits)
	}
	spent := decimal.Zero
	for _, l := range h.lots("acme") {
		spent = spent.Add(l.Spent)
	}
	wantEqual(t, "credits spent on the lots", spent, want)
	wantEqual(t, "balance", h.balance("acme", ""), before.Sub(want))
	wantEqual(t, "p1's month", h.budgetUsed("acme", "p1", ledger.Month(t0)), want)
	usage, err := h.usageRows("acme", ledger.Month(t0), ledger.Month(t0))
	if err != nil {
		t.Fatal(err)
	}
	var count int64
	for _, u := range usage {
		count += u.Count
	}
	if count != n {
		t.Errorf("usage counts %d consumptions; want %d", count, n)
	}
}
