package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// motoListening is the line moto_server prints once it listens: with -p 0
// it is how the port is learnt, with no race for a free one.
var motoListening = regexp.MustCompile(`\* Running on http://127\.0\.0\.1:(\d+)`)

// startMoto starts moto_server on a loopback port, logging to logDir. moto
// is a tool, not the code under test: it keeps this process's environment,
// which pyenv shims and virtualenvs need to find Python, plus env.
func startMoto(path, logDir string, env ...string) (*proc, error) {
	env = append(os.Environ(), append(env, "MOTO_RECORDER_FILEPATH="+filepath.Join(logDir, "moto-recording.jsonl"))...)
	return startProc("moto", path, []string{"-H", "127.0.0.1", "-p", "0"}, env, "", filepath.Join(logDir, "moto.log"))
}

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

// Moto is moto_server alone with the template's state table: all a test of
// the DynamoDB store needs, in a fraction of a Stack's start.
type Moto struct {
	URL      string
	DynamoDB *dynamodb.Client // the table is StateTableName
	proc     *proc
}

// StartMoto starts moto_server and creates template's state table in it.
func StartMoto(ctx context.Context, motoPath, template, logDir string) (*Moto, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	p, err := startMoto(motoPath, logDir)
	if err != nil {
		return nil, err
	}
	m := &Moto{proc: p}
	if m.URL, err = motoURL(ctx, p); err == nil {
		m.DynamoDB = newClients(m.URL).dynamodb
		err = createStateTable(ctx, m.DynamoDB, template)
	}
	if err != nil {
		p.stop()
		return nil, errors.Join(fmt.Errorf("localstack: moto: %w", err), errors.New(readLog(p.logPath)))
	}
	return m, nil
}

// Close stops moto.
func (m *Moto) Close() { m.proc.stop() }
