package testproc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	p, err := Start(exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("the child exited at once")
	}
	p.Stop()
	if !p.Exited() {
		t.Error("the child still runs after Stop")
	}
}

func TestSharedSetsUpOnceAndStops(t *testing.T) {
	calls := 0
	var started *Process
	s := &Shared{Name: "t", What: "sleeper", Setup: func() (string, *Process, error) {
		calls++
		p, err := Start(exec.Command("sleep", "30"))
		started = p
		return "addr", p, err
	}}
	if a, b := s.Get(t), s.Get(t); a != "addr" || b != "addr" || calls != 1 {
		t.Errorf("Get = %q, %q after %d setups; want addr once", a, b, calls)
	}
	s.Stop()
	select {
	case <-started.Done:
	case <-time.After(time.Second):
		t.Error("Stop did not end the process")
	}
}

func TestSharedReportsSetupFailure(t *testing.T) {
	s := &Shared{Name: "t", What: "nothing", Setup: func() (string, *Process, error) { return "", nil, errors.New("not installed") }}
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		s.Get(ft)
	}()
	if ft.fatal == "" {
		t.Error("a failed setup did not fail the test")
	}
}

type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = format
	panic("fatal")
}

func TestTailKeepsTheEnd(t *testing.T) {
	b := &Tail{Max: 8}
	if got := b.String(); got != "(none)" {
		t.Errorf("empty Tail = %q, want (none)", got)
	}
	b.Write([]byte("hello "))
	b.Write([]byte("world\n"))
	if got, want := b.String(), "…o world"; got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
	if !b.Contains("nothing", "world") || b.Contains("hello") {
		t.Errorf("Contains disagrees with the tail %q", b.String())
	}
}

func TestRepoRootHasGoMod(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("RepoRoot() = %s: %v", root, err)
	}
}
