package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/trigger"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func baseEnv() map[string]string {
	return map[string]string{
		"ZUORA_BASE_URL":  "https://rest.zuora.com",
		"ZUORA_SECRET_ID": "zuora/prod",
		"ALERT_TOPIC_ARN": testTopic,
	}
}

const testTopic = "arn:aws:sns:us-east-1:123456789012:alerts"

func TestLoadConfig(t *testing.T) {
	env := baseEnv()
	env["ALERT_ON"] = " failed, PAUSED ,"
	env["WATCH_METERS"] = "123:0.0.1, 456:0.0.2"
	env["ZUORA_ORG_IDS"] = "o1,o2"
	env["BATCH_CONCURRENCY"] = "8"
	env["ZUORA_BASE_URL"] = "https://rest.zuora.com/"
	s, err := loadSettings(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	c := s.handler
	if strings.Join(c.AlertOn, ",") != "FAILED,PAUSED" || len(c.WatchMeters) != 2 || c.WatchMeters[1] != (memory.Meter{MeterID: 456, Version: "0.0.2"}) ||
		c.OrgIDs != "o1,o2" || c.BatchConcurrency != 8 || s.baseURL != "https://rest.zuora.com" || s.secretID != "zuora/prod" {
		t.Errorf("settings = %+v", s)
	}

	s, err = loadSettings(envOf(baseEnv()))
	if c := s.handler; err != nil || strings.Join(c.AlertOn, ",") != "FAILED" || c.BatchConcurrency != 32 || c.WatchMeters != nil ||
		c.TopicARN != testTopic || s.stateTable != "" || c.RepeatAfter != 0 || !c.NotifyResolved {
		t.Errorf("defaults = %+v, %v", s, err)
	}

	env = baseEnv()
	env["STATE_TABLE"] = "zuora-runstatus-StateTable-1A2B3C4D5E6F"
	env["ALERT_REPEAT_AFTER"] = "24h"
	env["NOTIFY_RESOLVED"] = "false"
	s, err = loadSettings(envOf(env))
	if err != nil || s.stateTable != env["STATE_TABLE"] || s.handler.RepeatAfter != 24*time.Hour || s.handler.NotifyResolved {
		t.Errorf("memory settings = %+v, %v", s, err)
	}
	// Every spelling of a zero duration is "off".
	for _, off := range []string{"0", "0s", "0h", "0m0s"} {
		env["ALERT_REPEAT_AFTER"] = off
		if s, err := loadSettings(envOf(env)); err != nil || s.handler.RepeatAfter != 0 {
			t.Errorf("ALERT_REPEAT_AFTER=%s: %+v, %v; want off", off, s.handler.RepeatAfter, err)
		}
	}
	env["STATE_TABLE"] = "arn:aws:dynamodb:us-east-1:123456789012:table/zuora-state"
	env["CALLOUT_SECRET_ID"] = "zuora/callouts"
	if s, err := loadSettings(envOf(env)); err != nil || s.stateTable != env["STATE_TABLE"] || s.calloutID != "zuora/callouts" {
		t.Errorf("table ARN and callout secret: %+v, %v", s, err)
	}
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct{ variable, value string }{
		{"ZUORA_BASE_URL", ""},
		{"ZUORA_BASE_URL", "http://rest.zuora.com"}, // plain http to a non-loopback host
		{"ZUORA_BASE_URL", "rest.zuora.com"},
		{"ZUORA_SECRET_ID", ""},
		{"ALERT_TOPIC_ARN", ""},
		{"ALERT_TOPIC_ARN", "alerts"},
		{"ALERT_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:alerts"},
		{"ALERT_ON", "FAILD"},
		{"ALERT_ON", " , "},
		{"WATCH_METERS", "123"},
		{"WATCH_METERS", "x:0.0.1"},
		{"WATCH_METERS", "1:../etc"},
		{"WATCH_METERS", strings.Repeat("1:a,", trigger.MaxBatch+1)},
		{"ZUORA_ENTITY_IDS", "a\nb"},
		{"BATCH_CONCURRENCY", "0"},
		{"BATCH_CONCURRENCY", "many"},
		{"STATE_TABLE", "a b"},
		{"STATE_TABLE", "arn:aws:sns:us-east-1:123456789012:table/x"},
		{"ALERT_REPEAT_AFTER", "1d"},
		{"ALERT_REPEAT_AFTER", "5s"},
		{"ALERT_REPEAT_AFTER", "24h"}, // without STATE_TABLE
		{"NOTIFY_RESOLVED", "maybe"},
		{"CALLOUT_SECRET_ID", "zuora/callouts"}, // without STATE_TABLE
		{"STUCK_AFTER", "6h"},                   // without STATE_TABLE
		{"STUCK_AFTER", "500ms"},
		{"STUCK_AFTER", "six hours"},
		{"STUCK_FACTOR", "0.5"},
		{"STUCK_FACTOR", "101"},
		{"STUCK_FACTOR", "three"},
		{"STUCK_FACTOR", "NaN"}, // NaN compares false with every bound
		{"STUCK_FACTOR", "+Inf"},
		{"ALERT_LINK", "http://zuora.example.com/meters/{meterId}"},
		{"ALERT_LINK", "zuora.example.com"},
		{"ALERT_DETAILS", "sometimes"},
		{"WIDGET_ACTIONS", "yes please"},
	}
	stuck := baseEnv()
	stuck["STATE_TABLE"], stuck["STUCK_AFTER"], stuck["STUCK_FACTOR"] = "zuora-state", "6h", "2.5"
	stuck["ALERT_LINK"], stuck["ALERT_DETAILS"], stuck["WIDGET_ACTIONS"] = "https://zuora.example.com/meters/{meterId}", "false", "true"
	if s, err := loadSettings(envOf(stuck)); err != nil || s.handler.StuckAfter != 6*time.Hour || s.handler.StuckFactor != 2.5 ||
		s.handler.AlertDetails || s.handler.AlertLink == "" || !s.handler.WidgetActions {
		t.Errorf("stuck runs and alerts: %+v, %v", s.handler, err)
	}
	withTable := baseEnv()
	withTable["STATE_TABLE"], withTable["ALERT_ON"] = "zuora-state", "FAILED,UNKNOWN"
	if _, err := loadSettings(envOf(withTable)); err == nil || !strings.Contains(err.Error(), "ALERT_ON") {
		t.Errorf("UNKNOWN in ALERT_ON with STATE_TABLE: %v, want a ConfigError naming ALERT_ON", err)
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value[:min(len(tt.value), 20)], func(t *testing.T) {
			env := baseEnv()
			env[tt.variable] = tt.value
			_, err := loadSettings(envOf(env))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Variable != tt.variable || ce.Problem == "" {
				t.Errorf("err = %v, want a ConfigError naming %s", err, tt.variable)
			}
		})
	}
}
