// Package stripe is the payments.Provider backed by Stripe Checkout, through
// stripe-go v84 (github.com/stripe/stripe-go/v84). It is the only package of
// the server that imports stripe-go for the API; the API sees payments.Provider
// and payments.ParseWebhook only.
//
// CreateCheckout opens a Checkout Session in payment mode with one line item
// priced inline (price_data in usd, unit_amount = the order's amount in cents,
// quantity 1, product name = the request's description), client_reference_id
// and metadata order_id = the order id, metadata contract, the success and
// cancel URLs, and the request's idempotency key as Stripe's Idempotency-Key,
// so a retried purchase never opens a second session. Stripe's own retries
// (stripe-go retries network errors and 5xx twice) reuse the same key.
//
// Webhooks are verified by payments.ParseWebhook (Stripe's v1 scheme, standard
// library only, with an injectable clock); this package's tests check it
// against stripe-go's webhook package on the same signed payloads.
//
// Tests run against stripe-mock (see functions/internal/stripemock), never
// against Stripe.
//
// What this package must never do:
//   - decide or adjust a price: the amount comes from the caller, computed by
//     the server's price book; it is converted to cents exactly or refused.
//   - log, wrap into an error, or return the API key (stripe-go's own logger is
//     silenced; errors carry Stripe's message and request id only).
//   - send the card details anywhere: the buyer pays on Stripe's page.
package stripe
