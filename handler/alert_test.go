package handler

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
)

// messageAbout is a message reporting r.
func messageAbout(t *testing.T, event string, r Result, resolves *memory.Resolution) memory.Message {
	t.Helper()
	report, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return memory.Message{Event: event, ID: deduplicationID(r), Report: report, Resolves: resolves}
}

func TestAlertSubjectFitsSNS(t *testing.T) {
	if got := alertSubject(123, "0.0.1", "FAILED"); got != "Zuora meter 123 version 0.0.1: FAILED" {
		t.Errorf("subject = %q", got)
	}
	long := alertSubject(9223372036854775807, strings.Repeat("v", 64), "CONSUME_COMPLETED")
	if len(long) != 100 || !strings.HasSuffix(long, "...: CONSUME_COMPLETED") || !strings.HasPrefix(long, "Zuora meter 9223372036854775807 version vvv") {
		t.Errorf("long subject (%d) = %q", len(long), long)
	}
}

func TestAlertAttributesAndFIFO(t *testing.T) {
	r := Result{MeterID: 102, Version: "0.0.1", Status: "FAILED", StatusCode: 8, TrackID: "req-1",
		CheckedAt: time.Now(), ZuoraRequestID: "a", Alert: &AlertOutcome{Published: true}}
	a, _, err := newAlert("arn:aws:sns:us-east-1:123456789012:alerts", messageAbout(t, memory.EventAlert, r, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []MessageAttribute{{"meterId", "Number", "102"}, {"version", "String", "0.0.1"}, {"status", "String", "FAILED"},
		{"statusCode", "Number", "8"}, {"event", "String", "alert"}}
	if !equalJSON(t, a.Attributes, want) || a.GroupID != "" || a.DeduplicationID != "" || strings.Contains(a.Message, `"alert"`) {
		t.Errorf("standard alert = %+v", a)
	}

	fifoAlert := func(r Result) Alert {
		t.Helper()
		a, _, err := newAlert("arn:aws:sns:us-east-1:123456789012:alerts.fifo", messageAbout(t, memory.EventAlert, r, nil))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a1 := fifoAlert(r)
	retried := r
	retried.CheckedAt, retried.ZuoraRequestID = r.CheckedAt.Add(time.Minute), "b"
	a2 := fifoAlert(retried)
	other := r
	other.TrackID = "req-2"
	a3 := fifoAlert(other)
	if a1.GroupID != "102:0.0.1" || a1.DeduplicationID == "" || len(a1.DeduplicationID) > 128 {
		t.Errorf("fifo alert = %+v", a1)
	}
	if a1.DeduplicationID != a2.DeduplicationID {
		t.Errorf("the same observation retried got another deduplication id")
	}
	if a1.DeduplicationID == a3.DeduplicationID {
		t.Errorf("another invocation got the same deduplication id")
	}
}

// Reminders and resolutions say what they are in the subject and the event
// attribute; a resolution's message says what it resolves.
func TestReminderAndResolution(t *testing.T) {
	since := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	failed := Result{MeterID: 102, Version: "0.0.1", Status: "FAILED", StatusCode: 8}
	completed := Result{MeterID: 102, Version: "0.0.1", Status: "COMPLETED", StatusCode: 7, Terminal: true}
	tests := []struct {
		p           memory.Message
		subject     string
		resolvesFor string
	}{
		{messageAbout(t, memory.EventReminder, failed, nil), "Zuora meter 102 version 0.0.1: still FAILED", ""},
		{messageAbout(t, memory.EventResolved, completed, &memory.Resolution{Status: "FAILED", Since: since}),
			"Zuora meter 102 version 0.0.1: resolved (COMPLETED)", `"resolves":{"status":"FAILED","since":"2026-11-28T09:00:00Z"}`},
	}
	for _, tt := range tests {
		a, _, err := newAlert("arn:aws:sns:us-east-1:123456789012:alerts", tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if a.Subject != tt.subject || a.Attributes[4] != (MessageAttribute{"event", "String", tt.p.Event}) {
			t.Errorf("%s: subject %q, attributes %v", tt.p.Event, a.Subject, a.Attributes)
		}
		if strings.Contains(a.Message, `"resolves"`) != (tt.resolvesFor != "") || !strings.Contains(a.Message, tt.resolvesFor) {
			t.Errorf("%s: message %s", tt.p.Event, a.Message)
		}
	}
}
