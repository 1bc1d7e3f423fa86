package zuora

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// limiter is what a Client's calls share about Zuora: the gate (when a call
// may be sent) and the breaker (whether it should be sent at all). One mutex
// guards both, so one decision sees both, and any change of either wakes the
// callers waiting on them.
type limiter struct {
	now func() time.Time // the clock; a seam for tests

	mu      sync.Mutex
	gate    gate
	breaker breaker
	changed chan struct{} // closed, and replaced, at every change
	stats   LimitStats    // but BreakerOpenings, which the breaker counts
}

// LimitStats count what a Client's limits did to its calls since it was
// built: for a caller's metrics, which take the difference of two readings.
type LimitStats struct {
	GateWaits       int           // calls that waited at the gate (a 429's pause, pacing, or the breaker's probe)
	GateWaitTime    time.Duration // the time they waited in all
	BreakerOpenings int           // times the circuit breaker opened
	BreakerRefusals int           // calls the open breaker failed at once
	AuthRefusals    int           // calls failed at once because Zuora refused the credentials recently
}

// Since is what happened between an earlier reading and s: the counts of
// one invocation, from two readings of a Client shared by many.
func (s LimitStats) Since(earlier LimitStats) LimitStats {
	return LimitStats{
		GateWaits: s.GateWaits - earlier.GateWaits, GateWaitTime: s.GateWaitTime - earlier.GateWaitTime,
		BreakerOpenings: s.BreakerOpenings - earlier.BreakerOpenings, BreakerRefusals: s.BreakerRefusals - earlier.BreakerRefusals,
		AuthRefusals: s.AuthRefusals - earlier.AuthRefusals,
	}
}

// Limits reads the Client's LimitStats.
func (c *Client) Limits() LimitStats {
	c.limits.mu.Lock()
	st := c.limits.stats
	st.BreakerOpenings = c.limits.breaker.trips
	c.limits.mu.Unlock()
	st.AuthRefusals = c.auth.refusedCalls()
	return st
}

// count adds to the stats under the limiter's lock.
func (l *limiter) count(add func(*LimitStats)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	add(&l.stats)
}

func newLimiter(failures, throttles int, cooldown time.Duration) *limiter {
	return &limiter{
		now:     time.Now,
		breaker: breaker{failures: failures, throttles: throttles, cooldown: cooldown},
		changed: make(chan struct{}),
	}
}

// ticket is a call's leave to send one attempt; done returns it.
type ticket struct {
	gateProbe    bool   // the first call after a 429
	breakerProbe uint64 // the half-open breaker's probe, if not 0
}

// verdict is the limiter's answer to a call that wants to send.
type verdict struct {
	pass    bool
	ticket  ticket
	refusal *Error        // the breaker is open: the call fails with this
	wait    time.Duration // held: how long at most; 0 until something changes
	class   error         // what holds the call: ErrThrottled, or the breaker's class
	changed <-chan struct{}
}

// admit lets a call send now, refuses it, or says how long it is held.
func (l *limiter) admit() verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if refusal, hold := l.breaker.check(now); refusal != nil || hold {
		return verdict{refusal: refusal, class: l.breaker.class(), changed: l.changed}
	}
	if wait, hold := l.gate.hold(now); hold {
		return verdict{wait: wait, class: ErrThrottled, changed: l.changed}
	}
	t := ticket{breakerProbe: l.breaker.start(), gateProbe: l.gate.start()}
	return verdict{pass: true, ticket: t}
}

// refusal is the open breaker's error, or nil while it lets calls through.
func (l *limiter) refusal() *Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	refusal, _ := l.breaker.check(l.now())
	return refusal
}

// health is what an attempt says about Zuora, for the breaker.
type health int

const (
	noWord    health = iota // nothing: the caller gave up, or no answer could be read as Zuora's
	working                 // Zuora answered: 200, or 400, 401, 403, 404
	down                    // ErrUnavailable: 5xx, network failure, attempt timeout, a body not in Zuora's shape
	throttled               // 429
)

// outcome is what one attempt tells the limiter.
type outcome struct {
	status int           // the answer's HTTP status; 0 when none arrived
	health health        // what it says about Zuora
	err    *Error        // the failure, if any
	hint   time.Duration // a 429's wait
	quota  quota         // the answer's RateLimit-Remaining and -Reset
}

// newOutcome reads an attempt's result: f is its failure (nil on success),
// q the rate-limit window its answer reported.
func newOutcome(f *failure, q quota) outcome {
	o := outcome{quota: q}
	if f == nil {
		o.status, o.health = http.StatusOK, working
		return o
	}
	o.status, o.err = f.err.HTTPStatus, f.err
	switch {
	case f.callerEnded:
		o.health = noWord
	case o.status == http.StatusTooManyRequests:
		o.health, o.hint = throttled, f.err.RetryAfter
	case errors.Is(f.err.Class, ErrUnavailable):
		o.health = down
	case o.status != 0:
		o.health = working
	}
	return o
}

// done takes back a ticket with what its attempt learned (the zero outcome
// when nothing was sent), and wakes the callers waiting.
func (l *limiter) done(t ticket, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.gate.done(now, t.gateProbe, o)
	switch {
	case o.health == working:
		l.breaker.succeeded(t.breakerProbe)
	case o.health == down, o.health == throttled && t.gateProbe:
		// A 429 counts once the Client has waited for it: to the probe
		// that goes after an earlier 429, not to calls that were already
		// on their way.
		l.breaker.failed(now, t.breakerProbe, o.err)
	default:
		l.breaker.release(t.breakerProbe)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// enter waits until the limiter lets the call's next attempt go, and returns
// its ticket, or the error the call ends with.
func (c *Client) enter(ctx context.Context, r *retryState) (ticket, error) {
	var waited time.Duration // at the gate or for the breaker's probe
	defer func() {
		if waited > 0 {
			c.limits.count(func(st *LimitStats) { st.GateWaits++; st.GateWaitTime += waited })
		}
	}()
	for {
		v := c.limits.admit()
		switch {
		case v.pass:
			return v.ticket, nil
		case v.refusal != nil:
			if r.last == nil { // a retry refused is not a call failed at once
				c.limits.count(func(st *LimitStats) { st.BreakerRefusals++ })
			}
			return ticket{}, refused(r.last, v.refusal)
		case v.wait > maxServerWait, v.wait > 0 && !fitsBefore(ctx, v.wait):
			return ticket{}, held(r.last, v.wait, r.attempts)
		}
		start := time.Now()
		err := waitFor(ctx, v.changed, v.wait)
		waited += time.Since(start)
		if err != nil {
			return ticket{}, stoppedWaiting(r.last, v.class, err, r.attempts)
		}
	}
}

// waitFor waits until changed is closed, d has passed (if d > 0), or ctx
// ends (its error).
func waitFor(ctx context.Context, changed <-chan struct{}, d time.Duration) error {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-changed:
	case <-timeout:
	}
	return nil
}

// refused is the error of a call the open breaker stops: the breaker's own
// when the call has sent nothing, else the call's last failure, told when
// the breaker lets a probe through.
func refused(last, refusal *Error) *Error {
	if last == nil {
		return refusal
	}
	e := *last
	e.RetryAfter = max(e.RetryAfter, refusal.RetryAfter)
	e.Message += " (not retried: " + refusal.Message + ")"
	return &e
}

// held is the error of a call the gate would hold past its deadline (or
// longer than any call waits): it fails at once, told when to come back.
func held(last *Error, wait time.Duration, attempts int) *Error {
	if last != nil {
		e := *last
		e.RetryAfter = max(e.RetryAfter, wait)
		return &e
	}
	return &Error{
		Class: ErrThrottled,
		Message: fmt.Sprintf("Zuora's rate limit holds calls for another %v, past this call's deadline",
			wait.Round(time.Millisecond)),
		RetryAfter: wait,
		Attempts:   attempts,
	}
}

// stoppedWaiting is the error of a call whose context ended while the
// limiter held it.
func stoppedWaiting(last *Error, class, ctxErr error, attempts int) *Error {
	e := stopped(last, ctxErr, attempts)
	if last == nil {
		e.Class, e.Message = class, "the call ended while Zuora's limits held it"
	}
	return e
}
