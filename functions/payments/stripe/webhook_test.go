package stripe_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	stripego "github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
)

const whsec = "whsec_test_0123456789abcdef"

// completedEvent is a checkout.session.completed as Stripe sends it (trimmed
// of fields we don't read), for a session this system opened. Its
// api_version is deliberately not stripe-go's: a Stripe account's webhook
// endpoint sends events in the version it was created with, which rarely
// equals the library's pinned version.
func completedEvent(orderID string, cents int64) []byte {
	return fmt.Appendf(nil, `{
  "id": "evt_1QxYz",
  "object": "event",
  "api_version": "2024-06-20",
  "created": 1767225600,
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": "checkout.session.completed",
  "data": {
    "object": {
      "id": "cs_test_a1b2c3",
      "object": "checkout.session",
      "amount_subtotal": %[2]d,
      "amount_total": %[2]d,
      "client_reference_id": %[1]q,
      "currency": "usd",
      "livemode": false,
      "metadata": {"contract": "ctr_acme", "order_id": %[1]q},
      "mode": "payment",
      "payment_status": "paid",
      "status": "complete",
      "url": null
    }
  }
}`, orderID, cents)
}

// stripeGoVerdict is stripe-go's own verification, the reference that
// payments.ParseWebhook must agree with. IgnoreAPIVersionMismatch because
// stripe-go otherwise refuses any event whose api_version is not its pinned
// one (here 2026-02-25.clover), and Stripe signs events in the endpoint's
// version; we read only fields that are stable across versions.
func stripeGoVerdict(payload []byte, header, secret string) error {
	_, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		Tolerance: payments.WebhookTolerance, IgnoreAPIVersionMismatch: true,
	})
	return err
}

func TestWebhookSignedByStripeGoVerifies(t *testing.T) {
	t.Parallel()
	payload := completedEvent("ord_42", 625000)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: whsec, Timestamp: time.Now()})
	ev, err := payments.ParseWebhook(payload, signed.Header, whsec, time.Now())
	if err != nil {
		t.Fatalf("ParseWebhook of a stripe-go signed payload: %v", err)
	}
	want := payments.Event{ID: "evt_1QxYz", Type: payments.EventCheckoutCompleted, OrderID: "ord_42", Contract: "ctr_acme",
		SessionID: "cs_test_a1b2c3", Currency: "usd", Paid: true}
	if !ev.AmountTotal.Equal(decimal.RequireFromString("6250.00")) {
		t.Errorf("AmountTotal = %s, want 6250.00", ev.AmountTotal)
	}
	ev.AmountTotal = decimal.Decimal{}
	if ev != want {
		t.Errorf("event = %+v\nwant    %+v", ev, want)
	}
	if err := stripeGoVerdict(payload, signed.Header, whsec); err != nil {
		t.Errorf("stripe-go refuses what we accept: %v", err)
	}
	// Without the option stripe-go would refuse Stripe's real deliveries.
	if _, err := webhook.ConstructEvent(payload, signed.Header, whsec); err == nil || !strings.Contains(err.Error(), "API version") {
		t.Errorf("stripe-go ConstructEvent without IgnoreAPIVersionMismatch = %v; expected an API version refusal (pinned %s)", err, stripego.APIVersion)
	}
}

// Each delivery is judged the same by payments.ParseWebhook and stripe-go.
func TestWebhookAgreesWithStripeGo(t *testing.T) {
	t.Parallel()
	now := time.Now()
	payload := completedEvent("ord_7", 10)
	signAt := func(p []byte, secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: secret, Timestamp: at}).Header
	}
	good := signAt(payload, whsec, now)
	oldSig := hex.EncodeToString(webhook.ComputeSignature(now, payload, "whsec_old"))
	newSig := hex.EncodeToString(webhook.ComputeSignature(now, payload, whsec))

	for _, tc := range []struct {
		name    string
		payload []byte
		header  string
		secret  string
		accept  bool
	}{
		{"valid", payload, good, whsec, true},
		{"secret being rolled: old and new signatures", payload, fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), oldSig, newSig), whsec, true},
		{"extra v0 scheme ignored", payload, good + ",v0=deadbeef", whsec, true},
		{"tampered amount", []byte(strings.Replace(string(payload), `"amount_total": 10`, `"amount_total": 1000000`, 1)), good, whsec, false},
		{"tampered order", []byte(strings.ReplaceAll(string(payload), "ord_7", "ord_8")), good, whsec, false},
		{"wrong secret", payload, good, "whsec_wrong", false},
		{"signed with another secret", payload, signAt(payload, "whsec_attacker", now), whsec, false},
		{"older than the tolerance", payload, signAt(payload, whsec, now.Add(-payments.WebhookTolerance-time.Minute)), whsec, false},
		{"missing header", payload, "", whsec, false},
		{"header without signature", payload, fmt.Sprintf("t=%d", now.Unix()), whsec, false},
		{"signature of another timestamp", payload, strings.Replace(good, fmt.Sprint(now.Unix()), fmt.Sprint(now.Unix()-1), 1), whsec, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := payments.ParseWebhook(tc.payload, tc.header, tc.secret, now)
			ref := stripeGoVerdict(tc.payload, tc.header, tc.secret)
			if (err == nil) != (ref == nil) {
				t.Fatalf("payments.ParseWebhook: %v; stripe-go: %v; they must agree", err, ref)
			}
			if tc.accept {
				if err != nil || !ev.Paid || ev.OrderID != "ord_7" {
					t.Errorf("ParseWebhook = %+v, %v; want a paid event for ord_7", ev, err)
				}
				return
			}
			if core.ErrorCode(err) != core.CodeInvalidRequest {
				t.Errorf("err = %v; want invalid_request", err)
			}
			if ev != (payments.Event{}) {
				t.Errorf("a refused delivery still yielded %+v", ev)
			}
		})
	}
}

// TestSignWebhookIsAcceptedByStripeGo: the header payments.SignWebhook makes
// (used by the API's tests to play Stripe) is one stripe-go itself accepts.
func TestSignWebhookIsAcceptedByStripeGo(t *testing.T) {
	t.Parallel()
	payload := completedEvent("ord_7", 1250)
	header := payments.SignWebhook(payload, whsec, time.Now())
	if err := stripeGoVerdict(payload, header, whsec); err != nil {
		t.Errorf("stripe-go refuses a SignWebhook header: %v", err)
	}
	if err := stripeGoVerdict(payload, header, whsec+"x"); err == nil {
		t.Error("stripe-go accepts a SignWebhook header under another secret")
	}
}
