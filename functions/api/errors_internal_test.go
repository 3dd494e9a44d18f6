package api

import "testing"

func TestLogPathHidesQuoteTokens(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/quotes/eyJhbGc.sig":        "/v1/quotes/{token}",
		"/v1/quotes/eyJhbGc.sig/accept": "/v1/quotes/{token}/accept",
		"/v1/quotes/keys":               "/v1/quotes/keys",
		"/v1/quotes":                    "/v1/quotes",
		"/v1/contracts/c1/balance":      "/v1/contracts/c1/balance",
	} {
		if got := logPath(in); got != want {
			t.Errorf("logPath(%q) = %q, want %q", in, got, want)
		}
	}
}
