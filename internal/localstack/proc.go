package localstack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// stopGrace is how long a child has between SIGTERM and SIGKILL. The RIE
// stops in milliseconds; moto, a Python dev server, can take a moment.
const stopGrace = 3 * time.Second

// proc is a child process whose stdout and stderr go to a log file.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	cancel  context.CancelFunc // stops the process
	done    chan struct{}      // closed once it has exited and been reaped
	err     error              // how it exited, once done is closed
}

var errExited = errors.New("exited")

// startProc starts path in its own process group, with exactly env (never
// this process's environment by default) in dir ("" for ours).
func startProc(name, path string, args, env []string, dir, logPath string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer logf.Close() // the child has its own copy
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = append([]string{}, env...), dir, logf, logf
	cmd.SysProcAttr = sysProcAttr()
	// SIGTERM to the whole group (a pyenv shim's python, say); exec sends
	// SIGKILL if the child is still there after WaitDelay.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop ends the process and waits for it; nil and stopped procs are fine.
func (p *proc) stop() {
	if p != nil {
		p.cancel()
		<-p.done
	}
}

// waitFor polls ready until it holds, the process exits (errExited) or ctx
// ends. The first poll comes after a tick, so a child that fails to bind
// its port has exited by then rather than let a stranger's port look ready.
func (p *proc) waitFor(ctx context.Context, what string, ready func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: no %s: %w", p.name, what, ctx.Err())
		case <-p.done:
			return fmt.Errorf("%s %w (%v) before its %s", p.name, errExited, p.err, what)
		case <-tick.C:
		}
		if ready() {
			return nil
		}
	}
}

// freeAddr returns a loopback address whose port was free a moment ago,
// for a child to listen on. The port comes from below the kernel's
// ephemeral range: a port from that range (what a listen on port 0 gets)
// can become another connection's source port before the child binds it,
// and the tests' many connections to moto made that happen. The RIE binds
// its runtime API only at the first invocation, so a port lost that way
// failed an invocation, not the start. Ports go out in turn from a random
// start, so that two stacks of a process never get the same one, and
// processes side by side seldom do.
func freeAddr() (string, error) {
	span := ephemeralLow() - minChildPort
	for range 64 {
		port := minChildPort + int(nextChildPort.Add(1)%uint64(span))
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free loopback port from %d on", minChildPort)
}

// nextChildPort is the last port freeAddr handed out, less minChildPort.
var nextChildPort = func() *atomic.Uint64 {
	var n atomic.Uint64
	n.Store(rand.Uint64N(1 << 20))
	return &n
}()

// minChildPort is the lowest port freeAddr picks: above the well-known
// services a machine may run.
const minChildPort = 20000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default where it cannot be read; other systems' ranges start higher).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if fields := strings.Fields(string(b)); err == nil && len(fields) == 2 {
		if n, err := strconv.Atoi(fields[0]); err == nil && n > minChildPort+1000 {
			return n
		}
	}
	return 32768
}

func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}
