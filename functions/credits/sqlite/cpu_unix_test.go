//go:build unix

package sqlite

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (user and system), or
// false where it can't be read. Benchmarks report it per operation: on a
// machine shared with other work it is steadier than the wall clock.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
