package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run the real function in the real RIE against moto and the
// simulator. They need two tools that are not Go modules of this repository:
//
//	aws-lambda-rie  RIE_BIN, else <module root>/bin/aws-lambda-rie, else PATH (make tools)
//	moto_server     PATH (pip install 'moto[server]')
//
// Without them the tests skip, except under CI=true, where they fail. The
// function and the simulator are built from this checkout; BOOTSTRAP_BIN and
// ZUORA_SIM_BIN point the tests at prebuilt binaries instead.

var buildDir string // where the tests put the binaries they build

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localrun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testTools are the paths NewStack needs, found or built once per test binary.
type testTools struct {
	bootstrap, sim, rie, moto, simConfig string
}

var (
	toolsOnce    sync.Once
	toolsCached  testTools
	toolsMissing string // why the tools cannot be had; "" if they can
	toolsErr     error  // a build failure: always a test failure
)

// tools returns the binaries for a Stack, or skips the test (fails it under
// CI=true) when an external tool is not installed.
func tools(t *testing.T) testTools {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto, the Zuora simulator and the RIE; not a -short test")
	}
	toolsOnce.Do(func() { toolsCached, toolsMissing, toolsErr = findTools() })
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	if toolsMissing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(toolsMissing)
		}
		t.Skip(toolsMissing)
	}
	return toolsCached
}

func findTools() (tt testTools, missing string, err error) {
	root, err := moduleRoot()
	if err != nil {
		return tt, "", err
	}
	tt.simConfig = filepath.Join(root, "cmd", "localrun", "testdata", "meters.json")

	var why []string
	if tt.rie = findRIE(root); !isFile(tt.rie) {
		why = append(why, "aws-lambda-rie not found (install it with `make tools`, or set RIE_BIN to it)")
	}
	if tt.moto, err = exec.LookPath("moto_server"); err != nil {
		why = append(why, "moto_server not found in PATH (install it with `pip install 'moto[server]'`)")
	}
	if len(why) > 0 {
		return tt, strings.Join(why, "; "), nil
	}

	tt.bootstrap, tt.sim = os.Getenv("BOOTSTRAP_BIN"), os.Getenv("ZUORA_SIM_BIN")
	if tt.bootstrap == "" || tt.sim == "" {
		if err := buildFromSource(root, &tt); err != nil {
			return tt, "", err
		}
	}
	return tt, "", nil
}

func findRIE(root string) string {
	if p := os.Getenv("RIE_BIN"); p != "" {
		return p
	}
	if p := filepath.Join(root, "bin", "aws-lambda-rie"); isFile(p) {
		return p
	}
	p, _ := exec.LookPath("aws-lambda-rie")
	return p
}

// buildFromSource builds the function (as Lambda's provided.al2023 runtime
// runs it) and the simulator in one go build, which shares their deps.
func buildFromSource(root string, tt *testTools) error {
	touchSources(root)
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", buildDir+string(filepath.Separator),
		"./cmd/runstatus", "./cmd/zuora-sim")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the function and the simulator: %v\n%s", err, out)
	}
	if tt.bootstrap == "" {
		tt.bootstrap = filepath.Join(buildDir, "bootstrap")
		if err := os.Rename(filepath.Join(buildDir, "runstatus"), tt.bootstrap); err != nil {
			return err
		}
	}
	if tt.sim == "" {
		tt.sim = filepath.Join(buildDir, "zuora-sim")
	}
	return nil
}

// touchSources opens every Go source, go.mod/go.sum and testdata file of the
// module. go test records the files a test opens and reruns a cached test
// when they change; the builds above happen in a child process it cannot
// see, so without this an edit to the function would not void a cached pass.
func touchSources(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" ||
			strings.Contains(filepath.ToSlash(path), "/testdata/") {
			if f, err := os.Open(path); err == nil {
				f.Close()
			}
		}
		return nil
	})
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// newTestStack starts a Stack for t with env laid over the default function
// environment, closes it when t ends, and prints the children's logs if t
// failed.
func newTestStack(t *testing.T, env map[string]string) *Stack {
	t.Helper()
	tt := tools(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := NewStack(ctx, Options{
		Bootstrap: tt.bootstrap,
		Sim:       tt.sim,
		RIE:       tt.rie,
		Moto:      tt.moto,
		SimConfig: tt.simConfig,
		Env:       env,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack logs:\n%s", s.Logs())
		}
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// mustInvoke invokes the function with payload and fails t if the harness
// could not reach it. Function errors are in the Reply.
func mustInvoke(t *testing.T, s *Stack, payload string) Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	r, err := s.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return r
}

func TestStackSmoke(t *testing.T) {
	s := newTestStack(t, nil)
	ctx := context.Background()

	r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`)
	if r.Failed() || r.StatusCode != 200 {
		t.Fatalf("meter 104: HTTP %d, %s: %s; body %s", r.StatusCode, r.ErrorType, r.ErrorMessage, r.Body)
	}
	var res struct {
		Status string `json:"status"`
	}
	if err := r.Decode(&res); err != nil || res.Status != "COMPLETED" {
		t.Fatalf("meter 104: status %q (%v), want COMPLETED; body %s", res.Status, err, r.Body)
	}

	r = mustInvoke(t, s, `{"meterId": 102, "version": "0.0.1"}`)
	if r.Failed() {
		t.Fatalf("meter 102: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	alerts, err := s.DrainAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const subject = "Zuora meter 102 version 0.0.1: FAILED"
	if len(alerts) != 1 || alerts[0].Subject != subject {
		t.Fatalf("alerts = %+v, want one with Subject %q", alerts, subject)
	}

	// Close must leave nothing running: the children, their process groups,
	// and the bootstrap that the RIE started in a group of its own.
	if runtime.GOOS != "linux" {
		s.Close()
		return
	}
	pids := stackProcesses(s)
	if !hasBootstrap(pids) {
		t.Errorf("no bootstrap among the stack's processes %v: the check below would prove little", pids)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatalf("second close: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d (%s) still running after Close", pid, exeName(pid))
		}
	}
}

// stackProcesses lists the children the stack started and all their
// descendants.
func stackProcesses(s *Stack) []int {
	s.mu.Lock()
	leaders := []*proc{s.moto, s.sim, s.rie}
	s.mu.Unlock()
	var pids []int
	for _, p := range leaders {
		if p == nil {
			continue
		}
		pids = append(pids, p.cmd.Process.Pid)
		for _, d := range descendants(p.cmd.Process.Pid) {
			pids = append(pids, d.pid)
		}
	}
	return pids
}

func hasBootstrap(pids []int) bool {
	for _, pid := range pids {
		if exeName(pid) == "bootstrap" {
			return true
		}
	}
	return false
}

func exeName(pid int) string {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return "?"
	}
	return filepath.Base(exe)
}
