// Command sdkfloor is the bare floor (../floor) plus what a function built
// on the AWS SDK pays for at start-up: config.LoadDefaultConfig and the
// Secrets Manager, SNS and DynamoDB clients the function builds. It calls nothing and
// echoes its event. `make bench` builds it the way the function is built
// and measures it alongside.
package main

import (
	"context"
	"encoding/json"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// The clients a function would keep for its invocations.
var (
	secrets *secretsmanager.Client
	topics  *sns.Client
	state   *dynamodb.Client
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("loading the AWS configuration: %v", err)
	}
	secrets, topics, state = secretsmanager.NewFromConfig(cfg), sns.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		return event, nil
	})
}
