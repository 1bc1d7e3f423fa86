package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora"
)

// newTestSecrets creates secrets in Secrets Manager as moto serves it, each
// id with its string (nil: a binary secret), and returns the client.
func newTestSecrets(t *testing.T, values map[string]*string) *secretsmanager.Client {
	m := localstack.MotoForTest(t)
	api := secretsmanager.NewFromConfig(m.Config)
	for id, v := range values {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: v}
		if v == nil {
			in.SecretBinary = []byte{0x5a, 0x00}
		}
		if _, err := api.CreateSecret(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	return api
}

func TestZuoraCredentials(t *testing.T) {
	secrets := newTestSecrets(t, map[string]*string{
		"zuora/oauth":     aws.String(`{"client_id": "id", "client_secret": "s3cr3t"}`),
		"zuora/malformed": aws.String(`{"nothing": "s3cr3t"}`),
		"zuora/binary":    nil,
	})
	c, err := ZuoraCredentials(secrets, "zuora/oauth")(context.Background())
	if err != nil || c != (zuora.Credentials{ClientID: "id", ClientSecret: "s3cr3t"}) {
		t.Errorf("oauth secret: %+v, %v", c, err)
	}
	for id, want := range map[string]string{
		"zuora/malformed": "zuora/malformed has neither",
		"zuora/binary":    "no SecretString",
		"zuora/missing":   "ResourceNotFoundException",
	} {
		_, err := ZuoraCredentials(secrets, id)(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: error %v, want one naming %q without the secret's value", id, err, want)
		}
	}
	var nf *smtypes.ResourceNotFoundException
	if _, err := ZuoraCredentials(secrets, "zuora/missing")(context.Background()); !errors.As(err, &nf) {
		t.Errorf("missing secret: %v does not wrap the SDK's error", err)
	}
}

func TestCalloutSecret(t *testing.T) {
	secrets := newTestSecrets(t, map[string]*string{
		"hmac":     aws.String(`{"hmacKey": "k3y"}`),
		"basic":    aws.String(`{"username": "zuora", "password": "pa55"}`),
		"both":     aws.String(`{"hmacKey": "k3y", "username": "zuora", "password": "pa55"}`),
		"half":     aws.String(`{"username": "zuora"}`),
		"not-json": aws.String(`k3y`),
	})
	for id, want := range map[string]callout.Keys{
		"hmac":  {HMACKey: []byte("k3y")},
		"basic": {Username: "zuora", Password: "pa55"},
		"both":  {HMACKey: []byte("k3y"), Username: "zuora", Password: "pa55"},
	} {
		got, err := CalloutKeys{secrets, id}.CalloutKeys(context.Background())
		if err != nil || string(got.HMACKey) != string(want.HMACKey) || got.Username != want.Username || got.Password != want.Password {
			t.Errorf("%s: %+v, %v", id, got, err)
		}
	}
	for _, id := range []string{"half", "not-json", "missing"} {
		if _, err := (CalloutKeys{secrets, id}).CalloutKeys(context.Background()); err == nil || strings.Contains(err.Error(), "k3y") {
			t.Errorf("%s: %v, want an error that does not quote the secret", id, err)
		}
	}
}
