package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// One moto_server serves every stack of a process, each stack in an AWS
// account of its own: moto keeps its resources by account, and takes the
// account of a request from its x-moto-account-id header, which the stack's
// clients and its fault proxy set. moto's Python start is most of the cost
// of a stack's start, and the end-to-end tests start dozens of stacks.

// motoServer is the process's moto_server, and the router its Step
// Functions interpreter sends Lambda calls to (MOTO_PORT).
type motoServer struct {
	url    string
	proc   *proc
	dir    string // its log's directory, removed when it stops
	router *router
}

// accountHeader names a request's account for moto.
const accountHeader = "x-moto-account-id"

var (
	motoMu    sync.Mutex
	motoNow   *motoServer
	motoUsers int
	accounts  int // handed out in this process
)

// acquireMoto returns the process's moto_server, started if none runs, and
// an account of its own in it. Each acquireMoto is released once.
func acquireMoto(ctx context.Context, path string) (*motoServer, string, error) {
	motoMu.Lock()
	defer motoMu.Unlock()
	if motoNow == nil {
		m, err := startMotoServer(ctx, path)
		if err != nil {
			return nil, "", err
		}
		motoNow = m
	}
	motoUsers++
	accounts++
	return motoNow, fmt.Sprintf("%012d", 100000000000+accounts), nil
}

// releaseMoto stops moto with its last user.
func releaseMoto() {
	motoMu.Lock()
	defer motoMu.Unlock()
	if motoUsers--; motoUsers == 0 && motoNow != nil {
		motoNow.router.close()
		motoNow.proc.stop()
		os.RemoveAll(motoNow.dir)
		motoNow = nil
	}
}

// startMotoServer starts moto_server on a loopback port, with state
// machines executed and their Lambda calls sent to a router. moto is a
// tool, not the code under test: it keeps this process's environment,
// which pyenv shims and virtualenvs need to find Python.
func startMotoServer(ctx context.Context, path string) (*motoServer, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "localstack-moto-")
	if err != nil {
		return nil, err
	}
	m := &motoServer{dir: dir}
	if m.router, err = newRouter(); err == nil {
		m.proc, err = startProc("moto", path, []string{"-H", "127.0.0.1", "-p", "0"},
			append(os.Environ(), "MOTO_PORT="+m.router.port), "", filepath.Join(dir, "moto.log"))
	}
	if err == nil {
		m.url, err = motoURL(ctx, m.proc)
	}
	if err == nil {
		err = m.router.forwardTo(m.url)
	}
	if err == nil {
		err = executeStateMachines(ctx, m.url)
	}
	if err != nil {
		log := readLog(filepath.Join(dir, "moto.log"))
		m.router.close()
		m.proc.stop()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("moto: %w\n%s", err, log)
	}
	return m, nil
}

// motoListening is the line moto_server prints once it listens: with -p 0
// it is how the port is learnt, with no race for a free one.
var motoListening = regexp.MustCompile(`\* Running on http://127\.0\.0\.1:(\d+)`)

// motoURL waits for moto to listen and returns its URL.
func motoURL(ctx context.Context, moto *proc) (string, error) {
	var port []string
	if err := moto.waitFor(ctx, "listening line", func() bool {
		port = motoListening.FindStringSubmatch(readLog(moto.logPath))
		return port != nil
	}); err != nil {
		return "", err
	}
	return "http://127.0.0.1:" + port[1], nil
}

// executeStateMachines has moto execute state machines (by default it only
// stores them). moto's answer does not show the setting, so nothing here
// can tell a moto too old to execute them.
func executeStateMachines(ctx context.Context, motoURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, motoURL+"/moto-api/config",
		strings.NewReader(`{"stepfunctions": {"execute_state_machine": true}}`))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto config: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body) // for the error message only
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto config: %s: %s", resp.Status, body)
	}
	return nil
}

// accountTransport names an account on every request to moto.
type accountTransport struct {
	account string
	next    http.RoundTripper
}

func (a accountTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(accountHeader, a.account)
	return a.next.RoundTrip(r)
}

// awsConfig is an SDK configuration for account in moto, in region, built
// explicitly and never from config.LoadDefaultConfig: a developer's
// profile, shared config files or real credentials must not steer the
// stack to a real account.
func awsConfig(motoURL, account, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(motoURL),
		HTTPClient:   &http.Client{Transport: accountTransport{account, http.DefaultTransport}},
	}
}

// Moto is an account of its own in the process's moto_server, with the
// template's state table: all a test of the DynamoDB store or of Secrets
// Manager needs, without a function.
type Moto struct {
	URL, Account string
	Config       aws.Config       // SDK clients for the account (NewFromConfig)
	DynamoDB     *dynamodb.Client // the table is StateTableName
	once         sync.Once
}

// StartMoto takes an account in the process's moto_server (starting it if
// none runs) and creates template's state table in it.
func StartMoto(ctx context.Context, motoPath, template string) (*Moto, error) {
	server, account, err := acquireMoto(ctx, motoPath)
	if err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	m := &Moto{URL: server.url, Account: account, Config: awsConfig(server.url, account, Region)}
	m.DynamoDB = dynamodb.NewFromConfig(m.Config)
	if err := createStateTable(ctx, m.DynamoDB, template); err != nil {
		m.Close()
		return nil, errors.Join(fmt.Errorf("localstack: %w", err), errors.New(m.Log()))
	}
	return m, nil
}

// Log is the end of moto's log.
func (m *Moto) Log() string {
	motoMu.Lock()
	defer motoMu.Unlock()
	if motoNow == nil {
		return ""
	}
	return tail(readLog(motoNow.proc.logPath), 40)
}

// Close gives the account back; moto stops with its last user.
func (m *Moto) Close() { m.once.Do(releaseMoto) }

func tail(log string, n int) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
