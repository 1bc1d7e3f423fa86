package awsapi

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// ecsContainerEndpoint is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points.
const ecsContainerEndpoint = "http://169.254.170.2"

// credentialsFromEnv returns the provider the SDK's default chain would pick
// in a Lambda execution environment: the role's keys from the environment,
// which is how Lambda hands them to a Go function; failing those, the
// container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or
// _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE), which
// is how Lambda hands them over where it does not set the keys (SnapStart),
// refreshed 5 minutes before they expire, as the SDK does.
func credentialsFromEnv(getenv func(string) string) (aws.CredentialsProvider, error) {
	id := firstSet(getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY")
	secret := firstSet(getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	switch {
	case id != "" && secret != "":
		return credentials.NewStaticCredentialsProvider(id, secret, strings.TrimSpace(getenv("AWS_SESSION_TOKEN"))), nil
	case id != "":
		return nil, &EnvError{"AWS_SECRET_ACCESS_KEY", "is required with AWS_ACCESS_KEY_ID"}
	case secret != "":
		return nil, &EnvError{"AWS_ACCESS_KEY_ID", "is required with AWS_SECRET_ACCESS_KEY"}
	}

	variable, endpoint := "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""
	if rel := strings.TrimSpace(getenv(variable)); rel != "" {
		endpoint = ecsContainerEndpoint + rel
	} else if variable, endpoint = "AWS_CONTAINER_CREDENTIALS_FULL_URI", strings.TrimSpace(getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")); endpoint != "" {
		if err := checkContainerEndpoint(endpoint); err != nil {
			return nil, &EnvError{variable, err.Error()}
		}
	} else {
		return nil, &EnvError{"AWS_ACCESS_KEY_ID", "is required (Lambda sets it, or AWS_CONTAINER_CREDENTIALS_FULL_URI, from the function's role)"}
	}

	token, tokenFile := strings.TrimSpace(getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")), strings.TrimSpace(getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
	provider := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
		o.AuthorizationToken = token
		if tokenFile != "" {
			// Read at every refresh: the file is rotated under us.
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return "", fmt.Errorf("reading AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	return aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

// checkContainerEndpoint applies the SDK's rule: https anywhere, plain http
// only to a loopback address or the ECS and EKS credential hosts.
func checkContainerEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("is not a URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if u.Hostname() == "localhost" {
			return nil
		}
		if ip := net.ParseIP(u.Hostname()); ip != nil && (ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) ||
			ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23"))) {
			return nil
		}
		return fmt.Errorf("plain http is allowed only to a loopback address or the container credentials host")
	}
	return fmt.Errorf("is not an http(s) URL")
}
