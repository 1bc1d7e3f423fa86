package zuora

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// newLiveClient is newTestClient with real waits on the real clock, for
// tests where concurrent callers wait on each other.
func newLiveClient(t testing.TB, baseURL string, mods ...func(*Config)) *Client {
	t.Helper()
	c, _ := newTestClient(t, baseURL, nil, mods...)
	c.sleep, c.limits.now = sleepCtx, time.Now
	return c
}

// concurrently checks meters ids at once through c, each with deadline d,
// and returns the errors in the order of ids.
func concurrently(c *Client, ids []int64, version string, d time.Duration) ([]RunStatus, []error) {
	results, errs := make([]RunStatus, len(ids)), make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			results[i], errs[i] = c.RunStatus(ctx, Request{MeterID: id, Version: version})
		})
	}
	wg.Wait()
	return results, errs
}

// arrivals returns when the simulator's requests arrived, in order.
func arrivals(sim *zuoratest.Server) []time.Time {
	var times []time.Time
	for _, r := range sim.Requests() {
		times = append(times, r.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return times
}

// TestPauseHoldsConcurrentCallers: one call's 429 with Retry-After pauses
// every call of the Client; then one goes first and the rest wait for its
// answer.
func TestPauseHoldsConcurrentCallers(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{HTTPStatus: 429, RetryAfter: "1"}, zuoratest.Step{Status: 7})
	ids := []int64{2, 3, 4, 5, 6, 7, 8, 9}
	for _, id := range ids {
		sim.SetMeter(id, "v", zuoratest.Step{Status: 7})
	}
	c := newLiveClient(t, sim.URL)

	// The 429 asks for a second; its caller has less left and stops.
	_, err := c.RunStatus(ctxTimeout(t, 300*time.Millisecond), Request{MeterID: 1, Version: "v"})
	if e := asError(t, err, ErrThrottled); e.Attempts != 1 || e.RetryAfter != time.Second {
		t.Fatalf("meter 1: %+v", e)
	}
	// Another caller whose deadline comes first fails at once, sending nothing.
	_, err = c.RunStatus(ctxTimeout(t, 200*time.Millisecond), Request{MeterID: 2, Version: "v"})
	e := asError(t, err, ErrThrottled)
	if e.Attempts != 0 || e.HTTPStatus != 0 || e.RetryAfter <= 200*time.Millisecond || e.RetryAfter > time.Second {
		t.Errorf("caller with 200ms left: %+v, want nothing sent and RetryAfter the rest of the second", e)
	}
	if n := sim.Stats().RunStatusCalls; n != 1 {
		t.Fatalf("simulator saw %d calls, want only meter 1's", n)
	}

	// Callers with time enough wait out the pause; the first after it goes
	// alone, the others after its answer.
	sim.SetLatency(50 * time.Millisecond)
	_, errs := concurrently(c, ids, "v", 5*time.Second)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
	times := arrivals(sim)
	if len(times) != 1+len(ids) {
		t.Fatalf("%d requests, want %d", len(times), 1+len(ids))
	}
	for i, at := range times[1:] {
		if at.Sub(times[0]) < time.Second {
			t.Errorf("request %d arrived %v after the 429, inside its 1s pause", i+2, at.Sub(times[0]))
		}
	}
	for _, at := range times[2:] {
		if at.Sub(times[1]) < 50*time.Millisecond {
			t.Errorf("a request arrived %v after the probe, before its answer", at.Sub(times[1]))
		}
	}
}

// TestPacing: with RateLimit-Remaining down to the calls in flight, calls
// wait for the window to reset instead of running into 429s.
func TestPacing(t *testing.T) {
	t.Run("no 429 at the limit", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
		sim.SetRateLimit(10, time.Second)
		c := newLiveClient(t, sim.URL)
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 5 {
			wg.Go(func() {
				for range 5 {
					if _, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"}); err != nil {
						failed.Add(1)
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		for _, r := range sim.Requests() {
			if r.Status == 429 {
				t.Errorf("a call ran into the limit at %v", r.Time)
			}
		}
		if n := sim.Stats().RunStatusCalls; n != 25 || failed.Load() != 0 {
			t.Errorf("%d calls for 25 checks, %d failed", n, failed.Load())
		}
		if st := c.Limits(); st.GateWaits == 0 || st.GateWaitTime <= 0 || st.BreakerOpenings != 0 {
			t.Errorf("Limits() = %+v, want the calls paced at the gate", st)
		}
	})
	t.Run("deadline before the reset", func(t *testing.T) {
		sim := newSim(t)
		sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
		sim.SetRateLimit(2, time.Minute)
		c := newLiveClient(t, sim.URL)
		for range 2 {
			if _, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := c.RunStatus(ctxTimeout(t, time.Second), Request{MeterID: 1, Version: "v"})
		e := asError(t, err, ErrThrottled)
		if e.Attempts != 0 || e.RetryAfter < 58*time.Second || e.RetryAfter > time.Minute {
			t.Errorf("got %+v, want nothing sent, RetryAfter about a minute", e)
		}
		if n := sim.Stats().RunStatusCalls; n != 2 {
			t.Errorf("simulator saw %d calls, want 2", n)
		}
	})
}

// TestBreakerOpensAndProbes runs the breaker's cycle through the Client with
// the default thresholds and cool-down, on a clock the test moves.
func TestBreakerOpensAndProbes(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
	sim.SetOutage(503, "")
	c, rec := newTestClient(t, sim.URL, nil)
	call := func() (RunStatus, error) { return c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"}) }

	// A check and a retry of it make all their attempts; the third
	// check's first failure is the 7th in a row, and it is not retried.
	for range 2 {
		if _, err := call(); asError(t, err, ErrUnavailable).Attempts != 3 {
			t.Fatalf("before the breaker opens: %v", err)
		}
	}
	_, err := call()
	if e := asError(t, err, ErrUnavailable); e.Attempts != 1 || e.HTTPStatus != 503 ||
		!strings.Contains(e.Message, "(not retried: circuit breaker open until ") || e.RetryAfter < 9*time.Second {
		t.Errorf("the call that opened it: %+v", e)
	}

	// Open: calls fail at once with the last failure's class, sending nothing.
	_, err = call()
	e := asError(t, err, ErrUnavailable)
	var last *Error
	if e.Attempts != 0 || e.HTTPStatus != 0 || !strings.HasPrefix(e.Message, "circuit breaker open until ") ||
		!strings.HasSuffix(e.Message, " after 7 consecutive failures") || e.RetryAfter <= 9*time.Second ||
		e.RetryAfter > DefaultBreakerCooldown || !errors.As(e.Err, &last) || last.HTTPStatus != 503 {
		t.Errorf("refused call: %+v", e)
	}
	if n := sim.Stats().RunStatusCalls; n != 7 {
		t.Errorf("simulator saw %d calls, want 7", n)
	}

	// After the cool-down one call probes; Zuora still fails: open again.
	rec.clock.skip(DefaultBreakerCooldown)
	if _, err := call(); asError(t, err, ErrUnavailable).Attempts != 1 {
		t.Errorf("failed probe: %v", err)
	}
	if _, err := call(); asError(t, err, ErrUnavailable).Attempts != 0 {
		t.Errorf("after the failed probe: %v", err)
	}
	if n := sim.Stats().RunStatusCalls; n != 8 {
		t.Errorf("simulator saw %d calls, want 8", n)
	}
	// Opened twice, and two calls failed at once (the probe's failure is one
	// of its attempts, not a refusal).
	if st := c.Limits(); st.BreakerOpenings != 2 || st.BreakerRefusals != 2 {
		t.Errorf("Limits() = %+v, want 2 openings and 2 refusals", st)
	}

	// Zuora is back: the probe closes the breaker, and the callers that
	// came meanwhile wait for its answer, then go.
	rec.clock.skip(DefaultBreakerCooldown)
	sim.SetOutage(0, "")
	sim.SetLatency(50 * time.Millisecond)
	sim.ResetStats()
	results, errs := concurrently(c, []int64{1, 1, 1, 1, 1, 1}, "v", 5*time.Second)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("after Zuora came back: %v", err)
	}
	for _, rs := range results {
		if rs.Attempts != 1 {
			t.Errorf("%d attempts, want 1", rs.Attempts)
		}
	}
	times := arrivals(sim)
	for _, at := range times[1:] {
		if at.Sub(times[0]) < 50*time.Millisecond {
			t.Errorf("a request arrived %v after the probe, before its answer", at.Sub(times[0]))
		}
	}
}

// TestBreakerOnPersistentThrottling: 429s that persist after the Client
// waited open the breaker with ErrThrottled.
func TestBreakerOnPersistentThrottling(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
	sim.SetOutage(429, "1")
	c, rec := newTestClient(t, sim.URL, nil)
	call := func() error {
		rec.clock.skip(time.Second) // the pause the last 429 asked for
		_, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"})
		return err
	}
	// The first 429 had nothing to wait for; the five after it did.
	for range 2 {
		if e := asError(t, call(), ErrThrottled); e.Attempts != 3 {
			t.Fatalf("before the breaker opens: %+v", e)
		}
	}
	if e := asError(t, call(), ErrThrottled); e.Attempts != 1 || !strings.Contains(e.Message, "not retried: circuit breaker") {
		t.Errorf("the call that opened it: %+v", e)
	}
	e := asError(t, call(), ErrThrottled)
	if e.Attempts != 0 || !strings.HasSuffix(e.Message, "after 6 consecutive failures") || e.RetryAfter <= 0 {
		t.Errorf("refused call: %+v", e)
	}
	if n := sim.Stats().RunStatusCalls; n != 7 {
		t.Errorf("simulator saw %d calls, want 7", n)
	}
}

// flakyTokens fails while fail is set.
type flakyTokens struct{ fail atomic.Bool }

func (f *flakyTokens) Token(context.Context) (string, error) {
	if f.fail.Load() {
		return "", errors.New("token service down")
	}
	return testToken, nil
}

func (*flakyTokens) Invalidate(string) {}

// TestBreakerIgnoresWhatSaysNothingOfZuora: with a breaker that opens at the
// first failure, none of these open it.
func TestBreakerIgnoresWhatSaysNothingOfZuora(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
	sim.SetMeter(2, "v", zuoratest.Step{Status: 7, Latency: time.Second})
	sim.SetMeter(3, "v", zuoratest.Step{HTTPStatus: 400}, zuoratest.Step{HTTPStatus: 401}, zuoratest.Step{HTTPStatus: 403})
	sim.SetMeter(4, "v", zuoratest.Step{HTTPStatus: 503})
	tokens := &flakyTokens{}
	c, _ := newTestClient(t, sim.URL, tokens, func(cfg *Config) { cfg.BreakerFailures, cfg.MaxAttempts = 1, 1 })
	call := func(ctx context.Context, id int64) error {
		_, err := c.RunStatus(ctx, Request{MeterID: id, Version: "v"})
		return err
	}
	for range 5 {
		asError(t, call(context.Background(), 404), ErrNotFound)
	}
	asError(t, call(context.Background(), 3), ErrInvalidArgument)
	asError(t, call(context.Background(), 3), ErrAuthFailed)
	asError(t, call(context.Background(), 3), ErrAuthFailed)
	asError(t, call(context.Background(), 0), ErrInvalidArgument) // not sent
	asError(t, call(ctxTimeout(t, 30*time.Millisecond), 2), ErrUnavailable)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	asError(t, call(canceled, 1), ErrUnavailable)
	tokens.fail.Store(true)
	asError(t, call(context.Background(), 1), ErrUnavailable)
	tokens.fail.Store(false)

	if err := call(context.Background(), 1); err != nil {
		t.Fatalf("the breaker opened: %v", err)
	}
	// And it is armed: one 503 opens it.
	asError(t, call(context.Background(), 4), ErrUnavailable)
	if e := asError(t, call(context.Background(), 1), ErrUnavailable); e.Attempts != 0 {
		t.Errorf("after a 503: %+v, want the open breaker's refusal", e)
	}
}

// TestBreakerSuccessResetsCount: failures with successes between them never
// add up to the threshold.
func TestBreakerSuccessResetsCount(t *testing.T) {
	sim := newSim(t)
	sim.SetMeter(1, "v", zuoratest.Step{Status: 7})
	sim.SetMeter(4, "v", zuoratest.Step{HTTPStatus: 503})
	c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.BreakerFailures, cfg.MaxAttempts = 3, 1 })
	for range 4 {
		for range 2 {
			_, err := c.RunStatus(context.Background(), Request{MeterID: 4, Version: "v"})
			if e := asError(t, err, ErrUnavailable); e.Attempts != 1 || e.HTTPStatus != 503 {
				t.Fatalf("refused: %+v", e)
			}
		}
		if _, err := c.RunStatus(context.Background(), Request{MeterID: 1, Version: "v"}); err != nil {
			t.Fatal(err)
		}
	}
}
