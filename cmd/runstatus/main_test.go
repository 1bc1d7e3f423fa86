package main

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/example/zuora-runstatus/handler"
)

// setup refuses bad configuration with a ConfigError naming the variable, so
// main's one log line says what to fix; good configuration builds a handler
// without calling anything.
func TestSetup(t *testing.T) {
	base := map[string]string{
		"ZUORA_BASE_URL":  "https://rest.apisandbox.zuora.com",
		"ZUORA_SECRET_ID": "zuora/mediation",
		"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
		// What Lambda sets.
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN":     "token",
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tests := []struct{ variable, value string }{
		{"", ""},
		{"ZUORA_BASE_URL", "http://rest.zuora.com"}, // plain http to a non-loopback host
		{"ZUORA_BASE_URL", "rest.zuora.com"},
		{"ZUORA_SECRET_ID", ""},
		{"ALERT_ON", "BROKEN"},
		{"AWS_REGION", ""},
		{"AWS_ACCESS_KEY_ID", ""},
		{"AWS_ENDPOINT_URL", "localhost:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			if tt.variable != "" {
				env[tt.variable] = tt.value
			}
			h, err := setup(func(k string) string { return env[k] }, log)
			if tt.variable == "" {
				if err != nil || h == nil {
					t.Fatalf("good configuration: %v", err)
				}
				return
			}
			var ce *handler.ConfigError
			if !errors.As(err, &ce) || ce.Variable != tt.variable {
				t.Errorf("err = %v, want a ConfigError naming %s", err, tt.variable)
			}
		})
	}
}
