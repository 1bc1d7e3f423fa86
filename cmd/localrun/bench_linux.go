package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// benchPeakRSS returns the process's peak resident set size (VmHWM in
// /proc/PID/status), in bytes.
func benchPeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM of %d: %q", pid, v)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// benchHasEnv reports whether the process's environment sets name.
func benchHasEnv(pid int, name string) (bool, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return false, err
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if bytes.HasPrefix(kv, []byte(name+"=")) {
			return true, nil
		}
	}
	return false, nil
}
