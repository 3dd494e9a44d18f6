package payments

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// Webhook constants. The scheme is Stripe's v1: the header
// "Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]" where each v1 is
// HMAC-SHA256(secret, "<t>.<payload>"). Several v1 values appear while a
// signing secret is being rolled; any one matching is enough.
const (
	// SignatureHeader is the HTTP header carrying the signature.
	SignatureHeader = "Stripe-Signature"
	// WebhookTolerance is how far a signature's timestamp may be from now
	// (either way), to refuse replays. Stripe's libraries use 5 minutes.
	WebhookTolerance = 5 * time.Minute
	// WebhookPayloadMax bounds the payload checked, so a huge body is refused
	// before any work. Stripe's checkout.session events are a few KiB.
	WebhookPayloadMax = 512 << 10
	// signatureHeaderMax bounds the header: a timestamp and a few signatures.
	signatureHeaderMax = 4 << 10
	// signaturesMax bounds the v1 signatures tried (secret rotation needs 2).
	signaturesMax = 8
)

// Event types handled. Any other type parses to an Event with Type set and
// Paid false, which the caller ignores.
const (
	EventCheckoutCompleted             = "checkout.session.completed"
	EventCheckoutAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
	EventCheckoutExpired               = "checkout.session.expired"
)

// Event is what a verified webhook delivery says about one checkout.
//
// Paid is true only for a checkout.session.completed whose payment_status is
// "paid" and for checkout.session.async_payment_succeeded. The caller must
// still check AmountTotal and Currency against its order before fulfilling,
// and fulfil once per order however often the event is delivered (Stripe
// delivers at least once, and a completed event may be followed by an
// async_payment_succeeded one for the same session).
//
// OrderID is empty for a handled event about a session that carries neither
// client_reference_id nor metadata order_id, i.e. one this system did not
// open (another integration on the same Stripe account): such an Event is
// never Paid, and the caller ignores it like an unhandled type.
type Event struct {
	ID        string // evt_…, the delivery's event id (the same on redelivery)
	Type      string
	OrderID   string
	Contract  string
	SessionID string // cs_…
	// AmountTotal is the session's amount_total in USD (cents / 100).
	AmountTotal decimal.Decimal
	Currency    string // lower case, "usd"
	Paid        bool
}

// ParseWebhook verifies a webhook delivery signed with Stripe's scheme (by
// Stripe, or by payments/testpay with a local secret) and parses it.
//
// A missing or malformed signature header, a signature that doesn't match
// (wrong secret or altered payload), a timestamp more than WebhookTolerance
// from now, an oversized payload and a malformed event are all
// invalid_request errors with a message saying which; none quotes the header
// or the secret. An empty secret is an internal error: with no secret anyone
// could sign.
func ParseWebhook(payload []byte, sigHeader string, secret string, now time.Time) (Event, error) {
	if secret == "" {
		return Event{}, core.Errorf(core.CodeInternal, "webhook signing secret is not configured")
	}
	if len(payload) > WebhookPayloadMax {
		return Event{}, core.Errorf(core.CodeInvalidRequest, "webhook payload is %d bytes; at most %d are accepted", len(payload), WebhookPayloadMax)
	}
	ts, sigs, err := parseSignatureHeader(sigHeader)
	if err != nil {
		return Event{}, err
	}
	want := signature(ts, payload, secret)
	match := false
	for _, s := range sigs {
		if hmac.Equal(want, s) {
			match = true
		}
	}
	if !match {
		return Event{}, core.Errorf(core.CodeInvalidRequest, "webhook signature does not match the payload (wrong signing secret, or the payload was altered)")
	}
	t := time.Unix(ts, 0)
	switch age := now.Sub(t); {
	case age > WebhookTolerance:
		return Event{}, core.Errorf(core.CodeInvalidRequest, "webhook timestamp is %s old, more than the %s tolerance (a replay, or a clock far off)", age.Round(time.Second), WebhookTolerance)
	case -age > WebhookTolerance:
		return Event{}, core.Errorf(core.CodeInvalidRequest, "webhook timestamp is %s in the future, more than the %s tolerance (a clock far off)", (-age).Round(time.Second), WebhookTolerance)
	}
	return parseEvent(payload)
}

// SignWebhook returns the Stripe-Signature header value Stripe would send
// with payload at time at: "t=<unix seconds>,v1=<hex HMAC-SHA256>". It is for
// tests and for a local sender of Stripe-format events; ParseWebhook accepts
// what it makes (with the same secret, within WebhookTolerance of at).
func SignWebhook(payload []byte, secret string, at time.Time) string {
	t := at.Unix()
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(signature(t, payload, secret))
}

// signature is Stripe's v1 signature: HMAC-SHA256 of "<t>.<payload>".
func signature(t int64, payload []byte, secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return mac.Sum(nil)
}

func parseSignatureHeader(h string) (ts int64, sigs [][]byte, err error) {
	if h == "" {
		return 0, nil, core.Errorf(core.CodeInvalidRequest, "webhook has no %s header", SignatureHeader)
	}
	if len(h) > signatureHeaderMax {
		return 0, nil, core.Errorf(core.CodeInvalidRequest, "webhook %s header is longer than %d bytes", SignatureHeader, signatureHeaderMax)
	}
	malformed := core.Errorf(core.CodeInvalidRequest, "webhook %s header is malformed: want t=<unix seconds>,v1=<hex signature>", SignatureHeader)
	seenT := false
	for pair := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return 0, nil, malformed
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seenT {
				return 0, nil, malformed
			}
			ts, seenT = n, true
		case "v1":
			s, err := hex.DecodeString(v)
			if err != nil || len(s) != sha256.Size {
				continue // like Stripe's libraries: an unreadable signature is no signature
			}
			if len(sigs) == signaturesMax {
				return 0, nil, core.Errorf(core.CodeInvalidRequest, "webhook %s header has more than %d v1 signatures", SignatureHeader, signaturesMax)
			}
			sigs = append(sigs, s)
		}
		// Other schemes (v0, future ones) are ignored, as Stripe documents.
	}
	if !seenT {
		return 0, nil, core.Errorf(core.CodeInvalidRequest, "webhook %s header has no timestamp (t=)", SignatureHeader)
	}
	if len(sigs) == 0 {
		return 0, nil, core.Errorf(core.CodeInvalidRequest, "webhook %s header has no v1 signature", SignatureHeader)
	}
	return ts, sigs, nil
}

// The parts of a Stripe event and of a checkout.session that we read.
type wireEvent struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Type   string `json:"type"`
	Data   struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

type wireSession struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	PaymentStatus     string            `json:"payment_status"`
	AmountTotal       *int64            `json:"amount_total"`
	Currency          string            `json:"currency"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
}

func malformedEvent(format string, args ...any) error {
	e := core.Errorf(core.CodeInvalidRequest, format, args...)
	e.Message = "webhook event is malformed: " + e.Message
	return e
}

// parseEvent reads a verified payload.
func parseEvent(payload []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		return Event{}, malformedEvent("not a JSON event: %v", err)
	}
	switch {
	case w.Object != "event":
		return Event{}, malformedEvent("object is %q, want \"event\"", w.Object)
	case w.ID == "":
		return Event{}, malformedEvent("no id")
	case w.Type == "":
		return Event{}, malformedEvent("no type")
	}
	ev := Event{ID: w.ID, Type: w.Type}
	switch w.Type {
	case EventCheckoutCompleted, EventCheckoutAsyncPaymentSucceeded, EventCheckoutExpired:
	default:
		return ev, nil // not ours to handle: Paid stays false
	}

	var s wireSession
	if len(bytes.TrimSpace(w.Data.Object)) == 0 {
		return Event{}, malformedEvent("%s has no data.object", w.Type)
	}
	if err := json.Unmarshal(w.Data.Object, &s); err != nil {
		return Event{}, malformedEvent("data.object of %s: %v", w.Type, err)
	}
	if s.Object != "checkout.session" || s.ID == "" {
		return Event{}, malformedEvent("data.object of %s is not a checkout.session with an id", w.Type)
	}
	ev.SessionID = s.ID
	ev.Currency = strings.ToLower(s.Currency)
	ev.Contract = s.Metadata["contract"]
	ref, meta := s.ClientReferenceID, s.Metadata["order_id"]
	if ref != "" && meta != "" && ref != meta {
		return Event{}, malformedEvent("session %s has client_reference_id %q but metadata order_id %q", s.ID, ref, meta)
	}
	ev.OrderID = ref
	if ev.OrderID == "" {
		ev.OrderID = meta
	}
	if s.AmountTotal != nil {
		ev.AmountTotal = decimal.New(*s.AmountTotal, -core.MoneyScale)
	}

	paid := w.Type == EventCheckoutAsyncPaymentSucceeded ||
		(w.Type == EventCheckoutCompleted && s.PaymentStatus == "paid")
	if paid && ev.OrderID != "" {
		if s.AmountTotal == nil || *s.AmountTotal < 0 {
			return Event{}, malformedEvent("paid session %s has no amount_total", s.ID)
		}
		if ev.Currency == "" {
			return Event{}, malformedEvent("paid session %s has no currency", s.ID)
		}
		ev.Paid = true
	}
	return ev, nil
}
