package memory

import (
	"testing"
	"time"
)

// Muting, rule by rule: nothing is published while muted, what it sees is
// recorded; when the mute ends each condition still open pages once,
// afterMute; what began and ended inside it says nothing; what was owed
// before it stays owed, and goes out after it.
func TestMuting(t *testing.T) {
	stuckRules := Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true, RepeatAfter: 10 * time.Minute, StuckAfter: 20 * time.Minute, StuckFactor: 3}
	mute := func(s State) State {
		s.Mute = &Mute{Until: t0.Add(time.Hour), Reason: "maintenance"}
		return s
	}
	muted := mute(State{Meter: m102})

	// A failure inside the mute: recorded, held back, counted; the mute
	// ends (an hour on) with the run still FAILED: one page, afterMute.
	tr := stuckRules.Decide(muted, obs("FAILED"), "me", t0, time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Deliver || tr.Held != 1 || !tr.Next.AlertHeld || tr.Next.Status != "FAILED" || tr.Next.AlertStatus != "FAILED" {
		t.Fatalf("FAILED while muted: %+v", tr)
	}
	held := tr.Next
	held.Rev++
	tr = stuckRules.Decide(held, obs("FAILED"), "me", t0.Add(30*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Held != 1 {
		t.Errorf("a reminder while muted: outbox %q, held %d; want none sent, one held", events(tr.Next.Outbox), tr.Held)
	}
	tr = stuckRules.Decide(held, obs("FAILED"), "me", t0.Add(61*time.Minute), time.Minute)
	if events(tr.Next.Outbox) != "alert" || !tr.Next.Outbox[0].AfterMute || !tr.Deliver || tr.Next.AlertHeld {
		t.Errorf("the mute over, still FAILED: %+v", tr)
	}

	// Began and ended inside: FAILED, then COMPLETED, both muted; nothing
	// after the mute, not even a resolution.
	end, sent := decideAll(t, stuckRules, muted, []step{{0, obs("FAILED")}, {time.Minute, obs("COMPLETED")}, {61 * time.Minute, obs("COMPLETED")}})
	if len(sent) != 0 || end.AlertHeld {
		t.Errorf("a failure over inside the mute: sent %q, %+v", events(sent), end)
	}

	// A stuck run held, still going when the mute is lifted (no mute at
	// all any more): one stuck page, afterMute.
	end, sent = decideAll(t, stuckRules, muted, []step{{0, obs("RUNNING")}, {25 * time.Minute, obs("RUNNING")}})
	if len(sent) != 0 || end.Stuck == nil || !end.Stuck.Held {
		t.Fatalf("stuck while muted: %q, %+v", events(sent), end.Stuck)
	}
	end.Mute = nil
	if _, sent = decideAll(t, stuckRules, end, []step{{26 * time.Minute, obs("RUNNING")}}); events(sent) != "stuck" || !sent[0].AfterMute || sent[0].Stuck == nil {
		t.Errorf("the mute lifted, still stuck: %+v", sent)
	}

	// A due time missed while muted: held; the mute over and still no
	// run, the late page goes out then, afterMute.
	late := mute(expecting(t, t0.Add(-2*time.Hour)))
	tr = rules.Decide(late, judging("COMPLETED", &Confirmation{Due: t0}), "me", t0.Add(15*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Next.Late == nil || !tr.Next.Late.Held || tr.Held != 1 {
		t.Fatalf("late while muted: %+v", tr)
	}
	heldLate := tr.Next
	heldLate.Rev++
	tr = rules.Decide(heldLate, obs("COMPLETED"), "me", t0.Add(61*time.Minute), time.Minute)
	if events(tr.Next.Outbox) != "late" || !tr.Next.Outbox[0].AfterMute || tr.Next.Outbox[0].Late == nil || tr.Next.Late.Held {
		t.Errorf("the mute over, still late: %+v", tr.Next.Outbox)
	}

	// The expectation removed while its late page was held, the mute over
	// at a check that saw nothing (UNKNOWN): no late page, and the alert is
	// closed without a word.
	gone := heldLate
	gone.Expect = nil
	tr = rules.Decide(gone, obs("UNKNOWN"), "me", t0.Add(61*time.Minute), time.Minute)
	if len(tr.Next.Outbox) != 0 || tr.Next.Late != nil {
		t.Errorf("the mute over, the expectation gone: outbox %q, late %+v", events(tr.Next.Outbox), tr.Next.Late)
	}

	// Owed before the mute: still owed, not sent while muted, sent after.
	owed := mute(stored("FAILED", "alert"))
	if tr = stuckRules.Decide(owed, obs("FAILED"), "me", t0.Add(time.Minute), time.Minute); tr.Deliver || events(tr.Next.Outbox) != "alert" {
		t.Errorf("owed while muted: %+v", tr)
	}
	if tr = stuckRules.Decide(owed, obs("FAILED"), "me", t0.Add(61*time.Minute), time.Minute); !tr.Deliver || events(tr.Next.Outbox) != "alert" {
		t.Errorf("owed after the mute: %+v", tr)
	}
}
