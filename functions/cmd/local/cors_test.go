package main

import (
	"net/http"
	"testing"
)

// TestLocalCORSOrigins: the local server answers the authenticated routes
// to the origins CORS_ORIGINS lists (comma-separated), as the deployed
// functions do, and to no other; the public routes answer any origin.
func TestLocalCORSOrigins(t *testing.T) {
	env := map[string]string{"CORS_ORIGINS": " http://shop.example:8081, https://admin.example "}
	base, _ := serveLocal(t, config{data: t.TempDir(), storeKind: "sqlite", getenv: func(k string) string { return env[k] }})
	for _, tc := range []struct{ origin, path, want string }{
		{"http://shop.example:8081", "/v1/me/balance", "http://shop.example:8081"},
		{"https://admin.example", "/v1/contracts/demo/balance", "https://admin.example"},
		{"http://elsewhere.example", "/v1/me/balance", ""},
		{"http://elsewhere.example", "/v1/ratecard", "*"},
	} {
		req, err := http.NewRequest("OPTIONS", base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != 204 || got != tc.want {
			t.Errorf("preflight of %s from %s = %d, Access-Control-Allow-Origin %q; want 204, %q", tc.path, tc.origin, resp.StatusCode, got, tc.want)
		}
	}
}
