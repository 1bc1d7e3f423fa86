package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// stateRefresh is how stale a stored checkedAt may get before a check that
// changes nothing writes it anyway (spread per meter, see refreshDue), so
// the watch list shows when a meter was last seen.
const stateRefresh = time.Hour

// Rules are the configuration the decisions depend on.
type Rules struct {
	AlertOn        []string      // ALERT_ON: the statuses that alert
	RepeatAfter    time.Duration // ALERT_REPEAT_AFTER: reminders while an alert stays open; 0 for none
	NotifyResolved bool          // NOTIFY_RESOLVED: a resolution when an open alert closes
	// StuckAfter (STUCK_AFTER) turns stuck runs on: a run going on longer
	// than StuckFactor (STUCK_FACTOR) times the median of the meter
	// version's last completed runs, and never less than StuckAfter, pages.
	StuckAfter  time.Duration
	StuckFactor float64
}

// AlertsOn reports whether status raises an alert.
func (r Rules) AlertsOn(status string) bool { return slices.Contains(r.AlertOn, status) }

// Observation is one check's finding: a poll's, or a callout's.
type Observation struct {
	Meter
	Status     string // a status name, or zuora.Unknown
	StatusCode int
	Terminal   bool
	Session    string    // a callout's session id; "" for a poll
	At         time.Time // when a callout says its news happened; zero for a poll
	Start      time.Time // when a callout says its session began; zero when it does not
	Callout    bool
	// Report is what a message about this observation reports (the
	// check's result, as the handler writes it), kept as it is.
	Report json.RawMessage
	// Confirm, set on a scheduled run's checks, lets the check judge due
	// times (late runs) and asks Zuora when nothing showed a run;
	// Confirmed is its answer (the Keeper asks).
	Confirm   Confirm
	Confirmed *Confirmation
}

// Transition is what an observation does to a meter version's state.
type Transition struct {
	Next    State
	Write   bool // Next differs from what is stored
	Deliver bool // this check holds Next's outbox and must publish it
	Stale   bool // a callout older than what is stored: nothing changes
	// Ask is a due time whose miss Zuora must confirm before the check can
	// decide (Observation.Confirm); nil: none.
	Ask *time.Time
	// Held counts the messages a mute held back.
	Held int
}

// Decide applies the memory rules of the contract to the stored state prev
// (pure: no I/O). One alert per transition into an ALERT_ON status (a new
// callout session is a new run), reminders after RepeatAfter, a resolution
// when a terminal status outside ALERT_ON closes an open alert; every
// message joins the outbox behind what is still owed (rule 6). UNKNOWN
// changes nothing (rule 7), a stale callout nothing at all. The check named
// owner takes the outbox when nobody else holds it, for lease.
func (r Rules) Decide(prev State, obs Observation, owner string, now time.Time, lease time.Duration) Transition {
	// Whole seconds for what the memory shows, so its times read alike; a
	// run's start keeps its precision, for its duration.
	at := now.Truncate(time.Second)
	if obs.Callout && isStale(prev, obs) {
		return r.stale(prev, obs, owner, at, lease)
	}
	next := prev
	next.Meter = obs.Meter
	t := Transition{}
	var fresh []*Message
	var lateWrite bool
	if next.Expect == nil {
		next.Late = nil // no expectation, nothing late: a removed one closes its alert without a word
	}
	if obs.Status != zuora.Unknown {
		other := otherRun(prev, obs)
		fresh = append([]*Message{r.advance(prev, &next, obs, at, other)}, r.trackRun(prev, &next, obs, now, other)...)
		var late []*Message
		late, t.Ask, lateWrite = r.judgeLate(&next, obs, now)
		fresh = append(append(fresh, late...), r.lateReminder(&next, now))
	}
	fresh, t.Held = r.muting(&next, fresh, now)
	for i, m := range fresh {
		if m != nil {
			m.ID = transitionID(next.Meter, m.Event, prev.Rev+1, i)
			m.Report, m.LastSeen = obs.Report, prev.CheckedAt
			if m.AfterMute {
				m.LastSeen = time.Time{} // the last check was inside the mute, in the failure
			}
			next.Outbox = enqueue(next.Outbox, *m)
		}
	}
	t.Next = next
	if len(next.Outbox) > 0 && prev.Lease.free(owner, at) && !next.Mute.Muted(at) {
		t.Next.Lease, t.Deliver = Lease{Owner: owner, Until: at.Add(lease)}, true
	}
	t.Write = t.Deliver || lateWrite || !t.Next.sameCheckState(prev) ||
		obs.Status != zuora.Unknown && (prev.Rev == 0 || refreshDue(prev, at))
	if t.Write {
		t.Next.CheckedAt = at
	}
	return t
}

// stale is what older news does: nothing to the status or the alerts. Two
// things all the same: a late callout of the status a poll stored names the
// session the poll saw, which polls cannot know, so that the callout of a
// rerun is told apart however it is dated; and what is still owed goes out
// with it, for a meter nobody polls has no other check to send it.
func (r Rules) stale(prev State, obs Observation, owner string, at time.Time, lease time.Duration) Transition {
	t := Transition{Next: prev, Stale: true}
	if prev.Session == "" && obs.Status == prev.Status && obs.Session != "" {
		t.Next.Session, t.Write = obs.Session, true
	}
	if len(prev.Outbox) > 0 && prev.Lease.free(owner, at) && !prev.Mute.Muted(at) {
		t.Next.Lease, t.Deliver, t.Write = Lease{Owner: owner, Until: at.Add(lease)}, true, true
	}
	if t.Write {
		t.Next.CheckedAt = at
	}
	return t
}

// advance moves next to what obs says and returns the message that calls
// for, if any. other: obs is of another run than the one stored (otherRun).
func (r Rules) advance(prev State, next *State, obs Observation, now time.Time, other bool) *Message {
	changed := prev.Status != obs.Status
	// A poll after a callout keeps the callout's session; a callout after a
	// poll of the same status adopts it without paging, unless it is of
	// another run than the one the poll saw.
	next.Status, next.StatusCode = obs.Status, obs.StatusCode
	if obs.Session != "" || changed {
		next.Session = obs.Session
	}
	if changed || other {
		next.ChangedAt = now
		if !obs.At.IsZero() {
			next.ChangedAt = obs.At
		}
	}
	return r.alertFor(prev, next, obs, changed || other, now)
}

// otherRun reports whether a callout is about another run than the one
// stored: its session differs from the stored one; or, when a poll stored
// the status (polls know no session), the callout of that same status is
// dated after the poll saw it — a run the poll saw terminal had ended by
// then, and a run it saw going had begun. A callout in the poll's own
// second, or undated, is taken for the run the poll saw.
func otherRun(prev State, obs Observation) bool {
	switch {
	case obs.Session == "" || prev.Rev == 0:
		return false
	case prev.Session != "":
		return obs.Session != prev.Session
	}
	return obs.Status == prev.Status && obs.At.After(prev.ChangedAt)
}

// isStale reports whether a callout is older news than prev: dated before
// the stored status last changed, or a non-terminal status of a session
// already seen terminal. Zuora retries up to 30 minutes apart in no fixed
// order, and a signed body can be replayed under a new notification id.
func isStale(prev State, obs Observation) bool {
	if prev.Rev == 0 {
		return false
	}
	if !obs.At.IsZero() && obs.At.Before(prev.ChangedAt) {
		return true
	}
	return obs.Session != "" && obs.Session == prev.Session &&
		zuora.StatusNamed(prev.Status).Terminal && !obs.Terminal
}

// enqueue adds msg behind what is owed. A reminder still owed gives way to
// newer news; past MaxOutbox the oldest message that is not a page (an
// alert, a stuck run) goes. Pages are never dropped (rule 6): an outbox
// grows past MaxOutbox only with pages, one per new failure while SNS
// refuses every publish.
func enqueue(outbox []Message, msg Message) []Message {
	out := slices.DeleteFunc(slices.Clone(outbox), func(m Message) bool { return m.Event == EventReminder })
	out = append(out, msg)
	for len(out) > MaxOutbox {
		i := slices.IndexFunc(out, func(m Message) bool { return !m.page() })
		if i < 0 {
			break
		}
		out = slices.Delete(out, i, i+1)
	}
	return out
}

// page reports whether m is news of a problem, which is never dropped: not
// a reminder of one nor the news that it is over.
func (m Message) page() bool {
	return m.Event == EventAlert || m.Event == EventStuck || m.Event == EventLate
}

// alertFor opens, reminds of or closes next's alert and returns the message
// that calls for, if any.
func (r Rules) alertFor(prev State, next *State, obs Observation, transitioned bool, now time.Time) *Message {
	alerting := r.AlertsOn(obs.Status)
	switch {
	case alerting && transitioned:
		next.AlertStatus, next.AlertSince, next.NotifiedAt = obs.Status, now, now
		return &Message{Event: EventAlert}
	case alerting && prev.AlertStatus != "" && len(prev.Outbox) == 0 &&
		r.RepeatAfter > 0 && now.Sub(prev.NotifiedAt) >= r.RepeatAfter:
		next.NotifiedAt = now
		return &Message{Event: EventReminder}
	case !alerting && obs.Terminal && prev.AlertStatus != "":
		next.AlertStatus, next.AlertSince, next.NotifiedAt = "", time.Time{}, time.Time{}
		if r.NotifyResolved {
			return &Message{Event: EventResolved, Resolves: &Resolution{Status: prev.AlertStatus, Since: prev.AlertSince}}
		}
	}
	return nil
}

// sameCheckState reports whether s and o hold the same check state, apart
// from when it was last written and by whom, and from DueJudged: a due
// time met by a known run is judged again, for nothing, until a write
// carries the mark (the memory writes for what changed, not for each due
// time met).
func (s State) sameCheckState(o State) bool {
	sameOutbox := slices.EqualFunc(s.Outbox, o.Outbox, func(a, b Message) bool { return a.ID == b.ID })
	sameRun := s.RunStart.Equal(o.RunStart) && slices.Equal(s.RunDurations, o.RunDurations) &&
		(s.Stuck == o.Stuck || s.Stuck != nil && o.Stuck != nil && *s.Stuck == *o.Stuck)
	sameLate := slices.Equal(s.Runs, o.Runs) && s.AlertHeld == o.AlertHeld &&
		(s.Late == o.Late || s.Late != nil && o.Late != nil && *s.Late == *o.Late)
	return sameOutbox && sameRun && sameLate && s.Lease.Owner == o.Lease.Owner && s.Lease.Until.Equal(o.Lease.Until) &&
		s.Status == o.Status && s.StatusCode == o.StatusCode && s.Session == o.Session &&
		s.ChangedAt.Equal(o.ChangedAt) && s.AlertStatus == o.AlertStatus &&
		s.AlertSince.Equal(o.AlertSince) && s.NotifiedAt.Equal(o.NotifiedAt)
}

// refreshDue reports whether s's checkedAt is old enough to be written
// again. The age is spread between half of stateRefresh and all of it by
// meter, so that meters first checked together do not all refresh together.
func refreshDue(s State, now time.Time) bool {
	f := fnv.New32a()
	fmt.Fprintf(f, "%d:%s", s.MeterID, s.Version)
	spread := time.Duration(f.Sum32()%1000) * (stateRefresh / 2 / 1000)
	return now.Sub(s.CheckedAt) >= stateRefresh/2+spread
}

// transitionID names one message of one transition of one meter version
// (n numbers the messages a transition calls for: a failure's, and a stuck
// run's), as its FIFO deduplication id.
func transitionID(m Meter, event string, rev int64, n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s\x00%d\x00%d", m.MeterID, m.Version, event, rev, n))
	return hex.EncodeToString(sum[:])
}
