// Command runstatus is the Lambda function's bootstrap. It only wires: it reads
// the configuration once, builds the AWS and Zuora clients once per
// container, and hands events to package handler.
package main

import (
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/cmd/runstatus/awsapi"
	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/zuora"
)

func main() {
	// JSON logs with the request id, honouring Lambda's log level and format settings.
	log := slog.New(lambdacontext.NewLogHandler())
	slog.SetDefault(log)

	h, err := setup(os.Getenv, log)
	if err != nil {
		// One line that names what is wrong; exiting fails the init phase.
		var ce *handler.ConfigError
		if errors.As(err, &ce) {
			log.Error("invalid configuration", "variable", ce.Variable, "problem", ce.Problem)
		} else {
			log.Error("start-up failed", "error", err.Error())
		}
		os.Exit(1)
	}
	lambda.Start(h)
}

const attemptTimeout = 10 * time.Second

// setup builds everything an invocation needs, once.
func setup(getenv func(string) string, log *slog.Logger) (*handler.Handler, error) {
	cfg, err := handler.LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsapi.FromEnv(getenv)
	if err != nil {
		var ee *awsapi.EnvError
		if errors.As(err, &ee) {
			return nil, &handler.ConfigError{Variable: ee.Variable, Problem: ee.Problem}
		}
		return nil, err
	}
	// One HTTP client, so Zuora and AWS calls share one connection pool.
	httpClient := zuora.NewHTTPClient()
	awsCfg.HTTPClient = httpClient
	awsClient := awsapi.New(awsCfg)
	secrets, alerts := awsClient, snsPublisher{awsClient}

	client, err := zuora.New(zuora.Config{
		BaseURL:    cfg.BaseURL,
		HTTPClient: httpClient,
		Tokens:     zuora.NewCredentialsSource(cfg.BaseURL, httpClient, handler.SecretCredentials(secrets, cfg.SecretID)),
		// A run-status answer takes well under a second; an attempt that hangs
		// for 10 s is abandoned so a retry still fits in the function's timeout.
		AttemptTimeout: attemptTimeout,
	})
	if err != nil {
		return nil, &handler.ConfigError{Variable: "ZUORA_BASE_URL", Problem: err.Error()}
	}
	return handler.New(cfg, client, alerts, log), nil
}
