//go:build !linux

package main

import "syscall"

// sysProcAttr puts the child in its own process group so that stopping it
// stops whatever it started.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// childGroups would list the process groups of the child's descendants; only
// the Linux build can see them (through /proc). Elsewhere the RIE's own
// SIGTERM handling has to stop the function's bootstrap.
func childGroups(int) []int { return nil }

// procInfo is what the Linux build reads from /proc.
type procInfo struct {
	pid, ppid, pgid int
	state           byte
}

// descendants is only known on Linux.
func descendants(int) []procInfo { return nil }

// alive reports whether pid exists (zombies included: only Linux tells them
// apart here).
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
