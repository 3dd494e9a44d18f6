package storetest

import (
	"errors"
	"sync"
	"testing"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// quoteOrder is the order acceptance of quote id makes for acme under key.
func quoteOrder(key ledger.Idem, quoteID string) ledger.Order {
	o := newOrder(key, ledger.PayInvoice, core.Cloud, "5000")
	o.Channel, o.UnitPrice, o.Total, o.PriceBookVersion, o.Quote = "reseller", d("1.10"), d("5500"), "cloud-2024-01", quoteID
	return o
}

func (h *harness) quoteKey() ledger.Idem {
	k := h.key()
	k.Scope, k.Fingerprint = orderScope, "accept-"+k.Key
	return k
}

func testAcceptQuote(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("globex"))
	k := h.quoteKey()
	o := quoteOrder(k, "qt_1")
	if a, err := h.st.QuoteAcceptance(h.ctx, "qt_1"); core.ErrorCode(err) != core.CodeNotFound {
		t.Fatalf("QuoteAcceptance before = %+v, %v; want not_found", a, err)
	}
	first, err := h.svc.AcceptQuote(h.ctx, "acme", o, k)
	if err != nil {
		t.Fatal(err)
	}
	got := h.getOrder("acme", o.ID)
	if got.Status != ledger.OrderPending || got.Quote != "qt_1" || !got.Total.Equal(d("5500")) || !got.UnitPrice.Equal(d("1.1")) {
		t.Errorf("order = %+v", got)
	}
	a, err := h.st.QuoteAcceptance(h.ctx, "qt_1")
	if err != nil || a.QuoteID != "qt_1" || a.Contract != "acme" || a.Order != o.ID || !a.AcceptedAt.Equal(t0) {
		t.Errorf("acceptance = %+v, %v", a, err)
	}
	h.wantDumpLines(t, "quote_acceptances", 1)

	before := h.dump()
	again, err := h.svc.AcceptQuote(h.ctx, "acme", o, k)
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) {
		t.Errorf("retry = %s (replayed %v), %v; want the first answer", again.Body, again.Replayed, err)
	}
	k2 := h.quoteKey()
	_, err = h.svc.AcceptQuote(h.ctx, "acme", quoteOrder(k2, "qt_1"), k2)
	if e := wantCode(t, err, core.CodeQuoteAlreadyAccepted); e.Details["order_id"] != o.ID {
		t.Errorf("details = %v; want the order named to its own contract", e.Details)
	}
	gk := h.quoteKey()
	gk.Scope = "contract:globex"
	_, err = h.svc.AcceptQuote(h.ctx, "globex", quoteOrder(gk, "qt_1"), gk)
	if e := wantCode(t, err, core.CodeQuoteAlreadyAccepted); e.Details["order_id"] != nil {
		t.Errorf("details = %v; another contract's order must not be named", e.Details)
	}
	h.unchanged(t, "accepting an accepted quote", before)

	// An order without a quote id is refused.
	k3 := h.quoteKey()
	_, err = h.svc.AcceptQuote(h.ctx, "acme", quoteOrder(k3, ""), k3)
	wantCode(t, err, core.CodeInvalidRequest)
	h.unchanged(t, "an accept without a quote id", before)
}

func testAcceptQuoteRace(t *testing.T, h *harness) {
	h.contract()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	keys := make([]ledger.Idem, n)
	for i := range keys {
		keys[i] = h.quoteKey()
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = h.svc.AcceptQuote(h.ctx, "acme", quoteOrder(keys[i], "qt_race"), keys[i])
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch core.ErrorCode(err) {
		case "":
			ok++
		case core.CodeQuoteAlreadyAccepted:
		default:
			t.Errorf("accept: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d accepts succeeded, want exactly 1", ok)
	}
	orders, err := h.st.Orders(h.ctx, "acme")
	if err != nil || len(orders) != 1 || orders[0].Quote != "qt_race" {
		t.Errorf("orders = %+v, %v; want one order of the quote", orders, err)
	}
}

func testAcceptanceCondition(t *testing.T, h *harness) {
	h.contract()
	k := h.quoteKey()
	if _, err := h.svc.AcceptQuote(h.ctx, "acme", quoteOrder(k, "qt_cond"), k); err != nil {
		t.Fatal(err)
	}
	// A Tx planned on a stale read (no acceptance yet) loses in the write,
	// and none of its ops is applied.
	before := h.dump()
	k2 := h.quoteKey()
	o := quoteOrder(k2, "qt_cond")
	o.Contract, o.Status, o.CreatedAt = "acme", ledger.OrderPending, t0
	err := h.st.Apply(h.ctx, ledger.Tx{At: t0, Ops: []ledger.Op{
		ledger.PutOrder{Order: o},
		ledger.PutQuoteAcceptance{Acceptance: ledger.QuoteAcceptance{QuoteID: "qt_cond", Contract: "acme", Order: o.ID, AcceptedAt: t0}},
	}})
	var conflict *ledger.ConflictError
	if !errors.As(err, &conflict) || (conflict.Op != 1 && conflict.Op != -1) {
		t.Errorf("Apply = %v; want a conflict on op 1 (the acceptance)", err)
	}
	h.unchanged(t, "a second acceptance of one quote", before)
}
