//go:build !linux

package ddblocal

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux: there, only Main
// (and Stop) end the emulator.
func setDeathSignal(*exec.Cmd) {}
