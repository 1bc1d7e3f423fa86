package zuora

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

func TestBackoffCap(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, 2*time.Second
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for n, w := range want {
		if got := backoffCap(base, maxDelay, n); got != w*time.Millisecond {
			t.Errorf("backoffCap(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	if got := backoffCap(time.Hour, 1<<62, 1000); got != 1<<62 {
		t.Errorf("large exponent: %v", got)
	}
}

func TestFullJitterBounds(t *testing.T) {
	limit := 10 * time.Millisecond
	var sawLow, sawHigh bool
	for range 2000 {
		d := fullJitter(limit)
		if d < 0 || d > limit {
			t.Fatalf("fullJitter(%v) = %v, outside [0, limit]", limit, d)
		}
		sawLow = sawLow || d < limit/4
		sawHigh = sawHigh || d > 3*limit/4
	}
	if !sawLow || !sawHigh {
		t.Error("jitter does not spread over [0, limit]")
	}
	if fullJitter(0) != 0 {
		t.Error("fullJitter(0) != 0")
	}
}

func TestRetryHint(t *testing.T) {
	now := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		hd := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			hd.Set(kv[i], kv[i+1])
		}
		return hd
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		want   time.Duration
	}{
		{"seconds", 429, h("Retry-After", "3"), 3 * time.Second},
		{"zero", 429, h("Retry-After", "0"), 0},
		{"date", 503, h("Retry-After", now.Add(7*time.Second).Format(http.TimeFormat)), 7 * time.Second},
		{"past date", 503, h("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"garbage", 429, h("Retry-After", "soon"), 0},
		{"negative", 429, h("Retry-After", "-4"), 0},
		{"huge", 429, h("Retry-After", "99999999999999999999"), 0},
		{"capped", 429, h("Retry-After", "999999999"), 24 * time.Hour},
		{"RateLimit-Reset on 429", 429, h("RateLimit-Reset", "12"), 12 * time.Second},
		{"Retry-After wins", 429, h("Retry-After", "2", "RateLimit-Reset", "12"), 2 * time.Second},
		{"RateLimit-Reset ignored on 503", 503, h("RateLimit-Reset", "12"), 0},
		{"none", 429, h(), 0},
	}
	for _, tt := range tests {
		if got := retryHint(tt.status, tt.header, now); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestBackoffWaits checks the waits between attempts: full jitter within
// [0, cap] (cap doubling from BaseDelay up to MaxDelay), and never less than
// the server's Retry-After.
func TestBackoffWaits(t *testing.T) {
	sim := newSim(t)
	cfgMod := func(cfg *Config) {
		cfg.MaxAttempts = 6
		cfg.BaseDelay = 10 * time.Millisecond
		cfg.MaxDelay = 40 * time.Millisecond
	}
	caps := []time.Duration{10, 20, 40, 40, 40}

	t.Run("random jitter within caps", func(t *testing.T) {
		for range 20 {
			sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: 503})
			c, rec := newTestClient(t, sim.URL, nil, cfgMod)
			_, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"})
			asError(t, err, ErrUnavailable)
			waits := rec.all()
			if len(waits) != 5 {
				t.Fatalf("%d waits for 6 attempts, want 5", len(waits))
			}
			for i, w := range waits {
				if w < 0 || w > caps[i]*time.Millisecond {
					t.Errorf("wait %d = %v, outside [0, %v]", i, w, caps[i]*time.Millisecond)
				}
			}
		}
	})
	t.Run("jitter draws at the cap", func(t *testing.T) {
		sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: 429})
		c, rec := newTestClient(t, sim.URL, nil, cfgMod)
		var limits []time.Duration
		c.jitter = func(limit time.Duration) time.Duration { limits = append(limits, limit); return limit }
		_, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"})
		e := asError(t, err, ErrThrottled)
		for i, w := range rec.all() {
			if w != caps[i]*time.Millisecond || limits[i] != w {
				t.Errorf("wait %d = %v (limit %v), want %v", i, w, limits[i], caps[i]*time.Millisecond)
			}
		}
		if e.RetryAfter != 40*time.Millisecond {
			t.Errorf("RetryAfter = %v, want the next cap 40ms", e.RetryAfter)
		}
	})
	t.Run("Retry-After honoured", func(t *testing.T) {
		date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
		sim.SetMeter(1, "v",
			zuoratest.Step{HTTPStatus: 429, RetryAfter: "1"},
			zuoratest.Step{HTTPStatus: 503, RetryAfter: "2"},
			zuoratest.Step{HTTPStatus: 503, RetryAfter: date},
			zuoratest.Step{HTTPStatus: 500, RetryAfter: "30"}, // not a 429/503: ignored
			zuoratest.Step{Status: 7})
		c, rec := newTestClient(t, sim.URL, nil, cfgMod)
		rs, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"})
		if err != nil || rs.Attempts != 5 {
			t.Fatalf("got %+v, %v", rs, err)
		}
		w := rec.all()
		if len(w) != 4 || w[0] < time.Second || w[1] < 2*time.Second || w[2] < time.Second || w[2] > 3*time.Second || w[3] > 40*time.Millisecond {
			t.Errorf("waits %v, want ≥1s, ≥2s, ≈2-3s, ≤40ms", w)
		}
	})
	t.Run("Retry-After too long without deadline", func(t *testing.T) {
		sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: 429, RetryAfter: "3600"})
		c, rec := newTestClient(t, sim.URL, nil, cfgMod)
		_, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"})
		e := asError(t, err, ErrThrottled)
		if e.RetryAfter != time.Hour || e.Attempts != 1 || len(rec.all()) != 0 {
			t.Errorf("got %+v after %d waits, want RetryAfter 1h, 1 attempt, no wait", e, len(rec.all()))
		}
	})
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   error
	}{{429, ErrThrottled}, {503, ErrUnavailable}} {
		sim := newSim(t)
		sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: tt.status, RetryAfter: "5"})
		c, rec := newTestClient(t, sim.URL, nil)
		start := time.Now()
		_, err := c.RunStatus(ctxTimeout(t, 300*time.Millisecond), Request{MeterID: 1, Version: "v"})
		e := asError(t, err, tt.want)
		if el := time.Since(start); el > 250*time.Millisecond { // the deadline is at 300 ms
			t.Errorf("%d: returned after %v, want at once", tt.status, el)
		}
		if e.RetryAfter != 5*time.Second || e.Attempts != 1 || e.Timeout || len(rec.all()) != 0 {
			t.Errorf("%d: got %+v, %d waits; want RetryAfter 5s, 1 attempt, no wait", tt.status, e, len(rec.all()))
		}
		if n := sim.Stats().RunStatusCalls; n != 1 {
			t.Errorf("%d: simulator saw %d calls, want 1", tt.status, n)
		}
	}
}

// TestNoAttemptAfterDeadline uses real sleeps: slow 503s with many attempts
// allowed, and a deadline that falls in the middle. Attempt start times are
// taken on the client side, where an attempt starts.
func TestNoAttemptAfterDeadline(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: 503, Latency: 15 * time.Millisecond})
	starts := &startRecorder{rt: NewHTTPClient().Transport}
	c, err := New(Config{
		BaseURL: sim.URL, Tokens: StaticToken(testToken), HTTPClient: &http.Client{Transport: starts},
		MaxAttempts: 100, BaseDelay: 10 * time.Millisecond, MaxDelay: 25 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()

	_, err = c.RunStatus(ctx, Request{MeterID: 1, Version: "v"})
	returned := time.Now()
	e := asError(t, err, ErrUnavailable)
	times := starts.all()
	if len(times) < 2 || len(times) != e.Attempts {
		t.Fatalf("%d attempts started, %d reported: want several, equal", len(times), e.Attempts)
	}
	for i, at := range times {
		if !at.Before(deadline) {
			t.Errorf("attempt %d started %v after the deadline", i+1, at.Sub(deadline))
		}
	}
	// Generous: the point is that the call does not wait out a backoff or
	// an attempt past the deadline, not how fast a loaded machine schedules.
	if over := returned.Sub(deadline); over > 100*time.Millisecond {
		t.Errorf("returned %v after the deadline", over)
	}
}

// startRecorder notes when each HTTP attempt starts.
type startRecorder struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	times []time.Time
}

func (s *startRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
	return s.rt.RoundTrip(r)
}

func (s *startRecorder) all() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}
