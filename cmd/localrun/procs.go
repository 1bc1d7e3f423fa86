package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a child gets between SIGTERM and SIGKILL. The RIE
// and the simulator stop in milliseconds; moto (a Python dev server) can take
// a moment longer.
const stopGrace = 3 * time.Second

// proc is one child process started by the harness. It runs in its own
// process group so that stopping it also stops whatever it started (the
// pyenv shim's python, for instance), and its output goes to a log file so a
// failure can show what the child said.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // valid after done is closed

	stopOnce sync.Once
}

// startProc starts path with args and env (nil env means an empty one, never
// the parent's) in dir ("" for ours). stdout and stderr go to logPath. If
// onStdout is not nil it sees every stdout line before the line is logged.
func startProc(name, path string, args, env []string, dir, logPath string, onStdout func(line string)) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: log: %w", name, err)
	}
	defer logf.Close() // the child holds its own copy of the descriptor

	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Dir = dir
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = logf

	// The stdout pipe is ours, not exec's: exec would close its pipe in Wait,
	// and a reader that outlives the child's first line would then race it.
	var pr, pw *os.File
	if onStdout != nil {
		if pr, pw, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("%s: pipe: %w", name, err)
		}
		cmd.Stdout = pw
	} else {
		cmd.Stdout = logf
	}

	if err := cmd.Start(); err != nil {
		if pr != nil {
			pr.Close()
			pw.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}

	if pr != nil {
		pw.Close()
		logw, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			logw = nil
		}
		go func() {
			defer pr.Close()
			if logw != nil {
				defer logw.Close()
			}
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				onStdout(sc.Text())
				if logw != nil {
					fmt.Fprintln(logw, sc.Text())
				}
			}
			// After an over-long line, keep reading: a child whose stdout
			// pipe fills up blocks.
			_, _ = io.Copy(io.Discard, pr)
		}()
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exitErr describes the end of a process that has exited.
func (p *proc) exitErr() error {
	how := "exit status 0"
	if p.waitErr != nil {
		how = p.waitErr.Error()
	}
	return fmt.Errorf("%s: %w (%s)", p.name, errExited, how)
}

// exited reports whether the process has already ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL if the leader has not
// exited after grace, and waits for it. Extra groups (the RIE's runtime,
// which the RIE puts in a group of its own) are signalled the same way. Safe
// to call more than once.
func (p *proc) stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		pgid := p.cmd.Process.Pid
		groups := append([]int{pgid}, childGroups(pgid)...)
		signalGroups(groups, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
		// SIGKILL the groups whether or not the leader left on its own:
		// anything still in them after the leader is gone is a leftover.
		signalGroups(groups, syscall.SIGKILL)
		<-p.done
	})
}

func signalGroups(groups []int, sig syscall.Signal) {
	for _, g := range groups {
		if g > 1 {
			_ = syscall.Kill(-g, sig)
		}
	}
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	return tailFile(p.logPath, n)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort asks the kernel for an unused loopback port. The port is free when
// this returns, not guaranteed later: callers that hand it to a child check
// that the child is still alive once the port answers (see waitTCP).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// errExited is returned by the wait helpers when the child died while we were
// waiting for it: there is no point in waiting out the timeout.
var errExited = errors.New("process exited")

// waitTCP waits until addr accepts connections, p exits, or timeout passes.
func waitTCP(ctx context.Context, p *proc, addr string, timeout time.Duration) error {
	return poll(ctx, p, timeout, func(ctx context.Context) bool {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// waitHTTP waits until url answers any HTTP status below 500.
func waitHTTP(ctx context.Context, p *proc, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	return poll(ctx, p, timeout, func(ctx context.Context) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode < 500
	})
}

func poll(ctx context.Context, p *proc, timeout time.Duration, ready func(context.Context) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.exited() {
			return p.exitErr()
		}
		if ready(ctx) {
			// A port that answers may belong to someone who took the free
			// port first; our child then fails to bind and exits.
			select {
			case <-p.done:
				return p.exitErr()
			case <-time.After(20 * time.Millisecond):
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not ready after %s: %w", p.name, timeout, ctx.Err())
		case <-p.done:
		case <-tick.C:
		}
	}
}

// minimalEnv is the base of every child's environment: the PATH to find
// helpers, and nothing else from the parent. In particular AWS_CA_BUNDLE,
// HTTP(S)_PROXY and AWS_PROFILE must not leak into the function, which Lambda
// would not give it either.
func minimalEnv(home string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{"PATH=" + path, "HOME=" + home}
}

// envMap turns KEY=VALUE pairs into a map; later pairs win.
func envMap(pairs []string) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envList turns a map back into sorted KEY=VALUE pairs.
func envList(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}

// lineWaiter hands the first stdout line with the given prefix to whoever
// waits for it; later lines are ignored.
type lineWaiter struct {
	prefix string
	once   sync.Once
	ch     chan string
}

func newLineWaiter(prefix string) *lineWaiter {
	return &lineWaiter{prefix: prefix, ch: make(chan string, 1)}
}

func (w *lineWaiter) see(line string) {
	if rest, ok := strings.CutPrefix(line, w.prefix); ok {
		w.once.Do(func() { w.ch <- strings.TrimSpace(rest) })
	}
}

func (w *lineWaiter) wait(ctx context.Context, p *proc, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case s := <-w.ch:
		return s, nil
	case <-p.done:
		// The line may have been printed just before the exit.
		select {
		case s := <-w.ch:
			return s, nil
		default:
		}
		return "", p.exitErr()
	case <-t.C:
		return "", fmt.Errorf("%s: no %q line after %s", p.name, w.prefix, timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
