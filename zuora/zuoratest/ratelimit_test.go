package zuoratest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

func TestRateLimit(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	get := func(path string) answer { return do(t, "GET", s.URL+path, nil, "Authorization", "Bearer static") }
	s.SetRateLimit(3, time.Hour)

	// Every answer reports the window; a 404 counts like any other call.
	want := []struct {
		status    int
		remaining string
	}{{http.StatusOK, "2"}, {http.StatusNotFound, "1"}, {http.StatusOK, "0"}}
	paths := []string{"/meters/1/v/runStatus", "/meters/2/v/runStatus", "/meters/1/v/runStatus"}
	for i, w := range want {
		a := get(paths[i])
		if a.status != w.status || a.header.Get("RateLimit-Remaining") != w.remaining ||
			a.header.Get("RateLimit-Limit") != "3" || a.header.Get("RateLimit-Reset") != "3600" {
			t.Errorf("call %d: %d %v, want %d with %s remaining", i, a.status, a.header, w.status, w.remaining)
		}
	}
	// Past the limit: 429 until the window ends, whatever the meter.
	for _, p := range paths {
		a := get(p)
		if a.status != 429 || a.header.Get("Retry-After") != "3600" || a.header.Get("RateLimit-Remaining") != "0" ||
			a.header.Get("RateLimit-Reset") != "3600" || !strings.Contains(a.body, "TOO_MANY_REQUESTS") {
			t.Errorf("%s past the limit: %d %v %s", p, a.status, a.header, a.body)
		}
	}
	// Unauthorized calls are refused before the tenant is known.
	if a := do(t, "GET", s.URL+paths[0], nil, "Authorization", "Bearer nope"); a.status != 401 {
		t.Errorf("bad token: %d", a.status)
	}
	if n := s.Stats().RunStatusCalls; n != 7 {
		t.Errorf("stats count %d calls, want 7 (429s and 401s included)", n)
	}

	// A window ends: the next call starts a new one.
	// (A window of a second: two calls in a row fall in it on a loaded machine.)
	s.SetRateLimit(1, time.Second)
	get(paths[0])
	if a := get(paths[0]); a.status != 429 || a.header.Get("Retry-After") != "1" {
		t.Errorf("second call in a 1s window of 1: %d %v, want 429 with Retry-After 1", a.status, a.header)
	}
	time.Sleep(1100 * time.Millisecond)
	if a := get(paths[0]); a.status != 200 || a.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("after the window: %d %v", a.status, a.header)
	}

	// Back to the default: reported, not enforced.
	s.SetRateLimit(0, 0)
	for range 3 {
		if a := get(paths[0]); a.status != 200 || a.header.Get("RateLimit-Limit") != "50000" {
			t.Errorf("default limit: %d %v", a.status, a.header)
		}
	}
}

func TestOutage(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 5}, zuoratest.Step{Status: 7})
	get := func(path string) answer { return do(t, "GET", s.URL+path, nil, "Authorization", "Bearer static") }

	s.SetOutage(429, "1")
	for _, p := range []string{"/meters/1/v/runStatus", "/meters/99/v/runStatus"} {
		a := get(p)
		if a.status != 429 || a.header.Get("Retry-After") != "1" || a.header.Get("RateLimit-Remaining") != "0" ||
			a.header.Get("RateLimit-Reset") != "1" {
			t.Errorf("%s throttled: %d %v", p, a.status, a.header)
		}
	}
	s.SetOutage(503, "")
	a := get("/meters/1/v/runStatus")
	if a.status != 503 || a.header.Get("Retry-After") != "" || !strings.Contains(a.body, "SystemError") ||
		a.header.Get("RateLimit-Remaining") != "49997" { // the third call of the window
		t.Errorf("outage: %d %v %s", a.status, a.header, a.body)
	}
	if a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil); a.status != 401 {
		t.Errorf("no token during the outage: %d, want 401", a.status)
	}

	// The outage consumed none of the meter's script.
	s.SetOutage(0, "")
	if a := get("/meters/1/v/runStatus"); !strings.Contains(a.body, `"RUNNING"`) {
		t.Errorf("after the outage: %d %s, want the script's first step", a.status, a.body)
	}
	if n := s.Stats().RunStatusCalls; n != 5 {
		t.Errorf("stats count %d calls, want 5", n)
	}

	defer func() {
		if recover() == nil {
			t.Error("SetOutage(200) did not panic")
		}
	}()
	s.SetOutage(200, "")
}

func TestConfigLimits(t *testing.T) {
	cfg, err := zuoratest.ParseConfig([]byte(`{"tokens":["t"],"meters":[{"meterId":1,"version":"v","steps":[{"status":7}]}],
		"rateLimit":{"limit":1,"window":"1h"},"outage":{"status":503,"retryAfter":"2"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := zuoratest.NewTestServer(t, cfg)
	get := func() answer { return do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer t") }
	if a := get(); a.status != 503 || a.header.Get("Retry-After") != "2" || a.header.Get("RateLimit-Limit") != "1" {
		t.Errorf("configured outage: %d %v", a.status, a.header)
	}
	s.SetOutage(0, "")
	if a := get(); a.status != 429 {
		t.Errorf("configured limit of 1 an hour, second call: %d", a.status)
	}

	for _, bad := range []zuoratest.Config{
		{RateLimit: &zuoratest.RateLimitConfig{Limit: 0, Window: "1s"}},
		{RateLimit: &zuoratest.RateLimitConfig{Limit: 5, Window: "soon"}},
		{RateLimit: &zuoratest.RateLimitConfig{Limit: 5}},
		{Outage: &zuoratest.OutageConfig{Status: 200}},
		{Outage: &zuoratest.OutageConfig{Status: 600}},
	} {
		if err := zuoratest.NewUnstartedHandler().Apply(bad); err == nil {
			t.Errorf("Apply(%+v) accepted", bad)
		}
	}
	if _, err := zuoratest.ParseConfig([]byte(`{"outage":{"status":503,"retryafter":"1","x":1}}`)); err == nil {
		t.Error("unknown outage field accepted")
	}
}
