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
// The handler (handler.go) answers a method and a URL with a Page (status,
// content type, body; the security headers are fixed), with no build tags
// and no net/http, so plain Go tests exercise it and the Worker's build
// does not link net/http. Natively (http.go, main_other.go) it is an
// http.Handler that workers.Serve serves with net/http on $PORT (9900 by
// default).
//
// In the Worker, worker.mjs (JavaScript) starts the Go program (main_js.go)
// once per isolate and calls its handle(method, url) for every request; the
// program is never started per request, because starting Go (instantiating
// the module, the runtime, the packages' initialisation) costs about 25 ms
// of CPU, more than the free plan's 10 ms per request, and a page about
// 1 ms. workerd_test.go runs the built Worker under workerd (wrangler dev
// --local), checks the bundle's size budget, and measures each request's
// CPU time in workerd (make bench-worker).
package main
