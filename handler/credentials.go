package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/example/zuora-runstatus/zuora"
)

// SecretReader returns a secret's SecretString. It stands for
// secretsmanager.Client.GetSecretValue.
type SecretReader interface {
	SecretString(ctx context.Context, secretID string) (string, error)
}

// SecretCredentials loads Zuora credentials from one secret each time it is
// called. The Zuora token source calls it on first use and again after a 401,
// so the secret is read once per container and re-read only on rotation.
func SecretCredentials(r SecretReader, secretID string) zuora.CredentialsFunc {
	return func(ctx context.Context) (zuora.Credentials, error) {
		s, err := r.SecretString(ctx, secretID)
		if err != nil {
			return zuora.Credentials{}, fmt.Errorf("%w: reading %s: %w", ErrSecretUnavailable, secretID, err)
		}
		c, err := parseSecret(s)
		if err != nil {
			return zuora.Credentials{}, fmt.Errorf("%w: %s %w", ErrSecretUnavailable, secretID, err)
		}
		return c, nil
	}
}

// parseSecret accepts the contract's forms: {"client_id", "client_secret"},
// {"access_token"}, or the bare token as the whole string. Messages never
// quote the secret.
func parseSecret(s string) (zuora.Credentials, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return zuora.Credentials{}, fmt.Errorf("is empty")
	}
	if !strings.HasPrefix(s, "{") {
		if strings.ContainsAny(s, " \t\r\n\"") {
			return zuora.Credentials{}, fmt.Errorf("is neither JSON nor a bare token")
		}
		return zuora.Credentials{AccessToken: s}, nil
	}
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		AccessToken  string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return zuora.Credentials{}, fmt.Errorf("is not valid JSON")
	}
	switch {
	case v.ClientID != "" && v.ClientSecret != "":
		return zuora.Credentials{ClientID: v.ClientID, ClientSecret: v.ClientSecret}, nil
	case v.AccessToken != "":
		return zuora.Credentials{AccessToken: v.AccessToken}, nil
	}
	return zuora.Credentials{}, fmt.Errorf(`has neither "client_id" and "client_secret" nor "access_token"`)
}
