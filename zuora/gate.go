package zuora

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// gate decides when a Client's next call may be sent, from what Zuora's
// answers say about the tenant's rate limit. Zuora counts every call of the
// tenant, the customer's own integrations included, so what one call learns
// holds for all of the Client's calls:
//
//   - a 429's wait (Retry-After, else RateLimit-Reset) pauses every call
//     until it ends, not only the call that got it;
//   - after a 429, one call goes first (the probe) and the others wait for
//     its answer, so a throttled tenant gets one call per pause rather than
//     one per waiting caller;
//   - when RateLimit-Remaining is no more than the calls in flight, new calls
//     wait for the window to reset instead of running into 429s.
//
// Its methods take the time from the limiter's clock and run under the
// limiter's mutex.
type gate struct {
	pausedUntil time.Time // a 429's wait: no call starts before it
	throttled   bool      // the last word on throttling was a 429: a probe goes first
	probing     bool      // that probe is out

	remaining int       // RateLimit-Remaining, the lowest seen in the current window
	resetAt   time.Time // when that window ends; zero when none is known
	inFlight  int       // calls sent and not yet answered
}

// hold reports whether a call must wait before it starts, and for how long
// at most (0: until the probe's answer, whenever that comes).
func (g *gate) hold(now time.Time) (wait time.Duration, held bool) {
	switch {
	case now.Before(g.pausedUntil):
		return g.pausedUntil.Sub(now), true
	case g.throttled && g.probing:
		return 0, true
	case now.Before(g.resetAt) && g.remaining <= g.inFlight:
		// Each call in flight takes one of the remaining; one more would
		// be past the limit. The window's end brings a new allowance.
		return g.resetAt.Sub(now), true
	}
	return 0, false
}

// start counts a call the gate lets through. It is the probe when the gate
// is throttled.
func (g *gate) start() (probe bool) {
	g.inFlight++
	if g.throttled {
		g.probing = true
	}
	return g.throttled
}

// done takes in what a call that the gate let through learned.
func (g *gate) done(now time.Time, probe bool, o outcome) {
	g.inFlight--
	if probe {
		g.probing = false
	}
	switch {
	case o.status == http.StatusTooManyRequests:
		g.throttled = true
		if o.hint > 0 && now.Add(o.hint).After(g.pausedUntil) {
			g.pausedUntil = now.Add(o.hint)
		}
		// A 429's RateLimit-* headers speak of the same wait as its
		// hint: they are not read as a window.
		return
	case o.status != 0 && probe:
		// Zuora answered the probe with something else than a 429: the
		// throttle is over. (A call that went before the 429 proves
		// nothing about it; a probe that got no answer lets the next
		// caller probe.)
		g.throttled = false
	}
	g.observe(now, o.quota)
}

// observe takes in an answer's RateLimit-Remaining and -Reset.
func (g *gate) observe(now time.Time, q quota) {
	if !q.known {
		return
	}
	resetAt := now.Add(q.reset)
	if !now.Before(g.resetAt) {
		// No window known, or it has ended: this answer is of the next.
		g.remaining, g.resetAt = q.remaining, resetAt
		return
	}
	// The same window: answers arrive out of order, and Reset is rounded up
	// to whole seconds, so the lowest figures are the ones that hold.
	g.remaining = min(g.remaining, q.remaining)
	if resetAt.Before(g.resetAt) {
		g.resetAt = resetAt
	}
}

// quota is what one answer says of the tenant's rate-limit window.
type quota struct {
	remaining int           // RateLimit-Remaining: calls left in the window
	reset     time.Duration // RateLimit-Reset: until the window ends
	known     bool          // both headers were there and readable
}

// readQuota reads RateLimit-Remaining and RateLimit-Reset (whole seconds),
// which Zuora sends on every answer.
func readQuota(h http.Header) quota {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("RateLimit-Remaining")))
	if err != nil || remaining < 0 {
		return quota{}
	}
	reset, ok := parseSeconds(strings.TrimSpace(h.Get("RateLimit-Reset")))
	if !ok {
		return quota{}
	}
	return quota{remaining: remaining, reset: reset, known: true}
}
