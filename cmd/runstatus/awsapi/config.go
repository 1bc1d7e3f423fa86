package awsapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Config is what a Client needs.
type Config struct {
	Region      string
	Credentials aws.CredentialsProvider

	// Endpoints by service: the URL every request of that service goes to.
	SecretsManagerEndpoint string
	SNSEndpoint            string

	// HTTPClient sends the requests; nil means http.DefaultClient. Share one
	// per container so connections are reused.
	HTTPClient *http.Client

	// Retryer decides which failures are retried and how long to wait; nil
	// means the SDK's standard policy (retry.NewStandard: 3 attempts,
	// jittered exponential backoff, throttling and transient errors only).
	Retryer aws.Retryer
}

// EnvError names the environment variable that is missing or wrong.
type EnvError struct {
	Variable string
	Problem  string
}

func (e *EnvError) Error() string { return e.Variable + ": " + e.Problem }

// FromEnv reads the configuration the way the SDK reads its environment, for
// what a Lambda function sees:
//
//   - AWS_REGION (or AWS_DEFAULT_REGION);
//   - AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, the
//     function role's credentials, which Lambda sets for the life of the
//     execution environment (sam local sets them too); without them, the
//     container credentials endpoint (see credentialsFromEnv);
//   - AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SNS, then
//     AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
//     (empty values are ignored, as the SDK does);
//   - AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT ("true"/"false").
//
// Shared config files, profiles and credential processes are not read: a
// Lambda execution environment has none.
func FromEnv(getenv func(string) string) (Config, error) {
	var c Config
	c.Region = firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION")
	if c.Region == "" {
		return Config{}, &EnvError{"AWS_REGION", "is required (Lambda sets it)"}
	}
	if !isHostLabel(c.Region) {
		return Config{}, &EnvError{"AWS_REGION", "is not a region name"}
	}

	var err error
	if c.Credentials, err = credentialsFromEnv(getenv); err != nil {
		return Config{}, err
	}

	fips, err := envBool(getenv, "AWS_USE_FIPS_ENDPOINT")
	if err != nil {
		return Config{}, err
	}
	dualStack, err := envBool(getenv, "AWS_USE_DUALSTACK_ENDPOINT")
	if err != nil {
		return Config{}, err
	}
	ignoreConfigured, err := envBool(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	if err != nil {
		return Config{}, err
	}

	for _, s := range []struct {
		dst                 *string
		variable, signingID string
	}{
		{&c.SecretsManagerEndpoint, "AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManagerService},
		{&c.SNSEndpoint, "AWS_ENDPOINT_URL_SNS", snsService},
	} {
		variable, configured := "", ""
		if !ignoreConfigured {
			for _, v := range []string{s.variable, "AWS_ENDPOINT_URL"} {
				if configured = strings.TrimSpace(getenv(v)); configured != "" {
					variable = v
					break
				}
			}
		}
		if configured != "" {
			if u, err := url.Parse(configured); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return Config{}, &EnvError{variable, "is not an http(s) URL"}
			}
			*s.dst = configured
			continue
		}
		if *s.dst, err = standardEndpoint(s.signingID, c.Region, fips, dualStack); err != nil {
			return Config{}, &EnvError{"AWS_REGION", err.Error()}
		}
	}
	return c, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

func envBool(getenv func(string) string, name string) (bool, error) {
	switch v := strings.TrimSpace(getenv(name)); {
	case v == "", strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	}
	return false, &EnvError{name, `must be "true" or "false"`}
}

// isHostLabel reports whether s can stand in a host name as one label, as the
// SDK's endpoint rules require of a region.
func isHostLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
