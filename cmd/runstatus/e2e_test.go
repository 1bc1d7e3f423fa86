package main

// The end-to-end tests hold the function to its contract through the real
// bootstrap under the Lambda Runtime Interface Emulator, with moto_server
// for AWS and the Zuora simulator for Zuora (see internal/localstack). They
// read the contract's wire format as a caller does and use nothing of this
// package's code, so a renamed JSON field fails them.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/metrics/emftest"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eResult is the contract's output object, or a failed batch item.
type e2eResult struct {
	MeterID        int64  `json:"meterId"`
	Version        string `json:"version"`
	Status         string `json:"status"`
	CheckedAt      string `json:"checkedAt"`
	TrackID        string `json:"trackId"`
	ZuoraRequestID string `json:"zuoraRequestId"`
	Alert          *struct {
		Published bool   `json:"published"`
		MessageID string `json:"messageId"`
		Event     string `json:"event"`
	} `json:"alert"`
	AlertOpenSince string                          `json:"alertOpenSince"`
	Error          *struct{ Type, Message string } `json:"error"`
}

type e2eBatch struct {
	Results []e2eResult `json:"results"`
	Summary struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"byStatus"`
		Errors   int            `json:"errors"`
	} `json:"summary"`
}

type e2eHTTPError struct {
	Error  struct{ Type, Message, ZuoraRequestID string } `json:"error"`
	Result *e2eResult                                     `json:"result"`
}

// e2eReply is what a sample event gets back: its checks as "meterId version
// status", with " +event" for a message the check published or " open" for
// an alert it found open, or "meterId version !errorType" for a failed batch
// item; or, for the watch-list routes, the body.
type e2eReply struct {
	http    int  // the statusCode of an HTTP-shaped reply; 0 for a direct one
	batch   bool // the batch shape
	checks  []string
	trackID string // the caller's track id, where it sets one
	body    string // the exact body of a watch-list reply
	callout bool   // a callout's reply, {"received": true, "results": [...]}
	// scheduled: a scheduled run's reply, which lists only the notable
	// checks and counts every one of these meters in its summary.
	scheduled int
	widget    bool // the dashboard widget's HTML, as a JSON string, counting these watched
	watched   int
}

// e2eEvents holds a row for every sample in events/ (env.json excepted),
// sent in name order as `make run` sends them to one function with memory:
// a callout says meter 105's session failed, which pages (its later poll,
// PAUSED, finds the alert open); meter 102 is put on the watch list, then
// FAILED four times, which pages once, then COMPLETED, which resolves; a scheduled event checks the watch
// list and WATCH_METERS (101, 102, 104), 102 once. Meter 101 is RUNNING at
// the first check and COMPLETED after; meter 103 answers 503 once.
var e2eEvents = map[string]e2eReply{
	"apigw-http-callout.json":   {http: 200, callout: true, checks: []string{"105 0.1.0 FAILED +alert"}, trackID: "2c92c0f97e1a4b2b017e2f6a1d3b4c5d"},
	"apigw-http-watch.json":     {http: 200, body: `{"meterId":102,"version":"0.0.1","watched":true}`},
	"apigw-http-watchlist.json": {http: 200, body: `{"meters":[{"meterId":102,"version":"0.0.1","watched":true}]}`},
	"apigw-http.json":           {http: 200, checks: []string{"101 0.0.1 RUNNING"}},
	"apigw-rest-proxy.json":     {http: 200, checks: []string{"104 2.0.0 COMPLETED"}},
	"apigw-rest.json":           {http: 200, checks: []string{"102 0.0.1 FAILED +alert"}, trackID: "billing-close-2026-11-28"},
	"batch.json": {batch: true, checks: []string{"101 0.0.1 COMPLETED", "102 0.0.1 FAILED open", "103 1.2.0 COMPLETED",
		"104 2.0.0 COMPLETED", "105 0.1.0 PAUSED open", "106 0.0.1 UNKNOWN", "999 0.0.1 !MeterNotFound"}},
	"cloudwatch-widget.json":    {widget: true, watched: 3}, // 102, and WATCH_METERS' 101 and 104
	"direct.json":               {checks: []string{"104 2.0.0 COMPLETED"}, trackID: "billing-job-42"},
	"eventbridge-custom.json":   {checks: []string{"102 0.0.1 FAILED open"}},
	"eventbridge-schedule.json": {batch: true, scheduled: 3, checks: []string{"102 0.0.1 FAILED open"}},
	"function-url.json":         {http: 200, checks: []string{"105 0.1.0 PAUSED open"}, trackID: "ops-console-check-105"},
	"scheduler.json":            {batch: true, scheduled: 3, checks: []string{"102 0.0.1 COMPLETED +resolved"}},
	"stepfunctions.json":        {checks: []string{"103 1.2.0 COMPLETED"}},
}

// TestEventsEndToEnd invokes one warm function with every sample event and
// checks each reply, the alerts on the topic, and the function's log.
func TestEventsEndToEnd(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events in ../../events (%v)", err)
	}
	s := localstack.ForTest(t, nil)
	published := map[string]bool{} // the alerts' message ids, as the replies report them
	rows := maps.Clone(e2eEvents)
	checks := 0
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := rows[name]
		delete(rows, name)
		if name == "env.json" {
			continue
		} else if !ok {
			t.Errorf("%s has no row in e2eEvents: add its expected reply", name)
			continue
		}
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range e2eCheckReply(t, name, want, e2eInvoke(t, s, string(payload))) {
			published[id] = true
		}
		checks += max(len(want.checks), want.scheduled) // a scheduled run lists less than it checks
	}
	for name := range rows {
		t.Errorf("e2eEvents has a row for %s, which is not in events/", name)
	}
	e2eCheckAlerts(t, s, published)
	e2eCheckLog(t, s, checks)
	if st := s.Sim.Stats(); st.TokenMints != 1 {
		t.Errorf("%d token mints, want 1 for the warm container", st.TokenMints)
	}
}

// e2eCheckReply checks a reply against its row and returns the message ids
// of the alerts it reports.
func e2eCheckReply(t *testing.T, name string, want e2eReply, r localstack.Reply) (published []string) {
	t.Helper()
	if r.Failed() {
		t.Errorf("%s: %s: %s", name, r.ErrorType, r.ErrorMessage)
		return nil
	}
	if want.widget {
		var html string
		if err := json.Unmarshal(r.Body, &html); err != nil || !strings.Contains(html, fmt.Sprintf("<b>%d</b> watched", want.watched)) {
			t.Errorf("%s: %.300s (%v), want the widget's HTML with %d watched", name, r.Body, err, want.watched)
		}
		return nil
	}
	body := r.Body
	if want.http != 0 {
		h, ok := r.HTTP()
		if !ok || h.StatusCode != want.http || e2eHeader(h, "Content-Type") != "application/json" {
			t.Errorf("%s: reply %s, want HTTP %d with a JSON body", name, r.Body, want.http)
			return nil
		}
		body = []byte(h.Body)
	}
	if want.body != "" {
		if string(body) != want.body {
			t.Errorf("%s: body %s, want %s", name, body, want.body)
		}
		return nil
	}
	results := e2eResults(t, name, body, want.batch, want.scheduled)
	if want.callout {
		results = e2eDecode[e2eCalloutReply](t, body).Results
	}
	var got []string
	for _, res := range results {
		got = append(got, e2eCheckResult(t, name, res, want.trackID))
		if res.Alert != nil {
			published = append(published, res.Alert.MessageID)
		}
	}
	if wantChecks := slices.Sorted(slices.Values(want.checks)); !slices.Equal(slices.Sorted(slices.Values(got)), wantChecks) {
		t.Errorf("%s: checks %q, want %q", name, got, wantChecks)
	}
	return published
}

// e2eResults decodes a single result or a batch, whose summary must add
// up; a scheduled run's must count its meters, the notable among them listed.
func e2eResults(t *testing.T, name string, body []byte, batch bool, scheduled int) []e2eResult {
	t.Helper()
	if !batch {
		return []e2eResult{e2eDecode[e2eResult](t, body)}
	}
	b := e2eDecode[e2eBatch](t, body)
	byStatus, errs := map[string]int{}, 0
	for _, res := range b.Results {
		if res.Error != nil {
			errs++
		} else {
			byStatus[res.Status]++
		}
	}
	sum := b.Summary
	if scheduled > 0 {
		listed := true
		for status, n := range byStatus {
			listed = listed && sum.ByStatus[status] >= n
		}
		if sum.Total != scheduled || sum.Errors < errs || !listed {
			t.Errorf("%s: summary %+v does not count the %d meters and the results %s", name, sum, scheduled, body)
		}
	} else if sum.Total != len(b.Results) || sum.Errors != errs || !maps.Equal(sum.ByStatus, byStatus) {
		t.Errorf("%s: summary %+v does not add up to the results %s", name, sum, body)
	}
	return b.Results
}

// e2eCheckResult checks the fields every result has and describes it.
func e2eCheckResult(t *testing.T, name string, res e2eResult, trackID string) string {
	t.Helper()
	if res.Error != nil {
		return fmt.Sprintf("%d %s !%s", res.MeterID, res.Version, res.Error.Type)
	}
	if res.ZuoraRequestID == "" || res.TrackID == "" || (trackID != "" && res.TrackID != trackID) {
		t.Errorf("%s: meter %d: zuoraRequestId %q, trackId %q (want %q)", name, res.MeterID, res.ZuoraRequestID, res.TrackID, trackID)
	}
	if _, err := time.Parse(time.RFC3339, res.CheckedAt); err != nil {
		t.Errorf("%s: meter %d: checkedAt: %v", name, res.MeterID, err)
	}
	desc := fmt.Sprintf("%d %s %s", res.MeterID, res.Version, res.Status)
	switch {
	case res.Alert != nil && (!res.Alert.Published || res.Alert.MessageID == ""):
		t.Errorf("%s: meter %d %s: alert %+v", name, res.MeterID, res.Status, res.Alert)
	case res.Alert != nil:
		desc += " +" + res.Alert.Event
	case res.AlertOpenSince != "":
		desc += " open"
	}
	return desc
}

// e2eCheckAlerts checks what reached the topic: the callout's page for
// meter 105, meter 102's one alert and its resolution, each one a reply
// reported.
func e2eCheckAlerts(t *testing.T, s *localstack.Stack, published map[string]bool) {
	t.Helper()
	alerts, err := s.DrainAlerts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 3 || len(published) != 3 {
		t.Fatalf("%d messages on the topic, %d reported by the replies; want 3", len(alerts), len(published))
	}
	want := []struct{ meter, version, subject, event, status, statusCode string }{
		{"105", "0.1.0", "Zuora meter 105 version 0.1.0: FAILED", "alert", "FAILED", "8"},
		{"102", "0.0.1", "Zuora meter 102 version 0.0.1: FAILED", "alert", "FAILED", "8"},
		{"102", "0.0.1", "Zuora meter 102 version 0.0.1: resolved (COMPLETED)", "resolved", "COMPLETED", "7"},
	}
	for i, a := range alerts {
		w := want[i]
		wantAttrs := map[string]localstack.AlertAttribute{
			"meterId": {Type: "Number", Value: w.meter}, "version": {Type: "String", Value: w.version}, "event": {Type: "String", Value: w.event},
			"status": {Type: "String", Value: w.status}, "statusCode": {Type: "Number", Value: w.statusCode},
		}
		if !published[a.MessageID] || a.Subject != w.subject || !maps.Equal(a.Attributes, wantAttrs) {
			t.Errorf("message %d: %s %q %v (reported: %v), want %q %v", i, a.MessageID, a.Subject, a.Attributes, published[a.MessageID], w.subject, wantAttrs)
		}
		msg := e2eDecode[map[string]any](t, []byte(a.Message))
		_, resolves := msg["resolves"].(map[string]any)
		if _, has := msg["alert"]; has || msg["status"] != w.status || resolves != (w.event == "resolved") {
			t.Errorf("message %s, want the result without alert (and what it resolves)", a.Message)
		}
	}
}

// e2eCheckLog checks that nothing secret is logged and that every check
// (a callout's observation included) has its one log line.
func e2eCheckLog(t *testing.T, s *localstack.Stack, checks int) {
	t.Helper()
	log := s.FunctionLog()
	for _, secret := range []string{"local-secret", "Bearer", "access_token", "local-callout-key"} {
		if strings.Contains(log, secret) {
			t.Errorf("the function log holds %q", secret)
		}
	}
	lines := 0
	for _, rec := range s.FunctionLogRecords() {
		switch rec["message"] {
		case "check failed", "callout":
			lines++
		case "check":
			lines++
			for _, k := range []string{"requestId", "meterId", "version", "status", "zuoraLatencyMs", "zuoraRequestId"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("check log line without %s: %v", k, rec)
				}
			}
		}
	}
	if lines != checks {
		t.Errorf("%d check log lines for %d checks", lines, checks)
	}
	e2eCheckMetrics(t, log, checks)
}

// e2eCheckMetrics checks the EMF records in the log: each valid, the
// function's dimension on each and no meter id, and one Checks or
// ZuoraErrors count for each check of Zuora (callouts count as Callouts).
func e2eCheckMetrics(t *testing.T, log string, checks int) {
	t.Helper()
	var counted float64
	records := 0
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		records++
		if err := emftest.Validate([]byte(line)); err != nil {
			t.Errorf("not EMF: %v\n%s", err, line)
		}
		rec := e2eDecode[map[string]any](t, []byte(line))
		if rec["Function"] != "RunStatusFunction" || strings.Contains(line, `"meterId"`) {
			t.Errorf("record %s", line)
		}
		// A record per dimension value: its count is the check's.
		for metric, dimension := range map[string]string{"Checks": "Status", "ZuoraErrors": "ErrorType", "Callouts": "Outcome"} {
			if n, ok := rec[metric].(float64); ok && rec[dimension] != nil {
				counted += n
			}
		}
	}
	if records == 0 || int(counted) != checks {
		t.Errorf("%d EMF records counting %v checks and callouts, want %d", records, counted, checks)
	}
}

// TestErrorsEndToEnd: each of Zuora's failures reaches a direct caller as
// its errorType and an HTTP caller as its status.
func TestErrorsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "4"})
	s.Sim.SetMeter(120, "1.0", zuoratest.Step{HTTPStatus: 429, RetryAfter: "1"})
	s.Sim.SetMeter(121, "1.0", zuoratest.Step{HTTPStatus: 500})
	s.Sim.SetMeter(122, "1.0", zuoratest.Step{Status: 7, Latency: 10 * time.Second})
	tests := []struct {
		name, meterID, version, wantType string
		wantStatus                       int
	}{
		{"unknown meter", "999", "0.0.1", "MeterNotFound", 404},
		{"unknown version", "104", "9.9.9", "MeterNotFound", 404},
		{"meter id not positive", "0", "0.0.1", "InvalidRequest", 400},
		{"version too long", "104", strings.Repeat("1", 65), "InvalidRequest", 400},
		{"throttled", "120", "1.0", "ZuoraThrottled", 503},
		{"unavailable", "121", "1.0", "ZuoraUnavailable", 502},
		{"timeout", "122", "1.0", "ZuoraUnavailable", 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e2eInvoke(t, s, `{"meterId": `+tt.meterID+`, "version": "`+tt.version+`"}`)
			if r.ErrorType != tt.wantType || r.Unhandled || r.ErrorMessage == "" {
				t.Errorf("direct: %q %q (unhandled %v), want %s", r.ErrorType, r.ErrorMessage, r.Unhandled, tt.wantType)
			}
			h := e2eHTTP(t, s, tt.meterID, tt.version)
			body := e2eDecode[e2eHTTPError](t, []byte(h.Body))
			if h.StatusCode != tt.wantStatus || body.Error.Type != tt.wantType || body.Error.Message == "" {
				t.Errorf("HTTP: %d %s, want %d %s", h.StatusCode, h.Body, tt.wantStatus, tt.wantType)
			}
			if tt.wantStatus == 503 && e2eHeader(h, "Retry-After") == "" {
				t.Error("HTTP 503 without Retry-After")
			}
			if tt.wantType == "MeterNotFound" && body.Error.ZuoraRequestID == "" {
				t.Errorf("MeterNotFound without Zuora's request id: %s", h.Body)
			}
			e2ePlain(t, "direct "+tt.name, r.ErrorMessage)
			e2ePlain(t, "HTTP "+tt.name, body.Error.Message)
		})
	}
}

// e2ePlain wants msg, an error message a caller gets, in the function's
// own plain words: no other service's error text (AWS's or Zuora's, as the
// simulator writes it), no ARN, account or request id.
func e2ePlain(t *testing.T, where, msg string) {
	t.Helper()
	if msg == "" {
		t.Errorf("%s: no message", where)
	}
	for _, internal := range []string{"arn:", "123456789012", "RequestID", "Exception", "not authorized", "operation error",
		"https response", "does not exist.", "internal server error", "Topic does not exist", "injected by"} {
		if strings.Contains(msg, internal) {
			t.Errorf("%s: the message %q carries %q", where, msg, internal)
		}
	}
}

// TestAWSErrorsEndToEnd: a secret that cannot be read or has no known form
// is SecretUnavailable; an alert SNS does not take is AlertPublishFailed.
// The log names the AWS error, never the secret.
func TestAWSErrorsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ZUORA_SECRET_ID": "zuora/missing"})
	ctx := t.Context()
	e2eWantError(t, s, `{"meterId": 104, "version": "2.0.0"}`, "SecretUnavailable")
	if !e2eLogHas(s, "SecretUnavailable", "GetSecretValue", "ResourceNotFoundException") {
		t.Errorf("no SecretUnavailable log line names Secrets Manager's error:\n%s", s.FunctionLog())
	}
	e2ePlain(t, "a secret that cannot be read", e2eInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`).ErrorMessage)
	h := e2eHTTP(t, s, "104", "2.0.0")
	e2ePlain(t, "HTTP, a secret that cannot be read", e2eDecode[e2eHTTPError](t, []byte(h.Body)).Error.Message)

	e2eMust(t, s.PutSecret(ctx, `{"client": "nope"}`))
	e2eMust(t, s.Restart(ctx, nil))
	e2eWantError(t, s, `{"meterId": 104, "version": "2.0.0"}`, "SecretUnavailable")
	if strings.Contains(s.FunctionLog(), "nope") {
		t.Error("the function logged the secret's content")
	}

	e2eMust(t, s.PutSecret(ctx, localstack.DefaultSecretString))
	e2eMust(t, s.Restart(ctx, map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"}))
	e2eWantError(t, s, `{"meterId": 102, "version": "0.0.1"}`, "AlertPublishFailed")
	h = e2eHTTP(t, s, "102", "0.0.1")
	body := e2eDecode[e2eHTTPError](t, []byte(h.Body))
	e2ePlain(t, "HTTP, SNS refusing", body.Error.Message)
	e2ePlain(t, "direct, SNS refusing", e2eInvoke(t, s, `{"meterId": 102, "version": "0.0.1"}`).ErrorMessage)
	if h.StatusCode != 503 || body.Error.Type != "AlertPublishFailed" || body.Result == nil ||
		body.Result.Status != "FAILED" || body.Result.Alert == nil || body.Result.Alert.Published {
		t.Errorf("HTTP: %d %s, want 503 AlertPublishFailed with the result", h.StatusCode, h.Body)
	}
	if !e2eLogHas(s, "AlertPublishFailed", "Publish", "NotFound") {
		t.Errorf("no AlertPublishFailed log line names SNS's error:\n%s", s.FunctionLog())
	}
	e2eWantOK(t, s, "a check that needs no alert")

	// The table refuses the role: the watch route answers 503 in plain
	// words; the role's and the table's ARNs stay in the log.
	denied := "User: arn:aws:sts::123456789012:assumed-role/zuora-runstatus-role/fn is not authorized to perform: " +
		"dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/state"
	s.SetFaults(func(op string, _ int) localstack.Fault {
		if op == "DynamoDB.UpdateItem" {
			return localstack.Fault{Status: 400, Code: "AccessDeniedException", Message: denied}
		}
		return localstack.Fault{}
	})
	w, ok := e2eInvoke(t, s, string(e2eWatchRequest(t, "PUT", "/meters/123/0.0.1/watch", nil))).HTTP()
	if got := e2eDecode[e2eHTTPError](t, []byte(w.Body)); !ok || w.StatusCode != 503 || got.Error.Type != "StateUnavailable" {
		t.Errorf("the watch route, access denied: %d %s", w.StatusCode, w.Body)
	} else {
		e2ePlain(t, "the watch route, access denied", got.Error.Message)
	}
	if !e2eLogHas(s, "StateUnavailable", "AccessDeniedException", "assumed-role") {
		t.Errorf("no StateUnavailable log line names DynamoDB's error:\n%s", s.FunctionLog())
	}
}

// TestSecretFormsEndToEnd covers the secret's forms, a stale token, and the
// secret's rotation on a warm container.
func TestSecretFormsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	ctx := t.Context()
	for _, secret := range []string{`{"access_token": "local-static-token"}`, "local-static-token"} {
		e2eMust(t, s.PutSecret(ctx, secret))
		e2eMust(t, s.Restart(ctx, nil))
		e2eWantOK(t, s, "bearer token "+secret)
		if mints := s.Sim.Stats().TokenMints; mints != 0 {
			t.Errorf("bearer token %s: %d token mints", secret, mints)
		}
	}

	// A stale token is refused, though the function re-reads the secret
	// once. The container remembers the refusal: a check right after the
	// secret is fixed fails too, without reading it; a new container (or
	// this one after 30 s) picks the fix up.
	e2eMust(t, s.PutSecret(ctx, `{"access_token": "stale-token"}`))
	e2eMust(t, s.Restart(ctx, nil))
	e2eWantError(t, s, `{"meterId": 104, "version": "2.0.0"}`, "ZuoraAuthFailed")
	e2eMust(t, s.PutSecret(ctx, `{"access_token": "local-static-token"}`))
	stop, err := s.RecordAWSCalls(ctx)
	e2eMust(t, err)
	e2eWantError(t, s, `{"meterId": 104, "version": "2.0.0"}`, "ZuoraAuthFailed")
	calls, err := stop(ctx)
	e2eMust(t, err)
	if slices.ContainsFunc(calls, func(c localstack.AWSCall) bool { return c.Op == "SecretsManager.GetSecretValue" }) {
		t.Errorf("a check within the refusal's 30 s read the secret: %+v", calls)
	}
	e2eMust(t, s.Restart(ctx, nil))
	e2eWantOK(t, s, "fixed secret, new container")

	// A rotation while the container holds the old token: Zuora refuses it,
	// the function re-reads the secret once, and the new token works. That
	// is no refusal of the credentials: the next check goes as usual.
	s.Sim.RevokeTokens()
	s.Sim.AddToken("rotated-token")
	e2eMust(t, s.PutSecret(ctx, `{"access_token": "rotated-token"}`))
	e2eWantOK(t, s, "rotated secret, warm container")
	e2eWantOK(t, s, "after the rotation")

	e2eMust(t, s.PutSecret(ctx, localstack.DefaultSecretString))
	e2eMust(t, s.Restart(ctx, nil))
	s.Sim.ResetStats()
	for range 3 {
		e2eWantOK(t, s, "client credentials")
	}
	if st := s.Sim.Stats(); st.TokenMints != 1 || st.RunStatusCalls != 3 {
		t.Errorf("3 checks: %+v, want 1 token mint and 3 calls", st)
	}
	s.Sim.RevokeTokens()
	e2eWantOK(t, s, "after revocation")
	if st := s.Sim.Stats(); st.TokenMints != 2 || st.RunStatusCalls != 5 {
		t.Errorf("after revocation: %+v, want a second mint and the call retried", st)
	}
}

// TestWarmInvocationEndToEnd: once warm, a check is one Zuora call, with no
// token mint and no Secrets Manager read (a broken secret goes unnoticed).
func TestWarmInvocationEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	e2eWantOK(t, s, "cold")
	e2eMust(t, s.PutSecret(t.Context(), `{"client": "nope"}`))
	for i := range 3 {
		s.Sim.ResetStats()
		e2eWantOK(t, s, fmt.Sprintf("warm %d", i+1))
		if st := s.Sim.Stats(); st.RunStatusCalls != 1 || st.TokenMints != 0 {
			t.Errorf("warm %d: %+v, want 1 Zuora call and no token mint", i+1, st)
		}
	}
}

// TestFIFOAlertsEndToEnd: a FIFO topic gets the meter version as the group,
// and the same observation retried (same trackId) is delivered once.
func TestFIFOAlertsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	// Without memory, every FAILED check alerts: the deduplication id is
	// what keeps a retry from paging twice.
	e2eMust(t, s.Restart(t.Context(), localstack.NoMemory(map[string]string{"ALERT_TOPIC_ARN": s.FIFOTopicARN})))
	for _, track := range []string{"sfn-exec-1", "sfn-exec-1", "sfn-exec-2"} {
		if r := e2eInvoke(t, s, `{"meterId": 102, "version": "0.0.1", "trackId": "`+track+`"}`); r.Failed() {
			t.Fatalf("%s: %s", r.ErrorType, r.ErrorMessage)
		}
	}
	alerts, err := s.DrainFIFOAlerts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var tracks []string
	for _, a := range alerts {
		tracks = append(tracks, e2eDecode[e2eResult](t, []byte(a.Message)).TrackID)
		if a.MessageGroupID != "102:0.0.1" || a.MessageDeduplicationID == "" {
			t.Errorf("group %q, deduplication id %q", a.MessageGroupID, a.MessageDeduplicationID)
		}
	}
	if !slices.Equal(tracks, []string{"sfn-exec-1", "sfn-exec-2"}) {
		t.Errorf("alerts of track ids %q, want sfn-exec-1 once (the retry deduplicated) and sfn-exec-2", tracks)
	}
}

// TestZuoraWireEndToEnd: what goes to Zuora, as the simulator recorded it —
// the token request, and the run-status call with the configured and
// per-call scoping headers.
func TestZuoraWireEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ZUORA_ENTITY_IDS": "ent-default"})
	if r := e2eInvoke(t, s, `{"meterId": 104, "version": "2.0.0", "trackId": "t-1", "orgIds": "o1,o2"}`); r.Failed() {
		t.Fatalf("%s: %s", r.ErrorType, r.ErrorMessage)
	}
	reqs := s.Sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("the simulator saw %d requests, want the token request and one run-status call: %+v", len(reqs), reqs)
	}
	tok, call := reqs[0], reqs[1]
	if tok.Method != "POST" || tok.Path != "/oauth/token" || tok.Form.Get("grant_type") != "client_credentials" ||
		tok.Form.Get("client_id") != "local-client" || tok.Form.Get("client_secret") == "" || tok.Header.Get("Authorization") != "" ||
		!strings.HasPrefix(tok.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Errorf("token request = %+v", tok)
	}
	if call.Method != "GET" || call.Path != "/meters/104/2.0.0/runStatus" || !strings.HasPrefix(call.Header.Get("Authorization"), "Bearer ") {
		t.Errorf("run-status call = %s %s, Authorization %q", call.Method, call.Path, call.Header.Get("Authorization"))
	}
	for k, v := range map[string]string{
		"Zuora-Entity-Ids": "ent-default", "Zuora-Org-Ids": "o1,o2", "Zuora-Track-Id": "t-1",
		"Content-Type": "application/json", "Accept": "application/json",
	} {
		if got := call.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

// TestInitFailureEndToEnd: a missing required variable fails the start-up,
// and the log names it.
func TestInitFailureEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ZUORA_BASE_URL": ""})
	r := e2eInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`)
	if !r.Failed() || !r.Unhandled {
		t.Fatalf("without ZUORA_BASE_URL: HTTP %d %q, want an init failure", r.StatusCode, r.Body)
	}
	named := false
	for _, rec := range s.FunctionLogRecords() {
		b, err := json.Marshal(rec)
		named = named || (err == nil && strings.Contains(string(b), "ZUORA_BASE_URL"))
	}
	if !named {
		t.Errorf("no log line names ZUORA_BASE_URL:\n%s", s.FunctionLog())
	}
}

// TestCloseEndToEnd: Close leaves no process of the stack's running: not
// the RIE, not the bootstrap the RIE started. (moto, which the stacks of a
// process share, stops with the last: internal/localstack tests that.)
func TestCloseEndToEnd(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("finds the bootstrap through /proc")
	}
	s := localstack.ForTest(t, nil)
	e2eWantOK(t, s, "before Close")
	bootstrap, err := s.BootstrapPID()
	e2eMust(t, err)
	rie, _ := s.PIDs()
	pids := []int{rie, bootstrap}
	e2eMust(t, s.Close())
	e2eMust(t, s.Close())
	for _, pid := range pids {
		if e2eRunning(pid) {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
}

// e2eRunning reports whether pid is a process that has not ended (a zombie
// has ended; PID 1 of a container may never reap it).
func e2eRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (command) state ...": the command may hold spaces and parentheses.
	stat := string(b)
	return !strings.HasPrefix(stat[strings.LastIndexByte(stat, ')')+1:], " Z")
}

func e2eInvoke(t *testing.T, s *localstack.Stack, payload string) localstack.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	r, err := s.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return r
}

// e2eHTTP sends GET /meters/{meterId}/{version}/run-status as an HTTP API
// (payload 2.0) event and returns the HTTP response.
func e2eHTTP(t *testing.T, s *localstack.Stack, meterID, version string) events.APIGatewayProxyResponse {
	t.Helper()
	path := "/meters/" + meterID + "/" + version + "/run-status"
	event, err := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "GET /meters/{meterId}/{version}/run-status",
		RawPath:        path,
		Headers:        map[string]string{},
		PathParameters: map[string]string{"meterId": meterID, "version": version},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "e2e", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path},
		},
	})
	e2eMust(t, err)
	r := e2eInvoke(t, s, string(event))
	h, ok := r.HTTP()
	if !ok {
		t.Fatalf("GET %s: reply %s %s, want an HTTP response", path, r.ErrorType, r.Body)
	}
	return h
}

// e2eHeader looks a header up as API Gateway does: by any case, in either map.
func e2eHeader(h events.APIGatewayProxyResponse, name string) string {
	for k, v := range h.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range h.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// e2eWantOK checks meter 104 (COMPLETED) and wants a result.
func e2eWantOK(t *testing.T, s *localstack.Stack, what string) {
	t.Helper()
	if r := e2eInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.Failed() {
		t.Fatalf("%s: %s: %s", what, r.ErrorType, r.ErrorMessage)
	}
}

func e2eWantError(t *testing.T, s *localstack.Stack, payload, wantType string) {
	t.Helper()
	if r := e2eInvoke(t, s, payload); r.ErrorType != wantType || r.Unhandled {
		t.Errorf("%s: %q %q (unhandled %v), want %s", payload, r.ErrorType, r.ErrorMessage, r.Unhandled, wantType)
	}
}

// e2eLogHas reports whether a function log line of errorType has an error
// that contains every one of parts.
func e2eLogHas(s *localstack.Stack, errorType string, parts ...string) bool {
	for _, rec := range s.FunctionLogRecords() {
		msg, _ := rec["error"].(string)
		if rec["errorType"] == errorType && !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(msg, p) }) {
			return true
		}
	}
	return false
}

func e2eDecode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func e2eMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
