package main

// Alerts people can act on, end to end: a failed run's page says why, from
// Zuora's summary and audit trail as the simulator scripts them, within its
// budget whatever Zuora does, and never with a customer's record in it.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eDetails is the contract's "details" object, as a subscriber reads it.
type e2eDetails struct {
	SessionID string `json:"sessionId"`
	Records   *struct{ Output, Errors int64 }
	TopErrors []struct {
		ErrorCode string `json:"errorCode"`
		Count     int64  `json:"count"`
	} `json:"topErrors"`
	Operators []struct {
		ID     string `json:"id"`
		Errors int64  `json:"errors"`
	} `json:"operators"`
	Samples []struct {
		ErrorCode, ErrorMessage, OperatorName, OperatorType string
	} `json:"samples"`
}

// e2eRun is a failed session of meter with n records in error at one
// operator, with code.
func e2eRun(session string, start time.Time, code string, n int64) zuoratest.Run {
	return zuoratest.Run{SessionID: session, Start: start, End: start.Add(20 * time.Minute), Output: 1000,
		Errors: []zuoratest.ErrorGroup{{Code: code, Message: "records of " + session + " failed", OperatorID: "op-" + session,
			OperatorName: "Rating", OperatorType: "BILLING-RATING", Count: n}}}
}

// e2eSentFor is the one message the function sent to SNS for meter.
func e2eSentFor(t *testing.T, sent []localstack.Sent, meter int64) localstack.Sent {
	t.Helper()
	var found []localstack.Sent
	for _, m := range sent {
		if m.Attributes["meterId"] == fmt.Sprint(meter) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d messages sent for meter %d, want 1", len(found), meter)
	}
	return found[0]
}

// A FAILED transition seen by a poll and one told by a callout: each page
// carries the counts, top errors, operators and samples the simulator
// scripted, the callout's of its own session only; an e-mail and an SMS a
// person reads; no record's payload anywhere.
func TestAlertDetailsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	now := time.Now().UTC()
	s.Sim.SetMeter(801, "0.0.1", zuoratest.Step{Status: 8})
	s.Sim.SetRuns(801, e2eRun("R-801", now.Add(-time.Hour), "1000002", 240))
	s.Sim.SetRuns(802, e2eRun("R-old", now.Add(-3*time.Hour), "70002011", 5), e2eRun("R-new", now.Add(-time.Hour), "53100320", 77))

	poll := e2eInvoke(t, s, `{"meterId": 801, "version": "0.0.1"}`)
	status, callout := e2eDeliver(t, s.CalloutNotifier(), "d-802", e2eSession(802, "R-new", "FAILED", "0.0.1"))
	if poll.Failed() || status != 200 {
		t.Fatalf("poll %s; callout %d %+v", poll.Body, status, callout)
	}
	sent := s.SentMessages()
	for _, tt := range []struct {
		meter          int64
		session, code  string
		errors         int64
		fromPollWindow bool
	}{{801, "", "1000002", 240, true}, {802, "R-new", "53100320", 77, false}} {
		m := e2eSentFor(t, sent, tt.meter)
		var msg struct {
			Details      *e2eDetails
			DetailsError string
			Link         string
		}
		e2eMust(t, json.Unmarshal([]byte(m.Default), &msg))
		d := msg.Details
		if d == nil || msg.DetailsError != "" || d.SessionID != tt.session || d.Records == nil || d.Records.Errors != tt.errors ||
			len(d.TopErrors) != 1 || d.TopErrors[0].ErrorCode != tt.code || len(d.Operators) != 1 || len(d.Samples) != 3 ||
			d.Samples[0].OperatorName != "Rating" || !strings.Contains(msg.Link, fmt.Sprint(tt.meter)) {
			t.Errorf("meter %d: %s", tt.meter, m.Default)
		}
		for _, want := range []string{"Records: " + fmt.Sprint(tt.errors) + " in error", tt.code, "Rating (op-", "Sample errors (3)", "To quote to Zuora", "Next:"} {
			if !strings.Contains(m.Email, want) {
				t.Errorf("meter %d: the e-mail lacks %q:\n%s", tt.meter, want, m.Email)
			}
		}
		if m.MessageStructure != "json" || m.SMS != fmt.Sprintf("Zuora meter %d v0.0.1 FAILED: %d records in error", tt.meter, tt.errors) {
			t.Errorf("meter %d: structure %q, SMS %q", tt.meter, m.MessageStructure, m.SMS)
		}
	}
	res := e2eDecode[struct {
		Alert *struct{ Details *e2eDetails }
	}](t, poll.Body)
	if res.Alert == nil || res.Alert.Details == nil || res.Alert.Details.Records.Errors != 240 {
		t.Errorf("the check's alert does not carry the details: %s", poll.Body)
	}
	e2eNoPayload(t, s, sent, string(poll.Body), fmt.Sprint(callout))
}

// e2eNoPayload wants the simulator's payload marker in no message, no
// e-mail or SMS text, no log line and no reply.
func e2eNoPayload(t *testing.T, s *localstack.Stack, sent []localstack.Sent, replies ...string) {
	t.Helper()
	texts := append([]string{s.FunctionLog()}, replies...)
	for _, m := range sent {
		texts = append(texts, m.Default, m.Email, m.SMS, m.Subject)
	}
	for _, text := range texts {
		if strings.Contains(text, zuoratest.PayloadMarker) {
			t.Fatalf("a customer's record reached a message, a log or a reply: %.300s", text)
		}
	}
}

// Zuora cannot say why: the summary answers 500, or slower than the
// budget, or the container's breaker is open. The page goes out anyway,
// within 3.5 s of the check, saying what is missing, after two Zuora calls
// at most. The 3.5 s run from when the function began to explain the
// alert (its log says when, and for how long): before that it reads and
// claims in DynamoDB, which a loaded test machine's moto can make take
// seconds, but which no real table, and no Zuora outage, does.
func TestAlertDetailsFailuresEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	n := s.CalloutNotifier()
	now := time.Now().UTC()
	for i, tt := range []struct {
		name   string
		fault  zuoratest.Fault
		before func()
	}{
		{"summary 500", zuoratest.Fault{HTTPStatus: 500}, nil},
		{"slower than the budget", zuoratest.Fault{Latency: 10 * time.Second}, nil},
		{"breaker open", zuoratest.Fault{}, func() {
			// Three checks of three 503s each open the container's breaker.
			s.Sim.SetMeter(819, "0.0.1", zuoratest.Step{HTTPStatus: 503})
			for range 3 {
				e2eInvoke(t, s, `{"meterId": 819, "version": "0.0.1"}`)
			}
		}},
	} {
		meter := int64(811 + i)
		s.Sim.SetRuns(meter, e2eRun("R-1", now.Add(-time.Hour), "1000002", 10))
		s.Sim.SetSummaryFault(tt.fault)
		if tt.before != nil {
			tt.before()
		}
		s.SentMessages()
		before := s.Sim.Stats()
		start := time.Now()
		status, r := e2eDeliver(t, n, fmt.Sprintf("f-%d", meter), e2eSession(meter, "R-1", "FAILED", "0.0.1"))
		after := s.Sim.Stats()
		calls := after.SummaryCalls - before.SummaryCalls + after.AuditCalls - before.AuditCalls
		sent := s.SentMessages()
		took, explainedFor := time.Duration(0), time.Duration(0)
		if len(sent) == 1 {
			var explaining time.Time
			explaining, explainedFor = e2eExplaining(t, s, meter)
			took = sent[0].At.Sub(explaining) // from the check's explaining to the page reaching SNS
		}
		if status != 200 || len(sent) != 1 || took > 3500*time.Millisecond || explainedFor > alert.Budget+200*time.Millisecond || calls > 2 ||
			!strings.Contains(sent[0].Default, `"detailsError":"Zuora`) || !strings.Contains(sent[0].Email, "incomplete") {
			t.Errorf("%s: HTTP %d in %s, %d Zuora calls, %d messages %+v; reply %+v", tt.name, status, took, calls, len(sent), sent, r)
		}
		t.Logf("%s: paged %s after the explaining began (%s after the delivery), which took %s and %d Zuora calls",
			tt.name, took.Round(time.Millisecond), sent[0].At.Sub(start).Round(time.Millisecond), explainedFor, calls)
	}
	s.Sim.SetSummaryFault()
}

// The longest version, session id and error message the simulator can
// produce still give an e-mail of at most 8 KB and an SMS of at most 140
// characters.
func TestAlertTextBoundsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	version, session := strings.Repeat("v", 64), strings.Repeat("S", 64)
	run := e2eRun(session, time.Now().Add(-time.Hour), strings.Repeat("9", 128), 1<<40)
	for i := range 6 {
		g := run.Errors[0]
		g.Code, g.OperatorID, g.Message = fmt.Sprintf("%0128d", i), fmt.Sprintf("op-%0124d", i), strings.Repeat("é", 2000)
		run.Errors = append(run.Errors, g)
	}
	s.Sim.SetRuns(9223372036854775807, run)
	body := fmt.Sprintf(`{"meterId": 9223372036854775807, "sessionId": %q, "status": "FAILED", "previousStatus": "CONSUME_COMPLETED", "runType": "NORMAL", "version": %q}`, session, version)
	if status, r := e2eDeliver(t, s.CalloutNotifier(), "long", body); status != 200 {
		t.Fatalf("%d %+v", status, r)
	}
	m := e2eSentFor(t, s.SentMessages(), 9223372036854775807)
	t.Logf("e-mail %d bytes, SMS %d characters: %s", len(m.Email), len(m.SMS), m.SMS)
	if len(m.Email) > 8<<10 || len(m.SMS) > 140 || !strings.Contains(m.Default, `"records"`) {
		t.Errorf("e-mail %d bytes, SMS %d characters, message %.200s", len(m.Email), len(m.SMS), m.Default)
	}
}

// A 500-meter batch in which 50 meters newly failed: the 50 pages say why,
// for at most 100 Zuora calls more than the batch's own 500. (Without
// STATE_TABLE every failure is new, and the test spends no time on moto.)
func TestAlertDetailsBatchEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, localstack.NoMemory(nil))
	batch := func(first int64) string {
		var items []string
		for id := first; id < first+500; id++ {
			status := 7
			if id%10 == 0 {
				status = 8
				s.Sim.SetRuns(id, e2eRun("R-1", time.Now().Add(-time.Hour), "1000002", 3))
			}
			s.Sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: status})
			items = append(items, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id))
		}
		return `{"meters": [` + strings.Join(items, ",") + `]}`
	}
	for _, first := range []int64{830000} {
		payload := batch(first)
		before := s.Sim.Stats()
		r := e2eInvoke(t, s, payload)
		after := s.Sim.Stats()
		explains := after.SummaryCalls - before.SummaryCalls + after.AuditCalls - before.AuditCalls
		b := e2eDecode[e2eBatch](t, r.Body)
		pages := len(s.SentMessages())
		t.Logf("batch from %d: %s, %d pages, %d run-status and %d more Zuora calls", first, r.Duration, pages,
			after.RunStatusCalls-before.RunStatusCalls, explains)
		if r.Failed() || b.Summary.ByStatus["FAILED"] != 50 || pages != 50 || explains > 100 {
			t.Errorf("batch from %d: %s %s, %d pages, %d calls to explain them", first, r.ErrorType, r.ErrorMessage, pages, explains)
		}
	}
}

// e2eExplaining is when the function began to explain meter's alert, and
// for how long it did, from its "alert details" log record.
func e2eExplaining(t *testing.T, s *localstack.Stack, meter int64) (time.Time, time.Duration) {
	t.Helper()
	for _, rec := range s.FunctionLogRecords() {
		if rec["message"] != "alert details" || rec["meterId"] != float64(meter) {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["timestamp"]))
		ms, ok := rec["ms"].(float64)
		if err != nil || !ok {
			t.Fatalf("alert details record: %v", rec)
		}
		d := time.Duration(ms) * time.Millisecond
		return at.Add(-d), d
	}
	t.Fatalf("no alert details logged for meter %d:\n%s", meter, s.FunctionLog())
	return time.Time{}, 0
}

// A Zuora-Notification-Id Zuora would refuse as a track id
// (over 64 characters, or with a colon) is not passed on as one, and a
// runType sent in lower case is read as Zuora's: the page's details come.
func TestCalloutTrackIDAndRunTypeEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	now := time.Now().UTC()
	s.Sim.SetRuns(806, e2eRun("R-806", now.Add(-time.Hour), "1000002", 12))
	id := "urn:zuora:notification:" + strings.Repeat("7", 90) // 113 characters, colons
	body := e2eBody(zuoratest.SessionEvent{MeterID: 806, SessionID: "R-806", Status: "FAILED", RunType: "normal", Version: "0.0.1"})
	status, r := e2eDeliver(t, s.CalloutNotifier(), id, body)
	if status != 200 || len(r.Results) != 1 || len(r.Results[0].TrackID) > 64 || strings.ContainsAny(r.Results[0].TrackID, `:;"'`) {
		t.Fatalf("callout: %d %+v, want one result with a track id Zuora takes", status, r)
	}
	var msg struct {
		RunType      string
		Details      *e2eDetails
		DetailsError string
	}
	e2eMust(t, json.Unmarshal([]byte(e2eSentFor(t, s.SentMessages(), 806).Default), &msg))
	if msg.RunType != "NORMAL" || msg.Details == nil || msg.DetailsError != "" || msg.Details.Records == nil || msg.Details.Records.Errors != 12 {
		t.Errorf("the page: runType %q, details %+v, detailsError %q", msg.RunType, msg.Details, msg.DetailsError)
	}
}

// With little of the invocation left after a slow check, the
// calls that explain the failure end early enough for the publish: the
// page goes out, saying its details are missing, instead of failing with
// AlertPublishFailed because the explaining used the publish's time.
func TestAlertDetailsLeavePublishTimeEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "6"})
	s.Sim.SetMeter(807, "0.0.1", zuoratest.Step{Status: 8, Latency: 3500 * time.Millisecond})
	s.Sim.SetRuns(807, e2eRun("R-807", time.Now().Add(-time.Hour), "1000002", 3))
	s.Sim.SetSummaryFault(zuoratest.Fault{Latency: 10 * time.Second})
	s.Sim.SetAuditFault(zuoratest.Fault{Latency: 10 * time.Second})
	r := e2eInvoke(t, s, `{"meterId": 807, "version": "0.0.1"}`)
	if r.Failed() {
		t.Fatalf("the check failed: %s: %s (%s)\n%s", r.ErrorType, r.ErrorMessage, r.Duration, s.FunctionLog())
	}
	res := e2eDecode[e2eResult](t, r.Body)
	if res.Alert == nil || !res.Alert.Published {
		t.Errorf("the page did not go out: %s", r.Body)
	}
	if m := e2eSentFor(t, s.SentMessages(), 807); !strings.Contains(m.Default, `"detailsError":"ZuoraUnavailable"`) {
		t.Errorf("the page does not say its details are missing: %s", m.Default)
	}
}

// A callout that applies to two watched versions explains
// their shared session once, and both pages say what they have: the same
// details, or the same detailsError, never neither because the first
// version's calls used up the budget counted from the callout's arrival.
func TestAlertDetailsSharedByVersionsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	for _, path := range []string{"/meters/808/1.0/watch", "/meters/808/2.0/watch"} {
		e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", path, nil))
	}
	s.Sim.SetRuns(808, e2eRun("R-808", time.Now().Add(-time.Hour), "1000002", 4))
	s.Sim.SetSummaryFault(zuoratest.Fault{Latency: 10 * time.Second}) // slower than the budget
	before := s.Sim.Stats()
	if status, r := e2eDeliver(t, s.CalloutNotifier(), "v-808", e2eSession(808, "R-808", "FAILED", "")); status != 200 || len(r.Results) != 2 {
		t.Fatalf("callout: %d %+v", status, r)
	}
	after := s.Sim.Stats()
	var pages []string
	for _, m := range s.SentMessages() {
		var msg struct {
			Details      *e2eDetails
			DetailsError string
		}
		e2eMust(t, json.Unmarshal([]byte(m.Default), &msg))
		if msg.Details == nil || msg.DetailsError != "ZuoraUnavailable" || len(msg.Details.Samples) != 3 {
			t.Errorf("version %s: details %+v, detailsError %q; want the samples and ZuoraUnavailable for the summary", m.Attributes["version"], msg.Details, msg.DetailsError)
		}
		pages = append(pages, m.Attributes["version"])
	}
	if calls := after.SummaryCalls - before.SummaryCalls + after.AuditCalls - before.AuditCalls; len(pages) != 2 || calls != 2 {
		t.Errorf("pages for versions %v after %d Zuora calls; want both after 2", pages, calls)
	}
}
