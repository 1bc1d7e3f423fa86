// Package secrets reads the function's secrets from AWS Secrets Manager:
// the Zuora credentials (ZUORA_SECRET_ID) and the keys that verify Zuora's
// callouts (CALLOUT_SECRET_ID), in the forms the zuora and callout packages
// parse. Errors name the secret and wrap the SDK's, and never quote a value.
package secrets

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/zuora"
)

// API is the Secrets Manager call the function makes
// (*secretsmanager.Client has it).
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// readSecret returns a secret's SecretString; errors name the secret and
// wrap the SDK's.
func readSecret(ctx context.Context, api API, id string) (string, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
	if err != nil {
		return "", fmt.Errorf("reading secret %s: %w", id, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s has no SecretString (binary secrets are not supported)", id)
	}
	return *out.SecretString, nil
}

// ZuoraCredentials loads Zuora credentials from one secret each time it is
// called. The Zuora token source calls it on first use and again after a
// 401, so the secret is read once per container and re-read only on
// rotation. Its errors become the zuora package's ErrCredentials class.
func ZuoraCredentials(api API, secretID string) zuora.CredentialsFunc {
	return func(ctx context.Context) (zuora.Credentials, error) {
		s, err := readSecret(ctx, api, secretID)
		if err != nil {
			return zuora.Credentials{}, err
		}
		c, err := zuora.ParseCredentials(s)
		if err != nil {
			return zuora.Credentials{}, fmt.Errorf("secret %s %w", secretID, err)
		}
		return c, nil
	}
}

// CalloutKeys reads the keys that verify Zuora's callouts from one secret:
// a callout.KeySource. The handler caches them and re-reads them when a
// callout does not match.
type CalloutKeys struct {
	API API
	ID  string
}

// CalloutKeys reads and parses the secret.
func (c CalloutKeys) CalloutKeys(ctx context.Context) (callout.Keys, error) {
	s, err := readSecret(ctx, c.API, c.ID)
	if err != nil {
		return callout.Keys{}, err
	}
	keys, err := callout.ParseKeys(s)
	if err != nil {
		return callout.Keys{}, fmt.Errorf("secret %s %w", c.ID, err)
	}
	return keys, nil
}
