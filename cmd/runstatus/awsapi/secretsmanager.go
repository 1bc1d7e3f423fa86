package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// SecretString returns the SecretString of the secret's current version
// (Secrets Manager GetSecretValue). secretID is its name or ARN.
func (c *Client) SecretString(ctx context.Context, secretID string) (string, error) {
	in, err := json.Marshal(struct {
		SecretID string `json:"SecretId"`
	}{secretID})
	if err != nil {
		return "", err
	}
	body, err := c.call(ctx, request{
		service:   secretsManagerService,
		operation: "GetSecretValue",
		endpoint:  c.cfg.SecretsManagerEndpoint,
		header: map[string]string{
			"Content-Type": "application/x-amz-json-1.1",
			"X-Amz-Target": "secretsmanager.GetSecretValue",
		},
		body:        in,
		decodeError: decodeJSONError,
	})
	if err != nil {
		return "", err
	}
	var out struct {
		SecretString *string
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("secretsmanager GetSecretValue: the answer is not JSON: %w", err)
	}
	if out.SecretString == nil {
		return "", errors.New("secretsmanager GetSecretValue: the secret has no SecretString (binary secrets are not supported)")
	}
	return *out.SecretString, nil
}
