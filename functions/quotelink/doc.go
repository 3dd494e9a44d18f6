// Command quotelink is the quote-link Worker: a Cloudflare Worker written in
// Go (syumai/workers, built with the standard toolchain in -mode=go) that
// serves GET /q/{token}. It verifies a reseller's signed quote link with the
// quote-signing PUBLIC keys only, and renders a printable quote page whose
// Accept button leads into the site's checkout (SITE_URL/checkout.html?quote=
// token). Acceptance itself goes to the API, which verifies the token again
// and accepts it once: this Worker decides nothing and writes nothing.
//
// It must never hold the signing (private) key, never call the API or any
// other service, and never run script in the page it serves. The page is
// private (the token in the URL lets anyone holding it see the quote), so
// every response carries no-store, no-referrer and a CSP without scripts.
//
// Configuration, from the Worker's vars (wrangler.toml [vars]; the process
// environment when run natively):
//
//	QUOTE_PUBLIC_KEYS  JSON {"<kid>": "<base64url Ed25519 public key>", …},
//	                   or the API's GET /v1/quotes/keys answer as it is
//	                   ({"keys": [{"kid": …, "public_key": …}]}).
//	SITE_URL           the site's base URL, e.g. https://credits.example.com
//
// A missing or malformed setting makes every request answer 500 with a page
// that says the service is misconfigured (and logs why): never a page that
// calls a good link invalid.
//
// The handler (handler.go) is a plain http.Handler with no build tags, so
// plain Go tests exercise it; main hands it to workers.Serve, which on
// js/wasm serves the Worker's fetch events and elsewhere falls back to
// net/http on $PORT (9900 by default). workerd_test.go runs the built Worker
// under workerd (wrangler dev --local).
package main
