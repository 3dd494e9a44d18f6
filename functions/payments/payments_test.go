package payments_test

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestCentsExact(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"6250.00", 625000},
		{"6250", 625000},
		{"0.10", 10},
		{"0.1", 10},
		{"0.01", 1},
		{"1.005000", 0}, // refused: a third decimal that isn't zero
		{"70.000", 7000},
		{"999999.99", 99_999_999},
		{"1000000.00", 0}, // refused: over Stripe's limit
		{"0", 0},          // refused
		{"-1.00", 0},      // refused
		{"123456.78", 12345678},
	} {
		got, err := payments.Cents(dec(tc.in))
		if tc.want == 0 {
			if core.ErrorCode(err) != core.CodeInvalidRequest {
				t.Errorf("Cents(%s) = %d, %v; want invalid_request", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Cents(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func validRequest() payments.CheckoutRequest {
	return payments.CheckoutRequest{
		OrderID: "ord_1", Contract: "ctr_1", Currency: "cloud",
		Credits: dec("5000"), Amount: dec("6250.00"), Description: "5000 Cloud Credits",
		SuccessURL: "http://127.0.0.1:8080/orders/ord_1?session={CHECKOUT_SESSION_ID}",
		CancelURL:  "http://127.0.0.1:8080/orders/ord_1", IdempotencyKey: "idem-1",
	}
}

func TestValidate(t *testing.T) {
	if err := validRequest().Validate(); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	// Every problem is reported at once, by field.
	bad := payments.CheckoutRequest{
		Currency: "gold", Credits: dec("-1"), Amount: dec("1.234"),
		SuccessURL: "javascript:alert(1)", CancelURL: "/relative",
		IdempotencyKey: strings.Repeat("k", 256),
	}
	err := bad.Validate()
	e, ok := core.AsError(err)
	if !ok || e.Code != core.CodeInvalidRequest {
		t.Fatalf("Validate(bad) = %v; want invalid_request", err)
	}
	fields, _ := e.Details["fields"].(map[string]string)
	for _, f := range []string{"order_id", "contract", "currency", "credits", "amount", "description", "success_url", "cancel_url", "idempotency_key"} {
		if fields[f] == "" {
			t.Errorf("no problem reported for %s; got %v", f, fields)
		}
	}
}
