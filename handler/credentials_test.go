package handler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/zuora"
)

func TestParseSecret(t *testing.T) {
	tests := []struct {
		secret string
		want   zuora.Credentials
		bad    bool
	}{
		{`{"client_id": "id", "client_secret": "s3cr3t"}`, zuora.Credentials{ClientID: "id", ClientSecret: "s3cr3t"}, false},
		{`{"access_token": "tok"}`, zuora.Credentials{AccessToken: "tok"}, false},
		{`{"client_id": "id", "client_secret": "s", "access_token": "tok"}`, zuora.Credentials{ClientID: "id", ClientSecret: "s"}, false},
		{"  bare-token-123 \n", zuora.Credentials{AccessToken: "bare-token-123"}, false},
		{``, zuora.Credentials{}, true},
		{`{"client_id": "id"}`, zuora.Credentials{}, true},
		{`{"token": "s3cr3t"}`, zuora.Credentials{}, true},
		{`{"client_id": "id", "client_secret": `, zuora.Credentials{}, true},
		{`two words s3cr3t`, zuora.Credentials{}, true},
	}
	for _, tt := range tests {
		got, err := parseSecret(tt.secret)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSecret(%q) = %+v, %v", tt.secret, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error message quotes the secret: %v", err)
		}
	}
}

func TestSecretCredentialsErrors(t *testing.T) {
	load := SecretCredentials(secretFunc(func(id string) (string, error) {
		if id != "zuora/prod" {
			t.Errorf("read secret %q", id)
		}
		return `{"nothing": "here"}`, nil
	}), "zuora/prod")
	if _, err := load(context.Background()); !errors.Is(err, ErrSecretUnavailable) {
		t.Errorf("malformed secret: %v", err)
	}
	denied := errors.New("AccessDeniedException")
	load = SecretCredentials(secretFunc(func(string) (string, error) { return "", denied }), "zuora/prod")
	if _, err := load(context.Background()); !errors.Is(err, ErrSecretUnavailable) || !errors.Is(err, denied) {
		t.Errorf("unreadable secret: %v", err)
	}
}
