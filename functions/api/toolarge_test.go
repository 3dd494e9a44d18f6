package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTooLargeOverTCP sends 10 MB bodies with Expect: 100-continue to a real
// TCP server, with a Content-Length and chunked, from clients that wait for
// the server's go-ahead (as long as it takes, or a moment) and from one that
// sends the body at once anyway, as many clients do: each answers 413
// too_large in the error shape, never a connection reset. Each kind is
// repeated, since a reset depends on how the client's writes and the
// server's close race.
func TestTooLargeOverTCP(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	big := bytes.Repeat([]byte("x"), 10<<20)
	const tries = 12
	for _, wait := range []time.Duration{5 * time.Second, time.Millisecond, 0} {
		for _, chunked := range []bool{false, true} {
			for i := range tries {
				// A fresh connection each time: the server closes it after a 413.
				// ExpectContinueTimeout 0 sends the body without waiting.
				client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ExpectContinueTimeout: wait}}
				var body io.Reader = bytes.NewReader(big)
				if chunked {
					body = io.MultiReader(bytes.NewReader(big)) // no length: sent chunked
				}
				req, err := http.NewRequest("POST", srv.URL+"/v1/contracts/c1/consumptions", body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Expect", "100-continue")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+e.tokens["service"])
				req.Header.Set("Idempotency-Key", "big")
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("wait %v, chunked %v, try %d: %v; want a 413 answer", wait, chunked, i, err)
					continue
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 413 || !strings.Contains(string(got), `"code":"too_large"`) {
					t.Errorf("wait %v, chunked %v, try %d: %d %s; want 413 too_large", wait, chunked, i, resp.StatusCode, got)
				}
				client.CloseIdleConnections()
			}
		}
	}
}
