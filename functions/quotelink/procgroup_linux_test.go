package main

import (
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// startInGroup starts cmd in its own process group (wrangler runs node,
// which runs workerd: stop ends them all) and calls exited when it ends.
// The kernel kills it if the test process dies (Pdeathsig, which fires when
// the starting thread exits: so it starts from a locked thread that lives as
// long as the child).
func startInGroup(cmd *exec.Cmd, exited func(error)) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}

// stop ends wrangler's process group: SIGTERM, then SIGKILL after 5 s.
func (p *devProcess) stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // workerd may outlive wrangler's node
}
