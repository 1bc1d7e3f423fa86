// Package localstack runs the function on this machine the way Lambda runs
// it: the bootstrap in the AWS Lambda Runtime Interface Emulator (RIE),
// moto_server for Secrets Manager, SNS, SQS, DynamoDB and Step Functions
// (whose Lambda tasks reach the RIE through router.go), and the Zuora
// simulator (zuoratest) in this process, where tests use its Go API (s.Sim).
// cmd/localrun and the end-to-end tests are built on it; tests get a Stack
// from ForTest.
package localstack

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// What Start creates in moto (whose account is 123456789012).
const (
	SecretName    = "zuora/local"
	TopicName     = "zuora-runstatus-alerts"
	FIFOTopicName = "zuora-runstatus-alerts.fifo"
	Region        = "us-east-1"

	// DefaultSecretString is the secret after Start: the simulator's OAuth client.
	DefaultSecretString = `{"client_id":"local-client","client_secret":"local-secret"}`

	// CalloutSecretName is the function's CALLOUT_SECRET_ID, holding
	// DefaultCalloutSecretString after Start: the key CalloutNotifier signs with.
	CalloutSecretName          = "zuora/callouts"
	DefaultCalloutSecretString = `{"hmacKey":"local-callout-key"}`
	calloutHMACKey             = "local-callout-key"
)

// startTimeout bounds Start, and each start of the RIE: moto's first start
// on a cold machine imports a lot of Python.
const startTimeout = 30 * time.Second

//go:embed meters.json
var scenario []byte

// Scenario is the simulator's configuration: the OAuth client, a static
// token, and the meters that the samples in events/ name.
func Scenario() (zuoratest.Config, error) { return zuoratest.ParseConfig(scenario) }

// Options say which binaries make up a Stack and how the function is set up.
type Options struct {
	Bootstrap string // the function, built with CGO_ENABLED=0 -tags lambda.norpc
	RIE       string // aws-lambda-rie
	Moto      string // default "moto_server"
	Template  string // the SAM template whose DynamoDB table the stack creates; default "template.yaml"
	// Env is laid over the default function environment; an empty value
	// removes the variable.
	Env map[string]string
	// LogDir gets a log file per child process. If empty, Start makes a
	// temporary directory and Close removes it.
	LogDir string
}

// Stack is the function in the RIE, wired to moto and the simulator. Its
// methods may be called from several goroutines; invocations and restarts
// take turns.
type Stack struct {
	Sim          *zuoratest.Server // the function's ZUORA_BASE_URL is Sim.URL
	MotoURL      string            // moto, where the function's AWS_ENDPOINT_URL (a fault proxy, SetFaults) leads
	Account      string            // the stack's account in moto, which the process's stacks share
	APIURL       string            // an HTTP API in front of the function (see gateway)
	TopicARN     string            // the default ALERT_TOPIC_ARN
	FIFOTopicARN string            // without content-based deduplication
	LogDir       string

	opts              Options // Bootstrap changes with RestartWith
	function          functionDecl
	ownLogDir         bool
	aws               clients
	queueURL, fifoURL string // the queues subscribed to the topics
	moto              *motoServer
	proxy             *awsProxy // the function's way to moto (SetFaults)
	gw                *gateway

	turn sync.Mutex // held by an invocation or a restart: the RIE serves one at a time

	mu        sync.Mutex // guards the fields below
	rie       *proc
	invokeURL string
	others    []*Function // AddFunction's
	closed    bool
	// regionsUsed counts the regions Execute has taken, one per execution.
	regionsUsed int
}

// Start starts moto and the simulator, creates the secret, the topics and
// their queues, and starts the function in the RIE. On failure it stops what
// it started, and the error carries the tails of the children's logs.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	s := &Stack{opts: opts, LogDir: opts.LogDir}
	err := s.resolvePaths()
	if err == nil {
		s.function, err = templateResource[functionDecl](s.opts.Template, "AWS::Serverless::Function")
	}
	if err == nil && s.LogDir == "" {
		s.LogDir, err = os.MkdirTemp("", "localstack-")
		s.ownLogDir = err == nil
	} else if err == nil {
		err = os.MkdirAll(s.LogDir, 0o755)
	}
	if err == nil {
		err = s.start(ctx)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("localstack: %w\n%s", err, s.Logs()), s.Close())
	}
	return s, nil
}

// resolvePaths makes the binaries' paths absolute: the RIE runs in the
// bootstrap's directory.
func (s *Stack) resolvePaths() error {
	s.opts.Moto = cmp.Or(s.opts.Moto, "moto_server")
	s.opts.Template = cmp.Or(s.opts.Template, "template.yaml")
	bootstrap, err := filepath.Abs(s.opts.Bootstrap)
	if err == nil {
		_, err = os.Stat(bootstrap)
	}
	s.opts.Bootstrap = bootstrap
	for _, path := range []*string{&s.opts.RIE, &s.opts.Moto} {
		if err == nil {
			*path, err = exec.LookPath(*path)
		}
		if err == nil {
			*path, err = filepath.Abs(*path)
		}
	}
	return err
}

func (s *Stack) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	s.Sim = zuoratest.NewServer()
	cfg, err := Scenario()
	if err == nil {
		err = s.Sim.Apply(cfg)
	}
	if err != nil {
		return fmt.Errorf("simulator scenario: %w", err)
	}
	if s.moto, s.Account, err = acquireMoto(ctx, s.opts.Moto); err != nil {
		return err
	}
	s.MotoURL = s.moto.url
	s.moto.router.register(s.Account, s.invokeByName)
	s.aws = newClients(awsConfig(s.MotoURL, s.Account, Region))
	if s.proxy, err = startAWSProxy(s.MotoURL, s.Account); err != nil {
		return err
	}
	if err := s.createResources(ctx); err != nil {
		return err
	}
	if err := s.startGateway(); err != nil {
		return err
	}
	return s.startFunction(ctx, s.opts.Env)
}

// NoMemory is the environment of a function deployed without STATE_TABLE
// (and so without CALLOUT_SECRET_ID and STUCK_AFTER, which need it), plus
// extra.
func NoMemory(extra map[string]string) map[string]string {
	env := map[string]string{"STATE_TABLE": "", "CALLOUT_SECRET_ID": "", "STUCK_AFTER": ""}
	maps.Copy(env, extra)
	return env
}

// CalloutNotifier sends Zuora's callouts to the function through the
// Stack's HTTP API, signed with the callout secret's key, retrying after
// 10 ms instead of Zuora's 30 minutes.
func (s *Stack) CalloutNotifier() *zuoratest.Notifier {
	return &zuoratest.Notifier{URL: s.APIURL + "/callouts/meter-session", HMACKey: []byte(calloutHMACKey), RetryDelay: 10 * time.Millisecond}
}

// functionEnv is the RIE's environment, and so the function's, built from
// scratch as Lambda's is: only PATH comes from this process, so that a
// developer's AWS_PROFILE, AWS_CA_BUNDLE or proxy cannot change what the
// function does, and HOME holds no ~/.aws files.
func (s *Stack) functionEnv(overrides map[string]string) []string {
	env := map[string]string{
		"PATH":            os.Getenv("PATH"),
		"HOME":            s.LogDir,
		"ZUORA_BASE_URL":  s.Sim.URL,
		"ZUORA_SECRET_ID": SecretName,
		"ALERT_TOPIC_ARN": s.TopicARN,
		"ALERT_ON":        "FAILED",
		"ALERT_LINK":      "https://zuora.example.com/meters/{meterId}",
		"WATCH_METERS":    "101:0.0.1,102:0.0.1,104:2.0.0",
		"STATE_TABLE":     StateTableName,
		"STUCK_AFTER":     "1h",

		"CALLOUT_SECRET_ID": CalloutSecretName,

		"AWS_ENDPOINT_URL":      s.proxy.url,
		"AWS_REGION":            Region,
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",

		// The template's limits, or SAM's defaults (3 s, 128 MB).
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(cmp.Or(s.function.Properties.Timeout, 3)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(cmp.Or(s.function.Properties.MemorySize, 128)),
		"AWS_LAMBDA_FUNCTION_NAME":        "RunStatusFunction",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"TZ":                              ":UTC", // as Lambda sets it
	}
	for k, v := range overrides {
		env[k] = v
	}
	var list []string
	for k, v := range env {
		if v != "" {
			list = append(list, k+"="+v)
		}
	}
	slices.Sort(list)
	return list
}

// startFunction starts the Stack's own container.
func (s *Stack) startFunction(ctx context.Context, env map[string]string) error {
	s.mu.Lock()
	bootstrap := s.opts.Bootstrap
	s.mu.Unlock()
	p, url, err := s.launch(ctx, bootstrap, env, "function.log")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.rie, s.invokeURL = p, url
	s.mu.Unlock()
	return nil
}

// launch starts an RIE for the bootstrap, which the RIE starts at the
// first invocation: an init failure shows in the first Reply. Both RIE
// addresses are explicit, or its default runtime API port (9001) would
// collide between containers side by side.
func (s *Stack) launch(ctx context.Context, bootstrap string, env map[string]string, logName string) (*proc, string, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var err error
	for range 3 { // a free port can still be taken before the RIE binds it: the RIE then exits at once
		invokeAddr, err1 := freeAddr()
		apiAddr, err2 := freeAddr()
		if err := errors.Join(err1, err2); err != nil {
			return nil, "", err
		}
		var p *proc
		if p, err = startProc("aws-lambda-rie", s.opts.RIE, []string{"--runtime-interface-emulator-address", invokeAddr,
			"--runtime-api-address", apiAddr, bootstrap}, s.functionEnv(env),
			filepath.Dir(bootstrap), filepath.Join(s.LogDir, logName)); err != nil {
			return nil, "", err
		}
		if err = p.waitFor(ctx, "listener", func() bool { return dialable(invokeAddr) }); err == nil {
			return p, "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", nil
		}
		p.stop()
		if !errors.Is(err, errExited) {
			break
		}
	}
	return nil, "", err
}

// Restart stops the RIE and starts another, for a cold start with env laid
// over the default function environment (env replaces Options.Env). moto
// and the simulator keep running, and keep their state.
func (s *Stack) Restart(ctx context.Context, env map[string]string) error {
	s.mu.Lock()
	bootstrap := s.opts.Bootstrap
	s.mu.Unlock()
	return s.RestartWith(ctx, bootstrap, env)
}

// RestartWith is Restart with another function binary, which later restarts
// keep (the bench alternates the function and its floors).
func (s *Stack) RestartWith(ctx context.Context, bootstrap string, env map[string]string) error {
	bootstrap, err := filepath.Abs(bootstrap)
	if err != nil {
		return err
	}
	s.turn.Lock()
	defer s.turn.Unlock()
	s.mu.Lock()
	old, closed := s.rie, s.closed
	s.opts.Bootstrap = bootstrap
	s.mu.Unlock()
	if closed {
		return errors.New("localstack: the stack is closed")
	}
	old.stop()
	if err := s.startFunction(ctx, env); err != nil {
		return fmt.Errorf("localstack: restart: %w\n%s", err, s.Logs())
	}
	return nil
}

// Close stops the function, moto and the simulator, and removes the log
// directory if Start made it. It may be called more than once.
func (s *Stack) Close() error {
	s.mu.Lock()
	rie, others, closed := s.rie, s.others, s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return nil
	}
	if s.gw != nil {
		s.gw.srv.Close()
	}
	for _, f := range others {
		f.rie.stop()
	}
	rie.stop() // on SIGTERM the RIE kills the bootstrap itself
	if s.proxy != nil {
		s.proxy.close()
	}
	if s.moto != nil {
		s.moto.router.register(s.Account, nil)
		releaseMoto()
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	if s.ownLogDir {
		return os.RemoveAll(s.LogDir)
	}
	return nil
}

// PIDs returns the process ids of the current RIE, and of moto, which
// stops with the last stack of the process.
func (s *Stack) PIDs() (rie, moto int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rie.cmd.Process.Pid, s.moto.proc.cmd.Process.Pid
}

// Logs returns the last lines of moto's and the function's logs, for
// failure messages.
func (s *Stack) Logs() string {
	s.mu.Lock()
	var procs []*proc
	if s.moto != nil {
		procs = append(procs, s.moto.proc)
	}
	procs = append(procs, s.rie)
	s.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		if p != nil {
			lines := strings.Split(strings.TrimSpace(readLog(p.logPath)), "\n")
			fmt.Fprintf(&b, "--- %s, last lines:\n%s\n", p.name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	}
	return b.String()
}

// FunctionLog returns what the current RIE logged: its own lines,
// START/END/REPORT, and the function's JSON log records.
func (s *Stack) FunctionLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rie == nil {
		return ""
	}
	return readLog(s.rie.logPath)
}

// FunctionLogRecords returns the function's log records, decoded, oldest first.
func (s *Stack) FunctionLogRecords() []map[string]any {
	var recs []map[string]any
	for line := range strings.Lines(s.FunctionLog()) {
		var rec map[string]any
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}
