package testproc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Main runs the tests, stops the components they started, and exits with the
// tests' code. A harness's own Main (ddblocal.Main, stripemock.Main) calls it
// from a package's TestMain.
func Main(m *testing.M, components ...*Shared) {
	code := m.Run()
	for _, c := range components {
		c.Stop()
	}
	os.Exit(code)
}

// RepoRoot returns the repository's root, where the tools are installed:
// the nearest folder above the working directory (go test runs in the
// package's folder) with a go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod in %s or above it", wd)
		}
		dir = parent
	}
}

// FreePort returns a loopback TCP port that was free when it looked; a
// child may still lose it to another process before binding it, so a
// harness retries a launch whose output says the port was taken.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail keeps the last Max bytes written to it, for the error messages that
// quote a child's output; safe for concurrent use.
type Tail struct {
	Max int

	mu  sync.Mutex
	buf bytes.Buffer
	cut bool
}

func (b *Tail) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.Max; over > 0 {
		b.buf.Next(over)
		b.cut = true
	}
	return len(p), nil
}

// String returns the output kept, "…" first when older output was dropped,
// or "(none)".
func (b *Tail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		s = "(none)"
	}
	if b.cut {
		s = "…" + s
	}
	return s
}

// Contains reports whether the output kept holds any of subs (a harness
// reads a lost port or a failed bind from it).
func (b *Tail) Contains(subs ...string) bool {
	s := b.String()
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// CheckProbeUnreachable checks a harness's probe: an address where nothing
// listens is an error, reported within the probe's timeout and a second.
func CheckProbeUnreachable(tb testing.TB, probe func(context.Context, string, time.Duration) error, timeout time.Duration) {
	tb.Helper()
	const nobody = "http://127.0.0.1:1"
	start := time.Now()
	if err := probe(context.Background(), nobody, timeout); err == nil {
		tb.Errorf("probe of %s succeeded", nobody)
	}
	if d := time.Since(start); d > timeout+time.Second {
		tb.Errorf("probe took %s", d)
	}
}
