package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const testHMACKey = "s3cr3t-hmac-key"

// fakeKeys is the callout secret: what it holds now, and how often it was read.
type fakeKeys struct {
	mu       sync.Mutex
	keys     callout.Keys
	err      error
	reads    int
	deadline time.Time // of the last read's context
}

func (f *fakeKeys) CalloutKeys(ctx context.Context) (callout.Keys, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	f.deadline, _ = ctx.Deadline()
	return f.keys, f.err
}

func (f *fakeKeys) set(k callout.Keys) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = k
}

func (f *fakeKeys) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

type calloutRig struct {
	*memoryRig
	keys *fakeKeys
	log  *bytes.Buffer
}

func newCalloutRig(t *testing.T, keys callout.Keys) *calloutRig {
	t.Helper()
	r := &calloutRig{memoryRig: newMemoryRig(t, Config{NotifyResolved: true}), keys: &fakeKeys{keys: keys}, log: &bytes.Buffer{}}
	h, err := New(withDefaults(Config{NotifyResolved: true}), Deps{Zuora: r.zuora, Alerts: r.sns, Store: r.store, Callouts: r.keys,
		Log: slog.New(slog.NewJSONHandler(r.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.now = r.clock.Now
	r.h = h
	return r
}

func sign(key string, body []byte) string { return zuoratest.Sign([]byte(key), body) }

// calloutEvent is a callout as HTTP API (payload 2.0) hands it over:
// headers lowercased, the body Base64-encoded when b64 is set.
func calloutEvent(t *testing.T, body string, headers map[string]string, b64 bool) string {
	t.Helper()
	lower := map[string]string{}
	for k, v := range headers {
		lower[strings.ToLower(k)] = v
	}
	if b64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	ev, err := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /callouts/meter-session",
		RawPath: "/callouts/meter-session", Headers: lower, Body: body, IsBase64Encoded: b64,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(ev)
}

// send delivers a signed callout with a notification id and returns the reply.
func (r *calloutRig) send(t *testing.T, notification, body string) events.APIGatewayProxyResponse {
	t.Helper()
	return invokeHTTP(t, r.h, calloutEvent(t, body, map[string]string{
		"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body)), "Zuora-Notification-Id": notification, "Zuora-Request-Id": "zr-" + notification,
	}, false))
}

func sessionBody(meter int, session, status, version string) string {
	body := fmt.Sprintf(`{"meterId": %d, "sessionId": %q, "status": %q, "previousStatus": "RUNNING", "runType": "NORMAL", "meterName": "Usage"`, meter, session, status)
	if version != "" {
		body += fmt.Sprintf(`, "version": %q`, version)
	}
	return body + "}"
}

// One page per failed session; a poll of the same FAILED stays quiet; a
// completed session resolves; Zuora's retry is a duplicate. No Zuora call.
func TestCalloutSessions(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	steps := []struct{ notification, body, want string }{
		{"n1", sessionBody(102, "R-1", "FAILED", "0.0.1"), "alert"},
		{"n1", sessionBody(102, "R-1", "FAILED", "0.0.1"), "duplicate"},
		{"n2", sessionBody(102, "R-1", "FAILED", "0.0.1"), "open"},
		{"n3", sessionBody(102, "R-2", "FAILED", "0.0.1"), "alert"},
		{"n4", sessionBody(102, "R-3", "COMPLETED", "0.0.1"), "resolved"},
	}
	for _, st := range steps {
		resp := r.send(t, st.notification, st.body)
		got := decode[reply.Callout](t, []byte(resp.Body))
		var outcome string
		switch {
		case got.Duplicate:
			outcome = "duplicate"
		case len(got.Results) == 1 && got.Results[0].Alert != nil:
			outcome = got.Results[0].Alert.Event
		case len(got.Results) == 1 && got.Results[0].AlertOpenSince != nil:
			outcome = "open"
		}
		if resp.StatusCode != 200 || !got.Received || outcome != st.want {
			t.Errorf("%s %s: %d %s, want %s", st.notification, st.body, resp.StatusCode, resp.Body, st.want)
		}
	}
	if n := len(r.zuora.calls()); n != 0 {
		t.Errorf("callouts made %d Zuora calls", n)
	}
	alerts := r.sns.published()
	if len(alerts) != 3 || !strings.Contains(alerts[0].JSON, `"sessionId":"R-1"`) ||
		!strings.Contains(alerts[0].JSON, `"source":"callout"`) || !strings.Contains(alerts[0].JSON, `"previousStatus":"RUNNING"`) ||
		!strings.Contains(alerts[0].JSON, `"runType":"NORMAL"`) || !strings.Contains(alerts[2].JSON, `"resolves":{"status":"FAILED"`) {
		t.Errorf("messages %+v", alerts)
	}
	if strings.Contains(r.log.String(), testHMACKey) {
		t.Error("the log holds the HMAC key")
	}
}

// A poll after a callout's FAILED stays quiet; so does a callout after a
// poll's FAILED of the same run.
func TestCalloutAndPollSeeOneFailure(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	r.setStatus(failed)
	r.send(t, "n1", sessionBody(102, "R-1", "FAILED", "0.0.1"))
	if _, err := r.check(t); err != nil {
		t.Fatal(err)
	}
	r2 := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	r2.setStatus(failed)
	if _, err := r2.check(t); err != nil {
		t.Fatal(err)
	}
	r2.send(t, "n1", sessionBody(102, "R-1", "FAILED", "0.0.1"))
	if a, b := len(r.sns.published()), len(r2.sns.published()); a != 1 || b != 1 {
		t.Errorf("pages: callout then poll %d, poll then callout %d; want 1 each", a, b)
	}
}

// Without a version, a callout applies to the meter's watched versions,
// or to 0.0.1.
func TestCalloutVersions(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	for _, m := range []memory.Meter{{MeterID: 7, Version: "1.0"}, {MeterID: 7, Version: "2.0"}, {MeterID: 8, Version: "1.0"}} {
		if err := r.store.SetWatch(context.Background(), m, memory.Watch{Watched: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		body  string
		want  []string
		reads int // the watched versions come with their state
	}{
		{sessionBody(7, "R-1", "RUNNING", ""), []string{"1.0", "2.0"}, 1},
		{sessionBody(7, "R-1", "RUNNING", "3.0"), []string{"3.0"}, 1},
		{sessionBody(9, "R-1", "RUNNING", ""), []string{"0.0.1"}, 2},
	} {
		before, _ := r.store.Counts()
		var got []string
		for _, res := range decode[reply.Callout](t, []byte(r.send(t, "", tt.body).Body)).Results {
			got = append(got, res.Version)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: versions %v, want %v", tt.body, got, tt.want)
		}
		if after, _ := r.store.Counts(); after-before != tt.reads {
			t.Errorf("%s: %d reads of the memory, want %d", tt.body, after-before, tt.reads)
		}
	}
}

// Whatever the secret holds is required, compared on the raw body and on
// headers in any case; anything else is refused, and nothing is stored.
func TestCalloutVerification(t *testing.T) {
	body := sessionBody(102, "R-1", "FAILED", "0.0.1")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("zuora:pa55"))
	tests := []struct {
		name    string
		keys    callout.Keys
		headers map[string]string
		b64     bool
		want    int
	}{
		{"hmac", callout.Keys{HMACKey: []byte(testHMACKey)}, map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body))}, false, 200},
		{"hmac, Base64 body", callout.Keys{HMACKey: []byte(testHMACKey)}, map[string]string{"x-zuora-callout-signature": sign(testHMACKey, []byte(body))}, true, 200},
		{"no signature", callout.Keys{HMACKey: []byte(testHMACKey)}, nil, false, 401},
		{"another key", callout.Keys{HMACKey: []byte(testHMACKey)}, map[string]string{"X-Zuora-Callout-Signature": sign("other", []byte(body))}, false, 401},
		{"basic", callout.Keys{Username: "zuora", Password: "pa55"}, map[string]string{"Authorization": basic}, false, 200},
		{"wrong password", callout.Keys{Username: "zuora", Password: "pa55"}, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("zuora:nope"))}, false, 401},
		{"both required, basic missing", callout.Keys{HMACKey: []byte(testHMACKey), Username: "zuora", Password: "pa55"},
			map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body))}, false, 401},
		{"both", callout.Keys{HMACKey: []byte(testHMACKey), Username: "zuora", Password: "pa55"},
			map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body)), "Authorization": basic}, false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCalloutRig(t, tt.keys)
			resp := invokeHTTP(t, r.h, calloutEvent(t, body, tt.headers, tt.b64))
			if resp.StatusCode != tt.want {
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, resp.Body, tt.want)
			}
			if _, writes := r.store.Counts(); tt.want == 401 && (writes != 0 || len(r.sns.published()) != 0 || !strings.Contains(resp.Body, TypeCalloutUnauthorized)) {
				t.Errorf("a refused callout: %d writes, %d messages, body %s", writes, len(r.sns.published()), resp.Body)
			}
		})
	}
}

// A rotated key works within a minute; forged callouts re-read the secret
// at most once a minute.
func TestCalloutKeyRotation(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte("old-key")})
	body := sessionBody(102, "R-1", "RUNNING", "0.0.1")
	withOld := map[string]string{"X-Zuora-Callout-Signature": sign("old-key", []byte(body))}
	withNew := map[string]string{"X-Zuora-Callout-Signature": sign("new-key", []byte(body))}
	if resp := invokeHTTP(t, r.h, calloutEvent(t, body, withOld, false)); resp.StatusCode != 200 {
		t.Fatalf("old key: %d", resp.StatusCode)
	}
	r.keys.set(callout.Keys{HMACKey: []byte("new-key")})
	for range 50 { // forged, or signed with a key this container has not read yet
		if resp := invokeHTTP(t, r.h, calloutEvent(t, body, withNew, false)); resp.StatusCode != 401 {
			t.Fatalf("within a minute of the last read: %d, want 401", resp.StatusCode)
		}
	}
	if n := r.keys.count(); n != 1 {
		t.Errorf("the secret was read %d times for one good and 50 refused callouts within a minute, want 1", n)
	}
	r.clock.advance(callout.RereadAfter)
	if resp := invokeHTTP(t, r.h, calloutEvent(t, body, withNew, false)); resp.StatusCode != 200 || r.keys.count() != 2 {
		t.Errorf("a minute later: %d after %d reads; want the new key read and accepted", resp.StatusCode, r.keys.count())
	}
}

// The callout secret cannot be read: 500, which Zuora retries. Callouts
// are refused when the function has no callout secret.
func TestCalloutSecretErrors(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{})
	r.keys.err = errors.New("AccessDeniedException: arn:aws:secretsmanager:eu-west-1:123456789012:secret:zuora/callouts")
	body := sessionBody(102, "R-1", "FAILED", "0.0.1")
	for range 20 {
		resp := r.send(t, "n1", body)
		if resp.StatusCode != 500 || !strings.Contains(resp.Body, TypeSecretUnavailable) {
			t.Errorf("unreadable secret: %d %s", resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, "arn:aws") || strings.Contains(resp.Body, "AccessDenied") {
			t.Errorf("the reply to the open route tells why: %s", resp.Body)
		}
	}
	if n := r.keys.count(); n != 1 {
		t.Errorf("20 callouts within a minute read an unreadable secret %d times, want 1", n)
	}
	if !strings.Contains(r.log.String(), "AccessDeniedException") {
		t.Errorf("the log does not say why the secret could not be read: %s", r.log)
	}
	r.keys.err = nil // readable, but holds no key
	r.clock.advance(callout.RereadAfter)
	if resp := r.send(t, "n1", body); resp.StatusCode != 500 || r.keys.count() != 2 {
		t.Errorf("secret without a key: %d %s", resp.StatusCode, resp.Body)
	}
	h, _, _ := newTestHandler(t, Config{})
	if resp := invokeHTTP(t, h, calloutEvent(t, body, nil, false)); resp.StatusCode != 401 || !strings.Contains(resp.Body, "CALLOUT_SECRET_ID") {
		t.Errorf("without CALLOUT_SECRET_ID: %d %s", resp.StatusCode, resp.Body)
	}
}

// A body that is not the shape is 400, which Zuora does not retry.
func TestCalloutBadBodies(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	for _, body := range []string{
		``, `[]`, `{"meterId": 1, "sessionId": "R"}`, `{"meterId": 0, "sessionId": "R", "status": "FAILED"}`,
		`{"meterId": 1, "sessionId": "R 1", "status": "FAILED"}`, `{"meterId": 1, "sessionId": "R", "status": "FAILED", "version": "../x"}`,
		`{"meterId": "x", "sessionId": "R", "status": "FAILED"}`, strings.Repeat(" ", callout.MaxBody+1),
	} {
		if resp := r.send(t, "n", body); resp.StatusCode != 400 || !strings.Contains(resp.Body, TypeInvalidRequest) {
			t.Errorf("%.40q: %d %s, want 400", body, resp.StatusCode, resp.Body)
		}
	}
}

// SNS refuses the page: 503 (Zuora retries), the notification is given up,
// and Zuora's retry publishes the owed alert once.
func TestCalloutPublishFailureIsRetried(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	body := sessionBody(102, "R-1", "FAILED", "0.0.1")
	r.sns.setErr(errSNSDown)
	if resp := r.send(t, "n1", body); resp.StatusCode != 503 || !strings.Contains(resp.Body, TypeAlertPublishFailed) {
		t.Fatalf("SNS down: %d %s", resp.StatusCode, resp.Body)
	}
	r.sns.setErr(nil)
	for i := range 2 {
		resp := r.send(t, "n1", body)
		if resp.StatusCode != 200 {
			t.Fatalf("retry %d: %d %s", i+1, resp.StatusCode, resp.Body)
		}
	}
	if n := len(r.sns.published()); n != 1 {
		t.Errorf("%d pages after the retries, want the owed one once", n)
	}
}

// Zuora gives a callout 25 s in all, so the callout route
// works to a budget well within it, not the 29 s of other HTTP routes.
func TestCalloutBudget(t *testing.T) {
	r := newCalloutRig(t, callout.Keys{HMACKey: []byte(testHMACKey)})
	body := sessionBody(102, "R-1", "RUNNING", "0.0.1")
	ev := calloutEvent(t, body, map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body))}, false)
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // the function's own timeout is longer
	defer cancel()
	if _, err := r.h.Invoke(ctx, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	r.keys.mu.Lock()
	deadline := r.keys.deadline
	r.keys.mu.Unlock()
	if deadline.IsZero() || deadline.Sub(start) > 21*time.Second {
		t.Errorf("the callout worked to %v from its start; want at most 21 s", deadline.Sub(start))
	}
}
