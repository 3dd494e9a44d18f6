//go:build !linux && !js

package main

import (
	"errors"
	"os/exec"
	"time"
)

// inGroup does nothing outside Linux: there is no process group handling,
// and stop kills wrangler only.
func inGroup(*exec.Cmd) {}

func (p *devProcess) stop() { p.Stop() }

// workerdCPU needs Linux's /proc: elsewhere the CPU benchmark fails.
func (p *devProcess) workerdCPU() (worker, proxy time.Duration, err error) {
	return 0, 0, errors.New("workerd's CPU time is read from /proc/<pid>/task/<tid>/schedstat: Linux only")
}
