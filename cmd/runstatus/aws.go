package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
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
