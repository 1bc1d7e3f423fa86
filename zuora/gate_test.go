package zuora

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)

func ok(q quota) outcome { return outcome{status: 200, health: working, quota: q} }

func tooMany(hint time.Duration) outcome {
	return outcome{status: 429, health: throttled, hint: hint, quota: quota{remaining: 0, reset: hint, known: true}}
}

// mustHold checks what g.hold says at now.
func mustHold(t *testing.T, g *gate, now time.Time, wantWait time.Duration, wantHeld bool) {
	t.Helper()
	if wait, held := g.hold(now); wait != wantWait || held != wantHeld {
		t.Fatalf("hold at +%v = %v, %v; want %v, %v", now.Sub(t0), wait, held, wantWait, wantHeld)
	}
}

func TestGatePauseAndProbe(t *testing.T) {
	var g gate
	mustHold(t, &g, t0, 0, false)
	a, b := g.start(), g.start()
	if a || b {
		t.Fatal("a probe before any 429")
	}

	// A 429 pauses every call, not only the one that got it; a second one
	// with a longer wait extends the pause.
	g.done(t0, a, tooMany(time.Second))
	mustHold(t, &g, t0.Add(100*time.Millisecond), 900*time.Millisecond, true)
	g.done(t0.Add(200*time.Millisecond), b, tooMany(2*time.Second))
	mustHold(t, &g, t0.Add(time.Second), 1200*time.Millisecond, true)

	// After the pause, one call probes and the others wait for its answer.
	after := t0.Add(2200 * time.Millisecond)
	mustHold(t, &g, after, 0, false)
	if !g.start() {
		t.Fatal("the first call after a 429 is not the probe")
	}
	mustHold(t, &g, after, 0, true)

	// The probe's 429 pauses again; the next probe's answer lifts it.
	g.done(after, true, tooMany(time.Second))
	mustHold(t, &g, after, time.Second, true)
	later := after.Add(time.Second)
	if !g.start() {
		t.Fatal("no probe after the second pause")
	}
	g.done(later, true, ok(quota{}))
	mustHold(t, &g, later, 0, false)
	if g.start() {
		t.Error("still probing after the throttle lifted")
	}
	if g.inFlight != 1 {
		t.Errorf("inFlight = %d, want 1", g.inFlight)
	}
}

func TestGateProbeWithoutAnswer(t *testing.T) {
	var g gate
	g.done(t0, g.start(), tooMany(0)) // no hint: no pause, but a probe first
	mustHold(t, &g, t0, 0, false)
	if !g.start() {
		t.Fatal("no probe after a 429 without a hint")
	}
	// The probe's caller gave up (or the network failed): the next caller probes.
	g.done(t0, true, outcome{})
	mustHold(t, &g, t0, 0, false)
	if !g.start() {
		t.Error("throttle lifted by a probe that got no answer")
	}
	// A call that went before the 429 proves nothing about it.
	g.done(t0, false, ok(quota{}))
	mustHold(t, &g, t0, 0, true)
}

func TestGatePacing(t *testing.T) {
	var g gate
	// An answer says 3 calls are left in a window ending in 1 s; 1 is in flight.
	g.start()
	g.start()
	g.done(t0, false, ok(quota{remaining: 3, reset: time.Second, known: true}))
	g.start() // in flight: 2
	mustHold(t, &g, t0, 0, false)
	g.start() // in flight: 3, each taking one of the 3
	mustHold(t, &g, t0, time.Second, true)

	// An answer that arrives late with a higher figure, or a later Reset
	// for the same window, does not loosen it.
	g.done(t0.Add(10*time.Millisecond), false, ok(quota{remaining: 5, reset: 2 * time.Second, known: true}))
	if g.remaining != 3 || !g.resetAt.Equal(t0.Add(time.Second)) {
		t.Errorf("a late answer moved the window to %d until +%v", g.remaining, g.resetAt.Sub(t0))
	}
	g.start() // its place taken: 3 in flight again
	mustHold(t, &g, t0.Add(10*time.Millisecond), 990*time.Millisecond, true)
	// Answers without the headers change nothing.
	g.done(t0.Add(20*time.Millisecond), false, ok(quota{}))
	g.start()
	mustHold(t, &g, t0.Add(20*time.Millisecond), 980*time.Millisecond, true)

	// The window ends: calls go, and the next answer is of the new window.
	next := t0.Add(time.Second)
	mustHold(t, &g, next, 0, false)
	g.done(next, false, ok(quota{remaining: 40, reset: time.Minute, known: true}))
	if g.remaining != 40 || !g.resetAt.Equal(next.Add(time.Minute)) {
		t.Errorf("new window: remaining %d until +%v", g.remaining, g.resetAt.Sub(t0))
	}

	// A 429's own RateLimit headers are its pause, not a window.
	g.done(next, false, tooMany(time.Second))
	if g.remaining != 40 {
		t.Errorf("a 429's Remaining was read as the window's: %d", g.remaining)
	}
}

func TestReadQuota(t *testing.T) {
	h := func(remaining, reset string) http.Header {
		hd := http.Header{}
		if remaining != "" {
			hd.Set("RateLimit-Remaining", remaining)
		}
		if reset != "" {
			hd.Set("RateLimit-Reset", reset)
		}
		return hd
	}
	tests := []struct {
		header http.Header
		want   quota
	}{
		{h("99", "1"), quota{remaining: 99, reset: time.Second, known: true}},
		{h(" 0 ", "60"), quota{remaining: 0, reset: time.Minute, known: true}},
		{h("5", ""), quota{}},
		{h("", "5"), quota{}},
		{h("-1", "5"), quota{}},
		{h("many", "5"), quota{}},
		{h("5", "-1"), quota{}},
		{h("5", "soon"), quota{}},
	}
	for _, tt := range tests {
		if got := readQuota(tt.header); got != tt.want {
			t.Errorf("readQuota(%v) = %+v, want %+v", tt.header, got, tt.want)
		}
	}
}
