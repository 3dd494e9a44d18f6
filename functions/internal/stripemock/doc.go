// Package stripemock gives tests a stripe-mock (Stripe's official API mock):
// the one named by STRIPE_MOCK_URL, or else one it starts for the test
// process. A test that asks for one and can't get it fails loudly; it never
// skips.
//
// Use it from a package's TestMain so stripe-mock is stopped when the tests end:
//
//	func TestMain(m *testing.M) { stripemock.Main(m) }
//
//	func TestX(t *testing.T) {
//		p, err := stripe.New(stripemock.APIKey, stripe.WithBackendURL(stripemock.URL(t)))
//		...
//	}
//
// stripe-mock is a Go program installed into <repo>/.tools/bin by
// `make tools` (GOBIN=$PWD/.tools/bin go install
// github.com/stripe/stripe-mock@v0.203.0); this package never installs
// anything. It looks there first (the repo root being the nearest folder with
// a go.mod above the working directory), then in PATH.
//
// stripe-mock is stateless: it validates each request against Stripe's
// OpenAPI spec and answers with a fixture, reflecting some scalar parameters
// (client_reference_id, URLs, mode) but not metadata, and it does not send
// webhooks. On Linux it is also killed if the test process dies (Pdeathsig).
package stripemock
