package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
)

// Publisher puts a message on the topic and returns its message id
// (internal/topic's Publisher does, on SNS).
type Publisher interface {
	Publish(ctx context.Context, m Message) (messageID string, err error)
}

// Sender puts the memory's messages on the topic: an alert of a failed run
// explained first (Explain), then built (Build) and published. A message
// the topic refuses as it is goes again in its plain form (Plain); one
// refused in that form too is memory.ErrUndeliverable, which the memory
// gives up rather than let it hold back every later page.
type Sender struct {
	Topic    Publisher
	TopicARN string
	Link     string // ALERT_LINK; "" for none
	// Explainer asks Zuora why a run failed; nil: alerts go without
	// details (ALERT_DETAILS false).
	Explainer Explainer
	// ErrorName is the contract's name of a Zuora call's error, for
	// detailsError.
	ErrorName func(error) string
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

// Scope is how a check asked Zuora, which the calls that explain its
// failure ask the same way, and when it saw what it saw: their budget runs
// from then, so the page is never later than that. Explained, when set,
// holds the sessions the invocation has explained already.
type Scope struct {
	TrackID, EntityIDs, OrgIDs string
	ObservedAt                 time.Time
	Explained                  *Explained
}

// Send publishes msg, with why the run failed when it is an alert of a
// failed run. It returns msg as it went out, or was to go (an owed alert
// keeps the details it was first built with), and the topic's message id.
func (s *Sender) Send(ctx context.Context, msg memory.Message, sc Scope) (memory.Message, string, error) {
	msg = s.explain(ctx, msg, sc)
	m, err := Build(s.TopicARN, s.Link, msg)
	if err != nil {
		return msg, "", err
	}
	id, err := s.Topic.Publish(ctx, m)
	if !errors.Is(err, ErrRefused) {
		return msg, id, err
	}
	s.log().WarnContext(ctx, "message refused; sending it plain", "subject", m.Subject, "error", err.Error())
	if id, err = s.Topic.Publish(ctx, Plain(m)); errors.Is(err, ErrRefused) {
		err = fmt.Errorf("%w: %w", memory.ErrUndeliverable, err)
	}
	return msg, id, err
}

// explain adds to an alert of a failed run what Zuora says about why
// (Explain: two calls at most, within Budget), once: an alert that already
// has it, a reminder or a resolution makes no call. ctx is the publish's:
// the calls end early enough to leave the publish itself time
// (explainDeadline), and an alert whose details ran out of time says so.
func (s *Sender) explain(ctx context.Context, msg memory.Message, sc Scope) memory.Message {
	q, ok := Unexplained(msg)
	switch {
	case !ok:
		return msg
	case s.Explainer == nil:
		metrics.From(ctx).CountBy(metrics.AlertDetails, OutcomeSkipped)
		return msg
	}
	if x, ok := sc.Explained.get(q); ok {
		msg.Report = Explaining(msg.Report, x.details, x.errName)
		return msg
	}
	q.Now, q.TrackID, q.EntityIDs, q.OrgIDs = s.now(), sc.TrackID, sc.EntityIDs, sc.OrgIDs
	start := time.Now()
	ectx, cancel := context.WithDeadline(ctx, explainDeadline(ctx, sc.ObservedAt))
	defer cancel()
	d, errName, outcome := Explain(ectx, s.Explainer, q, s.ErrorName)
	if outcome == OutcomeSkipped {
		errName = s.ErrorName(context.DeadlineExceeded) // no time was left to ask: say what is missing
	}
	metrics.From(ctx).CountBy(metrics.AlertDetails, outcome)
	s.log().InfoContext(ctx, "alert details", "meterId", q.MeterID, "sessionId", q.SessionID, "outcome", outcome,
		"errorType", errName, "ms", time.Since(start).Milliseconds())
	sc.Explained.put(q, explanation{d, errName})
	msg.Report = Explaining(msg.Report, d, errName)
	return msg
}

// maxPublishReserve is the most of a publish's time kept from the calls
// that explain its alert: SNS answers in tens of milliseconds, and its
// retries of a throttled publish need a little more.
const maxPublishReserve = time.Second

// explainDeadline is when the calls that explain an alert must end: within
// Budget of the observation, and early enough that half of the publish's
// time (at most maxPublishReserve) is left for the publish itself.
// Enrichment never prevents a page.
func explainDeadline(ctx context.Context, observedAt time.Time) time.Time {
	end := observedAt.Add(Budget)
	if deadline, ok := ctx.Deadline(); ok {
		reserve := max(min(time.Until(deadline)/2, maxPublishReserve), 0)
		if d := deadline.Add(-reserve); d.Before(end) {
			end = d
		}
	}
	return end
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Explained holds the details of the sessions one invocation explained: a
// callout that applies to several watched versions shares one session,
// whose details are the same for each, and one budget counted from its
// arrival, which the first version's calls may use up. The zero Explained
// is empty; a nil one keeps nothing.
type Explained struct {
	mu      sync.Mutex
	session map[Query]explanation
}

type explanation struct {
	details Details
	errName string
}

// key is what names an explanation that can be shared: a session's (a
// window since a version was last seen is that version's own).
func (e *Explained) key(q Query) (Query, bool) {
	if e == nil || q.SessionID == "" {
		return Query{}, false
	}
	return Query{MeterID: q.MeterID, RunType: q.RunType, SessionID: q.SessionID}, true
}

func (e *Explained) get(q Query) (explanation, bool) {
	k, ok := e.key(q)
	if !ok {
		return explanation{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.session[k]
	return x, ok
}

func (e *Explained) put(q Query, x explanation) {
	if k, ok := e.key(q); ok {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.session == nil {
			e.session = map[Query]explanation{}
		}
		e.session[k] = x
	}
}
