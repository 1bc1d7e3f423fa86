//go:build !linux

package localstack

import (
	"errors"
	"syscall"
)

// sysProcAttr puts a child in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// BootstrapPID is only known on Linux, from /proc.
func (s *Stack) BootstrapPID() (int, error) {
	return 0, errors.New("localstack: the bootstrap's pid is read from /proc, on Linux only")
}
