package stripemock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/functions/internal/testproc"
)

// EnvURL names the environment variable that points tests at a running
// stripe-mock instead of starting one.
const EnvURL = "STRIPE_MOCK_URL"

// APIKey is a secret key stripe-mock accepts (any sk_test_… does).
const APIKey = "sk_test_stripemock"

// Version is the stripe-mock release the Makefile installs.
const Version = "v0.203.0"

const (
	startTimeout = 30 * time.Second // from process start until it answers
	probeTimeout = 3 * time.Second  // one probe request
	binaryName   = "stripe-mock"
	installHint  = "run `make test` or `make tools` (they run `GOBIN=$PWD/.tools/bin go install github.com/stripe/stripe-mock@" + Version + "`)"
)

// shared is the stripe-mock of this test process.
var shared = &testproc.Shared{Name: "stripemock", What: "stripe-mock", Setup: setup}

// URL returns the base URL (http://127.0.0.1:port, no /v1) of a stripe-mock
// that answers, or fails tb.
//
// With STRIPE_MOCK_URL set it checks that URL answers as stripe-mock.
// Otherwise it starts one stripe-mock for the whole test process (on the
// first call), listening on loopback only. Any failure is fatal for the
// calling test, with what went wrong and how to fix it.
func URL(tb testing.TB) string {
	tb.Helper()
	return shared.Get(tb)
}

// Main runs the tests, stops the stripe-mock this process started (if any)
// and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) { testproc.Main(m, shared) }

// Stop kills the stripe-mock this process started, if any. Main calls it;
// later calls to URL keep failing rather than starting another.
func Stop() { shared.Stop() }

func setup() (string, *testproc.Process, error) {
	if u := os.Getenv(EnvURL); u != "" {
		u = strings.TrimRight(u, "/")
		if err := probe(context.Background(), u, probeTimeout); err != nil {
			return "", nil, fmt.Errorf("%s=%s does not answer as stripe-mock: %v\n"+
				"  start stripe-mock there, or unset %s to let the tests start it themselves", EnvURL, u, err, EnvURL)
		}
		return u, nil, nil
	}
	bin, err := Binary()
	if err != nil {
		return "", nil, err
	}
	p, err := launch(bin)
	if err != nil {
		return "", nil, err
	}
	return p.url, p.Process, nil
}

// probe makes one authenticated GET and checks that stripe-mock answered
// it: status 200 and its Stripe-Mock-Version header.
func probe(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/v1/balance", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/balance answered %s", resp.Status)
	}
	if resp.Header.Get("Stripe-Mock-Version") == "" {
		return errors.New("the answer has no Stripe-Mock-Version header: something else listens there")
	}
	return nil
}

// Binary finds stripe-mock: <repo root>/.tools/bin/stripe-mock, the repo
// root being the nearest folder above the working directory with a go.mod,
// or else stripe-mock in PATH.
func Binary() (string, error) {
	var tried []string
	if root, err := testproc.RepoRoot(); err != nil {
		tried = append(tried, "("+err.Error()+")")
	} else {
		bin := filepath.Join(root, ".tools", "bin", binaryName)
		if st, err := os.Stat(bin); err == nil && !st.IsDir() {
			return bin, nil
		}
		tried = append(tried, bin)
	}
	if bin, err := exec.LookPath(binaryName); err == nil {
		return bin, nil
	}
	tried = append(tried, binaryName+" in PATH")
	return "", fmt.Errorf("stripe-mock is not installed (looked for %s): %s; or set %s to a running stripe-mock",
		strings.Join(tried, ", "), installHint, EnvURL)
}

type process struct {
	*testproc.Process
	url string
	out *outputWatcher
}

func launch(bin string) (*process, error) {
	out := newOutputWatcher(16 << 10)
	// Both listeners on loopback, ports chosen by the kernel (so no race for
	// a free port); the HTTP one is read back from stripe-mock's output.
	// -https-addr is not optional: with -http-addr alone, v0.203.0 still
	// opens its default HTTPS listener on :12112 on every interface, and a
	// second test process (go test runs packages in parallel) then dies with
	// "address already in use".
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = withoutEnv(os.Environ(), "PORT") // stripe-mock reads PORT
	proc, err := testproc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting stripe-mock (%s): %v", bin, err)
	}
	p := &process{Process: proc, out: out}

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	select {
	case addr := <-p.out.addr:
		p.url = "http://" + addr
	case <-p.Done:
		return nil, fmt.Errorf("stripe-mock (%s) exited before listening (%v); its output:\n%s", bin, p.WaitErr, p.out.String())
	case <-deadline.C:
		p.Stop()
		return nil, fmt.Errorf("stripe-mock (%s) did not report its HTTP address within %s; its output:\n%s", bin, startTimeout, p.out.String())
	}
	var lastErr error
	for {
		if lastErr = probe(context.Background(), p.url, time.Second); lastErr == nil {
			return p, nil
		}
		select {
		case <-p.Done:
			return nil, fmt.Errorf("stripe-mock exited before answering (%v); its output:\n%s", p.WaitErr, p.out.String())
		case <-deadline.C:
			p.Stop()
			return nil, fmt.Errorf("stripe-mock did not answer at %s within %s (last error: %v); its output:\n%s",
				p.url, startTimeout, lastErr, p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// httpAddrLine is how stripe-mock v0.203.0 reports its HTTP listener.
var httpAddrLine = regexp.MustCompile(`(?m)^Listening for HTTP at address: (\S+)\s*$`)

// outputWatcher keeps the last max bytes of the output (its Tail, for
// error messages) and sends the HTTP address on addr the first time a line
// reports it. Safe for concurrent use.
type outputWatcher struct {
	testproc.Tail
	mu      sync.Mutex
	line    []byte // the current unfinished line
	found   bool
	addr    chan string
	lineMax int
}

func newOutputWatcher(max int) *outputWatcher {
	return &outputWatcher{Tail: testproc.Tail{Max: max}, addr: make(chan string, 1), lineMax: 4 << 10}
}

func (w *outputWatcher) Write(p []byte) (int, error) {
	_, _ = w.Tail.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		return len(p), nil
	}
	for _, c := range p {
		if c != '\n' {
			if len(w.line) < w.lineMax {
				w.line = append(w.line, c)
			}
			continue
		}
		if m := httpAddrLine.FindSubmatch(w.line); m != nil && !w.found {
			w.found = true
			w.addr <- string(m[1])
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}
