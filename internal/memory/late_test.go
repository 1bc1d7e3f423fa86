package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
)

// hourly is due at every full hour, UTC, with a 10-minute grace.
func hourly(t *testing.T) *expect.Expectation {
	t.Helper()
	e, err := expect.New("0 * * * *", "UTC", "10m")
	if err != nil {
		t.Fatal(err)
	}
	return &e
}

// expecting is a COMPLETED meter version with the hourly expectation set
// at since, and the known runs given.
func expecting(t *testing.T, since time.Time, runs ...Span) State {
	s := stored("COMPLETED")
	s.Expect, s.ExpectSince, s.Runs = hourly(t), since, runs
	return s
}

// judging is a scheduled run's poll, with Zuora's answer when given.
func judging(status string, c *Confirmation) Observation {
	o := obs(status)
	o.Confirm = func(context.Context, time.Time) (int, error) { return 0, errors.New("asked from a table") }
	o.Confirmed = c
	return o
}

// Late runs, rule by rule. Due times at t0 (11:00) and 12:00; the window
// of 11:00 is 10:50 to 11:10.
func TestLateRuns(t *testing.T) {
	due := t0
	afterWindow := t0.Add(15 * time.Minute)
	zuoraDown := &Confirmation{Due: due, Err: errors.New("zuora down")}
	tests := []struct {
		name   string
		prev   State
		obs    Observation
		now    time.Time
		outbox string
		ask    bool
		late   bool // a late alert open after
	}{
		{"within the grace: not judged yet", expecting(t, t0.Add(-time.Hour)), judging("COMPLETED", nil), t0.Add(5 * time.Minute), "", false, false},
		{"a known run in the window: met, Zuora not asked", expecting(t, t0.Add(-time.Hour), Span{t0.Add(-5 * time.Minute), t0.Add(-5 * time.Minute)}), judging("COMPLETED", nil), afterWindow, "", false, false},
		{"the run going on began in the window: met", with(expecting(t, t0.Add(-time.Hour)), func(s *State) { s.Status, s.RunStart = "RUNNING", t0.Add(5*time.Minute) }), judging("RUNNING", nil), afterWindow, "", false, false},
		{"a run outside the window: Zuora is asked", expecting(t, t0.Add(-time.Hour), Span{t0.Add(-30 * time.Minute), t0.Add(-20 * time.Minute)}), judging("COMPLETED", nil), afterWindow, "", true, false},
		{"Zuora has no session: a late page", expecting(t, t0.Add(-time.Hour)), judging("COMPLETED", &Confirmation{Due: due}), afterWindow, "late", false, true},
		{"Zuora has a session: met", expecting(t, t0.Add(-time.Hour)), judging("COMPLETED", &Confirmation{Due: due, Sessions: 1}), afterWindow, "", false, false},
		{"Zuora down within twice the grace: judged again later", expecting(t, t0.Add(-time.Hour)), judging("COMPLETED", zuoraDown), afterWindow, "", false, false},
		{"Zuora down past twice the grace: an unverified page", expecting(t, t0.Add(-time.Hour)), judging("COMPLETED", zuoraDown), t0.Add(25 * time.Minute), "late", false, true},
		{"only due times after the expectation was set count", expecting(t, t0.Add(time.Minute)), judging("COMPLETED", nil), afterWindow, "", false, false},
		{"a poll that does not judge asks nothing", expecting(t, t0.Add(-time.Hour)), obs("COMPLETED"), afterWindow, "", false, false},
		{"a run seen now, after the window: late but come, no page", expecting(t, t0.Add(-time.Hour)), judging("RUNNING", nil), afterWindow, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules.Decide(tt.prev, tt.obs, "me", tt.now, time.Minute)
			if events(got.Next.Outbox) != tt.outbox || (got.Ask != nil) != tt.ask || (got.Next.Late != nil) != tt.late {
				t.Errorf("outbox %q ask %v late %+v; want %q %v %v", events(got.Next.Outbox), got.Ask, got.Next.Late, tt.outbox, tt.ask, tt.late)
			}
			if tt.ask && !got.Ask.Equal(due) {
				t.Errorf("asked about %v, want %v", got.Ask, due)
			}
		})
	}
}

// The late page says what was due and how it was judged; further due
// times page nothing more; the first run seen resolves it, naming the
// first due time missed; a removed expectation closes it silently.
func TestLateStretch(t *testing.T) {
	prev := expecting(t, t0.Add(-3*time.Hour), Span{t0.Add(-2 * time.Hour), t0.Add(-110 * time.Minute)})
	tr := rules.Decide(prev, judging("COMPLETED", &Confirmation{Due: t0}), "me", t0.Add(15*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 1 || !tr.Write {
		t.Fatalf("the miss: %+v", tr)
	}
	l := tr.Next.Outbox[0].Late
	if l == nil || !l.Due.Equal(t0) || l.Cron != "0 * * * *" || l.Timezone != "UTC" || l.Grace != 10*time.Minute ||
		!l.LastRunAt.Equal(t0.Add(-110*time.Minute)) || !l.Verified {
		t.Errorf("the page's late: %+v", l)
	}
	paged := tr.Next
	paged.Outbox, paged.Rev = nil, paged.Rev+1
	// 12:00 passes too: Zuora is asked about it, once; no session: nothing
	// more, and not asked again.
	noon := t0.Add(time.Hour)
	if tr = rules.Decide(paged, judging("COMPLETED", nil), "me", t0.Add(75*time.Minute), time.Minute); tr.Ask == nil || !tr.Ask.Equal(noon) {
		t.Errorf("the next due time: asked %v, want %v", tr.Ask, noon)
	}
	tr = rules.Decide(paged, judging("COMPLETED", &Confirmation{Due: noon}), "me", t0.Add(75*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Ask != nil || tr.Next.Late == nil || !tr.Next.DueJudged.Equal(noon) || !tr.Write {
		t.Errorf("the next due time, no session: %+v", tr)
	}
	judged := tr.Next
	judged.Rev++
	if tr = rules.Decide(judged, judging("COMPLETED", nil), "me", t0.Add(90*time.Minute), time.Minute); tr.Ask != nil || len(tr.Next.Outbox) != 0 {
		t.Errorf("12:00 asked twice: %+v", tr)
	}
	// A session Zuora knows of, which no check or callout saw: resolved,
	// naming 11:00 (a run whose statuses all fell between polls).
	tr = rules.Decide(paged, judging("COMPLETED", &Confirmation{Due: noon, Sessions: 1}), "me", t0.Add(75*time.Minute), time.Minute)
	if events(tr.Next.Outbox) != "resolved" || tr.Next.Late != nil || !tr.Next.Outbox[0].Resolves.Due.Equal(t0) || !tr.Write {
		t.Errorf("a session at 12:00: %+v", tr)
	}
	// Zuora down: still open, not asked again about 12:00.
	tr = rules.Decide(paged, judging("COMPLETED", &Confirmation{Due: noon, Err: errors.New("zuora down")}), "me", t0.Add(75*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Next.Late == nil || !tr.Next.DueJudged.Equal(noon) {
		t.Errorf("Zuora down at 12:00: %+v", tr)
	}
	// A run: resolved, naming 11:00.
	tr = rules.Decide(paged, obs("RUNNING"), "me", t0.Add(80*time.Minute), time.Minute)
	if events(tr.Next.Outbox) != "resolved" || tr.Next.Late != nil || !tr.Next.Outbox[0].Resolves.Late || !tr.Next.Outbox[0].Resolves.Due.Equal(t0) {
		t.Errorf("the run after: %+v", tr.Next.Outbox)
	}
	// The expectation removed: closed, without a word.
	gone := paged
	gone.Expect = nil
	if tr = rules.Decide(gone, judging("COMPLETED", nil), "me", t0.Add(80*time.Minute), time.Minute); len(tr.Next.Outbox) != 0 || tr.Next.Late != nil {
		t.Errorf("no expectation: %+v", tr)
	}
	// Rule 7: the schedule was off for hours; one page, for the latest due time.
	tr = rules.Decide(prev, judging("COMPLETED", &Confirmation{Due: t0.Add(3 * time.Hour)}), "me", t0.Add(3*time.Hour+15*time.Minute), time.Minute)
	if events(tr.Next.Outbox) != "late" || !tr.Next.Late.Due.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("after hours without a run: %+v", tr.Next.Outbox)
	}
}

// A run that ends is kept as known, for the due times it meets; a callout
// of an instant is an instant; at most MaxRuns.
func TestKnownRuns(t *testing.T) {
	end, _ := decideAll(t, rules, State{Meter: m102}, []step{{0, obs("RUNNING")}, {time.Minute, obs("COMPLETED")}})
	if len(end.Runs) != 1 || !end.Runs[0].From.Equal(t0) || !end.Runs[0].To.Equal(t0.Add(time.Minute)) {
		t.Errorf("a polled run: %+v", end.Runs)
	}
	end, _ = decideAll(t, rules, end, []step{{2 * time.Minute, callout("FAILED", "R-9", t0.Add(90*time.Second))}})
	if len(end.Runs) != 2 || !end.Runs[1].From.Equal(t0.Add(90*time.Second)) || !end.Runs[1].To.Equal(end.Runs[1].From) {
		t.Errorf("a callout's instant: %+v", end.Runs)
	}
	var steps []step
	for i := range MaxRuns + 3 {
		steps = append(steps, step{time.Duration(2*i) * time.Hour, obs("RUNNING")}, step{time.Duration(2*i+1) * time.Hour, obs("COMPLETED")})
	}
	if end, _ = decideAll(t, rules, State{Meter: m102}, steps); len(end.Runs) != MaxRuns {
		t.Errorf("%d runs kept, want %d", len(end.Runs), MaxRuns)
	}
}
