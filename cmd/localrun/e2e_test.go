package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The end-to-end tests hold the function to its contract through the real
// bootstrap under the runtime emulator, with moto for AWS and the Zuora
// simulator for Zuora. Unit tests of the same rules live in package handler.

// result is the contract's output object, declared here rather than taken
// from package handler so that these tests read the wire format as a caller
// does: a renamed JSON field in handler fails them.
type result struct {
	MeterID           int64   `json:"meterId"`
	Version           string  `json:"version"`
	Status            string  `json:"status"`
	StatusCode        int     `json:"statusCode"`
	StatusDescription string  `json:"statusDescription"`
	Terminal          bool    `json:"terminal"`
	Failed            bool    `json:"failed"`
	CheckedAt         string  `json:"checkedAt"`
	TrackID           string  `json:"trackId"`
	ZuoraRequestID    string  `json:"zuoraRequestId"`
	Alert             *outcom `json:"alert"`
}

type outcom struct {
	Published bool   `json:"published"`
	MessageID string `json:"messageId"`
}

type batch struct {
	Results []struct {
		result
		Error *struct{ Type, Message string } `json:"error"`
	} `json:"results"`
	Summary struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"byStatus"`
		Errors   int            `json:"errors"`
	} `json:"summary"`
}

type httpError struct {
	Error  struct{ Type, Message, ZuoraRequestID string } `json:"error"`
	Result *result                                        `json:"result"`
}

func decodeJSON[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func checkResult(t *testing.T, r result, id int64, version, status string) {
	t.Helper()
	if r.MeterID != id || r.Version != version || r.Status != status || r.ZuoraRequestID == "" || r.TrackID == "" {
		t.Errorf("result = %+v, want meter %d %s %s with Zuora's request id and a track id", r, id, version, status)
	}
	if _, err := time.Parse(time.RFC3339, r.CheckedAt); err != nil {
		t.Errorf("checkedAt %q: %v", r.CheckedAt, err)
	}
	if wantAlert := status == "FAILED"; (r.Alert != nil) != wantAlert || (wantAlert && (!r.Alert.Published || r.Alert.MessageID == "")) {
		t.Errorf("alert = %+v for %s", r.Alert, status)
	}
}

// TestEventsEndToEnd invokes the function with every sample in events/, in
// name order as `make run` does, and checks each reply and the alerts that
// reached the topic.
func TestEventsEndToEnd(t *testing.T) {
	s := newTestStack(t, nil)
	files, _ := filepath.Glob("../../events/*.json")
	sort.Strings(files)
	checked := map[string]bool{}
	published := map[string]bool{} // SNS message ids the replies report

	for _, f := range files {
		name := filepath.Base(f)
		if name == "env.json" {
			continue
		}
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := mustInvoke(t, s, string(payload))
		if r.Failed() {
			t.Errorf("%s: %s: %s", name, r.ErrorType, r.ErrorMessage)
			continue
		}
		checked[name] = true
		switch name {
		case "apigw-rest.json", "apigw-rest-proxy.json", "apigw-http.json", "function-url.json":
			h, ok := r.HTTP()
			if !ok || h.StatusCode != 200 || h.Headers["Content-Type"] != "application/json" {
				t.Errorf("%s: reply %s", name, r.Body)
				continue
			}
			res := decodeJSON[result](t, []byte(h.Body))
			want := map[string]struct {
				id            int64
				version, stat string
			}{
				"apigw-rest.json":       {102, "0.0.1", "FAILED"},
				"apigw-rest-proxy.json": {104, "2.0.0", "COMPLETED"},
				"apigw-http.json":       {101, "0.0.1", "RUNNING"}, // the first step of meter 101's script
				"function-url.json":     {105, "0.1.0", "PAUSED"},
			}[name]
			checkResult(t, res, want.id, want.version, want.stat)
			if res.Alert != nil {
				published[res.Alert.MessageID] = true
			}
			var ev struct {
				Headers map[string]string `json:"headers"`
			}
			_ = json.Unmarshal(payload, &ev)
			if track := ev.Headers["Zuora-Track-Id"] + ev.Headers["zuora-track-id"]; track != "" && res.TrackID != track {
				t.Errorf("%s: trackId %q, want the request header's %q", name, res.TrackID, track)
			}
		case "batch.json", "eventbridge-schedule.json", "scheduler.json":
			b := decodeJSON[batch](t, r.Body)
			total := 3 // WATCH_METERS in the function's environment
			if name == "batch.json" {
				total = 7
			}
			if b.Summary.Total != total || len(b.Results) != total {
				t.Errorf("%s: %d results, want %d: %s", name, len(b.Results), total, r.Body)
			}
			for _, it := range b.Results {
				if it.Alert != nil {
					published[it.Alert.MessageID] = true
				}
				if it.MeterID == 999 && (it.Error == nil || it.Error.Type != "MeterNotFound") {
					t.Errorf("%s: meter 999 = %+v, want a MeterNotFound item", name, it)
				}
			}
			if b.Summary.ByStatus["FAILED"] != 1 {
				t.Errorf("%s: summary %+v, want one FAILED", name, b.Summary)
			}
		default: // direct payloads: eventbridge-custom, stepfunctions, direct
			res := decodeJSON[result](t, r.Body)
			if res.Alert != nil {
				published[res.Alert.MessageID] = true
			}
			switch name {
			case "eventbridge-custom.json":
				checkResult(t, res, 102, "0.0.1", "FAILED")
			case "stepfunctions.json":
				checkResult(t, res, 103, "1.2.0", "COMPLETED")
			case "direct.json":
				checkResult(t, res, 104, "2.0.0", "COMPLETED")
				if res.TrackID != "billing-job-42" {
					t.Errorf("direct: trackId %q", res.TrackID)
				}
			default:
				t.Errorf("no expectation for %s: add one", name)
			}
		}
	}
	if len(checked) < 10 {
		t.Errorf("checked %d event files, want all 10 trigger samples", len(checked))
	}

	alerts, err := s.DrainAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != len(published) || len(alerts) != 5 {
		t.Errorf("%d alerts on the topic, %d reported published; want 5", len(alerts), len(published))
	}
	for _, a := range alerts {
		if !published[a.MessageID] {
			t.Errorf("alert %s on the topic was not reported in any reply", a.MessageID)
		}
		if a.Subject != "Zuora meter 102 version 0.0.1: FAILED" {
			t.Errorf("subject %q", a.Subject)
		}
		want := map[string]AlertAttribute{
			"meterId": {"Number", "102"}, "version": {"String", "0.0.1"}, "status": {"String", "FAILED"}, "statusCode": {"Number", "8"},
		}
		for k, v := range want {
			if a.Attributes[k] != v {
				t.Errorf("attribute %s = %+v, want %+v", k, a.Attributes[k], v)
			}
		}
		var msg map[string]any
		if err := a.DecodeMessage(&msg); err != nil || msg["status"] != "FAILED" || msg["failed"] != true || msg["zuoraRequestId"] == "" {
			t.Errorf("message %s", a.Message)
		}
		if _, has := msg["alert"]; has {
			t.Errorf("message carries the alert field: %s", a.Message)
		}
	}

	// Warm container: one token for every check, and nothing secret in the logs.
	st, err := s.SimStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.TokenMints != 1 || st.RunStatusCalls < 20 {
		t.Errorf("sim stats %+v: want 1 token mint for all checks", st)
	}
	logs := s.FunctionLog()
	for _, secret := range []string{"local-secret", "Bearer", "access_token"} {
		if strings.Contains(logs, secret) {
			t.Errorf("function log contains %q", secret)
		}
	}
	checks := 0 // one log line per check: "check", or "check failed" (meter 999)
	for _, rec := range s.FunctionLogRecords() {
		if rec["message"] == "check failed" {
			checks++
		}
		if rec["message"] == "check" {
			checks++
			for _, k := range []string{"requestId", "meterId", "version", "status", "zuoraLatencyMs", "attempts", "zuoraRequestId"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("check log line lacks %s: %v", k, rec)
				}
			}
		}
	}
	if checks != st.RunStatusCalls-1 { // meter 103's 503 is one call, not one check
		t.Errorf("%d check log lines for %d Zuora calls", checks, st.RunStatusCalls)
	}
}

// TestErrorsEndToEnd: each contract error reaches a direct caller as its
// errorType and an HTTP caller as its status.
func TestErrorsEndToEnd(t *testing.T) {
	s := newTestStack(t, map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "4"})
	ctx := context.Background()
	if err := s.SimSetMeters(ctx, []byte(`[
		{"meterId": 120, "version": "1.0", "steps": [{"httpStatus": 429, "retryAfter": "1"}]},
		{"meterId": 121, "version": "1.0", "steps": [{"httpStatus": 500}]},
		{"meterId": 122, "version": "1.0", "steps": [{"status": 7, "latency": "10s"}]}]`)); err != nil {
		t.Fatal(err)
	}
	httpEvent := func(id, version string) string {
		return `{"version": "2.0", "routeKey": "GET /meters/{meterId}/{version}/run-status", "rawPath": "/meters/` + id + "/" + version +
			`/run-status", "headers": {}, "requestContext": {"http": {"method": "GET", "path": "/"}, "requestId": "r"}, "isBase64Encoded": false}`
	}
	tests := []struct {
		name, direct, httpID, httpVersion string
		wantType                          string
		wantStatus                        int
	}{
		{"not found", `{"meterId": 999, "version": "0.0.1"}`, "999", "0.0.1", "MeterNotFound", 404},
		{"unknown version", `{"meterId": 104, "version": "9.9.9"}`, "104", "9.9.9", "MeterNotFound", 404},
		{"invalid", `{"meterId": -1, "version": "0.0.1"}`, "0", "0.0.1", "InvalidRequest", 400},
		{"invalid shape", `[1, 2]`, "104", "..", "InvalidRequest", 400},
		{"throttled", `{"meterId": 120, "version": "1.0"}`, "120", "1.0", "ZuoraThrottled", 503},
		{"unavailable", `{"meterId": 121, "version": "1.0"}`, "121", "1.0", "ZuoraUnavailable", 502},
		{"timeout", `{"meterId": 122, "version": "1.0"}`, "122", "1.0", "ZuoraUnavailable", 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustInvoke(t, s, tt.direct)
			if r.ErrorType != tt.wantType || r.Unhandled || r.ErrorMessage == "" {
				t.Errorf("direct: %q %q (unhandled %v), want %s", r.ErrorType, r.ErrorMessage, r.Unhandled, tt.wantType)
			}
			r = mustInvoke(t, s, httpEvent(tt.httpID, tt.httpVersion))
			h, ok := r.HTTP()
			if !ok {
				t.Fatalf("HTTP: reply %s %s", r.ErrorType, r.Body)
			}
			body := decodeJSON[httpError](t, []byte(h.Body))
			if h.StatusCode != tt.wantStatus || body.Error.Type != tt.wantType {
				t.Errorf("HTTP: %d %s, want %d %s", h.StatusCode, h.Body, tt.wantStatus, tt.wantType)
			}
			if tt.wantStatus == 503 && h.Headers["Retry-After"] == "" {
				t.Errorf("HTTP 503 without Retry-After")
			}
			if tt.wantType == "MeterNotFound" && body.Error.ZuoraRequestID == "" {
				t.Errorf("MeterNotFound without Zuora's request id: %s", h.Body)
			}
		})
	}
	if t.Failed() {
		return
	}

	// Secrets: unreadable, malformed.
	for _, env := range []map[string]string{{"ZUORA_SECRET_ID": "zuora/missing"}, nil} {
		if env == nil {
			if err := s.PutSecret(ctx, `{"client": "nope"}`); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RestartFunction(ctx, env); err != nil {
			t.Fatal(err)
		}
		if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.ErrorType != "SecretUnavailable" {
			t.Errorf("secret %v: %q %q, want SecretUnavailable", env, r.ErrorType, r.ErrorMessage)
		}
		// The operator reads Secrets Manager's own error code in the log.
		if env != nil && !logHas(s, "SecretUnavailable", "GetSecretValue", "ResourceNotFoundException") {
			t.Errorf("no log line names Secrets Manager's error:\n%s", s.FunctionLog())
		}
	}
	if strings.Contains(s.FunctionLog(), `"nope"`) {
		t.Errorf("the function logged the secret's content")
	}
}

// TestAlertPublishFailedEndToEnd: SNS refuses the alert (the topic does not
// exist), so the invocation fails and an HTTP caller gets 503 with the result.
func TestAlertPublishFailedEndToEnd(t *testing.T) {
	s := newTestStack(t, map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	r := mustInvoke(t, s, `{"meterId": 102, "version": "0.0.1"}`)
	if r.ErrorType != "AlertPublishFailed" || !strings.Contains(r.ErrorMessage, "meter 102") {
		t.Errorf("direct: %q %q", r.ErrorType, r.ErrorMessage)
	}
	r = mustInvoke(t, s, `{"resource": "/meters/{meterId}/{version}/run-status", "path": "/meters/102/0.0.1/run-status", "httpMethod": "GET",
		"pathParameters": {"meterId": "102", "version": "0.0.1"}, "requestContext": {"stage": "prod"}}`)
	h, ok := r.HTTP()
	body := decodeJSON[httpError](t, []byte(h.Body))
	if !ok || h.StatusCode != 503 || body.Error.Type != "AlertPublishFailed" || body.Result == nil ||
		body.Result.Status != "FAILED" || body.Result.Alert == nil || body.Result.Alert.Published {
		t.Errorf("HTTP: %d %s", h.StatusCode, h.Body)
	}
	if !logHas(s, "AlertPublishFailed", "Publish", "NotFound") {
		t.Errorf("no log line names SNS's error:\n%s", s.FunctionLog())
	}
	// A result that needs no alert is unaffected.
	if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.Failed() {
		t.Errorf("COMPLETED meter: %s %s", r.ErrorType, r.ErrorMessage)
	}
}

// TestContainerCredentialsEndToEnd: without the role's keys in its
// environment, the bootstrap takes its AWS credentials from the container
// credentials endpoint (as Lambda provides them where it sets no keys), once
// for several calls, and signs the Secrets Manager read and the SNS alert
// with them.
func TestContainerCredentialsEndToEnd(t *testing.T) {
	s := newTestStack(t, nil)
	var fetches atomic.Int32
	creds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "container-token" {
			http.Error(w, `{"code":"AccessDenied"}`, http.StatusUnauthorized)
			return
		}
		fetches.Add(1)
		fmt.Fprintf(w, `{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s","Token":"t","Expiration":%q}`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer creds.Close()
	ctx := context.Background()
	if err := s.RestartFunction(ctx, map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.URL + "/v1/credentials",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN":  "container-token",
	}); err != nil {
		t.Fatal(err)
	}
	for _, payload := range []string{`{"meterId": 102, "version": "0.0.1"}`, `{"meterId": 104, "version": "2.0.0"}`} {
		if r := mustInvoke(t, s, payload); r.Failed() {
			t.Fatalf("%s: %s %s", payload, r.ErrorType, r.ErrorMessage)
		}
	}
	alerts, err := s.DrainAlerts(ctx)
	if err != nil || len(alerts) != 1 {
		t.Errorf("alerts: %d, %v; want the one for meter 102", len(alerts), err)
	}
	if got := fetches.Load(); got != 1 {
		t.Errorf("credentials fetched %d times, want 1", got)
	}
}

// logHas reports whether a function log line of errorType has an error
// containing every one of parts.
func logHas(s *Stack, errorType string, parts ...string) bool {
	for _, rec := range s.FunctionLogRecords() {
		msg, _ := rec["error"].(string)
		if rec["errorType"] != errorType {
			continue
		}
		found := true
		for _, p := range parts {
			found = found && strings.Contains(msg, p)
		}
		if found {
			return true
		}
	}
	return false
}

// TestCredentialsEndToEnd covers the secret's forms and rotation on a warm
// container: a bearer token replaced in the secret is picked up after
// Zuora's 401 without a restart, and revoked OAuth tokens are minted anew.
// Revocation comes last: the simulator revokes its static token too.
func TestCredentialsEndToEnd(t *testing.T) {
	s := newTestStack(t, nil)
	ctx := context.Background()
	stats := func() SimStats {
		st, err := s.SimStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	ok := func(what string) {
		t.Helper()
		if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.Failed() {
			t.Fatalf("%s: %s %s", what, r.ErrorType, r.ErrorMessage)
		}
	}

	// Bearer token forms.
	for _, secret := range []string{`{"access_token": "local-static-token"}`, "local-static-token"} {
		if err := s.PutSecret(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if err := s.RestartFunction(ctx, nil); err != nil {
			t.Fatal(err)
		}
		before := stats().TokenMints
		ok("bearer secret")
		if stats().TokenMints != before {
			t.Errorf("a bearer-token secret minted a token")
		}
	}

	// Rotation: a stale token is refused (after one re-read of the secret);
	// the rotated secret is then picked up by the same warm container.
	if err := s.PutSecret(ctx, `{"access_token": "stale-token"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.RestartFunction(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.ErrorType != "ZuoraAuthFailed" {
		t.Fatalf("stale token: %q %q, want ZuoraAuthFailed", r.ErrorType, r.ErrorMessage)
	}
	if err := s.PutSecret(ctx, `{"access_token": "local-static-token"}`); err != nil {
		t.Fatal(err)
	}
	ok("rotated secret, warm container")

	// Client credentials: one mint serves many checks; a revoked token is replaced.
	if err := s.PutSecret(ctx, DefaultSecretString); err != nil {
		t.Fatal(err)
	}
	if err := s.RestartFunction(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SimReset(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ok("client credentials")
	}
	if st := stats(); st.TokenMints != 1 || st.RunStatusCalls != 3 {
		t.Errorf("after 3 checks: %+v, want 1 mint and 3 calls", st)
	}
	if err := s.SimRevokeTokens(ctx); err != nil {
		t.Fatal(err)
	}
	ok("after revocation")
	if st := stats(); st.TokenMints != 2 || st.RunStatusCalls != 5 {
		t.Errorf("after revocation: %+v, want a second mint and a retried call", st)
	}
}

// TestFIFOAlertsEndToEnd: a FIFO topic gets the group id, and the same
// observation retried (same track id) is delivered once.
func TestFIFOAlertsEndToEnd(t *testing.T) {
	s := newTestStack(t, nil)
	ctx := context.Background()
	if err := s.RestartFunction(ctx, map[string]string{"ALERT_TOPIC_ARN": s.FIFOTopicARN}); err != nil {
		t.Fatal(err)
	}
	for _, track := range []string{"sfn-exec-1", "sfn-exec-1", "sfn-exec-2"} {
		if r := mustInvoke(t, s, `{"meterId": 102, "version": "0.0.1", "trackId": "`+track+`"}`); r.Failed() {
			t.Fatalf("%s: %s", r.ErrorType, r.ErrorMessage)
		}
	}
	alerts, err := s.DrainFIFOAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 {
		t.Fatalf("%d alerts on the FIFO queue, want 2 (the retry deduplicated)", len(alerts))
	}
	if alerts[0].MessageGroupID != "102:0.0.1" || alerts[0].MessageDeduplicationID == alerts[1].MessageDeduplicationID {
		t.Errorf("FIFO fields: %+v", alerts)
	}
	var msgs []string
	for _, a := range alerts {
		var m result
		_ = a.DecodeMessage(&m)
		msgs = append(msgs, m.TrackID)
	}
	if strings.Join(msgs, ",") != "sfn-exec-1,sfn-exec-2" {
		t.Errorf("track ids on the queue: %v", msgs)
	}
}

// TestZuoraWireEndToEnd: what the real bootstrap sends to "Zuora", as the
// simulator recorded it — the token request and the run-status call with the
// configured and per-call scoping headers.
func TestZuoraWireEndToEnd(t *testing.T) {
	s := newTestStack(t, map[string]string{"ZUORA_ENTITY_IDS": "ent-default"})
	ctx := context.Background()
	if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0", "trackId": "t-1", "orgIds": "o1,o2"}`); r.Failed() {
		t.Fatalf("%s: %s", r.ErrorType, r.ErrorMessage)
	}
	reqs, err := s.SimRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("simulator saw %d requests, want the token request and one run-status call: %+v", len(reqs), reqs)
	}
	tok, call := reqs[0], reqs[1]
	if tok.Method != "POST" || tok.Path != "/oauth/token" || tok.Form.Get("grant_type") != "client_credentials" ||
		tok.Form.Get("client_id") != "local-client" || tok.Form.Get("client_secret") == "" || tok.Header.Get("Authorization") != "" ||
		!strings.HasPrefix(tok.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Errorf("token request = %+v", tok)
	}
	want := map[string]string{
		"Zuora-Entity-Ids": "ent-default", "Zuora-Org-Ids": "o1,o2", "Zuora-Track-Id": "t-1",
		"Content-Type": "application/json", "Accept": "application/json",
	}
	if call.Method != "GET" || call.Path != "/meters/104/2.0.0/runStatus" || !strings.HasPrefix(call.Header.Get("Authorization"), "Bearer ") {
		t.Errorf("run-status call = %s %s, Authorization %q", call.Method, call.Path, call.Header.Get("Authorization"))
	}
	for k, v := range want {
		if got := call.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}
