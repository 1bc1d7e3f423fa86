package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options say which binaries make up a Stack and how the function is set up.
type Options struct {
	Bootstrap string // the function, built with CGO_ENABLED=0 -tags lambda.norpc
	Sim       string // the zuora-sim binary
	RIE       string // the aws-lambda-rie binary
	SimConfig string // the simulator's JSON config
	Moto      string // moto_server; default "moto_server" from PATH

	// Env is laid over the default function environment (see FunctionEnv).
	// An empty value removes the variable, to test a missing setting.
	Env map[string]string

	// LogDir receives one log file per child. If empty, the stack makes a
	// temporary directory and Close removes it.
	LogDir string

	// StartTimeout bounds the wait for each child to become ready.
	// Default 20s: moto's first start on a cold machine imports a lot.
	StartTimeout time.Duration
}

// Stack is the function running in the Lambda Runtime Interface Emulator,
// wired to a Zuora simulator and to moto (Secrets Manager, SNS, SQS).
//
// Invoke, the Drain*, Sim* and secret helpers may be called from several
// goroutines; RestartFunction and Close must not run concurrently with them.
type Stack struct {
	SimURL    string // the simulator's base URL, e.g. http://127.0.0.1:41234
	MotoURL   string // moto's endpoint, the function's AWS_ENDPOINT_URL
	InvokeURL string // the RIE's invoke URL (changes on RestartFunction)

	SecretID     string // "zuora/local", holding DefaultSecretString at start
	TopicARN     string // the standard alert topic, the default ALERT_TOPIC_ARN
	QueueURL     string // SQS queue subscribed to TopicARN (SNS envelopes)
	FIFOTopicARN string // the FIFO alert topic (ContentBasedDeduplication off)
	FIFOQueueURL string // FIFO queue subscribed to FIFOTopicARN

	AWS    Clients // SDK clients pointed at moto
	LogDir string  // where the children's logs are

	opts       Options
	ownLogDir  bool
	httpClient *http.Client
	invokeMu   sync.Mutex

	mu      sync.Mutex // guards the fields below
	moto    *proc
	sim     *proc
	rie     *proc
	rieRuns int
	fnEnv   []string
	closed  bool
}

// NewStack starts moto and the simulator, creates the secret, topics and
// queues, and starts the function in the RIE. On failure it stops whatever it
// started and the error carries the tails of the children's logs.
func NewStack(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Moto == "" {
		opts.Moto = "moto_server"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 20 * time.Second
	}
	for name, path := range map[string]string{"bootstrap": opts.Bootstrap, "zuora-sim": opts.Sim, "aws-lambda-rie": opts.RIE, "sim config": opts.SimConfig} {
		if path == "" {
			return nil, fmt.Errorf("localrun: no %s path given", name)
		}
	}
	// Absolute paths: the RIE runs in the bootstrap's directory, and a
	// relative path would then name another file.
	for _, p := range []*string{&opts.Bootstrap, &opts.Sim, &opts.RIE, &opts.SimConfig, &opts.Moto} {
		abs, err := resolve(*p, p == &opts.Moto || p == &opts.RIE)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	s := &Stack{opts: opts, LogDir: opts.LogDir, httpClient: &http.Client{Timeout: 2 * time.Minute}}
	if s.LogDir == "" {
		dir, err := os.MkdirTemp("", "localrun-")
		if err != nil {
			return nil, err
		}
		s.LogDir, s.ownLogDir = dir, true
	} else if err := os.MkdirAll(s.LogDir, 0o755); err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		err = fmt.Errorf("%w\n%s", err, s.Logs())
		s.Close()
		return nil, err
	}
	return s, nil
}

// resolve makes a path absolute; for a command, a bare name is looked up in
// PATH first.
func resolve(path string, command bool) (string, error) {
	if command && !strings.ContainsRune(path, filepath.Separator) {
		if p, err := exec.LookPath(path); err == nil {
			return p, nil
		}
	}
	return filepath.Abs(path)
}

func (s *Stack) start(ctx context.Context) error {
	// moto takes a second to import; start it first and let the simulator
	// come up meanwhile.
	if err := s.startMoto(); err != nil {
		return err
	}
	if err := s.startSim(ctx); err != nil {
		return err
	}
	if err := s.waitMoto(ctx); err != nil {
		return err
	}
	s.AWS = newClients(s.MotoURL)
	if err := s.setupAWS(ctx); err != nil {
		return err
	}
	return s.startFunction(ctx, s.opts.Env)
}

func (s *Stack) startMoto() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// moto is a tool, not the code under test: it keeps the parent's
	// environment, which pyenv shims and virtualenvs need to find Python.
	p, err := startProc("moto", s.opts.Moto, []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
		os.Environ(), "", filepath.Join(s.LogDir, "moto.log"), nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.moto = p
	s.mu.Unlock()
	s.MotoURL = "http://127.0.0.1:" + strconv.Itoa(port)
	return nil
}

// waitMoto waits until moto answers HTTP. If it exited, most likely because
// another process took its free port first, it is started again on another.
func (s *Stack) waitMoto(ctx context.Context) error {
	for try := 1; ; try++ {
		err := waitHTTP(ctx, s.moto, s.MotoURL+"/moto-api/", s.opts.StartTimeout)
		if err == nil || !errors.Is(err, errExited) || try == 3 {
			return err
		}
		if err := s.startMoto(); err != nil {
			return err
		}
	}
}

// simReadyPrefix starts the one line the simulator prints when it listens.
const simReadyPrefix = "zuora-sim listening on "

func (s *Stack) startSim(ctx context.Context) error {
	lw := newLineWaiter(simReadyPrefix)
	p, err := startProc("zuora-sim", s.opts.Sim, []string{"-addr", "127.0.0.1:0", "-config", s.opts.SimConfig},
		minimalEnv(s.LogDir), "", filepath.Join(s.LogDir, "zuora-sim.log"), lw.see)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sim = p
	s.mu.Unlock()
	line, err := lw.wait(ctx, p, s.opts.StartTimeout)
	if err != nil {
		return err
	}
	u, err := url.Parse(line)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("zuora-sim: unexpected address %q", line)
	}
	s.SimURL = strings.TrimRight(line, "/")
	return nil
}

// FunctionEnv returns the environment the function was last started with,
// as sorted KEY=VALUE pairs.
func (s *Stack) FunctionEnv() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.fnEnv...)
}

// functionEnv is what the RIE (and through it the function) gets: a minimal
// base, the function's configuration and the Lambda variables the RIE reads,
// with overrides laid on top. Nothing else comes from the parent, so neither
// AWS_CA_BUNDLE nor a proxy setting changes what the function does here.
func (s *Stack) functionEnv(overrides map[string]string) []string {
	m := envMap(minimalEnv(s.LogDir)) // HOME: no developer ~/.aws files leak in
	for k, v := range map[string]string{
		"ZUORA_BASE_URL":  s.SimURL,
		"ZUORA_SECRET_ID": s.SecretID,
		"ALERT_TOPIC_ARN": s.TopicARN,
		"ALERT_ON":        "FAILED",
		"WATCH_METERS":    "101:0.0.1,102:0.0.1,104:2.0.0",

		"AWS_ENDPOINT_URL":      s.MotoURL,
		"AWS_REGION":            Region,
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",

		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "30",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_FUNCTION_NAME":        "RunStatusFunction",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"TZ":                              ":UTC", // as Lambda sets it
	} {
		m[k] = v
	}
	for k, v := range overrides {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return envList(m)
}

// startFunction starts the RIE with the bootstrap. The RIE only starts the
// bootstrap on the first invocation, so an init failure shows up in the
// first Reply, not here.
func (s *Stack) startFunction(ctx context.Context, overrides map[string]string) error {
	env := s.functionEnv(overrides)
	bootstrap := s.opts.Bootstrap
	var lastErr error
	// A free port can be taken between freePort and the RIE's bind; the
	// RIE then exits at once and a retry on new ports fixes it.
	for range 3 {
		invokePort, err1 := freePort()
		apiPort, err2 := freePort()
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		invokeAddr := "127.0.0.1:" + strconv.Itoa(invokePort)
		s.mu.Lock()
		s.rieRuns++
		logPath := filepath.Join(s.LogDir, fmt.Sprintf("rie-%d.log", s.rieRuns))
		s.mu.Unlock()
		// Both addresses are explicit: the RIE's default runtime API port
		// (9001) would collide between stacks running side by side.
		p, err := startProc("aws-lambda-rie", s.opts.RIE, []string{
			"--runtime-interface-emulator-address", invokeAddr,
			"--runtime-api-address", "127.0.0.1:" + strconv.Itoa(apiPort),
			bootstrap,
		}, env, filepath.Dir(bootstrap), logPath, nil)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.rie, s.fnEnv = p, env
		s.mu.Unlock()
		lastErr = waitTCP(ctx, p, invokeAddr, s.opts.StartTimeout)
		if lastErr == nil {
			s.InvokeURL = "http://" + invokeAddr + "/2015-03-31/functions/function/invocations"
			return nil
		}
		p.stop(stopGrace)
		if !errors.Is(lastErr, errExited) {
			break
		}
	}
	return lastErr
}

// RestartFunction stops the RIE and starts it again (a cold start) with env
// laid over the default function environment; env replaces Options.Env, it
// does not add to it. moto and the simulator keep running and keep their
// state.
func (s *Stack) RestartFunction(ctx context.Context, env map[string]string) error {
	s.invokeMu.Lock()
	defer s.invokeMu.Unlock()
	s.mu.Lock()
	old, closed := s.rie, s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("localrun: stack is closed")
	}
	if old != nil {
		old.stop(stopGrace)
	}
	if err := s.startFunction(ctx, env); err != nil {
		return fmt.Errorf("%w\n%s", err, s.Logs())
	}
	return nil
}

// RestartFunctionWith is RestartFunction with another function binary, which
// later restarts keep (the bench alternates the function and the floor).
func (s *Stack) RestartFunctionWith(ctx context.Context, bootstrap string, env map[string]string) error {
	s.invokeMu.Lock()
	s.opts.Bootstrap = bootstrap
	s.invokeMu.Unlock()
	return s.RestartFunction(ctx, env)
}

// FunctionLog returns everything the current RIE and the function wrote:
// the RIE's own lines, START/END/REPORT, and the function's stdout and
// stderr (its JSON log lines).
func (s *Stack) FunctionLog() string {
	s.mu.Lock()
	p := s.rie
	s.mu.Unlock()
	if p == nil {
		return ""
	}
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return string(b)
}

// Logs returns the last lines of each child's log, for failure messages.
func (s *Stack) Logs() string {
	s.mu.Lock()
	procs := []*proc{s.moto, s.sim, s.rie}
	s.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		if p == nil {
			continue
		}
		fmt.Fprintf(&b, "--- %s (%s), last lines:\n%s\n", p.name, filepath.Base(p.logPath), p.tail(40))
	}
	return b.String()
}

// Close stops every process the stack started (the function, the
// simulator, moto) and removes the log directory if the stack made it.
// It may be called more than once.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	procs := []*proc{s.rie, s.sim, s.moto}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, p := range procs {
		if p != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.stop(stopGrace)
			}()
		}
	}
	wg.Wait()
	if s.ownLogDir {
		return os.RemoveAll(s.LogDir)
	}
	return nil
}

// FunctionLogRecords returns the function's JSON log lines (with
// AWS_LAMBDA_LOG_FORMAT=JSON, all of its own output) decoded, oldest first;
// the RIE's plain-text lines are left out.
func (s *Stack) FunctionLogRecords() []map[string]any {
	var recs []map[string]any
	for _, line := range strings.Split(s.FunctionLog(), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}
