package payments_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/functions/payments"
)

const secret = "whsec_test_local"

// sign is an independent implementation of Stripe's documented v1 scheme;
// payments/stripe's tests check the same payloads against stripe-go's.
func sign(payload []byte, secret string, t time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.%s", t.Unix(), payload)
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

func sessionEvent(typ, paymentStatus string, session string) []byte {
	return fmt.Appendf(nil, `{"id":"evt_1","object":"event","api_version":"2020-08-27","type":%q,"livemode":false,
"data":{"object":%s}}`, typ, strings.ReplaceAll(session, "$PS", paymentStatus))
}

const ourSession = `{"id":"cs_test_1","object":"checkout.session","payment_status":"$PS","status":"complete",
"amount_total":625000,"currency":"usd","client_reference_id":"ord_1","metadata":{"order_id":"ord_1","contract":"ctr_1"}}`

func TestParseWebhookEvents(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name, payload string
		want          payments.Event
	}{
		{"completed and paid", string(sessionEvent(payments.EventCheckoutCompleted, "paid", ourSession)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutCompleted, OrderID: "ord_1", Contract: "ctr_1", SessionID: "cs_test_1", AmountTotal: dec("6250"), Currency: "usd", Paid: true}},
		{"completed but payment pending (async method)", string(sessionEvent(payments.EventCheckoutCompleted, "unpaid", ourSession)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutCompleted, OrderID: "ord_1", Contract: "ctr_1", SessionID: "cs_test_1", AmountTotal: dec("6250"), Currency: "usd"}},
		{"async payment succeeded", string(sessionEvent(payments.EventCheckoutAsyncPaymentSucceeded, "paid", ourSession)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutAsyncPaymentSucceeded, OrderID: "ord_1", Contract: "ctr_1", SessionID: "cs_test_1", AmountTotal: dec("6250"), Currency: "usd", Paid: true}},
		{"expired", string(sessionEvent(payments.EventCheckoutExpired, "unpaid", ourSession)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutExpired, OrderID: "ord_1", Contract: "ctr_1", SessionID: "cs_test_1", AmountTotal: dec("6250"), Currency: "usd"}},
		{"unhandled type", `{"id":"evt_2","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`,
			payments.Event{ID: "evt_2", Type: "payment_intent.succeeded"}},
		{"order id only in metadata", string(sessionEvent(payments.EventCheckoutCompleted, "paid",
			`{"id":"cs_2","object":"checkout.session","payment_status":"$PS","amount_total":10,"currency":"USD","client_reference_id":null,"metadata":{"order_id":"ord_2"}}`)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutCompleted, OrderID: "ord_2", SessionID: "cs_2", AmountTotal: dec("0.10"), Currency: "usd", Paid: true}},
		{"a session we did not open is never paid", string(sessionEvent(payments.EventCheckoutCompleted, "paid",
			`{"id":"cs_3","object":"checkout.session","payment_status":"$PS","amount_total":500,"currency":"usd","metadata":{}}`)),
			payments.Event{ID: "evt_1", Type: payments.EventCheckoutCompleted, SessionID: "cs_3", AmountTotal: dec("5"), Currency: "usd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := []byte(tc.payload)
			got, err := payments.ParseWebhook(payload, sign(payload, secret, now.Add(-time.Minute)), secret, now)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if !got.AmountTotal.Equal(tc.want.AmountTotal) {
				t.Errorf("AmountTotal = %s, want %s", got.AmountTotal, tc.want.AmountTotal)
			}
			got.AmountTotal = tc.want.AmountTotal
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good := sessionEvent(payments.EventCheckoutCompleted, "paid", ourSession)
	header := sign(good, secret, now)
	for _, tc := range []struct {
		name, payload, header, secret string
		code                          core.Code
		msg                           string
	}{
		{"missing header", string(good), "", secret, core.CodeInvalidRequest, "no Stripe-Signature header"},
		{"garbage header", string(good), "garbage", secret, core.CodeInvalidRequest, "malformed"},
		{"no timestamp", string(good), header[strings.Index(header, "v1="):], secret, core.CodeInvalidRequest, "no timestamp"},
		{"no v1", string(good), strings.Replace(header, "v1=", "v0=", 1), secret, core.CodeInvalidRequest, "no v1 signature"},
		{"tampered payload", strings.Replace(string(good), "625000", "1", 1), header, secret, core.CodeInvalidRequest, "does not match"},
		{"wrong secret", string(good), header, "whsec_other", core.CodeInvalidRequest, "does not match"},
		{"stale", string(good), sign(good, secret, now.Add(-payments.WebhookTolerance-time.Second)), secret, core.CodeInvalidRequest, "old"},
		{"future", string(good), sign(good, secret, now.Add(payments.WebhookTolerance+time.Second)), secret, core.CodeInvalidRequest, "future"},
		{"no secret configured", string(good), header, "", core.CodeInternal, "not configured"},
		{"too large", strings.Repeat(" ", payments.WebhookPayloadMax+1), header, secret, core.CodeInvalidRequest, "bytes"},
		{"not JSON", "not json", sign([]byte("not json"), secret, now), secret, core.CodeInvalidRequest, "malformed"},
		{"not an event", `{"id":"cs_1","object":"checkout.session"}`, sign([]byte(`{"id":"cs_1","object":"checkout.session"}`), secret, now), secret, core.CodeInvalidRequest, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := payments.ParseWebhook([]byte(tc.payload), tc.header, tc.secret, now)
			if core.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("ParseWebhook = %+v, %v; want %s mentioning %q", ev, err, tc.code, tc.msg)
			}
			if tc.header != "" && strings.Contains(err.Error(), tc.header) || tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q quotes the header or the secret", err)
			}
		})
	}
	// At the edge of the tolerance it is still accepted.
	if _, err := payments.ParseWebhook(good, sign(good, secret, now.Add(-payments.WebhookTolerance)), secret, now); err != nil {
		t.Errorf("signature exactly %s old refused: %v", payments.WebhookTolerance, err)
	}
}

func TestParseWebhookMalformedSessions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for name, session := range map[string]string{
		"order ids disagree":  `{"id":"cs_1","object":"checkout.session","payment_status":"$PS","amount_total":1,"currency":"usd","client_reference_id":"ord_1","metadata":{"order_id":"ord_9"}}`,
		"paid without amount": `{"id":"cs_1","object":"checkout.session","payment_status":"$PS","amount_total":null,"currency":"usd","client_reference_id":"ord_1"}`,
		"not a session":       `{"id":"pi_1","object":"payment_intent","payment_status":"$PS"}`,
		"fractional amount":   `{"id":"cs_1","object":"checkout.session","payment_status":"$PS","amount_total":1.5,"currency":"usd","client_reference_id":"ord_1"}`,
	} {
		payload := sessionEvent(payments.EventCheckoutCompleted, "paid", session)
		_, err := payments.ParseWebhook(payload, sign(payload, secret, now), secret, now)
		if core.ErrorCode(err) != core.CodeInvalidRequest || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s: err = %v; want invalid_request, malformed", name, err)
		}
	}
}

// TestSignWebhookMatchesTheScheme: SignWebhook makes exactly the header of
// Stripe's documented scheme (the independent sign above), which
// ParseWebhook accepts; payments/stripe checks it against stripe-go too.
func TestSignWebhookMatchesTheScheme(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	payload := sessionEvent(payments.EventCheckoutCompleted, "paid", ourSession)
	header := payments.SignWebhook(payload, secret, now)
	if want := sign(payload, secret, now); header != want {
		t.Errorf("SignWebhook = %q, want %q", header, want)
	}
	if ev, err := payments.ParseWebhook(payload, header, secret, now); err != nil || !ev.Paid {
		t.Errorf("ParseWebhook of a SignWebhook payload = %+v, %v", ev, err)
	}
	if _, err := payments.ParseWebhook(payload, payments.SignWebhook(payload, "whsec_other", now), secret, now); core.ErrorCode(err) != core.CodeInvalidRequest {
		t.Errorf("signed with another secret: %v, want invalid_request", err)
	}
}
