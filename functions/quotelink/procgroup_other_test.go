//go:build !linux && !js

package main

import (
	"errors"
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

// workerdCPU needs Linux's /proc: elsewhere the CPU benchmark fails.
func (p *devProcess) workerdCPU() (worker, proxy time.Duration, err error) {
	return 0, 0, errors.New("workerd's CPU time is read from /proc/<pid>/task/<tid>/schedstat: Linux only")
}
