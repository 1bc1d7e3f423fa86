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
// resolution when it ends well.
func (r Rules) trackRun(prev State, next *State, obs Observation, now time.Time) []*Message {
	switch {
	case obs.Terminal:
		return r.endRun(prev, next, obs, now)
	case !running(obs):
		return nil
	}
	newSession := obs.Session != "" && prev.Session != "" && obs.Session != prev.Session
	if next.RunStart.IsZero() || newSession {
		next.RunStart, next.Stuck = now, nil // a new run; a stuck one before it ended unseen
	}
	if !obs.Start.IsZero() && obs.Start.Before(next.RunStart) {
		next.RunStart = obs.Start // Zuora's own word for when the session began
	}
	if r.StuckAfter <= 0 {
		return nil
	}
	stuck := Stuck{Since: next.RunStart, For: now.Sub(next.RunStart), Usual: median(next.RunDurations),
		Threshold: r.threshold(next.RunDurations)}
	at := now.Truncate(time.Second)
	switch {
	case next.Stuck == nil && stuck.For > stuck.Threshold:
		next.Stuck = &StuckAlert{Status: obs.Status, NotifiedAt: at}
		return []*Message{{Event: EventStuck, Stuck: &stuck}}
	case next.Stuck != nil && r.RepeatAfter > 0 && len(next.Outbox) == 0 && at.Sub(next.Stuck.NotifiedAt) >= r.RepeatAfter:
		next.Stuck = &StuckAlert{Status: next.Stuck.Status, NotifiedAt: at}
		return []*Message{{Event: EventReminder, Stuck: &stuck}}
	}
	return nil
}

// endRun records how long a completed run took, and closes its stuck
// alert: with a resolution when it ended well, silently when it failed
// (the failure pages as every failure does).
func (r Rules) endRun(prev State, next *State, obs Observation, now time.Time) []*Message {
	start := prev.RunStart
	if obs.Session != "" && prev.Session != "" && obs.Session != prev.Session {
		start = time.Time{} // the run on record ended unseen: this is another
	}
	if !obs.Start.IsZero() && (start.IsZero() || obs.Start.Before(start)) {
		start = obs.Start // a callout that dates the run it ends
	}
	if start.IsZero() {
		return nil
	}
	end := now
	if obs.Callout && !obs.At.IsZero() {
		end = obs.At
	}
	if obs.Status == zuora.Completed && end.After(start) {
		next.RunDurations = append(slices.Clone(prev.RunDurations), end.Sub(start))
		next.RunDurations = next.RunDurations[max(0, len(next.RunDurations)-MaxRunHistory):]
	}
	next.RunStart, next.Stuck = time.Time{}, nil
	if prev.Stuck == nil || r.AlertsOn(obs.Status) || !r.NotifyResolved {
		return nil
	}
	return []*Message{{Event: EventResolved, Resolves: &Resolution{Status: prev.Stuck.Status, Since: start, Stuck: true}}}
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
