package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

const (
	// maxStateAttempts bounds the read-decide-write rounds of one check
	// when other checks of the same meter version keep writing first.
	maxStateAttempts = 5
	// stateRefresh is how stale a stored checkedAt may get before a check
	// that changes nothing writes it anyway (spread per meter, see
	// refreshDue), so GET /meters shows when a meter was last seen.
	stateRefresh = time.Hour
)

// observation is one check's finding: a poll's result, or a callout's.
type observation struct {
	res     Result
	session string // the callout's session id; "" for a poll
}

// transition is what an observation does to a meter version's state.
type transition struct {
	next    MeterState
	write   bool          // next differs from what is stored
	publish *PendingAlert // what this check must publish now; claimed in next
}

// decide applies the memory rules of the contract to the stored state prev:
// one alert per transition into an ALERT_ON status (a new callout session
// is a new run), reminders after RepeatAfter, a resolution when a terminal
// status outside ALERT_ON closes an open alert, and an owed message taken
// over once no other check holds it. lease is how long this check may take
// to publish.
func (h *Handler) decide(prev MeterState, obs observation, now time.Time, lease time.Duration) transition {
	next := prev
	next.Meter = Meter{MeterID: obs.res.MeterID, Version: obs.res.Version}
	next.Status, next.StatusCode = obs.res.Status, obs.res.StatusCode
	changed := prev.Status != obs.res.Status
	// A poll after a callout keeps the callout's session; a callout after a
	// poll of the same status adopts it without paging (they saw one run).
	newSession := obs.session != "" && prev.Session != "" && obs.session != prev.Session
	if obs.session != "" || changed {
		next.Session = obs.session
	}
	if changed {
		next.ChangedAt = now
	}

	fresh := h.alertFor(prev, &next, obs.res, changed || newSession, now)
	var publish *PendingAlert
	switch {
	case fresh != nil:
		// A new message supersedes one still owed: the newer one says more.
		fresh.ID = transitionID(next.Meter, fresh.Event, prev.Rev+1)
		fresh.Result = obs.res
		publish = fresh
	case prev.Pending != nil && !now.Before(prev.Pending.LeaseUntil):
		p := *prev.Pending
		publish = &p
	}
	if publish != nil {
		publish.LeaseUntil = now.Add(lease)
		next.Pending = publish
	}
	write := prev.Rev == 0 || !next.sameCheckState(prev) || refreshDue(prev, now)
	if write {
		next.CheckedAt = now
	}
	return transition{next: next, write: write, publish: publish}
}

// alertFor opens, reminds of or closes next's alert and returns the message
// that calls for, if any.
func (h *Handler) alertFor(prev MeterState, next *MeterState, res Result, transitioned bool, now time.Time) *PendingAlert {
	alerting := h.cfg.alertsOn(res.Status)
	switch {
	case alerting && transitioned:
		next.AlertStatus, next.AlertSince, next.NotifiedAt = res.Status, now, now
		return &PendingAlert{Event: EventAlert}
	case alerting && prev.AlertStatus != "" && prev.Pending == nil &&
		h.cfg.RepeatAfter > 0 && now.Sub(prev.NotifiedAt) >= h.cfg.RepeatAfter:
		next.NotifiedAt = now
		return &PendingAlert{Event: EventReminder}
	case !alerting && res.Terminal && prev.AlertStatus != "":
		next.AlertStatus, next.AlertSince, next.NotifiedAt = "", time.Time{}, time.Time{}
		if h.cfg.NotifyResolved {
			return &PendingAlert{Event: EventResolved, ResolvesStatus: prev.AlertStatus, ResolvesSince: prev.AlertSince}
		}
	}
	return nil
}

// sameCheckState reports whether s and o hold the same check state, apart
// from when it was last written.
func (s MeterState) sameCheckState(o MeterState) bool {
	samePending := s.Pending == o.Pending || s.Pending != nil && o.Pending != nil &&
		s.Pending.ID == o.Pending.ID && s.Pending.LeaseUntil.Equal(o.Pending.LeaseUntil)
	return samePending && s.Status == o.Status && s.StatusCode == o.StatusCode && s.Session == o.Session &&
		s.ChangedAt.Equal(o.ChangedAt) && s.AlertStatus == o.AlertStatus &&
		s.AlertSince.Equal(o.AlertSince) && s.NotifiedAt.Equal(o.NotifiedAt)
}

// refreshDue reports whether s's checkedAt is old enough to be written
// again. The age is spread between half of stateRefresh and all of it by
// meter, so that meters first checked together do not all refresh together.
func refreshDue(s MeterState, now time.Time) bool {
	f := fnv.New32a()
	fmt.Fprintf(f, "%d:%s", s.MeterID, s.Version)
	spread := time.Duration(f.Sum32()%1000) * (stateRefresh / 2 / 1000)
	return now.Sub(s.CheckedAt) >= stateRefresh/2+spread
}

// transitionID names one transition of one meter version, as the FIFO
// deduplication id of its message.
func transitionID(m Meter, event string, rev int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s\x00%d", m.MeterID, m.Version, event, rev))
	return hex.EncodeToString(sum[:])
}

// memo is what one invocation knows of the memory before its checks
// decide. It is read while the Zuora calls are in flight: a check waits for
// it only once Zuora has answered, so the read costs no time of its own.
type memo struct {
	done   chan struct{}        // closed once states and err are set
	states map[Meter]MeterState // a meter without an entry has no state
	err    error                // reading failed: the checks go without memory
}

// recallAsync starts reading the memory of meters (nil without a Store).
func (h *Handler) recallAsync(ctx context.Context, meters []Meter) *memo {
	if h.store == nil {
		return nil
	}
	mo := &memo{done: make(chan struct{})}
	go func() {
		defer close(mo.done)
		mo.states, mo.err = h.store.States(ctx, meters)
	}()
	return mo
}

// known is a memo of states already read.
func known(states map[Meter]MeterState, err error) *memo {
	mo := &memo{done: make(chan struct{}), states: states, err: err}
	close(mo.done)
	return mo
}

// wait blocks until the memory has been read; nil waits for nothing.
func (mo *memo) wait() {
	if mo != nil {
		<-mo.done
	}
}

func (mo *memo) state(m Meter) MeterState {
	if s, ok := mo.states[m]; ok {
		return s
	}
	return MeterState{Meter: m}
}

// observe records obs in the memory and publishes what the rules call for.
// When the memory cannot be read or written, it alerts as a function
// without memory does, and logs why: a duplicate page beats a missed one.
func (h *Handler) observe(ctx context.Context, res *Result, obs observation, mo *memo) error {
	mo.wait()
	if mo.err != nil {
		return h.alertWithoutMemory(ctx, res, mo.err)
	}
	m := Meter{MeterID: res.MeterID, Version: res.Version}
	prev := mo.state(m)
	for attempt := 1; ; attempt++ {
		// Whole seconds, as checkedAt: the times the memory shows read alike.
		t := h.decide(prev, obs, h.now().UTC().Truncate(time.Second), leaseFor(ctx))
		if !t.write {
			return h.deliver(ctx, res, t)
		}
		rev, err := h.store.Save(ctx, t.next)
		if err == nil {
			t.next.Rev = rev
			return h.deliver(ctx, res, t)
		}
		if !errors.Is(err, ErrStateConflict) || attempt == maxStateAttempts {
			return h.alertWithoutMemory(ctx, res, err)
		}
		if prev, err = h.reread(ctx, m); err != nil {
			return h.alertWithoutMemory(ctx, res, err)
		}
	}
}

func (h *Handler) reread(ctx context.Context, m Meter) (MeterState, error) {
	states, err := h.store.States(ctx, []Meter{m})
	if err != nil {
		return MeterState{}, err
	}
	return known(states, nil).state(m), nil
}

// leaseFor is how long a check may hold a message it publishes: until its
// invocation ends, so no other check sends it meanwhile.
func leaseFor(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Minute
	}
	return min(max(time.Until(deadline)+time.Second, time.Second), 15*time.Minute)
}

// deliver publishes what the transition claimed and records the outcome;
// when there is nothing to publish, the result shows the open alert.
func (h *Handler) deliver(ctx context.Context, res *Result, t transition) error {
	if t.publish == nil {
		if t.next.AlertStatus != "" {
			since := t.next.AlertSince.UTC()
			res.AlertOpenSince = &since
		}
		return nil
	}
	err := h.publish(ctx, res, *t.publish)
	h.settle(ctx, t.next, t.publish.ID, err == nil)
	return err
}

// settle records that the claimed message went out (it is no longer owed)
// or did not (it is owed, and free for the next check to send at once). If
// that cannot be written, the lease runs out instead; a message may then go
// out twice, which a FIFO topic's deduplication id absorbs.
func (h *Handler) settle(ctx context.Context, s MeterState, id string, published bool) {
	m := s.Meter
	err := ErrStateConflict
	for range maxStateAttempts {
		if s.Pending == nil || s.Pending.ID != id {
			return // another check has settled or superseded it
		}
		if published {
			s.Pending = nil
		} else {
			p := *s.Pending
			p.LeaseUntil = time.Time{}
			s.Pending = &p
		}
		if _, err = h.store.Save(ctx, s); err == nil {
			return
		}
		if !errors.Is(err, ErrStateConflict) {
			break
		}
		if s, err = h.reread(ctx, m); err != nil {
			break
		}
		err = ErrStateConflict
	}
	h.stateUnavailable(ctx, err, "meterId", m.MeterID, "version", m.Version, "published", published)
}

// stateUnavailable counts and logs a read or write of the memory that
// failed; attrs say what it was for and what the function does instead.
func (h *Handler) stateUnavailable(ctx context.Context, err error, attrs ...any) {
	tallyOf(ctx).count("StateUnavailable")
	h.log.WarnContext(ctx, "state unavailable", append(attrs, "errorType", TypeStateUnavailable, "error", err.Error())...)
}

// alertWithoutMemory is the check of a function without STATE_TABLE: every
// status in ALERT_ON alerts.
func (h *Handler) alertWithoutMemory(ctx context.Context, res *Result, cause error) error {
	h.stateUnavailable(ctx, cause, "meterId", res.MeterID, "version", res.Version, "alerting", h.cfg.alertsOn(res.Status))
	if !h.cfg.alertsOn(res.Status) {
		return nil
	}
	return h.publish(ctx, res, PendingAlert{Event: EventAlert, ID: deduplicationID(*res), Result: *res})
}
