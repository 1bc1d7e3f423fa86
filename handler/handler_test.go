package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

const testTopic = "arn:aws:sns:us-east-1:123456789012:alerts"

var fixedNow = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)

func newTestHandler(t *testing.T, cfg Config) (*Handler, *fakeZuora, *fakeSNS) {
	t.Helper()
	fz := newFakeZuora()
	fz.set(101, "0.0.1", 5, zuora.Running, false, false)
	fz.set(102, "0.0.1", 8, zuora.Failed, true, true)
	fz.set(103, "1.2.0", 7, zuora.Completed, true, false)
	fz.set(104, "2.0.0", 7, zuora.Completed, true, false)
	fz.set(105, "0.1.0", 6, zuora.Paused, false, false)
	fz.set(106, "0.0.1", 42, zuora.Unknown, false, false)
	sns := &fakeSNS{}
	h, err := New(withDefaults(cfg), Deps{Zuora: fz, Alerts: sns, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.now = func() time.Time { return fixedNow }
	return h, fz, sns
}

// withDefaults fills what a test's Config leaves out as the bootstrap's
// defaults would: the test topic, ALERT_ON=FAILED, BATCH_CONCURRENCY=32.
func withDefaults(cfg Config) Config {
	if cfg.TopicARN == "" {
		cfg.TopicARN = testTopic
	}
	if cfg.AlertOn == nil {
		cfg.AlertOn = []string{zuora.Failed}
	}
	if cfg.BatchConcurrency == 0 {
		cfg.BatchConcurrency = 32
	}
	if cfg.FunctionName == "" {
		cfg.FunctionName = "runstatus-test"
	}
	return cfg
}

func invoke(h *Handler, payload string) ([]byte, error) { return invokeAs(h, "req-1", payload) }

// invokeAs invokes h as Lambda request requestID: invocations that run at
// the same time have ids of their own, as in Lambda.
func invokeAs(h *Handler, requestID, payload string) ([]byte, error) {
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return h.Invoke(ctx, []byte(payload))
}

// errorType returns the Lambda errorType of err, failing the test if err is
// not the Lambda error shape the runtime reports as is.
func errorType(t *testing.T, err error) string {
	t.Helper()
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not a messages.InvokeResponse_Error", err, err)
	}
	return ie.Type
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

func TestDirectPayloadResult(t *testing.T) {
	h, fz, sns := newTestHandler(t, Config{EntityIDs: "ent-1"})
	out, err := invoke(h, `{"meterId": "104", "version": "2.0.0", "trackId": "job-42"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"meterId":104,"version":"2.0.0","status":"COMPLETED","statusCode":7,"statusDescription":"COMPLETED",` +
		`"terminal":true,"failed":false,"checkedAt":"2026-11-28T11:00:00Z","trackId":"job-42","zuoraRequestId":"zr-104"}`
	if string(out) != want {
		t.Errorf("result\n got %s\nwant %s", out, want)
	}
	calls := fz.calls()
	if len(calls) != 1 || calls[0] != (zuora.Request{MeterID: 104, Version: "2.0.0", TrackID: "job-42", EntityIDs: "ent-1"}) {
		t.Errorf("zuora requests = %+v", calls)
	}
	if n := len(sns.published()); n != 0 {
		t.Errorf("%d alerts for COMPLETED, want 0", n)
	}
}

func TestTrackIDDefaultsToRequestID(t *testing.T) {
	h, fz, _ := newTestHandler(t, Config{})
	out, err := invoke(h, `{"meterId": 101, "version": "0.0.1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if r := decode[reply.Result](t, out); r.TrackID != "req-1" || r.Status != zuora.Running || r.Terminal {
		t.Errorf("result = %+v", r)
	}
	if got := fz.calls()[0].TrackID; got != "req-1" {
		t.Errorf("Zuora-Track-Id sent = %q, want the request id", got)
	}
}

func TestFailedStatusPublishesAlert(t *testing.T) {
	h, _, sns := newTestHandler(t, Config{})
	out, err := invoke(h, `{"meterId": 102, "version": "0.0.1"}`)
	if err != nil {
		t.Fatal(err)
	}
	r := decode[reply.Result](t, out)
	if r.Alert == nil || !r.Alert.Published || r.Alert.MessageID != "msg-1" {
		t.Fatalf("alert = %+v", r.Alert)
	}
	alerts := sns.published()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	if a.TopicARN != testTopic || a.Subject != "Zuora meter 102 version 0.0.1: FAILED" || a.GroupID != "" {
		t.Errorf("alert = %+v", a)
	}
	msg := decode[map[string]any](t, []byte(a.JSON))
	if _, has := msg["alert"]; has || msg["status"] != "FAILED" || msg["meterId"] != float64(102) {
		t.Errorf("alert message = %s", a.JSON)
	}
}

func TestAlertOnOtherStatuses(t *testing.T) {
	h, _, sns := newTestHandler(t, Config{AlertOn: []string{zuora.Paused, zuora.Unknown}})
	for _, p := range []string{`{"meterId":102,"version":"0.0.1"}`, `{"meterId":105,"version":"0.1.0"}`, `{"meterId":106,"version":"0.0.1"}`} {
		if _, err := invoke(h, p); err != nil {
			t.Fatal(err)
		}
	}
	var subjects []string
	for _, a := range sns.published() {
		subjects = append(subjects, a.Subject)
	}
	want := "Zuora meter 105 version 0.1.0: PAUSED|Zuora meter 106 version 0.0.1: UNKNOWN"
	if got := strings.Join(subjects, "|"); got != want {
		t.Errorf("alerts = %s, want %s", got, want)
	}
}

func TestAlertPublishFailure(t *testing.T) {
	h, _, sns := newTestHandler(t, Config{})
	sns.setErr(errSNSDown)

	_, err := invoke(h, `{"meterId": 102, "version": "0.0.1"}`)
	if got := errorType(t, err); got != TypeAlertPublishFailed {
		t.Errorf("errorType = %s", got)
	}

	out, err := invoke(h, `{"resource":"/meters/{meterId}/{version}/run-status","path":"/meters/102/0.0.1/run-status","httpMethod":"GET","requestContext":{},"pathParameters":{"meterId":"102","version":"0.0.1"}}`)
	if err != nil {
		t.Fatal(err)
	}
	resp := decode[events.APIGatewayProxyResponse](t, out)
	body := decode[struct {
		Error  reply.ErrorBody
		Result *reply.Result
	}](t, []byte(resp.Body))
	if resp.StatusCode != 503 || body.Error.Type != TypeAlertPublishFailed || body.Result == nil ||
		body.Result.Status != "FAILED" || body.Result.Alert == nil || body.Result.Alert.Published {
		t.Errorf("HTTP reply = %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Retry-After"] == "" {
		t.Errorf("503 without Retry-After: %v", resp.Headers)
	}

	// A batch with one unpublished alert fails as a whole.
	_, err = invoke(h, `{"meters":[{"meterId":104,"version":"2.0.0"},{"meterId":102,"version":"0.0.1"}]}`)
	if got := errorType(t, err); got != TypeAlertPublishFailed {
		t.Errorf("batch errorType = %s", got)
	}
}

// Each Zuora error class reaches Lambda callers under its contract name and
// HTTP callers with its status.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err        error
		wantType   string
		wantStatus int
	}{
		{&zuora.Error{Class: zuora.ErrNotFound, HTTPStatus: 404, Code: "70002104", RequestID: "zr-x"}, TypeMeterNotFound, 404},
		{&zuora.Error{Class: zuora.ErrAuthFailed, HTTPStatus: 401}, TypeZuoraAuthFailed, 502},
		{&zuora.Error{Class: zuora.ErrThrottled, HTTPStatus: 429, RetryAfter: 2500 * time.Millisecond}, TypeZuoraThrottled, 503},
		{&zuora.Error{Class: zuora.ErrUnavailable, HTTPStatus: 500}, TypeZuoraUnavailable, 502},
		{&zuora.Error{Class: zuora.ErrUnavailable, Timeout: true, Err: context.DeadlineExceeded}, TypeZuoraUnavailable, 504},
		{&zuora.Error{Class: zuora.ErrInvalidArgument, HTTPStatus: 400}, TypeInvalidRequest, 400},
		{&zuora.Error{Class: zuora.ErrCredentials, Err: errors.New("AccessDeniedException")}, TypeSecretUnavailable, 500},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			h, fz, _ := newTestHandler(t, Config{})
			fz.fail(104, "2.0.0", tt.err)

			_, err := invoke(h, `{"meterId": 104, "version": "2.0.0"}`)
			if got := errorType(t, err); got != tt.wantType {
				t.Errorf("errorType = %s, want %s", got, tt.wantType)
			}

			out, err := invoke(h, `{"version":"2.0","routeKey":"GET /meters/{meterId}/{version}/run-status","rawPath":"/meters/104/2.0.0/run-status","requestContext":{"http":{"method":"GET"}}}`)
			if err != nil {
				t.Fatal(err)
			}
			resp := decode[events.APIGatewayProxyResponse](t, out)
			body := decode[struct{ Error reply.ErrorBody }](t, []byte(resp.Body))
			if resp.StatusCode != tt.wantStatus || body.Error.Type != tt.wantType || body.Error.Message == "" {
				t.Errorf("HTTP reply = %d %s", resp.StatusCode, resp.Body)
			}
			if tt.wantType == TypeZuoraThrottled && resp.Headers["Retry-After"] != "3" {
				t.Errorf("Retry-After = %q, want 3", resp.Headers["Retry-After"])
			}
			if tt.wantType == TypeMeterNotFound && body.Error.ZuoraRequestID != "zr-x" {
				t.Errorf("zuoraRequestId = %q", body.Error.ZuoraRequestID)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	h, _, sns := newTestHandler(t, Config{})
	out, err := invoke(h, `{"trackId":"nightly","meters":[{"meterId":101,"version":"0.0.1"},{"meterId":102,"version":"0.0.1"},{"meterId":999,"version":"0.0.1"},{"meterId":104,"version":"2.0.0","trackId":"own"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	got := decode[struct {
		Results []map[string]any
		Summary reply.Summary
	}](t, out)
	if len(got.Results) != 4 {
		t.Fatalf("results: %s", out)
	}
	if got.Results[0]["status"] != "RUNNING" || got.Results[1]["status"] != "FAILED" || got.Results[3]["trackId"] != "own" || got.Results[0]["trackId"] != "nightly" {
		t.Errorf("results out of order or wrong: %s", out)
	}
	e, _ := got.Results[2]["error"].(map[string]any)
	if got.Results[2]["meterId"] != float64(999) || e["type"] != TypeMeterNotFound {
		t.Errorf("failed item = %v", got.Results[2])
	}
	wantSummary := reply.Summary{Total: 4, Errors: 1, ByStatus: map[string]int{"RUNNING": 1, "FAILED": 1, "COMPLETED": 1}}
	if !equalJSON(t, got.Summary, wantSummary) {
		t.Errorf("summary = %+v", got.Summary)
	}
	if len(sns.published()) != 1 {
		t.Errorf("alerts = %d, want 1", len(sns.published()))
	}
}

func TestBatchConcurrencyIsBounded(t *testing.T) {
	h, fz, _ := newTestHandler(t, Config{BatchConcurrency: 4})
	fz.delay = 5 * time.Millisecond
	var items []string
	for range 40 {
		items = append(items, `{"meterId":104,"version":"2.0.0"}`)
	}
	out, err := invoke(h, `{"meters":[`+strings.Join(items, ",")+`]}`)
	if err != nil {
		t.Fatal(err)
	}
	if s := decode[reply.Batch](t, out).Summary; s.Total != 40 || s.ByStatus["COMPLETED"] != 40 {
		t.Errorf("summary = %+v", s)
	}
	if m := fz.maxInFlight.Load(); m > 4 || m < 2 {
		t.Errorf("max concurrent Zuora calls = %d, want 2..4", m)
	}
}

func TestScheduledEventsCheckWatchMeters(t *testing.T) {
	watch := []memory.Meter{{MeterID: 101, Version: "0.0.1"}, {MeterID: 104, Version: "2.0.0"}}
	for _, ev := range []string{
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-28T11:00:00Z","region":"us-east-1","resources":[],"detail":{}}`,
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.scheduler","account":"123456789012","time":"2026-11-28T11:00:00Z","region":"us-east-1","resources":[],"detail":"{}"}`,
	} {
		h, fz, _ := newTestHandler(t, Config{WatchMeters: watch})
		out, err := invoke(h, ev)
		if err != nil {
			t.Fatal(err)
		}
		if s := decode[reply.Batch](t, out).Summary; s.Total != 2 || len(fz.calls()) != 2 {
			t.Errorf("summary %+v after %d calls", s, len(fz.calls()))
		}

		h, fz, _ = newTestHandler(t, Config{})
		_, err = invoke(h, ev)
		if errorType(t, err) != TypeInvalidRequest || len(fz.calls()) != 0 {
			t.Errorf("empty WATCH_METERS: err %v, %d calls", err, len(fz.calls()))
		}
	}
}

// Every sample event in events/ is a shape the handler understands and
// answers in the right form.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob("../events/*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("sample events: %v, %v; want the files of events/", files, err)
	}
	for _, f := range files {
		if filepath.Base(f) == "env.json" {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, fz, _ := newTestHandler(t, Config{WatchMeters: []memory.Meter{{MeterID: 101, Version: "0.0.1"}, {MeterID: 102, Version: "0.0.1"}}})
			h.store = statestore.NewMemory() // the watch-list samples need a memory, the callout the local stack's key
			h.memory = &memory.Keeper{Store: h.store, Rules: h.cfg.rules(), Now: h.now}
			h.callouts = callout.NewVerifier(&fakeKeys{keys: callout.Keys{HMACKey: []byte("local-callout-key")}}, nil)
			req, err := trigger.Parse(data)
			if err != nil {
				t.Fatalf("trigger.Parse: %v", err)
			}
			switch {
			case req.Scheduled:
				req.Checks = checksOf(h.cfg.WatchMeters)
			case req.Route != trigger.RouteCheck:
				req.Checks = nil // no Zuora call, callouts included
			}
			out, err := invoke(h, string(data))
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			if len(fz.calls()) != len(req.Checks) {
				t.Errorf("%d Zuora calls for %d checks", len(fz.calls()), len(req.Checks))
			}
			switch req.Reply {
			case trigger.ReplyHTTP:
				resp := decode[events.APIGatewayProxyResponse](t, out)
				if resp.Headers["Content-Type"] != "application/json" || resp.StatusCode == 0 {
					t.Errorf("HTTP reply %s", out)
				}
				if resp.StatusCode != 200 {
					t.Errorf("HTTP %d: %s", resp.StatusCode, resp.Body)
				}
				if r := decode[reply.Result](t, []byte(resp.Body)); req.Route == trigger.RouteCheck && r.MeterID != req.Checks[0].MeterID {
					t.Errorf("body = %s", resp.Body)
				}
			case trigger.ReplyWidget:
				var html string
				if err := json.Unmarshal(out, &html); err != nil || !strings.Contains(html, "watched") {
					t.Errorf("widget = %.200s (%v)", out, err)
				}
			case trigger.ReplyBatch:
				if b := decode[reply.Batch](t, out); b.Summary.Total != len(req.Checks) {
					t.Errorf("batch = %s", out)
				}
			default:
				if r := decode[reply.Result](t, out); r.MeterID != req.Checks[0].MeterID || r.Status == "" {
					t.Errorf("result = %s", out)
				}
			}
		})
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// Bad input of each shape is InvalidRequest (400 over HTTP) with
// internal/trigger's words, and never reaches Zuora.
func TestInvalidInputNeverReachesZuora(t *testing.T) {
	for _, event := range []string{
		`[{"meterId":1,"version":"a"}]`,
		`{"meterId": 0, "version": "a"}`,
		`{"meters": [{"meterId": 1, "version": "a"}, {"meterId": 1}]}`,
		`{"detail-type": "Custom", "source": "com.example", "detail": {}}`,
		`{"httpMethod": "GET", "path": "/meters/1/a/run-status", "requestContext": {}, "headers": {"Zuora-Track-Id": "bad;id"}}`,
		`{"version": "2.0", "rawPath": "/meters/1/a%2Fb/watch", "requestContext": {"http": {"method": "PUT"}}}`,
	} {
		h, fz, _ := newTestHandler(t, Config{})
		out, err := invoke(h, event)
		if len(fz.calls()) != 0 {
			t.Errorf("%s: Zuora was called for bad input", event)
		}
		if strings.Contains(event, `"requestContext"`) {
			if resp := decode[events.APIGatewayProxyResponse](t, out); resp.StatusCode != 400 || !strings.Contains(resp.Body, `"InvalidRequest"`) {
				t.Errorf("%s: HTTP %d %s, want 400 InvalidRequest", event, resp.StatusCode, resp.Body)
			}
		} else if errorType(t, err) != TypeInvalidRequest {
			t.Errorf("%s: errorType %s", event, errorType(t, err))
		}
	}
}
