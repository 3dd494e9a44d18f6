package testpay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/functions/payments"
)

func req(i int) payments.CheckoutRequest {
	id := "ord_" + string(rune('a'+i))
	return payments.CheckoutRequest{
		OrderID: id, Contract: "c", Currency: "cloud", Credits: decimal.NewFromInt(100), Amount: decimal.NewFromInt(125),
		Description: "100 credits", SuccessURL: "http://x.test/ok", CancelURL: "http://x.test/no", IdempotencyKey: "k" + id,
	}
}

func status(t *testing.T, h http.Handler, url string) int {
	t.Helper()
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, url, nil))
	return rr.Code
}

// Open sessions are bounded (the oldest is forgotten) and expire after SessionTTL.
func TestSessionsBoundedAndExpire(t *testing.T) {
	p, err := New("http://x.test", "http://x.test/hook", "whsec_x", nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return clock }
	p.max = 3
	h := p.Handler()
	var cos []payments.Checkout
	for i := range 5 {
		co, err := p.CreateCheckout(context.Background(), req(i))
		if err != nil {
			t.Fatal(err)
		}
		cos = append(cos, co)
	}
	if n := len(p.sessions); n != 3 || len(p.order) != 3 || len(p.byKey) != 3 {
		t.Fatalf("kept %d sessions, %d in order, %d keys; want 3 each", n, len(p.order), len(p.byKey))
	}
	for i, co := range cos {
		want := http.StatusOK
		if i < 2 {
			want = http.StatusNotFound
		}
		if got := status(t, h, co.URL); got != want {
			t.Errorf("session %d: GET = %d, want %d", i, got, want)
		}
	}
	clock = clock.Add(SessionTTL)
	if got := status(t, h, cos[4].URL); got != http.StatusNotFound {
		t.Errorf("GET after SessionTTL = %d, want 404", got)
	}
}
