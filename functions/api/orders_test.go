package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/payments"
	"cloudcredits/functions/sampledata"

	"github.com/shopspring/decimal"
)

// orderView is an order as the API answers it.
type orderView struct {
	ID               string `json:"order_id"`
	Contract         string `json:"contract"`
	Status           string `json:"status"`
	Currency         string `json:"currency"`
	Credits          string `json:"credits"`
	Packs            string `json:"packs"`
	Channel          string `json:"channel"`
	UnitPrice        string `json:"unit_price"`
	Total            string `json:"total"`
	MoneyCurrency    string `json:"money_currency"`
	PriceBookVersion string `json:"price_book_version"`
	Payment          string `json:"payment"`
	Provider         string `json:"provider"`
	SessionID        string `json:"session_id"`
	CheckoutURL      string `json:"checkout_url"`
	TestMode         bool   `json:"test_mode"`
	Lot              string `json:"lot"`
	CreatedAt        string `json:"created_at"`
	PaidAt           string `json:"paid_at"`
	FulfilledAt      string `json:"fulfilled_at"`
	CancelledAt      string `json:"cancelled_at"`
}

func decodeOrder(t *testing.T, rec *httptest.ResponseRecorder) orderView {
	t.Helper()
	var o orderView
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil || o.ID == "" {
		t.Fatalf("not an order (%v): %s", err, rec.Body)
	}
	return o
}

// placeOrder posts an order as who and requires 201.
func (e *env) placeOrder(t *testing.T, who, contract, key, body string) orderView {
	t.Helper()
	rec := e.do(t, who, "POST", "/v1/contracts/"+contract+"/orders", key, body)
	e.ok(t, rec, 201)
	return decodeOrder(t, rec)
}

func (e *env) getOrder(t *testing.T, who, contract, id string) orderView {
	t.Helper()
	rec := e.do(t, who, "GET", "/v1/contracts/"+contract+"/orders/"+id, "", "")
	e.ok(t, rec, 200)
	return decodeOrder(t, rec)
}

// resellerContract creates contract id on the reseller channel (2026–2030)
// and a contract admin token for it, "admin-"+id.
func (e *env) resellerContract(t *testing.T, id string) {
	t.Helper()
	e.ok(t, e.do(t, "vendor", "POST", "/v1/contracts", "seed-"+id, fmt.Sprintf(
		`{"id":%q,"customer":"Reseller customer","entity":"%s-hq","start":"2026-01-01T00:00:00Z","end":"2030-01-01T00:00:00Z","channel":"reseller"}`, id, id)), 201)
	tok, err := e.keys.Mint(auth.Principal{Subject: "rita", Role: auth.ContractAdmin, Contract: id}, e.now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["admin-"+id] = tok
}

// checkoutEvent is a checkout.session event as Stripe sends it for order o
// (trimmed of fields the API does not read), paid amount in cents.
func checkoutEvent(eventID, typ string, o orderView, paymentStatus string, cents int64) []byte {
	status := "complete"
	if typ == payments.EventCheckoutExpired {
		status = "expired"
	}
	b, err := json.Marshal(map[string]any{
		"id": eventID, "object": "event", "api_version": "2024-06-20", "created": 1773133200, "livemode": false,
		"pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil}, "type": typ,
		"data": map[string]any{"object": map[string]any{
			"id": o.SessionID, "object": "checkout.session", "amount_subtotal": cents, "amount_total": cents,
			"client_reference_id": o.ID, "currency": "usd", "livemode": false, "mode": "payment",
			"metadata":       map[string]string{"order_id": o.ID, "contract": o.Contract},
			"payment_status": paymentStatus, "status": status, "url": nil,
		}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// cents is an order's total in cents.
func cents(t *testing.T, o orderView) int64 {
	t.Helper()
	return decimal.RequireFromString(o.Total).Shift(2).IntPart()
}

// paidEvent is the checkout.session.completed Stripe sends when o is paid.
func paidEvent(t *testing.T, o orderView) []byte {
	return checkoutEvent("evt_paid_"+o.ID, payments.EventCheckoutCompleted, o, "paid", cents(t, o))
}

// webhook delivers payload to POST /v1/webhooks/stripe with the signature
// header sig (no bearer token, no Idempotency-Key: Stripe sends neither).
func (e *env) webhook(t *testing.T, payload []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	return e.webhookAs(t, "", payload, sig)
}

// webhookAs is webhook with a bearer token of who as well (which the
// webhook ignores: only the signature authenticates it).
func (e *env) webhookAs(t *testing.T, who string, payload []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/webhooks/stripe", bytes.NewReader(payload))
	if tok := e.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sig != "" {
		req.Header.Set(payments.SignatureHeader, sig)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// deliver signs payload as Stripe does, with the configured secret, now.
func (e *env) deliver(t *testing.T, payload []byte) *httptest.ResponseRecorder {
	t.Helper()
	return e.webhook(t, payload, payments.SignWebhook(payload, webhookSecret, e.now))
}

type webhookReply struct {
	Received bool   `json:"received"`
	EventID  string `json:"event_id"`
	OrderID  string `json:"order_id"`
	Action   string `json:"action"`
	Reason   string `json:"reason"`
}

func (e *env) wantWebhook(t *testing.T, rec *httptest.ResponseRecorder, action string) webhookReply {
	t.Helper()
	e.ok(t, rec, 200)
	var r webhookReply
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || !r.Received {
		t.Fatalf("webhook answer = %s (%v)", rec.Body, err)
	}
	if r.Action != action {
		t.Errorf("webhook action = %q (%s), want %q", r.Action, r.Reason, action)
	}
	return r
}

// lotsOf returns the contract's lots that order id created.
func (e *env) lotsOf(t *testing.T, contract, order string) []ledger.Lot {
	t.Helper()
	lots, err := e.st.Lots(context.Background(), contract, "", ledger.LotsPageMax)
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Lot
	for _, l := range lots {
		if l.Order == order {
			out = append(out, l)
		}
	}
	return out
}

type balanceView struct {
	Balances map[string]struct{ Total, Individual, Shared string } `json:"balances"`
	Lots     []struct {
		ID        string `json:"id"`
		Kind      string `json:"kind"`
		Amount    string `json:"amount"`
		Remaining string `json:"remaining"`
		ExpiresAt string `json:"expires_at"`
	} `json:"lots"`
}

func (e *env) balanceOf(t *testing.T, who, contract string) balanceView {
	t.Helper()
	rec := e.do(t, who, "GET", "/v1/contracts/"+contract+"/balance", "", "")
	e.ok(t, rec, 200)
	var b balanceView
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) catalogs(t *testing.T) (*rates.Catalog, *pricing.Catalog) {
	t.Helper()
	rc, pc, err := sampledata.Catalogs("")
	if err != nil {
		t.Fatal(err)
	}
	return rc, pc
}

const cardOrder = `{"currency":"cloud","credits":"5000","payment":"card"}`

func TestCardOrderChecksOutAndTheWebhookFulfilsIt(t *testing.T) {
	e := newEnv(t)
	first := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "buy-1", cardOrder)
	e.ok(t, first, 201)
	o := decodeOrder(t, first)
	want := orderView{ID: ledger.OrderID("contract:c1", "buy-1"), Contract: "c1", Status: "pending", Currency: "cloud",
		Credits: "5000", Packs: "50", Channel: "list", UnitPrice: "1.25", Total: "6250.00", MoneyCurrency: "usd",
		PriceBookVersion: "cloud-2024-01", Payment: "card", Provider: payments.ProviderStripe, TestMode: true,
		SessionID: o.SessionID, CheckoutURL: o.CheckoutURL, CreatedAt: "2026-03-10T09:00:00Z"}
	if o != want {
		t.Errorf("order =\n %+v\nwant\n %+v", o, want)
	}
	if !strings.HasPrefix(o.SessionID, "cs_") || !strings.HasPrefix(o.CheckoutURL, "https://") {
		t.Errorf("checkout session %q at %q; want stripe-mock's cs_… and its https URL", o.SessionID, o.CheckoutURL)
	}
	// A retry is the first answer, byte for byte; no second order, no second session.
	again := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "buy-1", cardOrder)
	e.ok(t, again, 201)
	if !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %s (replayed %q); want the first answer", again.Body, again.Header().Get("Idempotent-Replayed"))
	}
	if got := e.getOrder(t, "admin", "c1", o.ID); got != o {
		t.Errorf("GET order = %+v, want %+v", got, o)
	}

	e.wantWebhook(t, e.deliver(t, paidEvent(t, o)), "fulfilled")
	got := e.getOrder(t, "admin", "c1", o.ID)
	if got.Status != "fulfilled" || got.Lot != "lot_"+o.ID || got.PaidAt != "2026-03-10T09:00:00Z" || got.FulfilledAt == "" {
		t.Errorf("order after payment = %+v; want fulfilled with its lot", got)
	}
	b := e.balanceOf(t, "admin", "c1")
	found := false
	for _, l := range b.Lots {
		if l.ID == got.Lot {
			found = true
			// 12 months after purchase would be 2027-03-10; the contract ends first.
			if l.Kind != "shared" || l.Amount != "5000" || l.Remaining != "5000" || l.ExpiresAt != "2027-01-01T00:00:00Z" {
				t.Errorf("purchased lot = %+v; want 5000 shared, expiring at the contract's end 2027-01-01", l)
			}
		}
	}
	if !found {
		t.Errorf("the purchased lot %s is not in the balance: %+v", got.Lot, b.Lots)
	}
	if cloud := b.Balances["cloud"]; cloud.Shared != "6000" {
		t.Errorf("shared cloud balance = %s, want the pool's 1000 + 5000 bought", cloud.Shared)
	}

	// Stripe redelivers: nothing changes.
	before := e.dump(t)
	r := e.wantWebhook(t, e.deliver(t, paidEvent(t, o)), "fulfilled")
	if r.Reason != "already fulfilled" {
		t.Errorf("redelivery reason = %q", r.Reason)
	}
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a redelivered event changed the store:\n%s", diff(before, after))
	}
}

func TestTheSameEventDeliveredConcurrentlyMakesOneLot(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	payload := paidEvent(t, o)
	const deliveries = 10
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, deliveries)
	for i := range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = e.deliver(t, payload)
		}()
	}
	wg.Wait()
	for i, rec := range recs {
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"action":"fulfilled"`) {
			t.Errorf("delivery %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	lots := e.lotsOf(t, "c1", o.ID)
	if len(lots) != 1 {
		t.Fatalf("%d deliveries made %d lots, want 1", deliveries, len(lots))
	}
	entries, err := e.st.Entries(context.Background(), "c1", lots[0].ID)
	if err != nil || len(entries) != 1 || entries[0].Kind != ledger.EntryGrant {
		t.Errorf("entries of the lot = %+v, %v; want one grant", entries, err)
	}
	if got := e.getOrder(t, "admin", "c1", o.ID); got.Status != "fulfilled" {
		t.Errorf("order = %+v", got)
	}
}

func TestWebhookRefusesWhatIsNotSignedByStripe(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	payload := paidEvent(t, o)
	good := payments.SignWebhook(payload, webhookSecret, e.now)
	flipped := []byte(good)
	if last := flipped[len(flipped)-1]; last == '0' {
		flipped[len(flipped)-1] = '1'
	} else {
		flipped[len(flipped)-1] = '0'
	}
	cheaper := bytes.Replace(payload, []byte(fmt.Sprint(cents(t, o))), []byte("100"), 2)
	before := e.dump(t)
	for _, tc := range []struct {
		name    string
		payload []byte
		sig     string
	}{
		{"tampered signature", payload, string(flipped)},
		{"signed with another secret", payload, payments.SignWebhook(payload, "whsec_someone_else", e.now)},
		{"payload altered after signing", cheaper, good},
		{"no signature", payload, ""},
		{"malformed signature header", payload, "v1=abc"},
		{"signed too long ago (a replay)", payload, payments.SignWebhook(payload, webhookSecret, e.now.Add(-time.Hour))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.webhook(t, tc.payload, tc.sig)
			if rec.Code != 400 || decodeError(t, rec).Error.Code != "invalid_request" {
				t.Errorf("status %d: %s; want 400 invalid_request", rec.Code, rec.Body)
			}
			if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("the store changed:\n%s", diff(before, after))
			}
		})
	}
	if got := e.getOrder(t, "admin", "c1", o.ID); got.Status != "pending" {
		t.Errorf("order = %s, want still pending", got.Status)
	}
}

func TestWebhookAcknowledgesWhatItDoesNotActOn(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	other := o
	other.ID = "ord_unknown"
	wrongSession := o
	wrongSession.SessionID = "cs_test_someone_else"
	before := e.dump(t)
	for _, tc := range []struct {
		name, action string
		payload      []byte
	}{
		{"an event type it does not handle", "ignored", []byte(`{"id":"evt_pi","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`)},
		{"an order id it does not know, paid", "refused", paidEvent(t, other)},
		{"an order id it does not know, expired", "ignored", checkoutEvent("evt_exp_other", payments.EventCheckoutExpired, other, "unpaid", cents(t, other))},
		{"completed, payment still on its way", "ignored", checkoutEvent("evt_async", payments.EventCheckoutCompleted, o, "unpaid", cents(t, o))},
		{"paid less than the total", "refused", checkoutEvent("evt_short", payments.EventCheckoutCompleted, o, "paid", cents(t, o)-1)},
		{"paid more than the total", "refused", checkoutEvent("evt_long", payments.EventCheckoutAsyncPaymentSucceeded, o, "paid", cents(t, o)+1)},
		{"another checkout session", "refused", paidEvent(t, wrongSession)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.wantWebhook(t, e.deliver(t, tc.payload), tc.action)
			if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("the store changed:\n%s", diff(before, after))
			}
		})
	}
	if lots := e.lotsOf(t, "c1", o.ID); len(lots) != 0 {
		t.Errorf("an unpaid order made lots %+v", lots)
	}
}

func TestExpiredCheckoutCancelsTheOrder(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	expired := checkoutEvent("evt_exp", payments.EventCheckoutExpired, o, "unpaid", cents(t, o))
	e.wantWebhook(t, e.deliver(t, expired), "cancelled")
	if got := e.getOrder(t, "admin", "c1", o.ID); got.Status != "cancelled" || got.CancelledAt != "2026-03-10T09:00:00Z" {
		t.Errorf("order = %+v; want cancelled", got)
	}
	before := e.dump(t)
	e.wantWebhook(t, e.deliver(t, expired), "ignored")
	// Paid after all (it can't happen on Stripe): refused, logged, no lot.
	e.wantWebhook(t, e.deliver(t, paidEvent(t, o)), "refused")
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the store changed:\n%s", diff(before, after))
	}
	if lots := e.lotsOf(t, "c1", o.ID); len(lots) != 0 {
		t.Errorf("a cancelled order made lots %+v", lots)
	}
	// A fulfilled order is not cancelled by a late expiry.
	paid := e.placeOrder(t, "admin", "c1", "buy-2", `{"currency":"cloud","credits":"100","payment":"card"}`)
	e.wantWebhook(t, e.deliver(t, paidEvent(t, paid)), "fulfilled")
	e.wantWebhook(t, e.deliver(t, checkoutEvent("evt_exp2", payments.EventCheckoutExpired, paid, "unpaid", cents(t, paid))), "ignored")
	if got := e.getOrder(t, "admin", "c1", paid.ID); got.Status != "fulfilled" {
		t.Errorf("order = %s, want fulfilled", got.Status)
	}
}

func TestOrderPriceComesFromTheServer(t *testing.T) {
	e := newEnv(t)
	before := e.dump(t)
	for field, body := range map[string]string{
		"total":               `{"currency":"cloud","credits":"5000","payment":"card","total":"1.00"}`,
		"unit_price":          `{"currency":"cloud","credits":"5000","payment":"card","unit_price":"0.01"}`,
		"channel":             `{"currency":"cloud","credits":"5000","payment":"card","channel":"eba"}`,
		"purchased_this_year": `{"currency":"cloud","credits":"5000","payment":"card","purchased_this_year":"100000"}`,
	} {
		t.Run(field, func(t *testing.T) {
			rec := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "k-"+field, body)
			if rec.Code != 400 {
				t.Fatalf("status %d: %s; want 400", rec.Code, rec.Body)
			}
			fields, _ := decodeError(t, rec).Error.Details["fields"].(map[string]any)
			if _, named := fields[field]; !named {
				t.Errorf("details %v do not name %s", fields, field)
			}
		})
	}
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the store changed:\n%s", diff(before, after))
	}
}

func TestOrderInPacksOrCredits(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body, credits, packs, total string
	}{
		{`{"currency":"cloud","credits":"150","payment":"card"}`, "200", "2", "250.00"},
		{`{"currency":"cloud","credits":"0.5","payment":"card"}`, "100", "1", "125.00"},
		{`{"currency":"cloud","packs":3,"payment":"card"}`, "300", "3", "375.00"},
		{`{"currency":"forma","packs":2,"payment":"card"}`, "200", "2", "200.00"},
	} {
		o := e.placeOrder(t, "admin", "c1", tc.body, tc.body)
		if o.Credits != tc.credits || o.Packs != tc.packs || o.Total != tc.total {
			t.Errorf("%s: %s credits in %s packs for %s; want %s in %s for %s", tc.body, o.Credits, o.Packs, o.Total, tc.credits, tc.packs, tc.total)
		}
	}
}

// TestTierCrossesWithThisYearsPurchases: on the reseller channel the tier
// counts the contract year's paid purchases of the currency, the order
// included; pending orders bought nothing yet.
func TestTierCrossesWithThisYearsPurchases(t *testing.T) {
	e := newEnv(t)
	e.resellerContract(t, "r1")
	first := e.placeOrder(t, "admin-r1", "r1", "buy-1", `{"currency":"cloud","credits":"900","payment":"invoice"}`)
	if first.UnitPrice != "1.25" || first.Total != "1125.00" || first.Channel != "reseller" {
		t.Errorf("900 credits = %s at %s on %s; want 1125.00 at 1.25 on reseller", first.Total, first.UnitPrice, first.Channel)
	}
	e.ok(t, e.do(t, "vendor", "POST", "/v1/orders/"+first.ID+"/mark-paid", "paid-1", ""), 200)
	// 900 bought + 200 = 1,100: the 1,000–4,999 tier, every credit at 1.20.
	second := e.placeOrder(t, "admin-r1", "r1", "buy-2", `{"currency":"cloud","credits":"200","payment":"invoice"}`)
	if second.UnitPrice != "1.20" || second.Total != "240.00" {
		t.Errorf("200 more credits = %s at %s; want 240.00 at 1.20", second.Total, second.UnitPrice)
	}
	// The second is still pending: a third order counts only the 900.
	third := e.placeOrder(t, "admin-r1", "r1", "buy-3", `{"currency":"cloud","credits":"50","payment":"invoice"}`)
	if third.Total != "120.00" || third.UnitPrice != "1.20" {
		t.Errorf("a pack after 900 bought = %s at %s; want 120.00 at 1.20 (1,000 credits)", third.Total, third.UnitPrice)
	}
	// Forma has its own tiers: the cloud purchases do not count.
	forma := e.placeOrder(t, "admin-r1", "r1", "buy-4", `{"currency":"forma","credits":"200","payment":"invoice"}`)
	if forma.Total != "200.00" {
		t.Errorf("200 forma credits = %s, want 200.00 at list 1.00 (under 1,000)", forma.Total)
	}
	// The lot of the first order: 12 months after purchase, within the contract.
	lots := e.lotsOf(t, "r1", first.ID)
	if len(lots) != 1 || !lots[0].ExpiresAt.Equal(e.now.AddDate(1, 0, 0)) {
		t.Errorf("lots of the paid order = %+v; want one expiring 2027-03-10T09:00:00Z", lots)
	}
}

func TestInvoiceOrderIsMarkedPaidByTheVendor(t *testing.T) {
	e := newEnv(t)
	e.resellerContract(t, "r1")
	o := e.placeOrder(t, "admin-r1", "r1", "buy-1", `{"currency":"cloud","credits":"300","payment":"invoice"}`)
	if o.Status != "pending" || o.CheckoutURL != "" || o.SessionID != "" || o.Payment != "invoice" {
		t.Errorf("invoice order = %+v; want pending with no checkout", o)
	}
	path := "/v1/orders/" + o.ID + "/mark-paid"
	before := e.dump(t)
	for _, who := range []string{"admin", "admin-r1", "service"} {
		if rec := e.do(t, who, "POST", path, "paid-1", ""); rec.Code != 403 {
			t.Errorf("mark-paid by %s = %d %s, want 403", who, rec.Code, rec.Body)
		}
	}
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("refused mark-paids changed the store:\n%s", diff(before, after))
	}
	first := e.do(t, "vendor", "POST", path, "paid-1", "")
	e.ok(t, first, 200)
	var res struct {
		Order orderView `json:"order"`
		Lot   struct {
			ID     string `json:"id"`
			Amount string `json:"amount"`
		} `json:"lot"`
	}
	if err := json.Unmarshal(first.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Order.Status != "fulfilled" || res.Lot.ID != "lot_"+o.ID || res.Lot.Amount != "300" {
		t.Errorf("mark-paid = %s", first.Body)
	}
	again := e.do(t, "vendor", "POST", path, "paid-1", "")
	if !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry = %s; want the first answer, replayed", again.Body)
	}
	e.ok(t, e.do(t, "vendor", "POST", path, "paid-2", ""), 200) // another key: answered with the fulfilled order
	if lots := e.lotsOf(t, "r1", o.ID); len(lots) != 1 {
		t.Errorf("mark-paid made %d lots, want 1", len(lots))
	}
	if got := e.getOrder(t, "admin-r1", "r1", o.ID); got.Status != "fulfilled" {
		t.Errorf("order = %s, want fulfilled", got.Status)
	}
	if rec := e.do(t, "vendor", "POST", path, "paid-1", `{}`); rec.Code != 409 {
		t.Errorf("the same key with another body = %d, want 409", rec.Code)
	}

	card := e.placeOrder(t, "admin-r1", "r1", "buy-2", `{"currency":"cloud","credits":"100","payment":"card"}`)
	rec := e.do(t, "vendor", "POST", "/v1/orders/"+card.ID+"/mark-paid", "paid-3", "")
	if rec.Code != 400 || decodeError(t, rec).Error.Code != "invalid_request" {
		t.Errorf("mark-paid of a card order = %d %s, want 400", rec.Code, rec.Body)
	}
}

func TestAnotherContractsOrderIsNotFound(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	for _, tc := range []struct{ who, path string }{
		{"admin2", "/v1/contracts/c1/orders/" + o.ID},
		{"admin2", "/v1/contracts/c2/orders/" + o.ID},
		{"admin", "/v1/contracts/c1/orders/ord_nope"},
	} {
		rec := e.do(t, tc.who, "GET", tc.path, "", "")
		if rec.Code != 404 || decodeError(t, rec).Error.Code != "not_found" {
			t.Errorf("GET %s as %s = %d %s, want 404", tc.path, tc.who, rec.Code, rec.Body)
		}
	}
	e.getOrder(t, "vendor", "c1", o.ID) // the vendor sees every contract
}

func TestOrderWithABadQuoteTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	before := e.dump(t)
	rec := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "q-1", `{"currency":"cloud","credits":"100","payment":"card","quote_token":"abc"}`)
	if rec.Code != 422 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if e := decodeError(t, rec).Error; e.Code != "quote_invalid" || strings.Contains(e.Message, "abc") {
		t.Errorf("error = %+v", e)
	}
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the store changed:\n%s", diff(before, after))
	}
}

func TestCardOrderWithoutAPaymentProviderIsRefused(t *testing.T) {
	e := newEnv(t)
	rc, pc := e.catalogs(t)
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Credits: e.svc, Keys: e.keys, Now: func() time.Time { return e.now },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	before := e.dump(t)
	if rec := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "k", cardOrder); rec.Code != 500 {
		t.Errorf("card order with no provider = %d %s, want 500", rec.Code, rec.Body)
	}
	o := orderView{ID: "ord_x", SessionID: "cs_x", Total: "1.00"}
	if rec := e.deliver(t, paidEvent(t, o)); rec.Code != 500 {
		t.Errorf("webhook with no secret configured = %d %s, want 500", rec.Code, rec.Body)
	}
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the store changed:\n%s", diff(before, after))
	}
}

func TestPaymentAfterTheContractEndedIsRefused(t *testing.T) {
	e := newEnv(t)
	o := e.placeOrder(t, "admin", "c1", "buy-1", cardOrder)
	e.ok(t, e.do(t, "vendor", "POST", "/v1/contracts/c1/terminate", "end-c1", ""), 200)
	before := e.dump(t)
	e.wantWebhook(t, e.deliver(t, paidEvent(t, o)), "refused")
	if after := e.dump(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the store changed:\n%s", diff(before, after))
	}
	// An ended contract orders nothing either.
	rec := e.do(t, "admin", "POST", "/v1/contracts/c1/orders", "buy-2", cardOrder)
	if rec.Code != 409 || decodeError(t, rec).Error.Code != "conflict" {
		t.Errorf("order on an ended contract = %d %s, want 409 conflict", rec.Code, rec.Body)
	}
}
