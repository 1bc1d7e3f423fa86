package awsapi

import (
	"context"
	"errors"
	"testing"
)

func lambdaEnv(extra ...string) func(string) string {
	env := map[string]string{
		"AWS_REGION":            "eu-west-1",
		"AWS_DEFAULT_REGION":    "eu-west-1",
		"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(k string) string { return env[k] }
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name         string
		env          func(string) string
		region       string
		secrets, sns string
	}{
		{"Lambda", lambdaEnv(), "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com", "https://sns.eu-west-1.amazonaws.com"},
		{"AWS_DEFAULT_REGION only", lambdaEnv("AWS_REGION", "", "AWS_DEFAULT_REGION", "cn-north-1"), "cn-north-1",
			"https://secretsmanager.cn-north-1.amazonaws.com.cn", "https://sns.cn-north-1.amazonaws.com.cn"},
		{"FIPS", lambdaEnv("AWS_REGION", "us-gov-west-1", "AWS_USE_FIPS_ENDPOINT", "TRUE"), "us-gov-west-1",
			"https://secretsmanager-fips.us-gov-west-1.amazonaws.com", "https://sns.us-gov-west-1.amazonaws.com"},
		{"dual-stack", lambdaEnv("AWS_USE_DUALSTACK_ENDPOINT", "true"), "eu-west-1",
			"https://secretsmanager.eu-west-1.amazonaws.com", "https://sns.eu-west-1.api.aws"},
		{"AWS_ENDPOINT_URL for both", lambdaEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), "eu-west-1",
			"http://127.0.0.1:5000", "http://127.0.0.1:5000"},
		{"per-service URLs win", lambdaEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:5001"), "eu-west-1",
			"http://127.0.0.1:5000", "http://127.0.0.1:5001"},
		{"Secrets Manager's URL", lambdaEnv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com"), "eu-west-1",
			"https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com", "https://sns.eu-west-1.amazonaws.com"},
		{"empty URL ignored (the template's default)", lambdaEnv("AWS_ENDPOINT_URL", ""), "eu-west-1",
			"https://secretsmanager.eu-west-1.amazonaws.com", "https://sns.eu-west-1.amazonaws.com"},
		{"configured URLs ignored", lambdaEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), "eu-west-1",
			"https://secretsmanager.eu-west-1.amazonaws.com", "https://sns.eu-west-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Region != tt.region || c.SecretsManagerEndpoint != tt.secrets || c.SNSEndpoint != tt.sns {
				t.Errorf("region %q, endpoints %q %q; want %q, %q %q", c.Region, c.SecretsManagerEndpoint, c.SNSEndpoint, tt.region, tt.secrets, tt.sns)
			}
			creds, err := c.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
				t.Errorf("credentials %+v, %v", creds, err)
			}
		})
	}
}

func TestFromEnvNamesTheBadVariable(t *testing.T) {
	tests := []struct {
		name     string
		env      func(string) string
		variable string
	}{
		{"no region", lambdaEnv("AWS_REGION", "", "AWS_DEFAULT_REGION", ""), "AWS_REGION"},
		{"region not a host label", lambdaEnv("AWS_REGION", "eu-west-1.evil.example/"), "AWS_REGION"},
		{"no credentials at all", lambdaEnv("AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", ""), "AWS_ACCESS_KEY_ID"},
		{"no access key id", lambdaEnv("AWS_ACCESS_KEY_ID", ""), "AWS_ACCESS_KEY_ID"},
		{"no secret key", lambdaEnv("AWS_SECRET_ACCESS_KEY", " "), "AWS_SECRET_ACCESS_KEY"},
		{"container credentials over plain http to another host", lambdaEnv("AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", "",
			"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://creds.example.com/role"), "AWS_CONTAINER_CREDENTIALS_FULL_URI"},
		{"FIPS not a boolean", lambdaEnv("AWS_USE_FIPS_ENDPOINT", "yes"), "AWS_USE_FIPS_ENDPOINT"},
		{"dual-stack not a boolean", lambdaEnv("AWS_USE_DUALSTACK_ENDPOINT", "1"), "AWS_USE_DUALSTACK_ENDPOINT"},
		{"endpoint without a scheme", lambdaEnv("AWS_ENDPOINT_URL", "localhost:5000"), "AWS_ENDPOINT_URL"},
		{"SNS endpoint not http", lambdaEnv("AWS_ENDPOINT_URL_SNS", "ftp://sns.example"), "AWS_ENDPOINT_URL_SNS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(tt.env)
			var ee *EnvError
			if !errors.As(err, &ee) || ee.Variable != tt.variable {
				t.Errorf("err = %v, want an EnvError naming %s", err, tt.variable)
			}
		})
	}
}
