package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// orderScope is the idempotency scope orders are made under in these tests.
const orderScope = "contract:acme"

// newOrder is a priced order of acme for credits (at $1.25, in packs of
// 100), paid by pay, whose id derives from key as checkout derives it.
func newOrder(key ledger.Idem, pay ledger.Payment, cur core.Currency, credits string) ledger.Order {
	c := d(credits)
	o := ledger.Order{
		ID: ledger.OrderID(orderScope, key.Key), Currency: cur, Credits: c, Packs: c.Div(d("100")).Ceil(),
		Channel: "list", UnitPrice: d("1.25"), Total: core.RoundMoney(c.Mul(d("1.25"))), MoneyCurrency: ledger.USD,
		PriceBookVersion: "cloud-2024-01", Payment: pay,
	}
	if pay == ledger.PayCard {
		o.Provider, o.SessionID, o.CheckoutURL = "test", "cs_test_"+o.ID, "http://127.0.0.1/test-checkout/cs_test_"+o.ID
		o.TestMode = true
	}
	return o
}

// order creates an order through the Service and returns it as stored.
func (h *harness) order(pay ledger.Payment, cur core.Currency, credits string) ledger.Order {
	h.t.Helper()
	k := h.key()
	k.Scope = orderScope
	o := newOrder(k, pay, cur, credits)
	if _, err := h.svc.CreateOrder(h.ctx, "acme", o, k); err != nil {
		h.t.Fatalf("create order: %v", err)
	}
	return h.getOrder("acme", o.ID)
}

func (h *harness) getOrder(contract, id string) ledger.Order {
	h.t.Helper()
	o, err := h.st.Order(h.ctx, contract, id)
	if err != nil {
		h.t.Fatalf("read order %s: %v", id, err)
	}
	return o
}

// lotsOfOrder returns the lots a contract holds that an order created.
func (h *harness) lotsOfOrder(contract, order string) []ledger.Lot {
	var out []ledger.Lot
	for _, l := range h.lots(contract) {
		if l.Order == order {
			out = append(out, l)
		}
	}
	return out
}

func testCreateOrder(t *testing.T, h *harness) {
	h.contract()
	h.contract(named("globex"))
	k := h.key()
	k.Scope, k.Fingerprint = orderScope, "request-1" // as the API fingerprints a request
	o := newOrder(k, ledger.PayCard, core.Cloud, "5000")
	first, err := h.svc.CreateOrder(h.ctx, "acme", o, k)
	if err != nil {
		t.Fatal(err)
	}
	got := h.getOrder("acme", o.ID)
	if got.Status != ledger.OrderPending || got.Contract != "acme" || !got.CreatedAt.Equal(t0) || got.SessionID != o.SessionID ||
		!got.Total.Equal(d("6250")) || !got.Packs.Equal(d("50")) || !got.TestMode || got.Payment != ledger.PayCard {
		t.Errorf("stored order = %+v", got)
	}
	var answered ledger.Order
	decode(t, first, &answered)
	if answered.ID != o.ID || answered.Status != ledger.OrderPending {
		t.Errorf("answer = %s", first.Body)
	}
	if c, err := h.st.OrderContract(h.ctx, o.ID); err != nil || c != "acme" {
		t.Errorf("OrderContract = %q, %v; want acme", c, err)
	}
	if _, err := h.st.OrderContract(h.ctx, "ord_nope"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("OrderContract(unknown) = %v, want not_found", err)
	}
	if _, err := h.st.Order(h.ctx, "globex", o.ID); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("Order from another contract = %v, want not_found", err)
	}

	// The same key replays the first answer and writes nothing.
	before := h.dump()
	again, err := h.svc.CreateOrder(h.ctx, "acme", o, k)
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) {
		t.Errorf("retry = %s (replayed %v), %v; want the first answer", again.Body, again.Replayed, err)
	}
	if out, ok, err := h.svc.Replay(h.ctx, "acme", k); err != nil || !ok || string(out.Body) != string(first.Body) {
		t.Errorf("Replay = %s, %v, %v; want the first answer", out.Body, ok, err)
	}
	other, otherKey := o, k
	other.Credits, otherKey.Fingerprint = d("100"), "request-2"
	_, err = h.svc.CreateOrder(h.ctx, "acme", other, otherKey)
	wantCode(t, err, core.CodeIdempotencyKeyReused)
	_, _, err = h.svc.Replay(h.ctx, "acme", otherKey)
	wantCode(t, err, core.CodeIdempotencyKeyReused)
	h.unchanged(t, "a retried order", before)

	h.clk.Advance(time.Minute)
	later := h.order(ledger.PayInvoice, core.Forma, "300")
	list, err := h.st.Orders(h.ctx, "acme")
	if err != nil || len(list) != 2 || list[0].ID != o.ID || list[1].ID != later.ID {
		t.Errorf("Orders = %+v, %v; want the two orders, oldest first", list, err)
	}
	if list, err := h.st.Orders(h.ctx, "globex"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("Orders(globex) = %#v, %v; want an empty list", list, err)
	}

	// An ended contract buys nothing.
	h.clk.Set(contractEnd)
	k2 := h.key()
	k2.Scope = orderScope
	before = h.dump()
	_, err = h.svc.CreateOrder(h.ctx, "acme", newOrder(k2, ledger.PayInvoice, core.Cloud, "100"), k2)
	wantCode(t, err, core.CodeConflict)
	h.unchanged(t, "an order of an ended contract", before)
}

func testFulfilOnce(t *testing.T, h *harness) {
	h.contract()
	o := h.order(ledger.PayCard, core.Cloud, "5000")
	const deliveries = 20
	var wg sync.WaitGroup
	errs := make([]error, deliveries)
	bodies := make([][]byte, deliveries)
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := h.svc.Fulfil(h.ctx, "acme", o.ID, time.Time{})
			errs[i], bodies[i] = err, out.Body
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
			continue
		}
		var res ledger.FulfilResult
		if err := json.Unmarshal(bodies[i], &res); err != nil || res.Order.Status != ledger.OrderFulfilled {
			t.Errorf("delivery %d answered %s", i, bodies[i])
		}
	}
	lots := h.lotsOfOrder("acme", o.ID)
	if len(lots) != 1 {
		t.Fatalf("the order made %d lots, want exactly 1", len(lots))
	}
	l := lots[0]
	if l.ID != ledger.LotOfOrder(o.ID) || l.Kind != ledger.Shared || l.Source != ledger.SourcePurchase || l.Currency != core.Cloud {
		t.Errorf("lot = %+v", l)
	}
	wantEqual(t, "lot amount", l.Amount, d("5000"))
	wantEqual(t, "lot remaining", l.Remaining, d("5000"))
	wantTime(t, "lot expiry (12 months after purchase)", l.ExpiresAt, t0.AddDate(1, 0, 0))
	if es := h.entries("acme", l.ID); len(es) != 1 || es[0].Kind != ledger.EntryGrant || !es[0].Credits.Equal(d("5000")) || es[0].Ref != o.ID {
		t.Errorf("entries = %+v; want one grant entry of 5000 naming the order", es)
	}
	got := h.getOrder("acme", o.ID)
	if got.Status != ledger.OrderFulfilled || got.Lot != l.ID || !got.PaidAt.Equal(t0) || !got.FulfilledAt.Equal(t0) {
		t.Errorf("order = %+v; want fulfilled with its lot", got)
	}
	wantEqual(t, "balance", h.balance("acme", ""), d("5000"))

	// A late redelivery changes nothing and answers with the order.
	before := h.dump()
	h.clk.Advance(time.Hour)
	if _, err := h.svc.Fulfil(h.ctx, "acme", o.ID, time.Time{}); err != nil {
		t.Errorf("late redelivery: %v", err)
	}
	h.unchanged(t, "a redelivered payment event", before)
}

func testCancelOrder(t *testing.T, h *harness) {
	h.contract()
	o := h.order(ledger.PayCard, core.Cloud, "100")
	h.clk.Advance(time.Hour)
	out, err := h.svc.CancelOrder(h.ctx, "acme", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var answered ledger.Order
	decode(t, out, &answered)
	got := h.getOrder("acme", o.ID)
	if got.Status != ledger.OrderCancelled || !got.CancelledAt.Equal(t0.Add(time.Hour)) || answered.Status != ledger.OrderCancelled {
		t.Errorf("cancelled order = %+v, answer %s", got, out.Body)
	}
	before := h.dump()
	if _, err := h.svc.CancelOrder(h.ctx, "acme", o.ID); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	_, err = h.svc.Fulfil(h.ctx, "acme", o.ID, time.Time{})
	wantCode(t, err, core.CodeConflict)
	h.unchanged(t, "fulfilling a cancelled order", before)
	if lots := h.lotsOfOrder("acme", o.ID); len(lots) != 0 {
		t.Errorf("a cancelled order made lots %+v", lots)
	}
	_, err = h.svc.CancelOrder(h.ctx, "acme", "ord_nope")
	wantCode(t, err, core.CodeNotFound)

	// A fulfilled order is not cancelled.
	paid := h.order(ledger.PayCard, core.Cloud, "200")
	if _, err := h.svc.Fulfil(h.ctx, "acme", paid.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	before = h.dump()
	if _, err := h.svc.CancelOrder(h.ctx, "acme", paid.ID); err != nil {
		t.Errorf("cancel of a fulfilled order: %v", err)
	}
	h.unchanged(t, "cancelling a fulfilled order", before)
}

func testMarkPaid(t *testing.T, h *harness) {
	h.contract()
	inv := h.order(ledger.PayInvoice, core.Cloud, "300")
	vendor := ledger.Idem{Key: "mark-1", Scope: "vendor_admin:v"}
	h.clk.Advance(time.Hour)
	first, err := h.svc.MarkPaid(h.ctx, "acme", inv.ID, time.Time{}, vendor)
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.FulfilResult
	decode(t, first, &res)
	if res.Order.Status != ledger.OrderFulfilled || res.Lot == nil || !res.Lot.Amount.Equal(d("300")) {
		t.Errorf("mark-paid answered %s", first.Body)
	}
	if lots := h.lotsOfOrder("acme", inv.ID); len(lots) != 1 {
		t.Fatalf("mark-paid made %d lots, want 1", len(lots))
	}
	if got := h.getOrder("acme", inv.ID); got.Status != ledger.OrderFulfilled || !got.PaidAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("order = %+v", got)
	}
	before := h.dump()
	again, err := h.svc.MarkPaid(h.ctx, "acme", inv.ID, time.Time{}, vendor)
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) {
		t.Errorf("retry = %s (replayed %v), %v", again.Body, again.Replayed, err)
	}
	h.unchanged(t, "a retried mark-paid", before)

	// Another key on the fulfilled order answers with it and adds no lot.
	if _, err := h.svc.MarkPaid(h.ctx, "acme", inv.ID, time.Time{}, ledger.Idem{Key: "mark-2", Scope: "vendor_admin:v"}); err != nil {
		t.Errorf("mark-paid of a fulfilled order: %v", err)
	}
	if lots := h.lotsOfOrder("acme", inv.ID); len(lots) != 1 {
		t.Errorf("a second mark-paid made %d lots, want 1", len(lots))
	}

	card := h.order(ledger.PayCard, core.Cloud, "100")
	before = h.dump()
	_, err = h.svc.MarkPaid(h.ctx, "acme", card.ID, time.Time{}, ledger.Idem{Key: "mark-3", Scope: "vendor_admin:v"})
	wantCode(t, err, core.CodeInvalidRequest)
	_, err = h.svc.MarkPaid(h.ctx, "acme", "ord_nope", time.Time{}, ledger.Idem{Key: "mark-4", Scope: "vendor_admin:v"})
	wantCode(t, err, core.CodeNotFound)
	h.unchanged(t, "refused mark-paids", before)
}

func testPurchasedInYear(t *testing.T, h *harness) {
	c := h.contract() // contract years start on 1 January
	fulfil := func(o ledger.Order) {
		t.Helper()
		if _, err := h.svc.Fulfil(h.ctx, "acme", o.ID, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	fulfil(h.order(ledger.PayCard, core.Cloud, "900"))
	fulfil(h.order(ledger.PayInvoice, core.Cloud, "250"))
	h.order(ledger.PayCard, core.Cloud, "7000") // pending: bought nothing yet
	cancelled := h.order(ledger.PayCard, core.Cloud, "3000")
	if _, err := h.svc.CancelOrder(h.ctx, "acme", cancelled.ID); err != nil {
		t.Fatal(err)
	}
	fulfil(h.order(ledger.PayCard, core.Forma, "400"))

	orders, err := h.svc.Orders(h.ctx, "acme")
	if err != nil || len(orders) != 5 {
		t.Fatalf("Orders = %d orders, %v; want 5", len(orders), err)
	}
	wantEqual(t, "cloud purchased this contract year", ledger.PurchasedInYear(c, orders, core.Cloud, h.clk.Now()), d("1150"))
	wantEqual(t, "forma purchased this contract year", ledger.PurchasedInYear(c, orders, core.Forma, h.clk.Now()), d("400"))

	// The next contract year starts from nothing.
	h.clk.Set(contractStart.AddDate(1, 0, 0))
	fulfil(h.order(ledger.PayCard, core.Cloud, "100"))
	orders, _ = h.svc.Orders(h.ctx, "acme")
	wantEqual(t, "cloud purchased in the second year", ledger.PurchasedInYear(c, orders, core.Cloud, h.clk.Now()), d("100"))
	wantEqual(t, "the first year, looked back on", ledger.PurchasedInYear(c, orders, core.Cloud, t0), d("1150"))
}

func testOrderConditions(t *testing.T, h *harness) {
	h.contract()
	o := h.order(ledger.PayCard, core.Cloud, "100")
	// Planned from a read of the pending order, applied after it changed.
	c, err := h.st.Contract(h.ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := ledger.PlanFulfil(c, o, time.Time{}, h.env())
	if err != nil {
		t.Fatal(err)
	}
	staleCancel, _ := ledger.PlanCancelOrder(o, h.env())
	if _, err := h.svc.Fulfil(h.ctx, "acme", o.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// The lot exists now, so take only the order's update from the stale plan.
	up, _ := onlyOp[ledger.UpdateOrder](stale.Tx)
	h.wantConflict(t, "fulfilling an order no longer pending", ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{up}})
	h.wantConflict(t, "cancelling a fulfilled order from a stale read", staleCancel.Tx)
	h.wantConflict(t, "creating an order whose id exists", ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{ledger.PutOrder{Order: o}}})
	missing := o
	missing.ID, missing.Version = "ord_missing", 2
	h.wantConflict(t, "updating an order that does not exist", ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{
		ledger.UpdateOrder{Order: missing}}})
}

// onlyOp returns the first op of type T in tx.
func onlyOp[T ledger.Op](tx ledger.Tx) (T, bool) {
	for _, op := range tx.Ops {
		if o, ok := op.(T); ok {
			return o, true
		}
	}
	var zero T
	return zero, false
}
