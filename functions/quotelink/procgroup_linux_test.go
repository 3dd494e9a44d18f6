package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// workerdCPU is the CPU time workerd has used so far, split in two: the
// workerd process that runs the Worker, and the one that runs wrangler
// dev's proxy (it listens on the dev port, --socket-addr=entry=<ip>:<port>).
// Each is the sum over the process's threads of the first field of
// /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU, user and system).
// Read before and after one request, the difference is that request's CPU
// time, at nanosecond resolution (utime and stime in /proc/<pid>/stat count
// 10 ms ticks).
func (p *devProcess) workerdCPU() (worker, proxy time.Duration, err error) {
	pgid := p.Cmd.Process.Pid
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, err
	}
	entry := []byte("entry=" + strings.TrimPrefix(p.url, "http://"))
	workers := 0
	for _, d := range procs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // it ended
		}
		// pid (comm) state ppid pgrp …: comm may hold spaces, so split after ')'.
		open, close := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(string(stat[close+1:]))
		if string(stat[open+1:close]) != "workerd" || len(fields) < 3 || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		cpu, err := processCPU(pid)
		if err != nil {
			return 0, 0, err
		}
		if bytes.Contains(cmdline, entry) {
			proxy += cpu
		} else {
			worker += cpu
			workers++
		}
	}
	if workers == 0 {
		return 0, 0, fmt.Errorf("no workerd process running the Worker in wrangler's process group %d", pgid)
	}
	return worker, proxy, nil
}

// processCPU sums the on-CPU nanoseconds of pid's threads.
func processCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", t, err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
