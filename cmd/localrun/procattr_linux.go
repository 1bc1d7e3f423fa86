package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts the child in its own process group, and asks the kernel to
// kill it if the harness dies without calling Close (a test binary killed by
// its timeout, say), so no emulator outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// childGroups returns the process groups, other than pgid itself, of the
// descendants of the process pgid. The RIE starts the function's bootstrap in
// a group of its own, so killing the RIE's group alone can leave the
// bootstrap behind.
func childGroups(pgid int) []int {
	var groups []int
	for _, p := range descendants(pgid) {
		if p.pgid != pgid && !slices.Contains(groups, p.pgid) {
			groups = append(groups, p.pgid)
		}
	}
	return groups
}

// procInfo is what /proc/PID/stat says about a process.
type procInfo struct {
	pid, ppid, pgid int
	state           byte // R, S, Z, ...
}

// descendants lists the living descendants of pid (not pid itself).
func descendants(pid int) []procInfo {
	all := map[int][]procInfo{} // by parent
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readStat(n); ok {
			all[p.ppid] = append(all[p.ppid], p)
		}
	}
	var out []procInfo
	queue := []int{pid}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, c := range all[parent] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// readStat reads the parent, process group and state of pid from /proc.
func readStat(pid int) (procInfo, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procInfo{}, false
	}
	// The command name (field 2) is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp ...
	if len(f) < 3 || len(f[0]) != 1 {
		return procInfo{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgid, err2 := strconv.Atoi(f[2])
	return procInfo{pid: pid, ppid: ppid, pgid: pgid, state: f[0][0]}, err1 == nil && err2 == nil
}

// alive reports whether pid is a process that has not ended (a zombie has).
func alive(pid int) bool {
	p, ok := readStat(pid)
	return ok && p.state != 'Z'
}
