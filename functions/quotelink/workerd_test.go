package main

// The Worker under workerd: the real build (infra/wrangler.toml's [build],
// run by `wrangler deploy --dry-run`, which also gives the bundle's size),
// then `wrangler dev --local` on a free loopback port with the test public
// key in its vars, and real requests over loopback. Like ddblocal, it never
// skips: without wrangler it fails and says how to install it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core/quote"
	"cloudcredits/functions/internal/testproc"
)

// Limits of the workerd harness.
const (
	buildTimeout   = 5 * time.Minute  // wrangler's [build] (go run, go build) and bundling
	startTimeout   = 60 * time.Second // from wrangler dev's start until the Worker answers
	requestTimeout = 10 * time.Second
	bundleGzipMax  = 3 << 20 // Cloudflare's free plan: 3 MiB after gzip
	installHint    = "run `make tools` (npm ci --prefix functions/quotelink/tools)"
	workerdSiteURL = "https://credits.example.test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopWorker()
	os.Exit(code)
}

// workerd is the one Worker this test process builds and starts.
var workerd struct {
	once      sync.Once
	err       error
	url       string        // http://127.0.0.1:<port>
	gzipBytes int64         // the bundle's gzip size, as wrangler reports it
	startedIn time.Duration // wrangler dev's start until the first answer
	proc      *devProcess
	tmp       string // wrangler's configs, state and logs
}

// worker builds the Worker and starts it under workerd once per test process,
// or fails tb.
func worker(tb testing.TB) string {
	tb.Helper()
	workerd.once.Do(func() { workerd.err = startWorker() })
	if workerd.err != nil {
		tb.Fatalf("quotelink under workerd: %v", workerd.err)
	}
	return workerd.url
}

// stopWorker stops wrangler dev (and its workerd) if this process started
// it, and removes its temp folder.
func stopWorker() {
	if workerd.proc != nil {
		workerd.proc.stop()
	}
	if workerd.tmp != "" {
		_ = os.RemoveAll(workerd.tmp)
	}
}

func startWorker() error {
	pkgDir, err := os.Getwd() // go test runs in the package's folder
	if err != nil {
		return err
	}
	wrangler := filepath.Join(pkgDir, "tools", "node_modules", ".bin", "wrangler")
	if _, err := os.Stat(wrangler); err != nil {
		return fmt.Errorf("wrangler is not installed (no %s): %s", wrangler, installHint)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("node not found in PATH: wrangler needs Node.js 20 (Debian: apt-get install -y nodejs)")
	}
	tmp, err := os.MkdirTemp("", "quotelink-workerd-")
	if err != nil {
		return err
	}
	workerd.tmp = tmp

	// 1. The deploy config as it is, with its paths made absolute so that
	// wrangler's state (.wrangler/) goes to the temp folder, not infra/.
	conf, err := os.ReadFile(filepath.Join(pkgDir, "..", "..", "infra", "wrangler.toml"))
	if err != nil {
		return err
	}
	const rel = `"../functions/quotelink`
	if n := bytes.Count(conf, []byte(rel)); n != 3 {
		return fmt.Errorf("infra/wrangler.toml names %s %d times (main, [build] cwd and watch_dir expected): update this test", rel, n)
	}
	conf = bytes.ReplaceAll(conf, []byte(rel), []byte(`"`+filepath.ToSlash(pkgDir)))
	deployConf := filepath.Join(tmp, "wrangler.toml")
	if err := os.WriteFile(deployConf, conf, 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	dry := exec.CommandContext(ctx, wrangler, "deploy", "--dry-run", "--outdir", filepath.Join(tmp, "dist"), "--config", deployConf)
	dry.Dir, dry.Env = tmp, wranglerEnv(tmp)
	out, err := dry.CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrangler deploy --dry-run (the Worker's build): %v\n%s", err, out)
	}
	if workerd.gzipBytes, err = gzipSize(out); err != nil {
		return err
	}

	// 2. wrangler dev on what that built, with the test key and site in vars.
	_, pub, _ := testKey(1)
	devConf, _ := json.Marshal(map[string]any{
		"name": "cloudcredits-quotelink-test", "main": filepath.Join(pkgDir, "build", "worker.mjs"),
		"compatibility_date": "2025-01-01", "send_metrics": false,
		"vars": map[string]string{envPublicKeys: publicKeysVar(pub), envSiteURL: workerdSiteURL},
	})
	if err := os.WriteFile(filepath.Join(tmp, "wrangler.json"), devConf, 0o644); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		p, err := startDev(wrangler, tmp)
		if err != nil && attempt < 3 && p != nil && p.portTaken() {
			continue // the port was free when we looked; try another
		}
		if err != nil {
			return err
		}
		workerd.proc, workerd.url, workerd.startedIn = p, p.url, p.startedIn
		return nil
	}
}

func wranglerEnv(tmp string) []string {
	return append(os.Environ(),
		"WRANGLER_SEND_METRICS=false", "CI=true", "NO_COLOR=1", "FORCE_COLOR=0",
		"WRANGLER_LOG_PATH="+filepath.Join(tmp, "logs"),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config")) // wrangler's own settings, not the user's
}

var gzipRE = regexp.MustCompile(`Total Upload: ([0-9.]+) KiB / gzip: ([0-9.]+) KiB`)

// gzipSize reads the bundle's gzip size from wrangler's report.
func gzipSize(out []byte) (int64, error) {
	m := gzipRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrangler deploy --dry-run printed no \"Total Upload: … / gzip: … KiB\":\n%s", out)
	}
	kib, err := strconv.ParseFloat(string(m[2]), 64)
	if err != nil {
		return 0, err
	}
	return int64(kib * 1024), nil
}

type devProcess struct {
	*testproc.Process
	url       string
	out       *testproc.Tail
	startedIn time.Duration
}

func (p *devProcess) portTaken() bool {
	return p.out.Contains("EADDRINUSE", "Address already in use")
}

func startDev(wrangler, tmp string) (*devProcess, error) {
	port, err := testproc.FreePort()
	if err != nil {
		return nil, err
	}
	inspector, err := testproc.FreePort()
	if err != nil {
		return nil, err
	}
	p := &devProcess{url: "http://127.0.0.1:" + strconv.Itoa(port), out: &testproc.Tail{Max: 32 << 10}}
	cmd := exec.Command(wrangler, "dev", "--local", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--inspector-port", strconv.Itoa(inspector), "--config", filepath.Join(tmp, "wrangler.json"))
	cmd.Dir, cmd.Env = tmp, wranglerEnv(tmp)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	inGroup(cmd)
	t0 := time.Now()
	if p.Process, err = testproc.Start(cmd); err != nil {
		return nil, fmt.Errorf("starting wrangler dev: %v", err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		// The Worker itself must answer: its 404 page, not wrangler's.
		if res, err := fetch(p.url + "/"); err == nil && res.status == http.StatusNotFound && strings.Contains(res.body, "Page not found") {
			p.startedIn = time.Since(t0)
			return p, nil
		}
		select {
		case <-p.Done:
			return p, fmt.Errorf("wrangler dev exited before the Worker answered (%v); its output:\n%s", p.WaitErr, p.out)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return p, fmt.Errorf("the Worker did not answer at %s within %s; wrangler's output:\n%s", p.url, startTimeout, p.out)
		}
	}
}

var client = &http.Client{Timeout: requestTimeout}

func fetch(url string) (response, error) {
	res, err := client.Get(url)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(body)}, err
}

// liveTokens signs a quote valid now and one that expired ten days ago.
func liveTokens(tb testing.TB) (valid, expired string, q quote.Quote) {
	priv, _, kid := testKey(1)
	now := time.Now().UTC().Truncate(time.Second)
	q = sampleQuote()
	q.IssuedAt, q.ExpiresAt = now.Add(-time.Hour), now.Add(30*24*time.Hour)
	valid = sign(tb, q, priv, kid)
	old := q
	old.IssuedAt, old.ExpiresAt = now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour)
	return valid, sign(tb, old, priv, kid), q
}

func TestWorkerBundleSize(t *testing.T) {
	worker(t)
	t.Logf("bundle: %.2f MiB gzip (limit %d MiB)", float64(workerd.gzipBytes)/(1<<20), bundleGzipMax>>20)
	if workerd.gzipBytes > bundleGzipMax {
		t.Errorf("the Worker is %d bytes gzip; the free plan allows %d", workerd.gzipBytes, bundleGzipMax)
	}
}

func TestUnderWorkerd(t *testing.T) {
	base := worker(t)
	t.Logf("wrangler dev answered after %s", workerd.startedIn.Round(time.Millisecond))
	valid, expired, q := liveTokens(t)
	for _, tc := range []struct {
		name   string
		path   string
		status int
		want   []string
	}{
		{"valid", "/q/" + valid, http.StatusOK, []string{
			`<p class="total" id="total">$5,750.00</p>`,
			`You save $500.00 (8%) against the list price of $6,250.00`,
			`<dd id="valid-until">` + formatTime(q.ExpiresAt) + `</dd>`,
			`href="` + workerdSiteURL + `/checkout.html?quote=` + valid + `"`,
		}},
		{"tampered", "/q/" + tamper(valid, false), http.StatusBadRequest, []string{"<h1>This quote link is not valid</h1>"}},
		{"expired", "/q/" + expired, http.StatusGone, []string{"<h1>This quote expired on " + formatTime(q.ExpiresAt.Add(-40*24*time.Hour)) + "</h1>"}},
		{"unknown path", "/nope", http.StatusNotFound, []string{"Page not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := fetch(base + tc.path)
			if err != nil {
				t.Fatalf("GET %s: %v", tc.name, err)
			}
			if res.status != tc.status {
				t.Errorf("status %d, want %d", res.status, tc.status)
			}
			for _, want := range tc.want {
				if !strings.Contains(res.body, want) {
					t.Errorf("body lacks %s; body:\n%s", want, res.body)
				}
			}
			checkSecurityHeaders(t, res.header, res.body)
		})
	}
}

// BenchmarkWorkerdQuotePage: one valid quote page per op, sequentially, over
// loopback from wrangler dev (workerd starts a Go instance per request).
// Run it with -benchtime=200x for 200 requests; reports the median and p99
// and the bundle's gzip size.
func BenchmarkWorkerdQuotePage(b *testing.B) {
	base := worker(b)
	valid, _, _ := liveTokens(b)
	benchRequests(b, base+"/q/"+valid, http.StatusOK)
}

// BenchmarkWorkerdNotFound is the baseline: the 404 page, no verification,
// so the difference to QuotePage is the quote's own cost.
func BenchmarkWorkerdNotFound(b *testing.B) {
	benchRequests(b, worker(b)+"/nope", http.StatusNotFound)
}

func benchRequests(b *testing.B, url string, status int) {
	if res, err := fetch(url); err != nil || res.status != status {
		b.Fatalf("warm-up: %v %d, want %d", err, res.status, status)
	}
	var took []time.Duration
	for b.Loop() {
		t := time.Now()
		res, err := fetch(url)
		took = append(took, time.Since(t))
		if err != nil || res.status != status {
			b.Fatalf("GET: %v %d, want %d", err, res.status, status)
		}
	}
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
	b.ReportMetric(ms(took[(len(took)*99-1)/100]), "p99-ms")
	b.ReportMetric(float64(workerd.gzipBytes)/1024, "bundle-gzip-KiB")
}
