package stripemock

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"cloudcredits/functions/internal/testproc"
)

func TestMain(m *testing.M) { Main(m) }

// The stripe-mock it gives answers Stripe API calls on loopback, and validates
// them against Stripe's spec (a bad parameter is a 400, not a fixture).
func TestURLServesStripeAPI(t *testing.T) {
	u := URL(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("URL() = %q: %v", u, err)
	}
	if os.Getenv(EnvURL) == "" && parsed.Hostname() != "127.0.0.1" {
		t.Errorf("started stripe-mock listens on %s, want loopback 127.0.0.1", parsed.Host)
	}
	if again := URL(t); again != u {
		t.Errorf("second URL() = %s, want the same process %s", again, u)
	}

	post := func(form url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, u+"/v1/checkout/sessions", strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer "+APIKey)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/checkout/sessions: %v", err)
		}
		defer resp.Body.Close()
		var body map[string]any
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, raw)
		}
		return resp.StatusCode, body
	}
	ok := url.Values{
		"mode": {"payment"}, "success_url": {"https://example.test/ok"}, "client_reference_id": {"ord_1"},
		"line_items[0][price_data][currency]": {"usd"}, "line_items[0][price_data][unit_amount]": {"100"},
		"line_items[0][price_data][product_data][name]": {"x"}, "line_items[0][quantity]": {"1"},
	}
	status, body := post(ok)
	if status != http.StatusOK || body["object"] != "checkout.session" || body["client_reference_id"] != "ord_1" {
		t.Errorf("valid create = %d %v; want 200 with a checkout.session reflecting client_reference_id", status, body)
	}
	bad := url.Values{"mode": {"no-such-mode"}}
	if status, body := post(bad); status != http.StatusBadRequest {
		t.Errorf("invalid create = %d %v; want 400", status, body)
	}
}

func TestProbeRefusesOtherServers(t *testing.T) {
	t.Parallel()
	notMock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	defer notMock.Close()
	if err := probe(context.Background(), notMock.URL, probeTimeout); err == nil || !strings.Contains(err.Error(), "Stripe-Mock-Version") {
		t.Errorf("probe of a server that is not stripe-mock = %v; want an error naming the missing header", err)
	}
	testproc.CheckProbeUnreachable(t, probe, probeTimeout)
}

func TestOutputWatcherFindsAddressAcrossWrites(t *testing.T) {
	t.Parallel()
	w := newOutputWatcher(64)
	for _, chunk := range []string{"stripe-mock master\nRouting to 419 path(s)\nListening for HT", "TP at address: 127.0.0.1:41", "234\nListening for HTTPS at address: 127.0.0.1:5\n"} {
		w.Write([]byte(chunk))
	}
	select {
	case got := <-w.addr:
		if got != "127.0.0.1:41234" {
			t.Errorf("address = %q, want 127.0.0.1:41234", got)
		}
	default:
		t.Fatal("no address found")
	}
	if s := w.String(); !strings.HasPrefix(s, "…") || len(s) > 64+len("…") {
		t.Errorf("tail = %q; want the last 64 bytes marked as cut", s)
	}
}

func TestBinaryFound(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		return // the tests use that one; nothing needs the binary
	}
	bin, err := Binary()
	if err != nil {
		t.Fatalf("Binary: %v", err)
	}
	if !strings.HasSuffix(bin, "stripe-mock") {
		t.Errorf("Binary() = %s", bin)
	}
}
