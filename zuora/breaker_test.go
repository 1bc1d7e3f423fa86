package zuora

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	err503 = &Error{Class: ErrUnavailable, HTTPStatus: 503, Message: "internal server error", Attempts: 2}
	err429 = &Error{Class: ErrThrottled, HTTPStatus: 429, Message: "Too many requests", RetryAfter: time.Second}
)

func newTestBreaker() *breaker {
	return &breaker{failures: 3, throttles: 2, cooldown: 10 * time.Second}
}

// mustPass checks that b lets a call through at now, and returns its probe.
func mustPass(t *testing.T, b *breaker, now time.Time) uint64 {
	t.Helper()
	if refusal, hold := b.check(now); refusal != nil || hold {
		t.Fatalf("at +%v: refused %v, held %v; want the call through", now.Sub(t0), refusal, hold)
	}
	return b.start()
}

func mustRefuse(t *testing.T, b *breaker, now time.Time, class error) *Error {
	t.Helper()
	refusal, _ := b.check(now)
	if refusal == nil || !errors.Is(refusal, class) {
		t.Fatalf("at +%v: refusal %v, want one of class %v", now.Sub(t0), refusal, class)
	}
	return refusal
}

func TestBreakerCycle(t *testing.T) {
	b := newTestBreaker()
	for i := range 3 {
		if p := mustPass(t, b, t0); p != 0 {
			t.Fatalf("call %d is a probe while closed", i)
		}
		b.failed(t0, 0, err503)
	}

	// Open: every call fails at once with the last failure's class, and
	// says until when.
	refusal := mustRefuse(t, b, t0.Add(time.Second), ErrUnavailable)
	wantMsg := "circuit breaker open until 2026-11-28T11:00:10.000Z after 3 consecutive failures"
	if refusal.Message != wantMsg || refusal.RetryAfter != 9*time.Second || refusal.Attempts != 0 || refusal.HTTPStatus != 0 {
		t.Errorf("refusal %+v, want message %q, RetryAfter 9s, nothing sent", refusal, wantMsg)
	}
	var last *Error
	if !errors.As(refusal.Err, &last) || last.HTTPStatus != 503 || last == err503 {
		t.Errorf("refusal.Err = %v, want a copy of the last failure", refusal.Err)
	}
	if got := refusal.Error(); !strings.Contains(got, "zuora: unavailable: circuit breaker open until") || !strings.Contains(got, "internal server error") {
		t.Errorf("Error() = %q", got)
	}

	// Half-open after the cool-down: one probe, the others held.
	probe := mustPass(t, b, t0.Add(10*time.Second))
	if probe == 0 {
		t.Fatal("no probe after the cool-down")
	}
	if refusal, hold := b.check(t0.Add(10 * time.Second)); refusal != nil || !hold {
		t.Fatalf("while the probe is out: refused %v, held %v; want held", refusal, hold)
	}

	// The probe fails: open again, for another cool-down.
	b.failed(t0.Add(11*time.Second), probe, err503)
	if r := mustRefuse(t, b, t0.Add(20*time.Second), ErrUnavailable); !strings.Contains(r.Message, "after 4 consecutive failures") {
		t.Errorf("reopened: %q", r.Message)
	}

	// The next probe succeeds: closed, and calls go as before.
	probe = mustPass(t, b, t0.Add(21*time.Second))
	b.succeeded(probe)
	if p := mustPass(t, b, t0.Add(21*time.Second)); p != 0 {
		t.Error("a probe after the breaker closed")
	}
	b.failed(t0, 0, err503)
	b.failed(t0, 0, err503)
	mustPass(t, b, t0.Add(21*time.Second)) // the count started again
}

func TestBreakerCounts(t *testing.T) {
	t.Run("a success resets the count", func(t *testing.T) {
		b := newTestBreaker()
		for range 5 {
			b.failed(t0, 0, err503)
			b.failed(t0, 0, err503)
			b.succeeded(0)
		}
		mustPass(t, b, t0)
	})
	t.Run("a failure of the other class starts again", func(t *testing.T) {
		b := newTestBreaker()
		for range 3 {
			b.failed(t0, 0, err503)
			b.failed(t0, 0, err503)
			b.failed(t0, 0, err429)
		}
		mustPass(t, b, t0)
	})
	t.Run("429s have their own threshold and class", func(t *testing.T) {
		b := newTestBreaker()
		b.failed(t0, 0, err429)
		b.failed(t0, 0, err429)
		r := mustRefuse(t, b, t0, ErrThrottled)
		if r.RetryAfter != 10*time.Second || !strings.Contains(r.Message, "after 2 consecutive failures") {
			t.Errorf("refusal %+v", r)
		}
	})
}

func TestBreakerLateAnswers(t *testing.T) {
	b := newTestBreaker()
	for range 3 {
		b.failed(t0, 0, err503)
	}
	// A call that went before it opened fails later: the cool-down stands.
	b.failed(t0.Add(5*time.Second), 0, err503)
	mustPass(t, b, t0.Add(10*time.Second))
	b.release(b.probe) // that probe's caller gave up: the next caller probes
	probe := mustPass(t, b, t0.Add(10*time.Second))
	if probe == 0 {
		t.Fatal("no new probe after the first got no word")
	}
	// An older probe's answer does not pass for the current probe's, and a
	// straggler's failure does not reopen the breaker.
	b.failed(t0.Add(11*time.Second), probe-1, err503)
	b.failed(t0.Add(11*time.Second), 0, err503)
	if refusal, hold := b.check(t0.Add(11 * time.Second)); refusal != nil || !hold {
		t.Fatalf("refused %v, held %v; want held for the current probe", refusal, hold)
	}
	b.succeeded(probe)
	mustPass(t, b, t0.Add(11*time.Second))
}
