// Package testproc runs the real components tests need (DynamoDB Local,
// stripe-mock) as child processes of the test binary: started at most once
// per test process, tied to it so they die with it, and stopped by TestMain.
// It only starts and stops processes; what a component is and how to tell
// it answers belongs to the harness that uses it (ddblocal, stripemock).
package testproc

import (
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stopWait bounds how long Stop waits for a killed child to be reaped.
const stopWait = 5 * time.Second

// Process is a child started by Start.
type Process struct {
	Cmd *exec.Cmd
	// Done is closed when the child has exited; WaitErr is set before.
	Done    chan struct{}
	WaitErr error
}

// Start starts cmd tied to the test process: on Linux the kernel kills the
// child when the thread that started it goes, so Start runs it from a locked
// OS thread that lives as long as the child — a test binary killed by
// SIGKILL or a -timeout panic leaves nothing behind.
func Start(cmd *exec.Cmd) (*Process, error) {
	setDeathSignal(cmd)
	p := &Process{Cmd: cmd, Done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.WaitErr = cmd.Wait()
		close(p.Done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// Exited reports whether the child has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.Done:
		return true
	default:
		return false
	}
}

// Stop kills the child (the components are stateless or in-memory: nothing
// to flush) and waits a little for it to be reaped.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Kill()
	select {
	case <-p.Done:
	case <-time.After(stopWait):
	}
}

// Shared is one component shared by every test of a test process: set up on
// the first Get, stopped by Stop (from TestMain).
type Shared struct {
	// Name prefixes messages ("ddblocal"); What names the component
	// ("DynamoDB Local").
	Name, What string
	// Setup finds or starts the component and returns its address, and the
	// process it started (nil when it used one that was already running).
	Setup func() (addr string, started *Process, err error)

	once      sync.Once
	addr      string
	err       error
	startedIn time.Duration
	logged    atomic.Bool
	stopped   atomic.Bool
	mu        sync.Mutex
	proc      *Process
}

// Get returns the component's address, setting it up on the first call, or
// fails tb with what went wrong and how to fix it. It never skips.
func (s *Shared) Get(tb testing.TB) string {
	tb.Helper()
	if s.stopped.Load() {
		tb.Fatalf("%s: used after Stop: %s is no longer running", s.Name, s.What)
	}
	s.once.Do(func() {
		t0 := time.Now()
		addr, p, err := s.Setup()
		if err != nil {
			s.err = err
			return
		}
		s.mu.Lock()
		s.proc = p
		s.mu.Unlock()
		s.addr = addr
		if p != nil {
			s.startedIn = time.Since(t0)
		}
	})
	if s.err != nil {
		tb.Fatalf("%s: %v", s.Name, s.err)
	}
	if s.startedIn > 0 && s.logged.CompareAndSwap(false, true) {
		tb.Logf("%s: %s started at %s in %s", s.Name, s.What, s.addr, s.startedIn.Round(time.Millisecond))
	}
	return s.addr
}

// Stop kills the process Get started, if any; later calls to Get fail
// rather than start another.
func (s *Shared) Stop() {
	s.stopped.Store(true)
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.Stop()
	}
}

// String names the component for messages.
func (s *Shared) String() string { return fmt.Sprintf("%s (%s)", s.What, s.Name) }
