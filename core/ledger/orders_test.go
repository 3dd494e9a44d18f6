package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// order is a priced cloud order of acme, as checkout builds it before
// PlanCreateOrder stamps it.
func order(id string, pay ledger.Payment, credits string) ledger.Order {
	o := ledger.Order{ID: id, Currency: core.Cloud, Credits: d(credits), Packs: d(credits).Div(d("100")).Ceil(),
		Channel: "list", UnitPrice: d("1.25"), Total: core.RoundMoney(d(credits).Mul(d("1.25"))),
		MoneyCurrency: ledger.USD, PriceBookVersion: "cloud-2024-01", Payment: pay}
	if pay == ledger.PayCard {
		o.Provider, o.SessionID, o.CheckoutURL = "stripe", "cs_test_1", "https://checkout.example/cs_test_1"
	}
	return o
}

func created(t *testing.T, o ledger.Order) ledger.Order {
	t.Helper()
	dec, err := ledger.PlanCreateOrder(contract(), o, nil, key(), env())
	if err != nil {
		t.Fatalf("PlanCreateOrder: %v", err)
	}
	put, n := opOf[ledger.PutOrder](dec.Tx)
	if n != 1 {
		t.Fatalf("PlanCreateOrder wrote %d orders, want 1", n)
	}
	return put.Order
}

func TestPlanCreateOrder(t *testing.T) {
	o := created(t, order("ord_1", ledger.PayCard, "5000"))
	if o.Status != ledger.OrderPending || o.Contract != "acme" || !o.CreatedAt.Equal(t0) {
		t.Errorf("created order = %+v; want pending on acme, created at t0", o)
	}

	ended := contract()
	ended.TerminatedAt = t0
	_, err := ledger.PlanCreateOrder(ended, order("ord_2", ledger.PayInvoice, "100"), nil, key(), env())
	wantCode(t, err, core.CodeConflict)

	for name, edit := range map[string]func(*ledger.Order){
		"card order without a session": func(o *ledger.Order) { o.SessionID = "" },
		"zero total":                   func(o *ledger.Order) { o.Total = d("0") },
		"total below a cent":           func(o *ledger.Order) { o.Total = d("1.005") },
		"unknown payment":              func(o *ledger.Order) { o.Payment = "cash" },
		"fractional packs":             func(o *ledger.Order) { o.Packs = d("1.5") },
		"no price book":                func(o *ledger.Order) { o.PriceBookVersion = "" },
	} {
		t.Run(name, func(t *testing.T) {
			o := order("ord_3", ledger.PayCard, "100")
			edit(&o)
			_, err := ledger.PlanCreateOrder(contract(), o, nil, key(), env())
			wantCode(t, err, core.CodeInvalidRequest)
		})
	}
}

func TestPlanFulfilCreatesTheLotOnce(t *testing.T) {
	o := created(t, order("ord_1", ledger.PayCard, "5000"))
	dec, err := ledger.PlanFulfil(contract(), o, time.Time{}, env())
	if err != nil {
		t.Fatal(err)
	}
	lot, nl := opOf[ledger.CreateLot](dec.Tx)
	up, nu := opOf[ledger.UpdateOrder](dec.Tx)
	if nl != 1 || nu != 1 || len(entries(dec.Tx)) != 1 {
		t.Fatalf("Tx = %+v; want one lot, one entry, one order update", dec.Tx.Ops)
	}
	if lot.Lot.ID != ledger.LotOfOrder("ord_1") || lot.Lot.Order != "ord_1" || lot.Lot.Kind != ledger.Shared ||
		!lot.Lot.Amount.Equal(d("5000")) || lot.Lot.Source != ledger.SourcePurchase {
		t.Errorf("lot = %+v", lot.Lot)
	}
	if e := entries(dec.Tx)[0]; e.Ref != "ord_1" || e.Kind != ledger.EntryGrant {
		t.Errorf("grant entry = %+v; want a grant naming the order", e)
	}
	// 12 months after purchase, within the contract (ends 2033-01-01).
	if want := t0.AddDate(1, 0, 0); !lot.Lot.ExpiresAt.Equal(want) {
		t.Errorf("expires %s, want %s", lot.Lot.ExpiresAt, want)
	}
	if up.Order.Version != 1 || up.Order.Status != ledger.OrderFulfilled || up.Order.Lot != lot.Lot.ID ||
		!up.Order.PaidAt.Equal(t0) || !up.Order.FulfilledAt.Equal(t0) {
		t.Errorf("order update = %+v", up)
	}

	// Fulfilled: answered with itself, nothing written.
	again, err := ledger.PlanFulfil(contract(), up.Order, time.Time{}, env())
	if err != nil || len(again.Tx.Ops) != 0 {
		t.Errorf("fulfilling a fulfilled order = %+v, %v; want no writes", again.Tx, err)
	}
	// Cancelled: refused.
	cancel, _ := ledger.PlanCancelOrder(o, env())
	cu, _ := opOf[ledger.UpdateOrder](cancel.Tx)
	_, err = ledger.PlanFulfil(contract(), cu.Order, time.Time{}, env())
	wantCode(t, err, core.CodeConflict)
	// A sunset caps the lot's expiry.
	sunset := t0.AddDate(0, 2, 0)
	capped, _ := ledger.PlanFulfil(contract(), o, sunset, env())
	if l, _ := opOf[ledger.CreateLot](capped.Tx); !l.Lot.ExpiresAt.Equal(sunset) {
		t.Errorf("with a sunset the lot expires %s, want %s", l.Lot.ExpiresAt, sunset)
	}
}

func TestPlanMarkPaid(t *testing.T) {
	inv := created(t, order("ord_inv", ledger.PayInvoice, "300"))
	k := key()
	dec, err := ledger.PlanMarkPaid(contract(), inv, time.Time{}, nil, k, env())
	if err != nil {
		t.Fatal(err)
	}
	if _, n := opOf[ledger.PutIdempotency](dec.Tx); n != 1 {
		t.Error("mark-paid stores no idempotency record")
	}
	var res ledger.FulfilResult
	if err := json.Unmarshal(dec.Response, &res); err != nil || res.Order.Status != ledger.OrderFulfilled || res.Lot == nil {
		t.Errorf("mark-paid answer = %s (%v)", dec.Response, err)
	}
	card := created(t, order("ord_card", ledger.PayCard, "300"))
	_, err = ledger.PlanMarkPaid(contract(), card, time.Time{}, nil, key(), env())
	wantCode(t, err, core.CodeInvalidRequest)
}

func TestPlanCancelOrder(t *testing.T) {
	o := created(t, order("ord_1", ledger.PayCard, "100"))
	dec, err := ledger.PlanCancelOrder(o, env())
	up, n := opOf[ledger.UpdateOrder](dec.Tx)
	if err != nil || n != 1 || up.Order.Status != ledger.OrderCancelled || up.Order.Version != o.Version+1 || !up.Order.CancelledAt.Equal(t0) {
		t.Fatalf("cancel = %+v, %v", dec.Tx, err)
	}
	if again, _ := ledger.PlanCancelOrder(up.Order, env()); len(again.Tx.Ops) != 0 {
		t.Error("cancelling a cancelled order writes")
	}
}

func TestOrderJSONShowsMoneyWithCents(t *testing.T) {
	o := created(t, order("ord_1", ledger.PayInvoice, "5000"))
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"total":"6250.00"`) || strings.Count(string(b), `"total"`) != 1 ||
		!strings.Contains(string(b), `"unit_price":"1.25"`) || strings.Count(string(b), `"unit_price"`) != 1 {
		t.Errorf("order JSON = %s; want one total, \"6250.00\", and one unit price", b)
	}
	o.UnitPrice, o.Total = d("1.2"), d("240")
	if b, _ := json.Marshal(o); !strings.Contains(string(b), `"unit_price":"1.20","total":"240.00"`) {
		t.Errorf("order JSON = %s; want unit price 1.20 and total 240.00", b)
	}
	o.UnitPrice = d("1.18330")
	if b, _ := json.Marshal(o); !strings.Contains(string(b), `"unit_price":"1.1833"`) {
		t.Errorf("order JSON = %s; want unit price 1.1833", b)
	}
	var back ledger.Order
	if err := json.Unmarshal(b, &back); err != nil || !back.Total.Equal(d("6250")) || back.ID != "ord_1" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}

func TestContractYearAndPurchasedInYear(t *testing.T) {
	c := contract() // starts 2031-01-01
	for _, tc := range []struct {
		at, from string
	}{
		{"2031-01-01T00:00:00Z", "2031-01-01T00:00:00Z"},
		{"2031-12-31T23:59:59Z", "2031-01-01T00:00:00Z"},
		{"2032-01-01T00:00:00Z", "2032-01-01T00:00:00Z"},
		{"2030-06-01T00:00:00Z", "2031-01-01T00:00:00Z"},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		from, to := ledger.ContractYear(c, at)
		if from.Format(time.RFC3339) != tc.from || !to.Equal(from.AddDate(1, 0, 0)) {
			t.Errorf("ContractYear(%s) = [%s, %s), want from %s", tc.at, from, to, tc.from)
		}
	}
	mk := func(id string, cur core.Currency, status ledger.OrderStatus, credits string, at time.Time) ledger.Order {
		return ledger.Order{ID: id, Contract: "acme", Currency: cur, Status: status, Credits: d(credits), CreatedAt: at}
	}
	year2 := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)
	orders := []ledger.Order{
		mk("a", core.Cloud, ledger.OrderFulfilled, "1000", t0),
		mk("b", core.Cloud, ledger.OrderPaid, "500", t0),
		mk("c", core.Cloud, ledger.OrderPending, "7000", t0),
		mk("d", core.Cloud, ledger.OrderCancelled, "7000", t0),
		mk("e", core.Forma, ledger.OrderFulfilled, "7000", t0),
		mk("f", core.Cloud, ledger.OrderFulfilled, "200", year2.Add(-time.Nanosecond)),
		mk("g", core.Cloud, ledger.OrderFulfilled, "40", year2),
	}
	if got := ledger.PurchasedInYear(c, orders, core.Cloud, t0); !got.Equal(d("1700")) {
		t.Errorf("purchased in the first year = %s, want 1700 (fulfilled and paid cloud orders of that year)", got)
	}
	if got := ledger.PurchasedInYear(c, orders, core.Cloud, year2.Add(time.Hour)); !got.Equal(d("40")) {
		t.Errorf("purchased in the second year = %s, want 40", got)
	}
	if got := ledger.PurchasedInYear(c, orders, core.Forma, t0); !got.Equal(d("7000")) {
		t.Errorf("forma purchased = %s, want 7000", got)
	}
}
