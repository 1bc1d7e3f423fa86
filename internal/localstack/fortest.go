package localstack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ForTest starts a Stack for t with env laid over the default function
// environment, and closes it when t ends, logging the tails of the
// children's logs if t failed. It needs two tools that are not Go modules:
//
//	aws-lambda-rie  RIE_BIN, else <module root>/bin/aws-lambda-rie, else PATH (make tools)
//	moto_server     PATH (pip install 'moto[server]')
//
// Without them t is skipped, except under CI=true, where it fails; under
// -short it is skipped. The function is built from ./cmd/runstatus once per
// test binary, unless BOOTSTRAP_BIN names a build.
func ForTest(t testing.TB, env map[string]string) *Stack {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto_server and the Lambda runtime emulator: not a -short test")
	}
	tt := testTools()
	switch {
	case tt.err != nil:
		t.Fatal(tt.err)
	case tt.missing != "" && os.Getenv("CI") == "true":
		t.Fatal(tt.missing)
	case tt.missing != "":
		t.Skip(tt.missing)
	}
	dir := t.TempDir()
	bootstrap := os.Getenv("BOOTSTRAP_BIN")
	if bootstrap == "" { // a copy for each stack, which t.TempDir removes
		bootstrap = filepath.Join(dir, "bootstrap")
		if err := os.WriteFile(bootstrap, tt.bootstrap, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Bootstrap: bootstrap, RIE: tt.rie, Moto: tt.moto, Env: env, LogDir: dir,
		Template: filepath.Join(tt.root, "template.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack logs:\n%s", s.Logs())
		}
		if err := s.Close(); err != nil {
			t.Errorf("closing the stack: %v", err)
		}
	})
	return s
}

type tools struct {
	root      string // the module's
	rie, moto string
	bootstrap []byte // the function, built once and kept in memory, not in a directory nothing would remove
	missing   string // why the tests cannot run here
	err       error
}

var testTools = sync.OnceValue(func() (tt tools) {
	root, err := moduleRoot()
	if err != nil {
		tt.err = err
		return tt
	}
	tt.root = root
	var missing []string
	tt.rie = cmp.Or(os.Getenv("RIE_BIN"), filepath.Join(root, "bin", "aws-lambda-rie"))
	if _, err := os.Stat(tt.rie); err != nil {
		if tt.rie, err = exec.LookPath("aws-lambda-rie"); err != nil {
			missing = append(missing, "aws-lambda-rie not found: install it with `make tools`, or set RIE_BIN")
		}
	}
	if tt.moto, err = exec.LookPath("moto_server"); err != nil {
		missing = append(missing, "moto_server not found in PATH: install it with `pip install 'moto[server]'`")
	}
	if tt.missing = strings.Join(missing, "; "); tt.missing == "" && os.Getenv("BOOTSTRAP_BIN") == "" {
		tt.bootstrap, tt.err = build(root)
	}
	return tt
})

// build builds the function for this machine as Lambda's provided.al2023
// runtime runs it, and returns the binary.
func build(root string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "localstack-build-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./cmd/runstatus")
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	if err != nil {
		err = fmt.Errorf("localstack: building the function: %w\n%s", err, b)
	} else {
		b, err = os.ReadFile(bin)
	}
	return b, errors.Join(err, os.RemoveAll(dir))
}

// MotoForTest takes an account of its own in the process's moto_server,
// with the template's state table, for t, and gives it back when t ends. Without moto_server t is skipped, except
// under CI=true, where it fails; under -short it is skipped.
func MotoForTest(t testing.TB) *Moto {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto_server: not a -short test")
	}
	path, err := exec.LookPath("moto_server")
	if err != nil {
		const missing = "moto_server not found in PATH: install it with `pip install 'moto[server]'`"
		if os.Getenv("CI") == "true" {
			t.Fatal(missing)
		}
		t.Skip(missing)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := StartMoto(t.Context(), path, filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("moto's log ends:\n%s", m.Log())
		}
		m.Close()
	})
	return m
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err == nil && (gomod == "" || gomod == os.DevNull) {
		err = errors.New("not inside a module")
	}
	if err != nil {
		return "", fmt.Errorf("localstack: the module root (go env GOMOD): %w", err)
	}
	return filepath.Dir(gomod), nil
}
