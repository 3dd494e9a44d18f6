//go:build !js

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
	installHint    = "run `make tools` (npm ci --prefix functions/quotelink/tools)"
	workerdSiteURL = "https://credits.example.test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	printBenchTable()
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
	t.Logf("bundle: %.2f MiB gzip (budget %.1f MiB; the free plan allows 3 MiB)", float64(workerd.gzipBytes)/(1<<20), float64(bundleGzipBudget)/(1<<20))
	if workerd.gzipBytes > bundleGzipBudget {
		t.Errorf("the Worker is %d bytes gzip; its budget is %d (what does it link that it does not use?)", workerd.gzipBytes, bundleGzipBudget)
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

// TestWorkerdStartsGoOnce: one Go program serves many requests. Starting
// one per request (as the Worker once did) cost about 25 ms of CPU each,
// over the free plan's 10 ms; the program logs startedLog once when it
// starts, and wrangler dev shows the Worker's logs.
func TestWorkerdStartsGoOnce(t *testing.T) {
	base := worker(t)
	valid, _, _ := liveTokens(t)
	for i := 0; i < 10; i++ {
		for _, path := range []string{"/q/" + valid, "/nope"} {
			if _, err := fetch(base + path); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second) // the log may trail the answer
	for {
		n := strings.Count(workerd.proc.out.String(), startedLog)
		if n == 1 {
			return
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("the Go program started %d times for 21 requests, want once; wrangler's output:\n%s", n, workerd.proc.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The Worker's budgets. The bundle's is a test (sizes are deterministic);
// the CPU figure is a goal the benchmark prints beside its measurement.
const (
	bundleGzipBudget = 1536 << 10 // 1.5 MiB gzip: half the free plan's limit
	cpuMsGoal        = 10         // the free plan's CPU time per request
)

// BenchmarkWorkerdQuotePage: one valid quote page per op, sequentially, over
// loopback from wrangler dev. Run it with -benchtime=200x for 200 requests.
// Each request's CPU time is workerd's, read from /proc before and after it
// (workerdCPU); it reports the wall and CPU medians and p99s, and
// TestMain prints them as a table beside their goals.
func BenchmarkWorkerdQuotePage(b *testing.B) {
	base := worker(b)
	valid, _, _ := liveTokens(b)
	benchRequests(b, "quote page", base+"/q/"+valid, http.StatusOK)
}

// BenchmarkWorkerdNotFound is the baseline: the 404 page, no verification,
// so the difference to QuotePage is the quote's own cost.
func BenchmarkWorkerdNotFound(b *testing.B) {
	benchRequests(b, "404 page", worker(b)+"/nope", http.StatusNotFound)
}

// benchResult is one benchmark's figures, kept for the table.
type benchResult struct {
	name                    string
	n                       int
	wallP50, wallP99        time.Duration
	cpuP50, cpuP99, cpuMean time.Duration
	proxyMean               time.Duration // wrangler dev's proxy, not the Worker
}

var benchResults = map[string]benchResult{}

func benchRequests(b *testing.B, name, url string, status int) {
	if res, err := fetch(url); err != nil || res.status != status {
		b.Fatalf("warm-up: %v %d, want %d", err, res.status, status)
	}
	var took, cpu []time.Duration
	var cpuTotal, proxyTotal time.Duration
	for b.Loop() {
		c0, p0, err := workerd.proc.workerdCPU()
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		res, err := fetch(url)
		took = append(took, time.Since(t))
		if err != nil || res.status != status {
			b.Fatalf("GET: %v %d, want %d", err, res.status, status)
		}
		c1, p1, err := workerd.proc.workerdCPU()
		if err != nil {
			b.Fatal(err)
		}
		cpu = append(cpu, c1-c0)
		cpuTotal += c1 - c0
		proxyTotal += p1 - p0
	}
	n := time.Duration(len(cpu))
	r := benchResult{name: name, n: len(took), cpuMean: cpuTotal / n, proxyMean: proxyTotal / n}
	r.wallP50, r.wallP99 = percentiles(took)
	r.cpuP50, r.cpuP99 = percentiles(cpu)
	benchResults[name] = r
	b.ReportMetric(ms(r.wallP50), "p50-ms")
	b.ReportMetric(ms(r.wallP99), "p99-ms")
	b.ReportMetric(ms(r.cpuP50), "cpu-p50-ms")
	b.ReportMetric(ms(r.cpuP99), "cpu-p99-ms")
	b.ReportMetric(float64(workerd.gzipBytes)/1024, "bundle-gzip-KiB")
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[(len(d)*99-1)/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printBenchTable prints what the benchmarks measured, each figure beside
// its goal, and how the CPU time was measured.
func printBenchTable() {
	if len(benchResults) == 0 {
		return
	}
	row := func(figure, now, goal string) { fmt.Printf("| %-53s | %-34s | %-13s |\n", figure, now, goal) }
	fmt.Println()
	row("figure", "now", "goal")
	fmt.Printf("|%s|%s|%s|\n", strings.Repeat("-", 55), strings.Repeat("-", 36), strings.Repeat("-", 15))
	for _, name := range []string{"quote page", "404 page"} {
		r, ok := benchResults[name]
		if !ok {
			continue
		}
		goal := fmt.Sprintf("p99 ≤ %d ms", cpuMsGoal)
		row(fmt.Sprintf("%s under workerd, CPU per request (%d)", name, r.n),
			fmt.Sprintf("p50 %.2f, p99 %.2f, mean %.2f ms", ms(r.cpuP50), ms(r.cpuP99), ms(r.cpuMean)), goal)
		row(fmt.Sprintf("%s, wrangler dev's proxy CPU (not the Worker)", name), fmt.Sprintf("mean %.2f ms", ms(r.proxyMean)), "—")
		row(fmt.Sprintf("%s under workerd, wall per request", name),
			fmt.Sprintf("p50 %.2f, p99 %.2f ms", ms(r.wallP50), ms(r.wallP99)), "—")
	}
	row("Worker bundle, gzip (wrangler deploy --dry-run)", fmt.Sprintf("%.2f MiB", float64(workerd.gzipBytes)/(1<<20)),
		fmt.Sprintf("≤ %.1f MiB", float64(bundleGzipBudget)/(1<<20)))
	fmt.Println()
	fmt.Println("CPU time: of the workerd process that runs the Worker (wrangler dev runs its proxy in another,")
	fmt.Println("shown apart), on-CPU nanoseconds summed over its threads (/proc/<pid>/task/<tid>/schedstat),")
	fmt.Println("read before and after each sequential request. It still includes workerd's own HTTP work and")
	fmt.Println("miniflare's entry worker (about 1 ms for a JavaScript Worker that only answers 404), so it is")
	fmt.Println("an upper bound of the Worker's CPU time. The machine is shared: compare medians.")
}
