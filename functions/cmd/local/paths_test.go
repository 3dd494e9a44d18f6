package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLocalUncleanPathsAnswerJSON: the local server answers a path with an
// empty, "." or ".." segment as the API does — 404 not_found in the error
// shape — and never redirects it (its outer mux would answer an empty 307).
// "/v1" alone is the API's too (the mux would redirect it to "/v1/"). A
// known path with the wrong method still answers 405 with Allow.
func TestLocalUncleanPathsAnswerJSON(t *testing.T) {
	base, _ := startLocal(t, t.TempDir())
	for _, p := range []string{"//v1/ratecard", "/v1//ratecard", "/v1/contracts/demo//balance", "/v1/./ratecard",
		"/v1/contracts/../ratecard", "//healthz", "//index.html", "/q//x", "/v1"} {
		for _, method := range []string{"GET", "POST"} {
			req, err := http.NewRequest(method, base+p, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) || resp.Header.Get("Location") != "" {
				t.Errorf("%s %s = %d (Location %q) %q; want 404 not_found in the error shape, no redirect",
					method, p, resp.StatusCode, resp.Header.Get("Location"), body)
			}
		}
	}
	status, body := call(t, "DELETE", base+"/v1/ratecard", "", "", "")
	if status != 405 || !strings.Contains(string(body), `"code":"method_not_allowed"`) {
		t.Errorf("DELETE /v1/ratecard = %d %s; want 405 method_not_allowed", status, body)
	}
}
