package localstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts a child in its own process group, and has the kernel
// kill it if this process dies without Close (a test binary killed by its
// timeout, say), so no emulator outlives the run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// BootstrapPID returns the process id of the function's bootstrap: the
// current RIE's child, from the first invocation on (for the bench, which
// reads its peak memory, and for tests of Close).
func (s *Stack) BootstrapPID() (int, error) {
	s.mu.Lock()
	rie := s.rie.cmd.Process.Pid
	s.mu.Unlock()
	// Each of the RIE's threads lists the children it started; a thread
	// that ended meanwhile has none to list.
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", rie))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && len(strings.Fields(string(b))) > 0 {
			return strconv.Atoi(strings.Fields(string(b))[0])
		}
	}
	return 0, fmt.Errorf("the RIE (pid %d) has no child: no invocation yet, or the bootstrap exited (%v)", rie, err)
}
