package memory

import (
	"context"
	"slices"
	"time"
)

// Late runs: a meter that stops running fails no check. A watched meter
// version with an expectation (internal/expect: a cron, a zone, a grace)
// has due times; a due time T is met by a run known to be going from
// T − grace to T + grace (a check that saw it going, a callout's times, a
// session in Zuora's summary). The scheduled run judges the latest due
// time whose window has closed; when nothing showed a run, it asks Zuora
// (Observation.Confirm) before paging, and pages unverified once Zuora has
// not answered by T + 2 × grace. One page per missed stretch: the first
// run seen afterwards closes it.

// Confirm asks Zuora whether any session of the meter version ran from
// from until now (its summary, grouped by session): how many it found.
type Confirm func(ctx context.Context, from time.Time) (sessions int, err error)

// Confirmation is Zuora's answer about a due time.
type Confirmation struct {
	Due      time.Time // the due time asked about
	Sessions int
	Err      error // the summary could not be had
}

// judgeLate closes an open late alert when obs shows a run, and judges the
// latest due time whose window has closed, when the check may judge
// (obs.Confirm set: a scheduled run's). While a late alert is open, each
// later due time is asked about too: a session in Zuora's answer closes it. It returns the messages that calls
// for, the due time Zuora must be asked about first (nil: none), and
// whether the state must be written though nothing else changed (Zuora's
// answer was used: it is not asked twice).
func (r Rules) judgeLate(next *State, obs Observation, now time.Time) (msgs []*Message, ask *time.Time, write bool) {
	at := now.Truncate(time.Second)
	e := next.Expect
	if e == nil {
		return nil, nil, false
	}
	if next.Late != nil && runSeen(obs) {
		msgs = r.lateOver(next)
	}
	if obs.Confirm == nil {
		return msgs, nil, false
	}
	since := next.ExpectSince
	if next.DueJudged.After(since) {
		since = next.DueJudged
	}
	due, ok := e.Last(now.Add(-e.Grace-time.Nanosecond), since) // more than grace past
	c := obs.Confirmed
	asked := c != nil && c.Due.Equal(due)
	switch {
	case !ok || met(next, due, now):
		return msgs, nil, false
	case runSeen(obs):
		// A run seen now, past the window, came late but came, or Zuora
		// knows of one nobody saw: nothing is missing any more.
		next.DueJudged = due
		return msgs, nil, asked
	case !asked:
		return msgs, &due, false // ask Zuora first
	case next.Late != nil:
		// Rule 6: one page per missed stretch. Zuora was asked about this
		// due time too, once, for a session would have closed the alert.
		next.DueJudged = due
		return msgs, nil, true
	}
	if c.Err != nil && !e.Unverified(due, now) {
		return msgs, nil, false // judged again at the next runs
	}
	next.DueJudged = due
	next.Late = &LateAlert{Due: due.In(e.Location()), Verified: c.Err == nil, NotifiedAt: at}
	return append(msgs, &Message{Event: EventLate, Late: lateOf(*next)}), nil, true
}

// lateOver closes next's late alert: a run was seen. With NotifyResolved,
// a resolution names the first due time missed.
func (r Rules) lateOver(next *State) []*Message {
	due := next.Late.Due
	next.Late = nil
	if !r.NotifyResolved {
		return nil
	}
	return []*Message{{Event: EventResolved, Resolves: &Resolution{Late: true, Due: due}}}
}

// lateReminder is the reminder of an open late alert after RepeatAfter.
func (r Rules) lateReminder(next *State, now time.Time) *Message {
	at := now.Truncate(time.Second)
	if next.Late == nil || next.Late.Held || r.RepeatAfter <= 0 || len(next.Outbox) > 0 || at.Sub(next.Late.NotifiedAt) < r.RepeatAfter {
		return nil
	}
	late := *next.Late
	late.NotifiedAt = at
	next.Late = &late
	return &Message{Event: EventReminder, Late: lateOf(*next)}
}

// runSeen reports whether obs shows a run: a check that saw one going, or
// a callout, which Zuora sends for a session that ran.
func runSeen(obs Observation) bool {
	return obs.Callout || running(obs) || obs.Confirmed != nil && obs.Confirmed.Err == nil && obs.Confirmed.Sessions > 0
}

// met reports whether a run of s is known to have been going in due's
// window: one of its known runs, or the run going on, from its start to
// now.
func met(s *State, due, now time.Time) bool {
	from, to := s.Expect.Window(due)
	runs := s.Runs
	if !s.RunStart.IsZero() {
		runs = append(slices.Clip(runs), Span{From: s.RunStart, To: now})
	}
	return slices.ContainsFunc(runs, func(r Span) bool { return !r.To.Before(from) && !r.From.After(to) })
}

// lateOf is the late page's account of s's open late alert.
func lateOf(s State) *Late {
	cron, zone, _ := s.Expect.Strings()
	return &Late{Due: s.Late.Due, Cron: cron, Timezone: zone, Grace: s.Expect.Grace, LastRunAt: lastRun(s), Verified: s.Late.Verified}
}

// lastRun is when a run of s was last known going; zero: never.
func lastRun(s State) time.Time {
	var last time.Time
	for _, r := range s.Runs {
		if r.To.After(last) {
			last = r.To
		}
	}
	return last
}

// recordRun keeps a run that ended among next's known runs, the oldest
// going past MaxRuns.
func recordRun(next *State, from, to time.Time) {
	if from.IsZero() {
		from = to
	}
	next.Runs = append(slices.Clone(next.Runs), Span{From: from, To: to})
	next.Runs = next.Runs[max(0, len(next.Runs)-MaxRuns):]
}
