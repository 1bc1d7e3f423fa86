package memory

import (
	"slices"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// Stuck runs: a run that never ends fails no check, yet it holds back
// billing (and a tenant runs at most 5 meters at once). A run begins at its
// callout's startTime, else at the first check that sees it going after a
// terminal status or none, and ends at the first check that sees it
// terminal (or at its callout's endTime). Runs are timed whether stuck runs
// are on or not, so turning them on finds a history to compare with; only
// the pages need StuckAfter.

// running reports whether status is a run going on: not terminal, not
// UNKNOWN, and not NEVER_RUN, which is no run at all.
func running(obs Observation) bool {
	return !obs.Terminal && obs.Status != zuora.Unknown && obs.Status != zuora.NeverRun
}

// trackRun starts, ends and times next's run, and returns the messages a
// stuck run calls for: the page (once a run), its reminders, and the
// resolution when it ends well — also when it ended unseen and a callout of
// another session says a new run began (other: obs is of another run than
// the one stored, otherRun).
func (r Rules) trackRun(prev State, next *State, obs Observation, now time.Time, other bool) []*Message {
	switch {
	case obs.Terminal:
		return r.endRun(prev, next, obs, now, other)
	case !running(obs):
		return nil
	}
	var msgs []*Message
	if next.RunStart.IsZero() || other {
		if other {
			msgs = r.stuckOver(prev, prev.RunStart) // the run on record ended unseen
		}
		next.RunStart, next.Stuck = now, nil
	}
	if !obs.Start.IsZero() && obs.Start.Before(next.RunStart) {
		next.RunStart = obs.Start // Zuora's own word for when the session began
	}
	if r.StuckAfter <= 0 {
		return msgs
	}
	stuck := r.stuckNow(*next, now)
	at := now.Truncate(time.Second)
	switch {
	case next.Stuck == nil && stuck.For > stuck.Threshold:
		next.Stuck = &StuckAlert{Status: obs.Status, NotifiedAt: at}
		msgs = append(msgs, &Message{Event: EventStuck, Stuck: &stuck})
	case next.Stuck != nil && r.RepeatAfter > 0 && len(next.Outbox) == 0 && at.Sub(next.Stuck.NotifiedAt) >= r.RepeatAfter:
		next.Stuck = &StuckAlert{Status: next.Stuck.Status, NotifiedAt: at}
		msgs = append(msgs, &Message{Event: EventReminder, Stuck: &stuck})
	}
	return msgs
}

// stuckNow is how long s's run has gone on at now, against how long its
// runs usually take.
func (r Rules) stuckNow(s State, now time.Time) Stuck {
	return Stuck{Since: s.RunStart, For: now.Sub(s.RunStart), Usual: median(s.RunDurations), Threshold: r.threshold(s.RunDurations)}
}

// endRun records how long a completed run took, and closes its stuck
// alert: with a resolution when it ended well, silently when it failed
// (the failure pages as every failure does). A terminal callout of another
// session ends the run on record as well: that run ended unseen, and only
// the other session's own times can date a duration.
func (r Rules) endRun(prev State, next *State, obs Observation, now time.Time, other bool) []*Message {
	start, since := prev.RunStart, prev.RunStart
	if other {
		start = time.Time{}
	}
	if !obs.Start.IsZero() && (start.IsZero() || obs.Start.Before(start)) {
		start = obs.Start // a callout that dates the run it ends
	}
	if !start.IsZero() && !other {
		since = start
	}
	end := now
	if obs.Callout && !obs.At.IsZero() {
		end = obs.At
	}
	if !start.IsZero() || obs.Callout { // a run known to have gone: for due times (late runs)
		recordRun(next, start, end)
	}
	if obs.Status == zuora.Completed && !start.IsZero() && end.After(start) {
		next.RunDurations = append(slices.Clone(prev.RunDurations), end.Sub(start))
		next.RunDurations = next.RunDurations[max(0, len(next.RunDurations)-MaxRunHistory):]
	}
	next.RunStart, next.Stuck = time.Time{}, nil
	if r.AlertsOn(obs.Status) {
		return nil
	}
	return r.stuckOver(prev, since)
}

// stuckOver is the resolution of prev's stuck run, now over, that began at
// since; none when it was not stuck or resolutions are off.
func (r Rules) stuckOver(prev State, since time.Time) []*Message {
	if prev.Stuck == nil || !r.NotifyResolved {
		return nil
	}
	return []*Message{{Event: EventResolved, Resolves: &Resolution{Status: prev.Stuck.Status, Since: since, Stuck: true}}}
}

// threshold is how long a run may go on before it is stuck: StuckFactor
// times the median of the last completed runs, never less than StuckAfter;
// StuckAfter itself with fewer than 3 on record.
func (r Rules) threshold(history []time.Duration) time.Duration {
	if len(history) < 3 {
		return r.StuckAfter
	}
	return max(r.StuckAfter, time.Duration(float64(median(history))*r.StuckFactor))
}

// median of the durations on record; 0 with fewer than 3.
func median(ds []time.Duration) time.Duration {
	if len(ds) < 3 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
