package main

import (
	"os/exec"
	"syscall"
	"time"
)

// inGroup makes cmd start in its own process group: wrangler runs node,
// which runs workerd, and stop ends them all. (testproc.Start adds the
// death signal that kills wrangler if the test process dies.)
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// stop ends wrangler's process group: SIGTERM, then SIGKILL after 5 s.
func (p *devProcess) stop() {
	pgid := p.Cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.Done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // workerd may outlive wrangler's node
}
