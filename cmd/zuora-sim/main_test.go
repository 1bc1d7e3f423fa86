package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

var listenLine = regexp.MustCompile(`^zuora-sim listening on (http://127\.0\.0\.1:[0-9]+)\n$`)

// syncBuffer is a bytes.Buffer safe for the server's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startInProcess runs run() on a free port and returns the base URL and a
// stop function that returns run's error.
func startInProcess(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, stderr)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no listening line: %v (stderr %s)", err, stderr.String())
	}
	m := listenLine.FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("listening line %q", line)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return m[1], stderr, stop
}

func simStats(t *testing.T, base string) zuoratest.Stats {
	t.Helper()
	resp, err := http.Get(base + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st zuoratest.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunServesExampleConfig(t *testing.T) {
	base, stderr, stop := startInProcess(t, "-config", "testdata/meters.json")

	creds := func(context.Context) (zuora.Credentials, error) {
		return zuora.Credentials{ClientID: "local-client", ClientSecret: "local-secret"}, nil
	}
	oauth, err := zuora.New(zuora.Config{BaseURL: base, Tokens: zuora.NewCredentialsSource(base, nil, creds)})
	if err != nil {
		t.Fatal(err)
	}
	static, err := zuora.New(zuora.Config{BaseURL: base, Tokens: zuora.StaticToken("local-static-token")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(c *zuora.Client, id int64, version, want string) {
		t.Helper()
		rs, err := c.RunStatus(ctx, zuora.Request{MeterID: id, Version: version, TrackID: "sim-test"})
		if err != nil {
			t.Fatalf("meter %d: %v", id, err)
		}
		if rs.Name != want {
			t.Errorf("meter %d: %s, want %s", id, rs.Name, want)
		}
	}
	check(oauth, 101, "0.0.1", zuora.Running)
	check(oauth, 101, "0.0.1", zuora.Completed)
	check(static, 102, "0.0.1", zuora.Failed)
	check(static, 104, "0.0.1", zuora.Completed)
	check(static, 105, "0.0.2", zuora.Paused)
	check(static, 106, "0.0.1", zuora.Unknown)

	// 503 with Retry-After: 1 and only 300ms left: the client stops at once.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = static.RunStatus(short, zuora.Request{MeterID: 103, Version: "1.2.0"})
	var ze *zuora.Error
	if !errors.As(err, &ze) || !errors.Is(err, zuora.ErrUnavailable) || ze.RetryAfter != time.Second {
		t.Errorf("meter 103: %v", err)
	}
	_, err = static.RunStatus(ctx, zuora.Request{MeterID: 999, Version: "0.0.1"})
	if !errors.Is(err, zuora.ErrNotFound) {
		t.Errorf("unknown meter: %v", err)
	}

	if st := simStats(t, base); st.TokenMints != 1 || st.RunStatusCalls != 8 {
		t.Errorf("stats %+v, want 1 mint, 8 calls", st)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}

	logs := stderr.String()
	if strings.Contains(logs, "local-static-token") || strings.Contains(logs, "local-secret") {
		t.Error("the log holds a secret")
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil || entry["msg"] != "request" || entry["path"] != "/oauth/token" {
		t.Errorf("first log line %q (%v)", lines[0], err)
	}
}

func TestRunFlagsAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"meters":[{"meterId":1,"version":"v","steps":[{"stat":7}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-nope"},
		{"-config", filepath.Join(dir, "missing.json")},
		{"-config", bad},
		{"-addr", "256.0.0.1:99999"},
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

func TestRunLatencyFlag(t *testing.T) {
	base, _, _ := startInProcess(t, "-config", "testdata/meters.json", "-latency", "40ms")
	c, err := zuora.New(zuora.Config{BaseURL: base, Tokens: zuora.StaticToken("local-static-token")})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.RunStatus(context.Background(), zuora.Request{MeterID: 104, Version: "0.0.1"})
	if err != nil || rs.Latency < 40*time.Millisecond {
		t.Errorf("got %+v, %v; want ≥ 40ms", rs, err)
	}
}

func TestExampleConfigCoversStates(t *testing.T) {
	data, err := os.ReadFile("testdata/meters.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := zuoratest.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Clients) == 0 || cfg.Clients[0] != (zuoratest.ClientConfig{ClientID: "local-client", ClientSecret: "local-secret"}) ||
		len(cfg.Tokens) == 0 || cfg.Tokens[0] != "local-static-token" {
		t.Errorf("clients %+v tokens %v", cfg.Clients, cfg.Tokens)
	}
	final := map[int]bool{}
	var runningThenCompleted bool
	for _, m := range cfg.Meters {
		last := m.Steps[len(m.Steps)-1]
		final[last.Status] = true
		if m.Steps[0].Status == 5 && last.Status == 7 {
			runningThenCompleted = true
		}
	}
	if !runningThenCompleted || !final[8] || !final[7] || !final[6] || !final[42] {
		t.Errorf("example config lacks a state: finals %v, running→completed %v", final, runningThenCompleted)
	}
}

// TestBinaryStopsOnSIGTERM builds the command and runs it as a process, the
// way a parent (cmd/localrun, a script) does.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	bin := filepath.Join(t.TempDir(), "zuora-sim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-config", "testdata/meters.json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	m := listenLine.FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("listening line %q: %v", line, err)
	}
	if st := simStats(t, m[1]); st.RunStatusCalls != 0 {
		t.Errorf("fresh stats %+v", st)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("exit: %v (stderr %s)", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if len(rest) != 0 {
		t.Errorf("more than one line on stdout: %q", rest)
	}
}
