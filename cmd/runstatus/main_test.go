package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
)

// setup refuses bad configuration with a ConfigError naming the variable, so
// main's one log line says what to fix; good configuration builds a handler
// without calling anything.
func TestSetup(t *testing.T) {
	// What Lambda sets, and nothing of this machine's own AWS configuration.
	lambdaEnv := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token", "AWS_ENDPOINT_URL": "", "AWS_PROFILE": "", "AWS_CA_BUNDLE": "",
		"AWS_CONFIG_FILE":             filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tests := []struct{ variable, value string }{
		{"", ""},
		{"ZUORA_BASE_URL", "http://rest.zuora.com"},
		{"ZUORA_SECRET_ID", ""},
		{"ALERT_ON", "BROKEN"},
		{"AWS_REGION", ""},
		{"AWS_ENDPOINT_URL", "localhost:5000"},
		{"AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			env := baseEnv()
			for k, v := range lambdaEnv {
				t.Setenv(k, v)
			}
			if _, ours := env[tt.variable]; ours || tt.variable == "ALERT_ON" {
				env[tt.variable] = tt.value
			} else if tt.variable != "" {
				t.Setenv(tt.variable, tt.value)
			}
			h, err := setup(context.Background(), envOf(env), log)
			if tt.variable == "" {
				if err != nil || h == nil {
					t.Fatalf("good configuration: %v", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != tt.variable {
				t.Errorf("err = %v, want a ConfigError naming %s", err, tt.variable)
			}
		})
	}
}
