package stripemock

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill stripe-mock when the thread that
// started it (kept alive for the child's lifetime) goes, i.e. when the test
// process dies, even by SIGKILL or a -timeout panic that skips Main's cleanup.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
