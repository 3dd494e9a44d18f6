// Package payments is the port between the order service and whoever takes
// the money: a Provider opens a hosted checkout for an order, and
// ParseWebhook turns the provider's signed notification back into an Event
// the order service can act on.
//
// Adapters live in subpackages, one per dependency: payments/stripe (Stripe
// Checkout through stripe-go) and payments/testpay (a local stand-in for
// `make run` with no Stripe key, always labelled as test mode). This package
// imports neither stripe-go nor net/http, so the API depends on the port
// only; ParseWebhook implements Stripe's documented v1 signature scheme with
// the standard library, and payments/stripe's tests prove it agrees with
// stripe-go's own webhook package case by case.
//
// What this package must never do:
//   - decide a price. CheckoutRequest.Amount is computed by the server from the
//     price book (or a still-valid signed quote) and passed in; a provider only
//     converts it to the provider's unit, exactly (Cents), or refuses it.
//   - use floating point for money: decimal in, integer cents out.
//   - trust an event it has not verified: every field of an Event comes from a
//     payload whose signature and timestamp were checked first.
//   - fulfil anything: an Event says what the provider reports; the caller
//     checks AmountTotal and Currency against the order and fulfils it exactly
//     once, however often the event is delivered.
//   - log or echo an API key, a webhook secret or a signature, not even in an
//     error message.
package payments
