//go:build !linux

package testproc

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux: there, only
// Shared.Stop (from TestMain) ends the child.
func setDeathSignal(*exec.Cmd) {}
