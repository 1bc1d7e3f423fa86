// Command runstatus is the Lambda function's bootstrap. It only wires: it reads
// the configuration once, builds the AWS and Zuora clients once per
// container, and hands events to package handler.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/internal/secrets"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/internal/topic"
	"github.com/example/zuora-runstatus/zuora"
)

func main() {
	// JSON logs with the request id, honouring Lambda's log level and format settings.
	log := slog.New(lambdacontext.NewLogHandler())
	slog.SetDefault(log)

	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		// One line that names what is wrong; exiting fails the init phase.
		var ce *ConfigError
		if errors.As(err, &ce) {
			log.Error("invalid configuration", "variable", ce.Variable, "problem", ce.Problem)
		} else {
			log.Error("start-up failed", "error", err.Error())
		}
		os.Exit(1)
	}
	lambda.Start(h)
}

// attemptTimeout bounds one Zuora attempt. A run-status answer takes well
// under a second; an attempt that hangs is abandoned so that a retry still
// fits in the function's timeout.
const attemptTimeout = 10 * time.Second

// setup builds everything an invocation needs, once. getenv reads the
// function's own variables; the AWS SDK reads its own from the process.
func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler.Handler, error) {
	s, err := loadSettings(getenv)
	if err != nil {
		return nil, err
	}
	// One HTTP client, so Zuora and AWS calls share one connection pool.
	httpClient := zuora.NewHTTPClient()
	awsCfg, err := loadAWSConfig(ctx, httpClient)
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	client, err := zuora.New(zuora.Config{
		BaseURL:        s.baseURL,
		HTTPClient:     httpClient,
		Tokens:         zuora.NewCredentialsSource(s.baseURL, httpClient, secrets.ZuoraCredentials(sm, s.secretID)),
		AttemptTimeout: attemptTimeout,
	})
	if err != nil {
		return nil, err
	}
	// Metrics are EMF lines on stdout, which Lambda sends to CloudWatch Logs.
	deps := handler.Deps{Zuora: client, Explainer: client, Alerts: topic.Publisher{API: topic.NewClient(awsCfg)}, Metrics: os.Stdout, Log: log}
	if s.stateTable != "" {
		deps.Store = statestore.New(dynamodb.NewFromConfig(awsCfg), s.stateTable)
	}
	if s.calloutID != "" {
		deps.Callouts = secrets.CalloutKeys{API: sm, ID: s.calloutID}
	}
	return handler.New(s.handler, deps)
}
