//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// startInGroup starts cmd and calls exited when it ends. Outside Linux there
// is no process group handling: stop kills wrangler only.
func startInGroup(cmd *exec.Cmd, exited func(error)) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { exited(cmd.Wait()) }()
	return nil
}

func (p *devProcess) stop() {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}
