//go:build !linux

package main

import "os/exec"

// inGroup does nothing outside Linux: there is no process group handling,
// and stop kills wrangler only.
func inGroup(*exec.Cmd) {}

func (p *devProcess) stop() { p.Stop() }
