package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/zuora"
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
	session string    // the callout's session id; "" for a poll
	at      time.Time // when a callout says its news happened; zero for a poll
}

func (o observation) callout() bool { return o.res.Source == sourceCallout }

// transition is what an observation does to a meter version's state.
type transition struct {
	next    MeterState
	write   bool // next differs from what is stored
	deliver bool // this check holds next's outbox and must publish it
	stale   bool // a callout older than what is stored: nothing changes
}

// decide applies the memory rules of the contract to the stored state prev
// (pure: no I/O). One alert per transition into an ALERT_ON status (a new
// callout session is a new run), reminders after RepeatAfter, a resolution
// when a terminal status outside ALERT_ON closes an open alert; every
// message joins the outbox behind what is still owed (rule 6). UNKNOWN
// changes nothing (rule 7), a stale callout nothing at all. The check
// takes the outbox when nobody else holds it; lease is how long it may.
func (h *Handler) decide(prev MeterState, obs observation, owner string, now time.Time, lease time.Duration) transition {
	if obs.callout() && isStale(prev, obs) {
		return transition{next: prev, stale: true}
	}
	next := prev
	next.Meter = Meter{MeterID: obs.res.MeterID, Version: obs.res.Version}
	if obs.res.Status != zuora.Unknown {
		if fresh := h.advance(prev, &next, obs, now); fresh != nil {
			fresh.ID = transitionID(next.Meter, fresh.Event, prev.Rev+1)
			fresh.Result = obs.res
			next.Outbox = enqueue(prev.Outbox, *fresh)
		}
	}
	t := transition{next: next}
	if len(next.Outbox) > 0 && prev.Lease.free(owner, now) {
		t.next.Lease, t.deliver = Lease{Owner: owner, Until: now.Add(lease)}, true
	}
	t.write = t.deliver || !t.next.sameCheckState(prev) ||
		obs.res.Status != zuora.Unknown && (prev.Rev == 0 || refreshDue(prev, now))
	if t.write {
		t.next.CheckedAt = now
	}
	return t
}

// advance moves next to what obs says and returns the message that calls
// for, if any.
func (h *Handler) advance(prev MeterState, next *MeterState, obs observation, now time.Time) *PendingAlert {
	changed := prev.Status != obs.res.Status
	// A poll after a callout keeps the callout's session; a callout after a
	// poll of the same status adopts it without paging (they saw one run).
	newSession := obs.session != "" && prev.Session != "" && obs.session != prev.Session
	next.Status, next.StatusCode = obs.res.Status, obs.res.StatusCode
	if obs.session != "" || changed {
		next.Session = obs.session
	}
	if changed || newSession {
		next.ChangedAt = now
		if !obs.at.IsZero() {
			next.ChangedAt = obs.at
		}
	}
	return h.alertFor(prev, next, obs.res, changed || newSession, now)
}

// isStale reports whether a callout is older news than prev: dated before
// the stored status last changed, or a non-terminal status of a session
// already seen terminal. Zuora retries up to 30 minutes apart in no fixed
// order, and a signed body can be replayed under a new notification id.
func isStale(prev MeterState, obs observation) bool {
	if prev.Rev == 0 {
		return false
	}
	if !obs.at.IsZero() && obs.at.Before(prev.ChangedAt) {
		return true
	}
	return obs.session != "" && obs.session == prev.Session &&
		zuora.StatusNamed(prev.Status).Terminal && !obs.res.Terminal
}

// enqueue adds msg behind what is owed. A reminder still owed gives way to
// newer news; past MaxOutbox the oldest message that is not an alert goes.
func enqueue(outbox []PendingAlert, msg PendingAlert) []PendingAlert {
	out := slices.DeleteFunc(slices.Clone(outbox), func(p PendingAlert) bool { return p.Event == EventReminder })
	out = append(out, msg)
	for len(out) > MaxOutbox {
		i := slices.IndexFunc(out, func(p PendingAlert) bool { return p.Event != EventAlert })
		out = slices.Delete(out, max(i, 0), max(i, 0)+1)
	}
	return out
}

// alertFor opens, reminds of or closes next's alert and returns the message
// that calls for, if any.
func (h *Handler) alertFor(prev MeterState, next *MeterState, res Result, transitioned bool, now time.Time) *PendingAlert {
	alerting := h.cfg.alertsOn(res.Status)
	switch {
	case alerting && transitioned:
		next.AlertStatus, next.AlertSince, next.NotifiedAt = res.Status, now, now
		return &PendingAlert{Event: EventAlert}
	case alerting && prev.AlertStatus != "" && len(prev.Outbox) == 0 &&
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
// from when it was last written and by whom.
func (s MeterState) sameCheckState(o MeterState) bool {
	sameOutbox := slices.EqualFunc(s.Outbox, o.Outbox, func(a, b PendingAlert) bool { return a.ID == b.ID })
	return sameOutbox && s.Lease.Owner == o.Lease.Owner && s.Lease.Until.Equal(o.Lease.Until) &&
		s.Status == o.Status && s.StatusCode == o.StatusCode && s.Session == o.Session &&
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

// errStale: a callout older than what the memory knows; nothing was done.
var errStale = errors.New("stale callout")

// observe records obs in the memory and publishes what the rules call for;
// errStale for a callout the memory already knows better. When the memory
// cannot be read or written, it alerts as a function without memory does,
// and logs why: a duplicate page beats a missed one.
func (h *Handler) observe(ctx context.Context, res *Result, obs observation, mo *memo) error {
	mo.wait()
	if mo.err != nil {
		return h.alertWithoutMemory(ctx, res, mo.err)
	}
	owner := nextOwner(ctx)
	m := Meter{MeterID: res.MeterID, Version: res.Version}
	prev := mo.state(m)
	for attempt := 1; ; attempt++ {
		// Whole seconds, as checkedAt: the times the memory shows read alike.
		t := h.decide(prev, obs, owner, h.now().UTC().Truncate(time.Second), leaseFor(ctx))
		switch {
		case t.stale:
			return errStale
		case !t.write:
			return h.deliver(ctx, res, t.next, false)
		}
		t.next.Writer = owner
		rev, err := h.store.Save(ctx, t.next)
		if err == nil {
			t.next.Rev = rev
			return h.deliver(ctx, res, t.next, t.deliver)
		}
		if !errors.Is(err, ErrStateConflict) || attempt == maxStateAttempts {
			return h.alertWithoutMemory(ctx, res, err)
		}
		tallyOf(ctx).count("StateConflicts")
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

// leaseFor is how long a check may hold an outbox it publishes: until its
// invocation ends, so no other check sends it meanwhile.
func leaseFor(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Minute
	}
	return min(max(time.Until(deadline)+time.Second, time.Second), 15*time.Minute)
}

// deliver publishes the outbox of s, which this check holds (held), in
// order, and records what went out. New messages that other checks queued
// meanwhile behind the lease go out in the same breath. When there is
// nothing to publish, the result shows the open alert.
func (h *Handler) deliver(ctx context.Context, res *Result, s MeterState, held bool) error {
	if !held {
		if s.AlertStatus != "" {
			since := s.AlertSince.UTC()
			res.AlertOpenSince = &since
		}
		return nil
	}
	for range maxStateAttempts {
		pctx, reserve, cancel := publishContext(ctx)
		published, err := h.publishAll(pctx, res, s.Outbox)
		cancel()
		var more bool
		s, more = h.settle(ctx, s, published, err != nil, reserve)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// publishAll publishes msgs in order until one fails, and returns the ids
// of those that went out.
func (h *Handler) publishAll(ctx context.Context, res *Result, msgs []PendingAlert) ([]string, error) {
	var ids []string
	for _, p := range msgs {
		if err := h.publish(ctx, res, p); err != nil {
			return ids, err
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// publishContext keeps back from the invocation's deadline the time to
// record what was published (reserve): a publish that SNS answers at the
// last moment must still be written down, or the next check sends it again.
func publishContext(ctx context.Context) (context.Context, time.Duration, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, maxRecordBudget, cancel
	}
	reserve := min(max(time.Until(deadline)/4, minRecordBudget), maxRecordBudget)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	return ctx, reserve, cancel
}

// The time kept for the writes that record a publish: DynamoDB answers in
// milliseconds; the SDK's retries of a throttled write need a little more.
const (
	minRecordBudget = 200 * time.Millisecond
	maxRecordBudget = 2 * time.Second
)

// settle records the messages that went out (they are no longer owed) and
// gives the lease back when the outbox is empty or a publish failed, so the
// next check sends what is left at once. It reports whether more is owed
// and still this check's to send. Its writes have their own budget, not
// the invocation's: it runs when the publish may have used up the rest. If
// they fail, the lease runs out instead; a message may then go out twice,
// which a FIFO topic's deduplication id absorbs.
func (h *Handler) settle(ctx context.Context, s MeterState, published []string, failed bool, budget time.Duration) (MeterState, bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	owner, m := s.Writer, s.Meter
	var err error
	for range maxStateAttempts {
		next := s
		next.Outbox = slices.DeleteFunc(slices.Clone(s.Outbox), func(p PendingAlert) bool { return slices.Contains(published, p.ID) })
		mine := s.Lease.Owner == owner
		if mine && (failed || len(next.Outbox) == 0) {
			next.Lease = Lease{}
		}
		if next.sameCheckState(s) {
			return s, false // another check has settled it
		}
		next.Writer = owner
		if next.Rev, err = h.store.Save(ctx, next); err == nil {
			return next, mine && !failed && len(next.Outbox) > 0
		}
		if !errors.Is(err, ErrStateConflict) {
			break
		}
		if s, err = h.reread(ctx, m); err != nil {
			break
		}
		s.Writer = owner
	}
	h.stateUnavailable(ctx, err, "meterId", m.MeterID, "version", m.Version, "published", len(published))
	return s, false
}

// stateUnavailable counts and logs a read or write of the memory that
// failed; attrs say what it was for and what the function does instead.
func (h *Handler) stateUnavailable(ctx context.Context, err error, attrs ...any) {
	if err == nil {
		err = ErrStateConflict // the rounds ran out
	}
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
