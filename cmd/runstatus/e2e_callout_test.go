package main

// Zuora's Meter Session Status Change callouts, end to end: the simulator's
// notifier (signed, with a notification id, retried as Zuora retries) →
// the local HTTP API → the real bootstrap → moto.

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eCalloutReply is the function's answer to a callout.
type e2eCalloutReply struct {
	Received  bool
	Duplicate bool
	Stale     bool
	Results   []e2eResult
	Error     *struct{ Type, Message string }
}

func e2eDeliver(t *testing.T, n *zuoratest.Notifier, id string, body string) (int, e2eCalloutReply) {
	t.Helper()
	d, err := n.Deliver(t.Context(), id, []byte(body))
	e2eMust(t, err)
	var r e2eCalloutReply
	if err := json.Unmarshal(d.Body, &r); err != nil {
		t.Fatalf("callout %s: reply %s: %v", body, d.Body, err)
	}
	return d.Statuses[len(d.Statuses)-1], r
}

// e2eSession is a callout body of a session that was RUNNING before.
func e2eSession(meter int64, session, status, version string) string {
	return e2eBody(zuoratest.SessionEvent{MeterID: meter, SessionID: session, Status: status, PreviousStatus: "RUNNING", RunType: "NORMAL", Version: version})
}

// e2eBody is ev as Zuora's callout template sends it.
func e2eBody(ev zuoratest.SessionEvent) string {
	b, _ := json.Marshal(ev) // a struct of strings and an int64
	return string(b)
}

// One page per failed session with its session id, Zuora's retry answered
// duplicate, a later poll of the same FAILED quiet, a resolution; no Zuora
// call for any callout.
func TestCalloutsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.Sim.SetMeter(501, "0.0.1", zuoratest.Step{Status: 8})
	n := s.CalloutNotifier()
	calls := s.Sim.Stats().RunStatusCalls
	steps := []struct{ id, body, want string }{
		{"n1", e2eSession(501, "R-1", "FAILED", ""), "alert"},
		{"n1", e2eSession(501, "R-1", "FAILED", ""), "duplicate"},
		{"n2", e2eSession(501, "R-2", "FAILED", ""), "alert"},
		{"n3", e2eSession(501, "R-3", "COMPLETED", ""), "resolved"},
	}
	for _, st := range steps {
		status, r := e2eDeliver(t, n, st.id, st.body)
		got := "none"
		switch {
		case r.Duplicate:
			got = "duplicate"
		case len(r.Results) == 1 && r.Results[0].Alert != nil:
			got = r.Results[0].Alert.Event
		}
		if status != 200 || !r.Received || got != st.want {
			t.Errorf("%s %s: %d %+v, want %s", st.id, st.body, status, r, st.want)
		}
	}
	if got := s.Sim.Stats().RunStatusCalls; got != calls {
		t.Errorf("the callouts made %d Zuora calls", got-calls)
	}
	alerts, err := s.DrainAlerts(t.Context())
	e2eMust(t, err)
	if len(alerts) != 3 {
		t.Fatalf("%d messages, want 2 alerts and a resolution", len(alerts))
	}
	for i, session := range []string{"R-1", "R-2", "R-3"} {
		msg := e2eDecode[map[string]any](t, []byte(alerts[i].Message))
		if msg["sessionId"] != session || msg["source"] != "callout" || msg["runType"] != "NORMAL" || msg["version"] != "0.0.1" {
			t.Errorf("message %d: %s", i+1, alerts[i].Message)
		}
	}

	// A poll that sees FAILED after a callout's FAILED stays quiet.
	e2eDeliver(t, n, "n4", e2eSession(501, "R-4", "FAILED", ""))
	e2eMust(t, drainOne(t, s))
	if r := e2eInvoke(t, s, `{"meterId": 501, "version": "0.0.1"}`); r.Failed() || e2eDecode[e2eResult](t, r.Body).Alert != nil {
		t.Errorf("a poll after the callout: %s", r.Body)
	}
	if strings.Contains(s.FunctionLog(), "local-callout-key") {
		t.Error("the function logged the HMAC key")
	}
}

// drainOne wants exactly one message on the topic.
func drainOne(t *testing.T, s *localstack.Stack) error {
	t.Helper()
	alerts, err := s.DrainAlerts(t.Context())
	if err == nil && len(alerts) != 1 {
		t.Errorf("%d messages, want 1", len(alerts))
	}
	return err
}

// Refused without the signature or with a wrong one: 401, nothing stored
// (not a DynamoDB call) or published. Basic credentials when the secret
// holds them. 400 for a body that is not the shape.
func TestCalloutAuthEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	good := s.CalloutNotifier()
	unsigned, forged := *good, *good
	unsigned.HMACKey, forged.HMACKey = nil, []byte("forged")
	stop, err := s.RecordAWSCalls(t.Context())
	e2eMust(t, err)
	for name, n := range map[string]*zuoratest.Notifier{"unsigned": &unsigned, "forged": &forged} {
		if status, r := e2eDeliver(t, n, "", e2eSession(502, "R-1", "FAILED", "0.0.1")); status != 401 || r.Error == nil || r.Error.Type != "CalloutUnauthorized" {
			t.Errorf("%s: %d %+v", name, status, r)
		}
	}
	calls, err := stop(t.Context())
	e2eMust(t, err)
	if reads, writes := localstack.DynamoDBCalls(calls); reads+writes != 0 {
		t.Errorf("refused callouts made %d DynamoDB reads and %d writes", reads, writes)
	}
	if !slices.ContainsFunc(calls, func(c localstack.AWSCall) bool { return c.Op == "SecretsManager.GetSecretValue" }) {
		t.Errorf("the recorder did not see the callout secret read: %+v", calls)
	}
	if alerts, err := s.DrainAlerts(t.Context()); err != nil || len(alerts) != 0 {
		t.Errorf("refused callouts published %d messages (%v)", len(alerts), err)
	}
	for _, body := range []string{`{"meterId": 502}`, `{"meterId": "x", "sessionId": "R", "status": "FAILED"}`, `[1]`} {
		if status, r := e2eDeliver(t, good, "", body); status != 400 || r.Error.Type != "InvalidRequest" {
			t.Errorf("%s: %d %+v", body, status, r)
		}
	}

	e2eMust(t, s.PutCalloutSecret(t.Context(), `{"username": "zuora", "password": "pa55"}`))
	e2eMust(t, s.Restart(t.Context(), nil))
	basic := *good
	basic.HMACKey, basic.Username, basic.Password = nil, "zuora", "pa55"
	if status, _ := e2eDeliver(t, &basic, "", e2eSession(502, "R-1", "RUNNING", "0.0.1")); status != 200 {
		t.Errorf("Basic credentials: %d", status)
	}
	if status, _ := e2eDeliver(t, good, "", e2eSession(502, "R-1", "RUNNING", "0.0.1")); status != 401 {
		t.Errorf("HMAC alone when the secret wants Basic: %d", status)
	}
}

// Without a version, a callout applies to the meter's watched versions, or
// to 0.0.1.
func TestCalloutVersionsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	for _, path := range []string{"/meters/503/1.0/watch", "/meters/503/2.0/watch"} {
		e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", path, nil))
	}
	n := s.CalloutNotifier()
	for body, want := range map[string]string{
		e2eSession(503, "R-1", "RUNNING", ""):    "1.0,2.0",
		e2eSession(503, "R-1", "RUNNING", "3.0"): "3.0",
		e2eSession(504, "R-1", "RUNNING", ""):    "0.0.1",
	} {
		_, r := e2eDeliver(t, n, "", body)
		var got []string
		for _, res := range r.Results {
			got = append(got, res.Version)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: versions %v, want %s", body, got, want)
		}
	}
}

// SNS refuses the page: 503, which Zuora retries; the retry, in a new
// container, publishes the owed page once.
func TestCalloutRetryEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	once := s.CalloutNotifier()
	once.Attempts = 1
	body := e2eSession(505, "R-1", "FAILED", "0.0.1")
	if status, r := e2eDeliver(t, once, "n1", body); status != 503 || r.Error.Type != "AlertPublishFailed" {
		t.Fatalf("SNS refusing: %d %+v", status, r)
	}
	e2eMust(t, s.Restart(context.WithoutCancel(t.Context()), nil))
	for range 2 {
		if status, _ := e2eDeliver(t, once, "n1", body); status != 200 {
			t.Errorf("Zuora's retry: %d", status)
		}
	}
	e2eMust(t, drainOne(t, s))
}
