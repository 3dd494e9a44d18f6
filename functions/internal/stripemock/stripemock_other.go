//go:build !linux

package stripemock

import "os/exec"

// setDeathSignal has no portable equivalent outside Linux: there, only Main
// (and Stop) end stripe-mock.
func setDeathSignal(*exec.Cmd) {}
