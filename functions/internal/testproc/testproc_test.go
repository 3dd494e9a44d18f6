package testproc

import (
	"errors"
	"os/exec"
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
