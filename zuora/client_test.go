package zuora

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

var req1 = Request{MeterID: 123, Version: "0.0.1"}

func TestRunStatusEveryCode(t *testing.T) {
	sim := newSim(t)
	c, _ := newTestClient(t, sim.URL, nil)

	tests := []struct {
		name     string
		step     zuoratest.Step
		wantName string
		terminal bool
		failed   bool
		wantDesc string
	}{
		{"1", zuoratest.Step{Status: 1}, NeverRun, false, false, "NEVER_RUN"},
		{"2", zuoratest.Step{Status: 2}, Testing, false, false, "TESTING"},
		{"3", zuoratest.Step{Status: 3}, TestingFailed, true, true, "TESTING_FAILED"},
		{"4", zuoratest.Step{Status: 4}, TestingPassed, true, false, "TESTING_PASSED"},
		{"5", zuoratest.Step{Status: 5}, Running, false, false, "RUNNING"},
		{"6", zuoratest.Step{Status: 6}, Paused, false, false, "PAUSED"},
		{"7", zuoratest.Step{Status: 7}, Completed, true, false, "COMPLETED"},
		{"8", zuoratest.Step{Status: 8}, Failed, true, true, "FAILED"},
		{"9", zuoratest.Step{Status: 9}, Canceled, true, false, "CANCELED"},
		{"10", zuoratest.Step{Status: 10}, Initializing, false, false, "INITIALIZING"},
		{"11", zuoratest.Step{Status: 11}, UsagePushing, false, false, "USAGE_PUSHING"},
		{"12", zuoratest.Step{Status: 12}, PushCompleted, false, false, "PUSH_COMPLETED"},
		{"13", zuoratest.Step{Status: 13}, ConsumeCompleted, false, false, "CONSUME_COMPLETED"},
		{"unknown code", zuoratest.Step{Status: 42, Description: "ARCHIVED"}, Unknown, false, false, "ARCHIVED"},
		{"unknown code no description", zuoratest.Step{Status: 0}, Unknown, false, false, ""},
		{"negative code", zuoratest.Step{Body: `{"success":true,"data":{"runStatus":-1,"runStatusDescription":"X"}}`}, Unknown, false, false, "X"},
		{"unknown description", zuoratest.Step{Status: 7, Description: "STOPPING"}, Unknown, false, false, "STOPPING"},
		{"description of another code", zuoratest.Step{Status: 7, Description: "FAILED"}, Unknown, false, false, "FAILED"},
		{"no description", zuoratest.Step{Body: `{"success":true,"data":{"runStatus":8}}`}, Failed, true, true, ""},
		{"null description", zuoratest.Step{Body: `{"success":true,"data":{"runStatus":8,"runStatusDescription":null}}`}, Failed, true, true, ""},
		{"no success field", zuoratest.Step{Body: `{"data":{"runStatus":7,"runStatusDescription":"COMPLETED"}}`}, Completed, true, false, "COMPLETED"},
		{"extra fields", zuoratest.Step{Body: `{"success":true,"processId":"x","data":{"runStatus":5,"runStatusDescription":"RUNNING","more":[1]}}`}, Running, false, false, "RUNNING"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := int64(1000 + i)
			sim.SetMeter(id, "0.0.1", tt.step)
			got, err := c.RunStatus(context.Background(), Request{MeterID: id, Version: "0.0.1"})
			if err != nil {
				t.Fatalf("RunStatus: %v", err)
			}
			if got.Name != tt.wantName || got.Terminal != tt.terminal || got.Failed != tt.failed {
				t.Errorf("got %s terminal=%v failed=%v, want %s %v %v", got.Name, got.Terminal, got.Failed, tt.wantName, tt.terminal, tt.failed)
			}
			if got.Description != tt.wantDesc {
				t.Errorf("Description = %q, want %q", got.Description, tt.wantDesc)
			}
			if tt.step.Body == "" && got.Code != tt.step.Status {
				t.Errorf("Code = %d, want %d", got.Code, tt.step.Status)
			}
			if got.Attempts != 1 || got.RequestID == "" || got.Latency <= 0 {
				t.Errorf("result fields not filled: %+v", got)
			}
		})
	}
}

func TestRunStatusScriptedSequence(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(7, "1.0", zuoratest.Step{Status: 5}, zuoratest.Step{Status: 5}, zuoratest.Step{Status: 8})
	c, _ := newTestClient(t, sim.URL, nil)
	var names []string
	for range 4 {
		rs, err := c.RunStatus(context.Background(), Request{MeterID: 7, Version: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, rs.Name)
	}
	if got, want := strings.Join(names, ","), "RUNNING,RUNNING,FAILED,FAILED"; got != want {
		t.Errorf("sequence %s, want %s", got, want)
	}
}

func TestRunStatusErrors(t *testing.T) {
	big := zuoratest.Step{Body: `{"success":true,"data":{"runStatus":7,"runStatusDescription":"` + strings.Repeat("A", maxBodyBytes) + `"}}`}
	tests := []struct {
		name       string
		meterID    int64 // 0: the scripted meter 123
		version    string
		steps      []zuoratest.Step
		want       error
		wantStatus int
		wantCode   string
		wantMsg    string
		wantCalls  int // simulator calls == client attempts
		wantRetry  time.Duration
		ok         bool // the call ends in success
	}{
		{name: "404 meter", meterID: 999, want: ErrNotFound, wantStatus: 404, wantCode: "70002103", wantMsg: "Meter does not exist.", wantCalls: 1},
		{name: "404 version", version: "9.9.9", want: ErrNotFound, wantStatus: 404, wantCode: "70002104", wantCalls: 1},
		{name: "404 other body", steps: []zuoratest.Step{{HTTPStatus: 404, Body: `{"message":"nope"}`}}, want: ErrNotFound, wantStatus: 404, wantMsg: "nope", wantCalls: 1},
		{name: "400 keeps Zuora's words", steps: []zuoratest.Step{{HTTPStatus: 400, ErrorCode: "58730020", ErrorMessage: "bad version"}}, want: ErrInvalidArgument, wantStatus: 400, wantCode: "58730020", wantMsg: "bad version", wantCalls: 1},
		{name: "401 twice", steps: []zuoratest.Step{{HTTPStatus: 401}}, want: ErrAuthFailed, wantStatus: 401, wantMsg: "Authentication error", wantCalls: 2},
		{name: "401 then success", steps: []zuoratest.Step{{HTTPStatus: 401}, {Status: 7}}, ok: true, wantCalls: 2},
		{name: "401 mediation body", steps: []zuoratest.Step{{HTTPStatus: 401, Body: `{"success":false,"error":{"code":"70002006","message":"Unauthorized"}}`}}, want: ErrAuthFailed, wantStatus: 401, wantCode: "70002006", wantCalls: 2},
		{name: "403", steps: []zuoratest.Step{{HTTPStatus: 403}}, want: ErrAuthFailed, wantStatus: 403, wantCode: "70002006", wantCalls: 1},
		{name: "429 then success", steps: []zuoratest.Step{{HTTPStatus: 429}, {Status: 7}}, ok: true, wantCalls: 2},
		{name: "429 exhausted", steps: []zuoratest.Step{{HTTPStatus: 429}}, want: ErrThrottled, wantStatus: 429, wantCalls: 3, wantRetry: 4 * time.Millisecond},
		{name: "429 exhausted with hint", steps: []zuoratest.Step{{HTTPStatus: 429, RetryAfter: "2"}}, want: ErrThrottled, wantStatus: 429, wantCalls: 3, wantRetry: 2 * time.Second},
		{name: "500", steps: []zuoratest.Step{{HTTPStatus: 500}}, want: ErrUnavailable, wantStatus: 500, wantCode: "SystemError", wantMsg: "internal server error", wantCalls: 3},
		{name: "502", steps: []zuoratest.Step{{HTTPStatus: 502}}, want: ErrUnavailable, wantStatus: 502, wantCalls: 3},
		{name: "503", steps: []zuoratest.Step{{HTTPStatus: 503}}, want: ErrUnavailable, wantStatus: 503, wantCalls: 3},
		{name: "503 then success", steps: []zuoratest.Step{{HTTPStatus: 503}, {HTTPStatus: 502}, {Status: 5}}, ok: true, wantCalls: 3},
		{name: "500 numeric code", steps: []zuoratest.Step{{HTTPStatus: 500, Body: `{"reasons":[{"code":53100020,"message":"boom"}]}`}}, want: ErrUnavailable, wantStatus: 500, wantCode: "53100020", wantMsg: "boom", wantCalls: 3},
		{name: "malformed JSON", steps: []zuoratest.Step{{Body: `{"success":true,"data":{`}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "HTML", steps: []zuoratest.Step{{Body: `<html>gateway</html>`}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "empty body", steps: []zuoratest.Step{{Body: ` `}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "success false", steps: []zuoratest.Step{{Body: `{"success":false,"errors":[{"code":"X1","message":"no"}]}`}}, want: ErrUnavailable, wantStatus: 200, wantCode: "X1", wantMsg: "no", wantCalls: 1},
		{name: "no data", steps: []zuoratest.Step{{Body: `{"success":true}`}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "no runStatus", steps: []zuoratest.Step{{Body: `{"success":true,"data":{"runStatusDescription":"RUNNING"}}`}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "string runStatus", steps: []zuoratest.Step{{Body: `{"success":true,"data":{"runStatus":"7"}}`}}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "body over 1 MiB", steps: []zuoratest.Step{big}, want: ErrUnavailable, wantStatus: 200, wantCalls: 1},
		{name: "unexpected 418", steps: []zuoratest.Step{{HTTPStatus: 418}}, want: ErrUnavailable, wantStatus: 418, wantCalls: 1},
		{name: "redirect not followed", steps: []zuoratest.Step{{HTTPStatus: 302, Body: `{}`}}, want: ErrUnavailable, wantStatus: 302, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := newSim(t)
			if tt.steps != nil {
				sim.SetMeter(123, "0.0.1", tt.steps...)
			} else {
				sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
			}
			c, _ := newTestClient(t, sim.URL, nil)
			r := req1
			if tt.meterID != 0 {
				r.MeterID = tt.meterID
			}
			if tt.version != "" {
				r.Version = tt.version
			}
			rs, err := c.RunStatus(context.Background(), r)
			if got := sim.Stats().RunStatusCalls; got != tt.wantCalls {
				t.Errorf("simulator saw %d calls, want %d", got, tt.wantCalls)
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("RunStatus: %v", err)
				}
				if rs.Attempts != tt.wantCalls {
					t.Errorf("Attempts = %d, want %d", rs.Attempts, tt.wantCalls)
				}
				return
			}
			e := asError(t, err, tt.want)
			if e.HTTPStatus != tt.wantStatus {
				t.Errorf("HTTPStatus = %d, want %d", e.HTTPStatus, tt.wantStatus)
			}
			if tt.wantCode != "" && e.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", e.Code, tt.wantCode)
			}
			if tt.wantMsg != "" && e.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMsg)
			}
			if e.Attempts != tt.wantCalls {
				t.Errorf("Attempts = %d, want %d", e.Attempts, tt.wantCalls)
			}
			if tt.wantRetry != 0 && e.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.wantRetry)
			}
			if e.RequestID == "" {
				t.Error("RequestID not kept")
			}
			if e.Timeout {
				t.Error("Timeout set without a timeout")
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error message leaks the token: %v", err)
			}
		})
	}
}

func TestRunStatusNetworkErrorClosedServer(t *testing.T) {
	sim := zuoratest.NewServer()
	url := sim.URL
	sim.Close()
	c, rec := newTestClient(t, url, nil)
	_, err := c.RunStatus(context.Background(), req1)
	e := asError(t, err, ErrUnavailable)
	if e.Attempts != 3 || e.HTTPStatus != 0 || e.Timeout || e.Err == nil {
		t.Errorf("got %+v, want 3 attempts, no status, no timeout, a cause", e)
	}
	if n := len(rec.all()); n != 2 {
		t.Errorf("waited %d times between 3 attempts, want 2", n)
	}
}

func TestRunStatusDroppedConnectionThenSuccess(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Drop: true}, zuoratest.Step{Status: 7})
	c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.HTTPClient = NewHTTPClient() })
	rs, err := c.RunStatus(context.Background(), req1)
	if err != nil {
		t.Fatalf("RunStatus: %v", err)
	}
	if rs.Name != Completed || rs.Attempts != 2 {
		t.Errorf("got %s after %d attempts, want COMPLETED after 2", rs.Name, rs.Attempts)
	}
}

func TestRunStatusAttemptTimeout(t *testing.T) {
	slow := zuoratest.Step{Status: 5, Latency: time.Second}
	t.Run("retried then success", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(123, "0.0.1", slow, zuoratest.Step{Status: 7})
		c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.AttemptTimeout = 30 * time.Millisecond })
		rs, err := c.RunStatus(context.Background(), req1)
		if err != nil || rs.Name != Completed || rs.Attempts != 2 {
			t.Fatalf("got %+v, %v; want COMPLETED after 2 attempts", rs, err)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(123, "0.0.1", slow)
		c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) {
			cfg.AttemptTimeout = 20 * time.Millisecond
			cfg.MaxAttempts = 2
		})
		_, err := c.RunStatus(context.Background(), req1)
		e := asError(t, err, ErrUnavailable)
		if !e.Timeout || e.Attempts != 2 {
			t.Errorf("got Timeout=%v Attempts=%d, want true 2", e.Timeout, e.Attempts)
		}
		if got := sim.Stats().RunStatusCalls; got != 2 {
			t.Errorf("simulator saw %d calls, want 2", got)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(123, "0.0.1", slow)
		c, _ := newTestClient(t, sim.URL, nil)
		start := time.Now()
		_, err := c.RunStatus(ctxTimeout(t, 40*time.Millisecond), req1)
		e := asError(t, err, ErrUnavailable)
		if !e.Timeout || e.Attempts != 1 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %+v, want a timeout after 1 attempt wrapping DeadlineExceeded", e)
		}
		if el := time.Since(start); el > 500*time.Millisecond {
			t.Errorf("returned after %v, want about the deadline", el)
		}
	})
}

func TestRunStatusContextAlreadyDone(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
	c, _ := newTestClient(t, sim.URL, nil)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.RunStatus(canceled, req1)
	if e := asError(t, err, ErrUnavailable); e.Timeout || e.Attempts != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %+v", e)
	}

	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	_, err = c.RunStatus(expired, req1)
	if e := asError(t, err, ErrUnavailable); !e.Timeout || e.Attempts != 0 {
		t.Errorf("expired: got %+v", e)
	}
	if n := len(sim.Requests()); n != 0 {
		t.Errorf("%d requests sent after the context ended", n)
	}
}

func TestRunStatusHeaders(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
	c, _ := newTestClient(t, sim.URL, nil)

	rs, err := c.RunStatus(context.Background(), Request{
		MeterID: 123, Version: "0.0.1", TrackID: "trace-1/abc", EntityIDs: "ent-1", OrgIDs: "org-a, org-b",
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs.RequestID == "" {
		t.Errorf("no Zuora-Request-Id in %+v", rs)
	}
	if _, err := c.RunStatus(context.Background(), req1); err != nil {
		t.Fatal(err)
	}

	reqs := sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests recorded, want 2", len(reqs))
	}
	h := reqs[0].Header
	want := map[string]string{
		"Authorization":    "Bearer <redacted>",
		"Content-Type":     "application/json",
		"Accept":           "application/json",
		"Accept-Encoding":  "gzip", // added, and decoded, by Go's transport
		"Zuora-Track-Id":   "trace-1/abc",
		"Zuora-Entity-Ids": "ent-1",
		"Zuora-Org-Ids":    "org-a, org-b",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if reqs[0].Method != http.MethodGet || reqs[0].Path != "/meters/123/0.0.1/runStatus" {
		t.Errorf("request %s %s", reqs[0].Method, reqs[0].Path)
	}
	for _, k := range []string{"Zuora-Track-Id", "Zuora-Entity-Ids", "Zuora-Org-Ids"} {
		if _, present := reqs[1].Header[k]; present {
			t.Errorf("header %s sent although not set", k)
		}
	}
}

func TestRunStatusPathEscaping(t *testing.T) {
	sim := newSim(t)
	version := "Release_1.2-rc.3"
	sim.SetMeter(9223372036854775807, version, zuoratest.Step{Status: 7})
	c, _ := newTestClient(t, sim.URL+"/", nil) // a trailing slash must not double
	if _, err := c.RunStatus(context.Background(), Request{MeterID: 9223372036854775807, Version: version}); err != nil {
		t.Fatal(err)
	}
	if got, want := sim.Requests()[0].Path, "/meters/9223372036854775807/Release_1.2-rc.3/runStatus"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

func TestRunStatusValidation(t *testing.T) {
	tests := []struct {
		name string
		req  Request
	}{
		{"zero meter", Request{MeterID: 0, Version: "1"}},
		{"negative meter", Request{MeterID: -5, Version: "1"}},
		{"empty version", Request{MeterID: 1}},
		{"long version", Request{MeterID: 1, Version: strings.Repeat("1", 65)}},
		{"slash in version", Request{MeterID: 1, Version: "0.0.1/../x"}},
		{"space in version", Request{MeterID: 1, Version: "0 1"}},
		{"percent in version", Request{MeterID: 1, Version: "%2e%2e"}},
		{"dot-dot version", Request{MeterID: 1, Version: ".."}},
		{"dot version", Request{MeterID: 1, Version: "."}},
		{"unicode version", Request{MeterID: 1, Version: "v1é"}},
		{"track id colon", Request{MeterID: 1, Version: "1", TrackID: "a:b"}},
		{"track id semicolon", Request{MeterID: 1, Version: "1", TrackID: "a;b"}},
		{"track id double quote", Request{MeterID: 1, Version: "1", TrackID: `a"b`}},
		{"track id single quote", Request{MeterID: 1, Version: "1", TrackID: "a'b"}},
		{"track id newline", Request{MeterID: 1, Version: "1", TrackID: "a\r\nX-Evil: 1"}},
		{"track id non-ASCII", Request{MeterID: 1, Version: "1", TrackID: "naïve"}},
		{"track id too long", Request{MeterID: 1, Version: "1", TrackID: strings.Repeat("t", 65)}},
		{"entity id CRLF", Request{MeterID: 1, Version: "1", EntityIDs: "e1\r\nX: y"}},
		{"entity id blank", Request{MeterID: 1, Version: "1", EntityIDs: "  "}},
		{"org ids empty item", Request{MeterID: 1, Version: "1", OrgIDs: "a,,b"}},
		{"org ids LF", Request{MeterID: 1, Version: "1", OrgIDs: "a\nb"}},
		{"entity id too long", Request{MeterID: 1, Version: "1", EntityIDs: strings.Repeat("e", 65)}},
		{"org ids too long", Request{MeterID: 1, Version: "1", OrgIDs: strings.Repeat("o,", 512) + "o"}},
		{"org ids tab", Request{MeterID: 1, Version: "1", OrgIDs: "a\tb"}},
	}
	sim := newSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RunStatus(context.Background(), tt.req)
			e := asError(t, err, ErrInvalidArgument)
			if e.Attempts != 0 || e.Message == "" {
				t.Errorf("got %+v", e)
			}
			if err := ValidateRequest(tt.req); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("ValidateRequest = %v", err)
			}
		})
	}
	if n := len(sim.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input, want 0", n)
	}
}

func TestValidateTrackID(t *testing.T) {
	good := []string{"", "abc", strings.Repeat("x", 64), "c0ffee00-1234-5678-9abc-def012345678", "a b/c=d?e&f+g(h)[i]{j}<k>~!@#$%^*,.|\\`"}
	for _, id := range good {
		if err := ValidateTrackID(id); err != nil {
			t.Errorf("ValidateTrackID(%q) = %v, want nil", id, err)
		}
	}
	bad := []string{strings.Repeat("x", 65), "a:b", "a;b", `a"b`, "a'b", "a\x00b", "a\x7fb", "a\tb", "ü"}
	for _, id := range bad {
		if err := ValidateTrackID(id); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ValidateTrackID(%q) = %v, want ErrInvalidArgument", id, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	tokens := StaticToken("t")
	tests := []struct {
		base string
		ok   bool
	}{
		{"https://rest.zuora.com", true},
		{"https://rest.test.eu.zuora.com/", true},
		{"https://proxy.example.com/zuora", true},
		{"http://127.0.0.1:8090", true},
		{"http://127.1.2.3", true},
		{"http://localhost:8090", true},
		{"http://LOCALHOST", true},
		{"http://[::1]:8090", true},
		{"http://rest.zuora.com", false},
		{"http://10.0.0.1", false},
		{"http://localhost.example.com", false},
		{"http://[::2]", false},
		{"ftp://rest.zuora.com", false},
		{"rest.zuora.com", false},
		{"", false},
		{"https://", false},
		{"https://user:pass@rest.zuora.com", false},
		{"https://rest.zuora.com?x=1", false},
		{"https://rest.zuora.com#frag", false},
		{"https://rest.zuora.com/%zz", false},
	}
	for _, tt := range tests {
		_, err := New(Config{BaseURL: tt.base, Tokens: tokens})
		if tt.ok && err != nil {
			t.Errorf("New(%q) = %v, want ok", tt.base, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("New(%q) = %v, want ErrInvalidArgument", tt.base, err)
		}
		if !tt.ok && err != nil && strings.Contains(err.Error(), "pass") {
			t.Errorf("New(%q) error leaks user info: %v", tt.base, err)
		}
	}

	bad := []Config{
		{BaseURL: "https://rest.zuora.com"},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, MaxAttempts: -1},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BaseDelay: -1},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, AttemptTimeout: -1},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BaseDelay: time.Second, MaxDelay: time.Millisecond},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BreakerFailures: -1},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BreakerThrottles: -1},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BreakerCooldown: -time.Second},
		{BaseURL: "https://rest.zuora.com", Tokens: tokens, BreakerCooldown: 31 * time.Second},
	}
	for i, cfg := range bad {
		if _, err := New(cfg); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("bad config %d: got %v, want ErrInvalidArgument", i, err)
		}
	}

	c, err := New(Config{BaseURL: "https://rest.zuora.com/", Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://rest.zuora.com" || c.maxAttempts != 3 || c.baseDelay != DefaultBaseDelay ||
		c.maxDelay != DefaultMaxDelay || c.attemptTimeout != DefaultAttemptTimeout || c.http.Transport != sharedHTTPClient().Transport {
		t.Errorf("defaults not applied: %+v", c)
	}
	if b := c.limits.breaker; b.failures != DefaultBreakerFailures || b.throttles != DefaultBreakerThrottles ||
		b.cooldown != DefaultBreakerCooldown || b.cooldown > MaxBreakerCooldown {
		t.Errorf("breaker defaults not applied: %+v", b)
	}
	c, err = New(Config{BaseURL: "https://rest.zuora.com", Tokens: tokens, BreakerFailures: 2, BreakerThrottles: 1, BreakerCooldown: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if b := c.limits.breaker; b.failures != 2 || b.throttles != 1 || b.cooldown != 30*time.Second {
		t.Errorf("breaker config not applied: %+v", b)
	}
}

func TestNewHTTPClient(t *testing.T) {
	hc := NewHTTPClient()
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T", hc.Transport)
	}
	if tr.MaxIdleConnsPerHost != 64 || !tr.ForceAttemptHTTP2 || tr.Proxy == nil || tr.TLSHandshakeTimeout != 5*time.Second ||
		tr.IdleConnTimeout != 90*time.Second || tr.ResponseHeaderTimeout == 0 || tr.DisableKeepAlives {
		t.Errorf("transport not tuned: %+v", tr)
	}
	first, second := sharedHTTPClient(), sharedHTTPClient()
	if first != second {
		t.Error("the shared client is rebuilt")
	}
}

func TestRunStatusGzip(t *testing.T) {
	t.Run("decoded by the transport", func(t *testing.T) {
		sim := newSim(t)
		sim.SetPadding(5000)
		sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 8})
		c, _ := newTestClient(t, sim.URL, nil)
		rs, err := c.RunStatus(context.Background(), req1)
		if err != nil || rs.Name != Failed {
			t.Fatalf("got %+v, %v", rs, err)
		}
		if r := sim.Requests()[0]; !r.Gzipped {
			t.Error("the simulator did not gzip the answer")
		}
	})
	t.Run("arrives undecoded", func(t *testing.T) {
		sim := newSim(t)
		sim.SetPadding(5000)
		sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
		hc := &http.Client{Transport: acceptGzip{&http.Transport{DisableCompression: true}}}
		c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.HTTPClient = hc })
		rs, err := c.RunStatus(context.Background(), req1)
		if err != nil || rs.Name != Completed {
			t.Fatalf("got %+v, %v", rs, err)
		}
		if r := sim.Requests()[0]; !r.Gzipped {
			t.Error("the simulator did not gzip the answer")
		}
	})
	t.Run("small answer not gzipped", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
		c, _ := newTestClient(t, sim.URL, nil)
		if _, err := c.RunStatus(context.Background(), req1); err != nil {
			t.Fatal(err)
		}
		if sim.Requests()[0].Gzipped {
			t.Error("a body under 1,000 bytes was gzipped")
		}
	})
	t.Run("padding over 1 MiB refused", func(t *testing.T) {
		sim := newSim(t)
		sim.SetPadding(maxBodyBytes + 1)
		sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
		hc := &http.Client{Transport: acceptGzip{&http.Transport{DisableCompression: true}}}
		for name, client := range map[string]*http.Client{"transport": nil, "undecoded": hc} {
			c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.HTTPClient = client })
			_, err := c.RunStatus(context.Background(), req1)
			if e := asError(t, err, ErrUnavailable); e.Attempts != 1 {
				t.Errorf("%s: %d attempts, want 1", name, e.Attempts)
			}
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		srv := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("not gzip at all"))
		})
		hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		c, _ := newTestClient(t, srv, nil, func(cfg *Config) { cfg.HTTPClient = hc })
		_, err := c.RunStatus(context.Background(), req1)
		if e := asError(t, err, ErrUnavailable); e.Attempts != 1 {
			t.Errorf("%d attempts, want 1", e.Attempts)
		}
	})
}

// acceptGzip asks for gzip on a transport that will not decode it, the way a
// proxy or a hand-built transport might.
type acceptGzip struct{ rt http.RoundTripper }

func (a acceptGzip) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Encoding", "gzip")
	return a.rt.RoundTrip(r)
}

func TestRedirectNotFollowed(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
	redirector := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sim.URL+r.URL.Path, http.StatusFound)
	})
	c, _ := newTestClient(t, redirector, nil)
	_, err := c.RunStatus(context.Background(), req1)
	if e := asError(t, err, ErrUnavailable); e.HTTPStatus != http.StatusFound || e.Attempts != 1 {
		t.Errorf("got %+v", e)
	}
	if n := len(sim.Requests()); n != 0 {
		t.Errorf("the redirect was followed (%d requests at the target)", n)
	}
}
