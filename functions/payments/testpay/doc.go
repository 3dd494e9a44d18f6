// Package testpay is a local stand-in for Stripe Checkout, so that `make run`
// can complete a purchase with no Stripe key. It is a payments.Provider whose
// checkout URL is its own page, /test-checkout/{session}, served by Handler on
// the local server. The page is labelled TEST MODE in a banner ("Test mode —
// no real payment is taken"), shows the order, and offers "Pay (test)" and
// "Cancel".
//
// Pay builds the checkout.session.completed event Stripe would send, in
// Stripe's JSON shape, signs it the way Stripe signs webhooks (with stripe-go's
// test-signing helper and the local webhook secret), POSTs it to the
// configured webhook URL (the API's /v1/webhooks/stripe), and then sends the
// browser to the success URL. The API can't tell the two providers apart
// except by the secret, so the whole path after payment — verification,
// idempotent fulfilment — runs locally exactly as it does with Stripe.
//
// Cancel differs from Stripe on purpose: Stripe leaves an abandoned session
// open until it expires (24 h later) and only then sends
// checkout.session.expired; testpay ends the session and sends that event at
// once, so the order's cancel path can be tried locally. A session nobody
// pays or cancels is forgotten after SessionTTL without any event.
//
// What this package must never do:
//   - run where real customers buy: it takes no money and always says so
//     (TestMode is true, the page says TEST MODE); a deployment with a
//     Stripe key uses payments/stripe.
//   - decide a price: it shows and signs exactly the caller's amount.
//   - render anything unescaped: the order, description and URLs come from
//     the caller and are escaped by html/template.
//   - act on a form post without the session's random token (CSRF), or
//     log the webhook secret or a signature.
//   - grow without bound: at most SessionsMax open sessions are kept.
package testpay
