package zuora

import (
	"errors"
	"fmt"
	"time"
)

type breakerState int

const (
	closed   breakerState = iota // calls go
	open                         // calls fail at once, until openUntil
	halfOpen                     // one probe goes; the others wait for its answer
)

// breaker stops a Client from calling a Zuora that keeps failing: every call
// it would send is one more on a tenant's shared limits, or on a service
// already in trouble.
//
// Closed, it counts consecutive failures that say something about Zuora:
// answers of class ErrUnavailable (5xx, network failures, attempt timeouts,
// bodies not in Zuora's documented shape), and 429s that persist after the
// Client waited (ErrThrottled: the answer to the gate's probe). A failure
// of the other class starts the count again; an answer that shows Zuora
// working (200, and 400, 401, 403, 404) resets it. Attempts that got no word
// from Zuora (the caller's context ended, a token could not be had) leave it
// as it is. At the threshold for the failure's class it opens: for the
// cool-down every call fails at once, without sending anything, with the
// last failure's class. Then one call probes: an answer that shows Zuora
// working closes the breaker, another failure opens it again.
//
// Its methods take the time from the limiter's clock and run under the
// limiter's mutex.
type breaker struct {
	failures  int           // consecutive ErrUnavailable failures that open it
	throttles int           // consecutive persisting 429s that open it
	cooldown  time.Duration // how long it stays open

	state     breakerState
	streak    int       // consecutive failures of last's class
	last      *Error    // the latest failure counted (a copy); nil after a success
	openUntil time.Time // while open
	probe     uint64    // the probe out while half-open; 0: none
	probes    uint64    // probes handed out, so a late answer cannot pass for the current probe's
	trips     int       // times it opened, for LimitStats
}

// check reports whether the breaker refuses a call now (the error it fails
// with), or holds it until its probe is answered.
func (b *breaker) check(now time.Time) (refusal *Error, hold bool) {
	if b.state == open {
		if now.Before(b.openUntil) {
			return b.refusal(now), false
		}
		b.state = halfOpen
	}
	return nil, b.state == halfOpen && b.probe != 0
}

// start hands out the probe when the breaker is half-open; 0 otherwise.
func (b *breaker) start() (probe uint64) {
	if b.state != halfOpen {
		return 0
	}
	b.probes++
	b.probe = b.probes
	return b.probe
}

// succeeded records an answer that shows Zuora working. Any answer closes
// the breaker, even one to a call sent before it opened: Zuora answering is
// the news the cool-down waits for, unlike a late failure (see failed).
func (b *breaker) succeeded(probe uint64) {
	b.release(probe)
	b.state, b.streak, b.last = closed, 0, nil
}

// failed records a failure that says Zuora is down or keeps throttling.
func (b *breaker) failed(now time.Time, probe uint64, e *Error) {
	wasProbe := b.release(probe)
	switch {
	case b.state == halfOpen && wasProbe:
		b.streak++
		b.trip(now, e)
	case b.state == closed:
		if b.last == nil || !errors.Is(e.Class, b.last.Class) {
			b.streak = 0
		}
		b.streak++
		b.last = copyError(e)
		if b.streak >= b.threshold(e.Class) {
			b.trip(now, e)
		}
	}
	// Otherwise the call went before the breaker opened: it is one of the
	// failures that opened it, or says no more than they did.
}

// release frees the probe slot if probe is the current probe, so the next
// caller probes when this one got no word from Zuora.
func (b *breaker) release(probe uint64) (wasProbe bool) {
	if probe == 0 || probe != b.probe {
		return false
	}
	b.probe = 0
	return true
}

func (b *breaker) trip(now time.Time, e *Error) {
	b.state, b.openUntil, b.last = open, now.Add(b.cooldown), copyError(e)
	b.trips++
}

func (b *breaker) threshold(class error) int {
	if errors.Is(class, ErrThrottled) {
		return b.throttles
	}
	return b.failures
}

// class is what a call held by the breaker fails with: the last failure's.
func (b *breaker) class() error {
	if b.last == nil {
		return ErrUnavailable
	}
	return b.last.Class
}

// refusal is the error of a call the open breaker refuses: the class of the
// failure that opened it, nothing sent, and when to come back.
func (b *breaker) refusal(now time.Time) *Error {
	e := &Error{
		Class: b.class(),
		Message: fmt.Sprintf("circuit breaker open until %s after %d consecutive failures",
			b.openUntil.UTC().Format(messageTime), b.streak),
		RetryAfter: b.openUntil.Sub(now),
	}
	if b.last != nil {
		e.Err = copyError(b.last)
	}
	return e
}

// copyError keeps a failure apart from the call that made it: that call
// goes on completing its own error (RetryAfter, Attempts) while others read
// the breaker's copy.
func copyError(e *Error) *Error {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}
