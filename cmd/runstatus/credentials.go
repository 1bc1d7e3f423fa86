package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/zuora"
)

// secretsAPI is the Secrets Manager call the function makes.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// zuoraCredentials loads Zuora credentials from one secret each time it is
// called. The Zuora token source calls it on first use and again after a
// 401, so the secret is read once per container and re-read only on
// rotation. Its errors become the zuora package's ErrCredentials class.
func zuoraCredentials(api secretsAPI, secretID string) zuora.CredentialsFunc {
	return func(ctx context.Context) (zuora.Credentials, error) {
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretID})
		if err != nil {
			return zuora.Credentials{}, fmt.Errorf("reading secret %s: %w", secretID, err)
		}
		if out.SecretString == nil {
			return zuora.Credentials{}, fmt.Errorf("secret %s has no SecretString (binary secrets are not supported)", secretID)
		}
		c, err := parseSecret(*out.SecretString)
		if err != nil {
			return zuora.Credentials{}, fmt.Errorf("secret %s %w", secretID, err)
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
		return zuora.Credentials{}, errors.New("is empty")
	}
	if !strings.HasPrefix(s, "{") {
		if strings.ContainsAny(s, " \t\r\n\"") {
			return zuora.Credentials{}, errors.New("is neither JSON nor a bare token")
		}
		return zuora.Credentials{AccessToken: s}, nil
	}
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		AccessToken  string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return zuora.Credentials{}, errors.New("is not valid JSON")
	}
	switch {
	case v.ClientID != "" && v.ClientSecret != "":
		return zuora.Credentials{ClientID: v.ClientID, ClientSecret: v.ClientSecret}, nil
	case v.AccessToken != "":
		return zuora.Credentials{AccessToken: v.AccessToken}, nil
	}
	return zuora.Credentials{}, errors.New(`has neither "client_id" and "client_secret" nor "access_token"`)
}

// calloutSecret reads the keys that verify Zuora's callouts from
// CALLOUT_SECRET_ID: {"hmacKey": "..."}, {"username": "...", "password":
// "..."}, or both. The handler caches them and re-reads them when a
// callout does not match.
type calloutSecret struct {
	api secretsAPI
	id  string
}

func (c calloutSecret) CalloutKeys(ctx context.Context) (handler.CalloutKeys, error) {
	out, err := c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &c.id})
	if err != nil {
		return handler.CalloutKeys{}, fmt.Errorf("reading secret %s: %w", c.id, err)
	}
	var v struct {
		HMACKey  string `json:"hmacKey"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &v) != nil {
		return handler.CalloutKeys{}, fmt.Errorf("secret %s is not a JSON object", c.id)
	}
	if (v.Username == "") != (v.Password == "") {
		return handler.CalloutKeys{}, fmt.Errorf(`secret %s has one of "username" and "password" without the other`, c.id)
	}
	keys := handler.CalloutKeys{Username: v.Username, Password: v.Password}
	if v.HMACKey != "" {
		keys.HMACKey = []byte(v.HMACKey)
	}
	return keys, nil
}
