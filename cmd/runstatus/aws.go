package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/example/zuora-runstatus/internal/alert"
)

// loadAWSConfig is the SDK's default configuration (region, credentials,
// AWS_ENDPOINT_URL... from the Lambda environment) with the function's HTTP
// client, so AWS and Zuora calls share one connection pool. What Lambda
// always sets is checked here, so that a bad value fails the init phase
// rather than the first call.
func loadAWSConfig(ctx context.Context, httpClient *http.Client) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	if err != nil && os.Getenv("AWS_CA_BUNDLE") != "" {
		// The SDK can add a CA bundle only to an HTTP client of its own making.
		// Lambda sets no bundle; its system roots cover AWS and Zuora.
		return aws.Config{}, &ConfigError{"AWS_CA_BUNDLE", "is not supported (the function shares one HTTP client between AWS and Zuora): " + err.Error()}
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, &ConfigError{"AWS_REGION", "is required"}
	}
	if cfg.BaseEndpoint != nil {
		if u, err := url.Parse(*cfg.BaseEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return aws.Config{}, &ConfigError{"AWS_ENDPOINT_URL", fmt.Sprintf("%q is not an http(s) URL", *cfg.BaseEndpoint)}
		}
	}
	return cfg, nil
}

// newSNSClient is the SNS client with one change to the SDK's standard
// retries: SNS's Throttled (HTTP 429) is retried too. The SDK gives up on it
// at once, and a dropped alert is what this function exists to prevent.
func newSNSClient(cfg aws.Config) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, "Throttled")
	})
}

// snsAPI is the SNS call the function makes.
type snsAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// snsPublisher adapts SNS to handler.Publisher. The message goes with
// MessageStructure json: SQS, Lambda, HTTPS and email-json subscribers get
// the JSON, e-mail subscribers the text, SMS subscribers the line.
type snsPublisher struct{ api snsAPI }

func (p snsPublisher) Publish(ctx context.Context, m alert.Message) (string, error) {
	attrs := make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
	for _, at := range m.Attributes {
		attrs[at.Name] = snstypes.MessageAttributeValue{DataType: aws.String(at.DataType), StringValue: aws.String(at.Value)}
	}
	body, err := json.Marshal(map[string]string{"default": m.JSON, "email": m.Email, "sms": m.SMS})
	if err != nil {
		return "", err
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(m.TopicARN),
		Subject:           aws.String(m.Subject),
		Message:           aws.String(string(body)),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	}
	if m.GroupID != "" {
		in.MessageGroupId = aws.String(m.GroupID)
		in.MessageDeduplicationId = aws.String(m.DeduplicationID)
	}
	out, err := p.api.Publish(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
