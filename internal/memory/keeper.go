package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/internal/metrics"
)

const (
	// maxStateAttempts bounds the read-decide-write rounds of one check
	// when other checks of the same meter version keep writing first.
	maxStateAttempts = 5
	// The time kept for the writes that record a publish: DynamoDB answers
	// in milliseconds; the SDK's retries of a throttled write need a little
	// more.
	minRecordBudget = 200 * time.Millisecond
	maxRecordBudget = 2 * time.Second
)

// ErrUndeliverable: the topic will never take this message as it is, nor
// in a plainer form; a Publisher's error wraps it so that the message is
// given up instead of holding back what is owed behind it.
var ErrUndeliverable = errors.New("message undeliverable")

// ErrUnavailable: the Store could not be read or written. The caller goes
// on as a function without memory would (a duplicate page beats a missed
// one).
var ErrUnavailable = errors.New("state unavailable")

// Publisher sends one message. It returns the message as it went out, or
// as far as it got: a publisher may add to its report (why a run failed),
// and a message still owed keeps what it was first built with.
type Publisher func(ctx context.Context, msg Message) (Message, error)

// Keeper records observations in a Store and has the messages they call for
// published, each once among checks that run at the same time: a check
// claims its transition with a conditional write before it publishes, and
// records what went out after.
type Keeper struct {
	Store Store
	Rules Rules
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: slog.Default()
}

// Outcome is what Record did besides publishing.
type Outcome struct {
	// Stale: a callout older than the memory, which changed nothing but
	// the session it names; it still sent what was owed.
	Stale bool
	// Muted: the meter version is muted; nothing was published for it.
	Muted     *Mute
	OpenSince time.Time // nothing to publish, and an alert is open since then
}

// Record applies obs to prev (the state read for it) and publishes what the
// rules call for through publish, as owner. Its error is ErrUnavailable
// when the Store failed, else the publisher's for a message that stays
// owed (one given up is not, see publishAll); the Outcome says whether the
// news was stale either way.
func (k *Keeper) Record(ctx context.Context, prev State, obs Observation, owner string, publish Publisher) (Outcome, error) {
	m := obs.Meter
	for attempt := 1; ; attempt++ {
		t := k.decide(ctx, prev, &obs, owner)
		done := Outcome{Stale: t.Stale}
		if !t.Stale {
			done.OpenSince = t.Next.AlertSince
		}
		if t.Next.Mute.Muted(k.now()) {
			done.Muted = t.Next.Mute
		}
		if !t.Write {
			return done, nil
		}
		t.Next.Writer = owner
		rev, err := k.Store.Save(ctx, t.Next)
		if err == nil {
			t.Next.Rev = rev
			metrics.From(ctx).Add(metrics.Muted, t.Held)
			if !t.Deliver {
				return done, nil
			}
			done.OpenSince = time.Time{}
			return done, k.deliver(ctx, t.Next, publish)
		}
		if !errors.Is(err, ErrConflict) || attempt == maxStateAttempts {
			return Outcome{Stale: t.Stale}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		metrics.From(ctx).Count(metrics.StateConflicts)
		if prev, err = k.reread(ctx, m); err != nil {
			return Outcome{Stale: t.Stale}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
}

// decide is Rules.Decide, asking Zuora first when the rules want its word
// on a due time (obs.Confirm), once per check: the answer stays in obs for
// the decisions after a conflict.
func (k *Keeper) decide(ctx context.Context, prev State, obs *Observation, owner string) Transition {
	t := k.Rules.Decide(prev, *obs, owner, k.now().UTC(), leaseFor(ctx))
	if t.Ask == nil || obs.Confirm == nil || obs.Confirmed != nil && obs.Confirmed.Due.Equal(*t.Ask) {
		return t
	}
	from := t.Ask.Add(-prev.Expect.Grace)
	sessions, err := obs.Confirm(ctx, from)
	obs.Confirmed = &Confirmation{Due: *t.Ask, Sessions: sessions, Err: err}
	return k.Rules.Decide(prev, *obs, owner, k.now().UTC(), leaseFor(ctx))
}

func (k *Keeper) now() time.Time {
	if k.Now == nil {
		return time.Now()
	}
	return k.Now()
}

func (k *Keeper) reread(ctx context.Context, m Meter) (State, error) {
	states, err := k.Store.States(ctx, []Meter{m})
	if err != nil {
		return State{}, err
	}
	if s, ok := states[m]; ok {
		return s, nil
	}
	return State{Meter: m}, nil
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

// deliver publishes the outbox of s, which this check holds, in order, and
// records what went out. New messages that other checks queued meanwhile
// behind the lease go out in the same breath.
func (k *Keeper) deliver(ctx context.Context, s State, publish Publisher) error {
	var errs []error
	for range maxStateAttempts {
		pctx, recordBy, cancel := publishContext(ctx)
		sent, failed, err := k.publishAll(pctx, s.Outbox, publish)
		cancel()
		errs = append(errs, err)
		var more bool
		s, more = k.settle(ctx, s, sent, failed, recordBy)
		if failed || !more {
			break
		}
	}
	return errors.Join(errs...)
}

// publishAll publishes msgs in order until one fails, and returns them as
// they went out, the failed one last (failed), with its error. A message the
// topic will never take (ErrUndeliverable) is given up: it counts as gone,
// so that it holds back nothing behind it — every later page of the meter
// version and every scheduled run would fail on it for ever — and it is
// logged whole. Its error is not returned: it is owed to no one, and an
// invocation failed for it would be repeated for nothing (the publisher
// has counted it and said, in the result, that it did not go out).
func (k *Keeper) publishAll(ctx context.Context, msgs []Message, publish Publisher) (sent []Message, failed bool, err error) {
	for _, m := range msgs {
		out, perr := publish(ctx, m)
		sent = append(sent, out)
		switch {
		case errors.Is(perr, ErrUndeliverable):
			k.log().ErrorContext(ctx, "message undeliverable, given up", "event", m.Event, "id", m.ID,
				"report", string(out.Report), "error", perr.Error())
		case perr != nil:
			return sent, true, perr
		}
	}
	return sent, false, nil
}

// publishContext keeps back from the invocation's deadline the time to
// record what was published (reserve): a publish that SNS answers at the
// last moment must still be written down, or the next check sends it again.
// The record must be done by recordBy, a quarter of the reserve before the
// deadline, so that the invocation still replies in time: Lambda ends it at
// the deadline, whatever it was doing.
func publishContext(ctx context.Context) (pctx context.Context, recordBy time.Time, cancel context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, time.Now().Add(maxRecordBudget), cancel
	}
	reserve := min(max(time.Until(deadline)/4, minRecordBudget), maxRecordBudget)
	pctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
	return pctx, deadline.Add(-reserve / 4), cancel
}

// settle records the messages that went out (all of sent, but the last one
// when failed) and gives the lease back when the outbox is empty or a
// publish failed, so the next check sends what is left at once; a message
// that did not go out keeps what its publisher added to it. It reports
// whether more is owed and still this check's to send. Its writes have their
// own budget, until recordBy, not the invocation's context: it runs when the
// publish may have used up the rest. If they fail, the lease runs out instead; a message may then
// go out twice, which a FIFO topic's deduplication id absorbs.
func (k *Keeper) settle(ctx context.Context, s State, sent []Message, failed bool, recordBy time.Time) (State, bool) {
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), recordBy)
	defer cancel()
	owner, m := s.Writer, s.Meter
	var err error
	for range maxStateAttempts {
		next := settled(s, sent, failed)
		mine := s.Lease.Owner == owner
		if mine && (failed || len(next.Outbox) == 0) {
			next.Lease = Lease{}
		}
		if next.sameCheckState(s) && slices.EqualFunc(next.Outbox, s.Outbox, sameReport) {
			return s, false // another check has settled it
		}
		next.Writer = owner
		if next.Rev, err = k.Store.Save(ctx, next); err == nil {
			return next, mine && !failed && len(next.Outbox) > 0
		}
		if !errors.Is(err, ErrConflict) {
			break
		}
		if s, err = k.reread(ctx, m); err != nil {
			break
		}
		s.Writer = owner
	}
	if err == nil {
		err = ErrConflict // the rounds ran out
	}
	metrics.From(ctx).Count(metrics.StateUnavailable)
	k.log().WarnContext(ctx, "state unavailable", "meterId", m.MeterID, "version", m.Version,
		"settling", len(sent), "errorType", "StateUnavailable", "error", err.Error())
	return s, false
}

// settled is s with the messages that went out taken from its outbox, and
// the one that failed (the last of sent, when failed) as it went.
func settled(s State, sent []Message, failed bool) State {
	out := slices.Clone(s.Outbox)
	for i, m := range sent {
		j := slices.IndexFunc(out, func(o Message) bool { return o.ID == m.ID })
		switch {
		case j < 0:
		case failed && i == len(sent)-1:
			out[j] = m
		default:
			out = slices.Delete(out, j, j+1)
		}
	}
	s.Outbox = out
	return s
}

func sameReport(a, b Message) bool { return string(a.Report) == string(b.Report) }

func (k *Keeper) log() *slog.Logger {
	if k.Log == nil {
		return slog.Default()
	}
	return k.Log
}
