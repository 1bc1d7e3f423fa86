package memory

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0    = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	m102  = Meter{MeterID: 102, Version: "0.0.1"}
	rules = Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true}
)

// obs is a poll's observation of m102 in status.
func obs(status string) Observation {
	codes := map[string]int{"RUNNING": 5, "PAUSED": 6, "COMPLETED": 7, "FAILED": 8, "CANCELED": 9, "UNKNOWN": 99}
	terminal := status == "COMPLETED" || status == "FAILED" || status == "CANCELED"
	return Observation{Meter: m102, Status: status, StatusCode: codes[status], Terminal: terminal,
		Report: json.RawMessage(`{"status":"` + status + `"}`)}
}

// callout is a callout's observation: a session, dated at.
func callout(status, session string, at time.Time) Observation {
	o := obs(status)
	o.Session, o.At, o.Callout = session, at, true
	return o
}

// stored is a state as the store gives it back after a check saw status
// at t0, an alert open when it is FAILED.
func stored(status string, outbox ...string) State {
	o := obs(status)
	s := State{Meter: m102, Status: status, StatusCode: o.StatusCode, CheckedAt: t0, ChangedAt: t0, Rev: 3}
	if status == "FAILED" {
		s.AlertStatus, s.AlertSince, s.NotifiedAt = status, t0, t0
	}
	for i, e := range outbox {
		s.Outbox = append(s.Outbox, Message{Event: e, ID: e + string(rune('0'+i))})
	}
	return s
}

func with(s State, f func(*State)) State {
	f(&s)
	return s
}

func events(outbox []Message) string {
	var es []string
	for _, m := range outbox {
		es = append(es, m.Event)
	}
	return strings.Join(es, ",")
}

// Decide, rule by rule: what an observation means given the stored state.
func TestDecide(t *testing.T) {
	later := t0.Add(10 * time.Minute)
	// Under half an hour, so that no refresh of checkedAt is due yet.
	reminding := Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true, RepeatAfter: 25 * time.Minute}
	quiet := Rules{AlertOn: []string{"FAILED"}}
	tests := []struct {
		name    string
		rules   Rules
		prev    State
		obs     Observation
		now     time.Time
		outbox  string // the events owed after it
		deliver bool
		write   bool
		stale   bool
	}{
		{"first FAILED pages", rules, State{Meter: m102}, obs("FAILED"), later, "alert", true, true, false},
		{"FAILED again: nothing", rules, stored("FAILED"), obs("FAILED"), later, "", false, false, false},
		{"RUNNING after FAILED keeps the alert open", rules, stored("FAILED"), obs("RUNNING"), later, "", false, true, false},
		{"FAILED after RUNNING with the alert open: a new failure", rules, with(stored("RUNNING"), func(s *State) { s.AlertStatus, s.AlertSince = "FAILED", t0 }), obs("FAILED"), later, "alert", true, true, false},
		{"COMPLETED resolves", rules, stored("FAILED"), obs("COMPLETED"), later, "resolved", true, true, false},
		{"COMPLETED closes without a message when not notifying", quiet, stored("FAILED"), obs("COMPLETED"), later, "", false, true, false},
		{"COMPLETED without an open alert: nothing to say", rules, stored("RUNNING"), obs("COMPLETED"), later, "", false, true, false},
		{"a reminder after RepeatAfter", reminding, stored("FAILED"), obs("FAILED"), t0.Add(25 * time.Minute), "reminder", true, true, false},
		{"no reminder before it", reminding, stored("FAILED"), obs("FAILED"), t0.Add(24 * time.Minute), "", false, false, false},
		{"rule 6: an owed alert goes out before its resolution", rules, stored("FAILED", "alert"), obs("COMPLETED"), later, "alert,resolved", true, true, false},
		{"a reminder owed gives way to newer news", reminding, stored("FAILED", "reminder"), obs("COMPLETED"), later, "resolved", true, true, false},
		{"no reminder while a message is owed", reminding, stored("FAILED", "alert"), obs("FAILED"), t0.Add(26 * time.Minute), "alert", true, true, false},
		{"rule 7: UNKNOWN changes nothing", rules, stored("FAILED"), obs("UNKNOWN"), t0.Add(2 * time.Hour), "", false, false, false},
		{"UNKNOWN first: nothing stored", rules, State{Meter: m102}, obs("UNKNOWN"), later, "", false, false, false},
		{"UNKNOWN still sends what is owed", rules, stored("FAILED", "alert"), obs("UNKNOWN"), later, "alert", true, true, false},
		{"another check holds the outbox: queue behind it", rules,
			with(stored("FAILED", "alert"), func(s *State) { s.Lease = Lease{Owner: "other", Until: later.Add(time.Minute)} }),
			obs("COMPLETED"), later, "alert,resolved", false, true, false},
		{"its lease ran out: take it over", rules,
			with(stored("FAILED", "alert"), func(s *State) { s.Lease = Lease{Owner: "other", Until: later} }),
			obs("FAILED"), later, "alert", true, true, false},
		{"a lease of its own is its own", rules,
			with(stored("FAILED", "alert"), func(s *State) { s.Lease = Lease{Owner: "me", Until: later.Add(time.Hour)} }),
			obs("FAILED"), later, "alert", true, true, false},
		{"a refresh once checkedAt is an hour old", rules, stored("COMPLETED"), obs("COMPLETED"), t0.Add(time.Hour), "", false, true, false},
		{"a callout dated before the last change is stale", rules, stored("FAILED"), callout("COMPLETED", "R-1", t0.Add(-time.Minute)), later, "", false, false, true},
		{"a non-terminal status of a session seen terminal is stale", rules,
			with(stored("FAILED"), func(s *State) { s.Session = "R-2" }), callout("RUNNING", "R-2", time.Time{}), later, "", false, false, true},
		{"a new failed session pages again", rules,
			with(stored("FAILED"), func(s *State) { s.Session = "R-1" }), callout("FAILED", "R-2", later), later, "alert", true, true, false},
		{"an undated callout of what a poll saw adopts its session quietly", rules, stored("FAILED"), callout("FAILED", "R-1", time.Time{}), later, "", false, true, false},
		{"a callout dated in the second the poll saw it adopts its session quietly", rules, stored("FAILED"), callout("FAILED", "R-1", t0), later, "", false, true, false},
		// A poll saw FAILED first; a FAILED callout that ended
		// after it is of a run the poll could not have seen: a rerun.
		{"a rerun's failure after a poll saw the first pages", rules, stored("FAILED"), callout("FAILED", "R-2", t0.Add(5*time.Minute)), later, "alert", true, true, false},
		{"the late callout of the failure a poll saw is stale, and names its session", rules, stored("FAILED"), callout("FAILED", "R-1", t0.Add(-time.Minute)), later, "", false, true, true},
		{"a late callout of another status names no session", rules, stored("FAILED"), callout("COMPLETED", "R-0", t0.Add(-time.Minute)), later, "", false, false, true},
		// Stale news still sends what is owed.
		{"a stale callout sends what is owed", rules, stored("FAILED", "alert"), callout("COMPLETED", "R-0", t0.Add(-time.Minute)), later, "alert", true, true, true},
		{"a stale callout leaves what another check is sending to it", rules,
			with(stored("FAILED", "alert"), func(s *State) { s.Lease = Lease{Owner: "other", Until: later.Add(time.Minute)} }),
			callout("COMPLETED", "R-0", t0.Add(-time.Minute)), later, "alert", false, false, true},
		{"a callout of news, first", rules, State{Meter: m102}, callout("FAILED", "R-1", t0), later, "alert", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rules.Decide(tt.prev, tt.obs, "me", tt.now, time.Minute)
			if events(got.Next.Outbox) != tt.outbox || got.Deliver != tt.deliver || got.Write != tt.write || got.Stale != tt.stale {
				t.Errorf("outbox %q deliver %v write %v stale %v; want %q %v %v %v",
					events(got.Next.Outbox), got.Deliver, got.Write, got.Stale, tt.outbox, tt.deliver, tt.write, tt.stale)
			}
			if got.Deliver && (got.Next.Lease.Owner != "me" || !got.Next.Lease.Until.Equal(tt.now.Add(time.Minute))) {
				t.Errorf("lease %+v, want me until a minute on", got.Next.Lease)
			}
			// Stale news changes nothing but the session it names, where the
			// stored one had none, and the lease and time of what it sends.
			if n := got.Next; got.Stale {
				n.Lease, n.CheckedAt = tt.prev.Lease, tt.prev.CheckedAt
				if tt.prev.Session == "" {
					n.Session = ""
				}
				if !sameState(n, tt.prev) {
					t.Errorf("a stale callout changed the state: %+v", got.Next)
				}
			}
		})
	}
}

func sameState(a, b State) bool {
	return a.sameCheckState(b) && a.Rev == b.Rev && a.CheckedAt.Equal(b.CheckedAt)
}

// What the state holds after a decision: when a status changed, what the
// alert is, which observation each message reports.
func TestDecideRecords(t *testing.T) {
	later := t0.Add(10 * time.Minute)
	got := rules.Decide(stored("FAILED"), obs("COMPLETED"), "me", later, time.Minute).Next
	if got.Status != "COMPLETED" || got.StatusCode != 7 || !got.ChangedAt.Equal(later) || !got.CheckedAt.Equal(later) || got.AlertStatus != "" {
		t.Errorf("after COMPLETED: %+v", got)
	}
	res := got.Outbox[0]
	if res.Resolves == nil || res.Resolves.Status != "FAILED" || !res.Resolves.Since.Equal(t0) || string(res.Report) != `{"status":"COMPLETED"}` || res.ID == "" {
		t.Errorf("the resolution: %+v", res)
	}
	// A callout dates the change by its own time.
	sessionEnd := t0.Add(5 * time.Minute)
	got = rules.Decide(stored("RUNNING"), callout("FAILED", "R-9", sessionEnd), "me", later, time.Minute).Next
	if !got.ChangedAt.Equal(sessionEnd) || got.Session != "R-9" || !got.AlertSince.Equal(later) {
		t.Errorf("after a callout: %+v", got)
	}
	// Two transitions of one meter version are two messages: their ids differ.
	a := rules.Decide(State{Meter: m102}, obs("FAILED"), "me", t0, time.Minute).Next.Outbox[0].ID
	b := rules.Decide(with(stored("RUNNING"), func(s *State) { s.Rev = 9 }), obs("FAILED"), "me", t0, time.Minute).Next.Outbox[0].ID
	if a == b || len(a) != 64 {
		t.Errorf("transition ids %q and %q", a, b)
	}
}

// An outbox keeps at most MaxOutbox messages, and never drops a page for
// something else, nor for another page (rule 6).
func TestOutboxBound(t *testing.T) {
	var outbox []Message
	for i := range 12 {
		event := EventResolved
		if i%2 == 0 {
			event = EventAlert
		}
		outbox = enqueue(outbox, Message{Event: event, ID: string(rune('a' + i))})
	}
	alerts := slices.DeleteFunc(slices.Clone(outbox), func(m Message) bool { return m.Event != EventAlert })
	if len(outbox) != MaxOutbox || len(alerts) != 6 {
		t.Errorf("outbox of %d (%s), %d alerts; want %d with every alert", len(outbox), events(outbox), len(alerts), MaxOutbox)
	}
	// An outbox full of pages takes one more page and keeps
	// the oldest.
	var pages []Message
	for i := range MaxOutbox + 3 {
		event := []string{EventAlert, EventStuck, EventLate}[i%3]
		pages = enqueue(pages, Message{Event: event, ID: string(rune('a' + i))})
	}
	if len(pages) != MaxOutbox+3 || pages[0].ID != "a" {
		t.Errorf("an outbox of pages: %d (%s), first %q; want all %d, the oldest first", len(pages), events(pages), pages[0].ID, MaxOutbox+3)
	}
}

// A rerun's failure pages though a poll recorded the first
// failure and the first run's callout came late. The late callout is stale
// but names the session the poll saw, so even an undated callout of the
// rerun is told apart.
func TestRerunAfterAPoll(t *testing.T) {
	poll := obs("FAILED")
	late := callout("FAILED", "R-1", t0.Add(-time.Minute)) // R-1 ended before the poll saw it
	for _, tt := range []struct {
		name  string
		rerun Observation
	}{
		{"dated", callout("FAILED", "R-2", t0.Add(3*time.Minute))},
		{"undated", callout("FAILED", "R-2", time.Time{})},
	} {
		end, sent := decideAll(t, rules, State{Meter: m102}, []step{{0, poll}, {time.Minute, late}, {4 * time.Minute, tt.rerun}})
		if events(sent) != "alert,alert" || end.Session != "R-2" {
			t.Errorf("%s rerun: sent %q, session %q; want two pages, R-2 stored", tt.name, events(sent), end.Session)
		}
	}
	// The stale callout changes nothing but the session it names.
	tr := rules.Decide(stored("FAILED"), late, "me", t0.Add(time.Minute), time.Minute)
	want := stored("FAILED")
	want.Session = "R-1"
	if !tr.Stale || !tr.Write || !tr.Next.sameCheckState(want) {
		t.Errorf("the late callout: %+v", tr)
	}
}

// decideAll runs observations through Decide as a store would keep the
// state, each at its offset from t0, and returns the events published.
func decideAll(t *testing.T, r Rules, prev State, steps []struct {
	after time.Duration
	obs   Observation
}) (State, []Message) {
	t.Helper()
	var sent []Message
	for _, st := range steps {
		tr := r.Decide(prev, st.obs, "me", t0.Add(st.after), time.Minute)
		if tr.Deliver {
			sent = append(sent, tr.Next.Outbox...)
			tr.Next.Outbox, tr.Next.Lease = nil, Lease{}
		}
		if tr.Write {
			tr.Next.Rev++
			prev = tr.Next
		}
	}
	return prev, sent
}

type step = struct {
	after time.Duration
	obs   Observation
}

// Stuck runs, rule by rule.
func TestStuckRuns(t *testing.T) {
	stuckRules := Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true, StuckAfter: 4 * time.Second, StuckFactor: 3}
	running, completed := obs("RUNNING"), obs("COMPLETED")

	// No history: the threshold is STUCK_AFTER; one page, then a
	// resolution that says it was stuck.
	end, sent := decideAll(t, stuckRules, State{Meter: m102}, []step{
		{0, running}, {2 * time.Second, running}, {5 * time.Second, running}, {6 * time.Second, running}, {8 * time.Second, completed}})
	if events(sent) != "stuck,resolved" || sent[0].Stuck == nil || sent[0].Stuck.For != 5*time.Second || sent[0].Stuck.Usual != 0 ||
		sent[0].Stuck.Threshold != 4*time.Second || !sent[0].Stuck.Since.Equal(t0) ||
		sent[1].Resolves == nil || !sent[1].Resolves.Stuck || sent[1].Resolves.Status != "RUNNING" || !sent[1].Resolves.Since.Equal(t0) {
		t.Errorf("no history: %+v", sent)
	}
	if len(end.RunDurations) != 1 || end.RunDurations[0] != 8*time.Second || !end.RunStart.IsZero() || end.Stuck != nil {
		t.Errorf("after the run: %+v", end)
	}

	// Three runs of 2 s: the threshold is 3 × 2 s.
	history := State{Meter: m102, Status: "COMPLETED", StatusCode: 7, CheckedAt: t0, ChangedAt: t0, Rev: 5,
		RunDurations: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}}
	loose := Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true, StuckAfter: time.Second, StuckFactor: 3}
	_, sent = decideAll(t, loose, history, []step{{0, running}, {3 * time.Second, running}})
	if len(sent) != 0 {
		t.Errorf("at 3 s of a usual 2 s (threshold 6 s): %v", events(sent))
	}
	_, sent = decideAll(t, loose, history, []step{{0, running}, {7 * time.Second, running}})
	if events(sent) != "stuck" || sent[0].Stuck.Usual != 2*time.Second || sent[0].Stuck.Threshold != 6*time.Second {
		t.Errorf("at 7 s: %+v", sent)
	}

	// A callout's startTime dates the run.
	c := callout("RUNNING", "R-9", t0)
	c.Start = t0.Add(-10 * time.Second)
	if _, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, c}}); events(sent) != "stuck" || sent[0].Stuck.For != 10*time.Second {
		t.Errorf("a callout started 10 s ago: %+v", sent)
	}

	// A callout that ends a run nobody saw begin times it from its own
	// startTime to its endTime.
	done := callout("COMPLETED", "R-10", t0.Add(-20*time.Minute))
	done.Start = t0.Add(-60 * time.Minute)
	if end, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, done}}); len(sent) != 0 ||
		!slices.Equal(end.RunDurations, []time.Duration{40 * time.Minute}) {
		t.Errorf("a COMPLETED callout with its start and end: %v, %+v", events(sent), end)
	}

	// A stuck run that fails: one FAILED page, the stuck alert closed.
	end, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, running}, {5 * time.Second, running}, {6 * time.Second, obs("FAILED")}})
	if events(sent) != "stuck,alert" || end.Stuck != nil || len(end.RunDurations) != 0 || end.AlertStatus != "FAILED" {
		t.Errorf("a stuck run that fails: %v, %+v", events(sent), end)
	}

	// A callout of another session that ends without a
	// startTime ends the stuck run too: it ended unseen. A resolution when
	// the other session ended well, a page when it failed; no duration is
	// recorded for a run whose end nobody saw.
	stuck := callout("RUNNING", "R-1", t0)
	stuck.Start = t0.Add(-10 * time.Second)
	for _, tt := range []struct{ status, want string }{{"COMPLETED", "stuck,resolved"}, {"FAILED", "stuck,alert"}} {
		end, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, stuck}, {time.Minute, callout(tt.status, "R-2", t0.Add(time.Minute))}})
		if events(sent) != tt.want || end.Stuck != nil || !end.RunStart.IsZero() || len(end.RunDurations) != 0 {
			t.Errorf("another session %s: %v, %+v", tt.status, events(sent), end)
		}
		if tt.status == "COMPLETED" && len(sent) == 2 && (sent[1].Resolves == nil || !sent[1].Resolves.Stuck || !sent[1].Resolves.Since.Equal(stuck.Start)) {
			t.Errorf("the resolution: %+v", sent[1].Resolves)
		}
	}
	// ...and a RUNNING callout of another session begins a new run: the
	// stuck one is over, and says so.
	next := callout("RUNNING", "R-2", t0.Add(time.Minute))
	if end, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, stuck}, {time.Minute, next}}); events(sent) != "stuck,resolved" || end.Stuck != nil || !end.RunStart.Equal(t0.Add(time.Minute)) {
		t.Errorf("a new session begins: %v, %+v", events(sent), end)
	}

	// Reminders follow ALERT_REPEAT_AFTER; NEVER_RUN is no run; UNKNOWN
	// changes nothing; stuck runs off track nothing.
	reminding := stuckRules
	reminding.RepeatAfter = 10 * time.Second
	if _, sent = decideAll(t, reminding, State{Meter: m102}, []step{{0, running}, {5 * time.Second, running}, {16 * time.Second, running}}); events(sent) != "stuck,reminder" || sent[1].Stuck == nil {
		t.Errorf("reminders: %+v", sent)
	}
	if end, sent = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, obs("NEVER_RUN")}, {time.Hour, obs("NEVER_RUN")}}); len(sent) != 0 || !end.RunStart.IsZero() {
		t.Errorf("NEVER_RUN: %v, %+v", events(sent), end)
	}
	if end, _ = decideAll(t, stuckRules, State{Meter: m102}, []step{{0, running}, {time.Second, obs("UNKNOWN")}}); !end.RunStart.Equal(t0) {
		t.Errorf("UNKNOWN mid-run: %+v", end)
	}
	// Stuck runs off: runs are timed all the same, for when they are on,
	// and nothing pages.
	if end, sent = decideAll(t, rules, State{Meter: m102}, []step{{0, running}, {time.Hour, running}, {2 * time.Hour, completed}}); len(sent) != 0 ||
		!slices.Equal(end.RunDurations, []time.Duration{2 * time.Hour}) {
		t.Errorf("stuck runs off: %v, %+v", events(sent), end)
	}
}

// The history keeps the last five completed runs, and the threshold reads
// their median.
func TestRunHistory(t *testing.T) {
	r := Rules{StuckAfter: time.Second, StuckFactor: 3}
	var steps []step
	for i := range 7 {
		start := time.Duration(i) * time.Minute
		steps = append(steps, step{start, obs("RUNNING")}, step{start + time.Duration(i+1)*time.Second, obs("COMPLETED")})
	}
	end, _ := decideAll(t, r, State{Meter: m102}, steps)
	want := []time.Duration{3 * time.Second, 4 * time.Second, 5 * time.Second, 6 * time.Second, 7 * time.Second}
	if !slices.Equal(end.RunDurations, want) || r.threshold(end.RunDurations) != 15*time.Second {
		t.Errorf("history %v, threshold %v", end.RunDurations, r.threshold(end.RunDurations))
	}
	if median([]time.Duration{time.Second, 3 * time.Second, 2 * time.Second, 10 * time.Second}) != 2500*time.Millisecond {
		t.Error("median of four")
	}
}
