package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
)

// Publisher sends a message to the topic and returns SNS's message id. It
// stands for sns.Client.Publish.
type Publisher interface {
	Publish(ctx context.Context, m alert.Message) (messageID string, err error)
}

// scope is how a check asked Zuora, which the calls that explain its
// failure ask the same way, and when it saw what it saw: their budget runs
// from then, so the page is never later than that. explained, when set,
// holds the sessions the invocation has explained already.
type scope struct {
	trackID, entityIDs, orgIDs string
	observedAt                 time.Time
	explained                  *explanations
}

// explanations are the details of the sessions one invocation explained: a
// callout that applies to several watched versions shares one session,
// whose details are the same for each, and one budget counted from its
// arrival, which the first version's calls may use up.
type explanations struct {
	mu      sync.Mutex
	session map[alert.Query]explanation
}

type explanation struct {
	details alert.Details
	errName string
}

// key is what names an explanation that can be shared: a session's (a
// window since a version was last seen is that version's own).
func (e *explanations) key(q alert.Query) (alert.Query, bool) {
	if e == nil || q.SessionID == "" {
		return alert.Query{}, false
	}
	return alert.Query{MeterID: q.MeterID, RunType: q.RunType, SessionID: q.SessionID}, true
}

func (e *explanations) get(q alert.Query) (explanation, bool) {
	k, ok := e.key(q)
	if !ok {
		return explanation{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.session[k]
	return x, ok
}

func (e *explanations) put(q alert.Query, x explanation) {
	if k, ok := e.key(q); ok {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.session == nil {
			e.session = map[alert.Query]explanation{}
		}
		e.session[k] = x
	}
}

// publish sends msg, with why the run failed when it is an alert of a
// failed run, and records the outcome in res.Alert. It returns msg as it
// went out, or was to go: an owed alert keeps the details it was first
// built with.
func (h *Handler) publish(ctx context.Context, res *Result, msg memory.Message, sc scope) (memory.Message, error) {
	msg = h.explain(ctx, msg, sc)
	m, err := alert.Build(h.cfg.TopicARN, h.cfg.AlertLink, msg)
	var id string
	if err == nil {
		id, err = h.send(ctx, m)
	}
	res.Alert = &AlertOutcome{Published: err == nil, MessageID: id, Event: msg.Event}
	res.Alert.Details, res.Alert.DetailsError = alert.DetailsOf(msg.Report)
	if err == nil {
		metrics.From(ctx).CountBy(metrics.Alerts, msg.Event)
		return msg, nil
	}
	var status string
	_ = json.Unmarshal(msg.Report, &struct {
		Status *string `json:"status"`
	}{&status})
	metrics.From(ctx).Count(metrics.AlertPublishFailures)
	h.log.ErrorContext(ctx, "alert not published", "meterId", res.MeterID, "version", res.Version,
		"status", status, "event", msg.Event, "errorType", TypeAlertPublishFailed, "error", err.Error())
	return msg, causedBy(ErrAlertPublishFailed, err, "%s for meter %d version %s (%s) not published to the SNS topic; it stays owed", msg.Event, res.MeterID, res.Version, status)
}

// send publishes m; a message the topic refuses as it is goes again in its
// plain form, and one refused in that form too is undeliverable: the
// memory gives it up rather than let it hold back every later page.
func (h *Handler) send(ctx context.Context, m alert.Message) (string, error) {
	id, err := h.alerts.Publish(ctx, m)
	if !errors.Is(err, alert.ErrRefused) {
		return id, err
	}
	h.log.WarnContext(ctx, "message refused; sending it plain", "subject", m.Subject, "error", err.Error())
	if id, err = h.alerts.Publish(ctx, alert.Plain(m)); errors.Is(err, alert.ErrRefused) {
		err = fmt.Errorf("%w: %w", memory.ErrUndeliverable, err)
	}
	return id, err
}

// explain adds to an alert of a failed run what Zuora says about why
// (alert.Explain: two calls at most, within alert.Budget), once: an alert
// that already has it, a reminder or a resolution makes no call. ctx is the
// publish's: the calls end early enough to leave the publish itself time
// (explainDeadline), and an alert whose details ran out of time says so.
func (h *Handler) explain(ctx context.Context, msg memory.Message, sc scope) memory.Message {
	q, ok := alert.Unexplained(msg)
	switch {
	case !ok:
		return msg
	case h.explainer == nil || !h.cfg.AlertDetails:
		metrics.From(ctx).CountBy(metrics.AlertDetails, alert.OutcomeSkipped)
		return msg
	}
	if x, ok := sc.explained.get(q); ok {
		msg.Report = alert.Explaining(msg.Report, x.details, x.errName)
		return msg
	}
	q.Now, q.TrackID, q.EntityIDs, q.OrgIDs = h.now(), sc.trackID, sc.entityIDs, sc.orgIDs
	start := time.Now()
	ectx, cancel := context.WithDeadline(ctx, explainDeadline(ctx, sc.observedAt))
	defer cancel()
	d, errName, outcome := alert.Explain(ectx, h.explainer, q, func(err error) string { return kindOf(err).Type })
	if outcome == alert.OutcomeSkipped {
		errName = TypeZuoraUnavailable // no time was left to ask: say what is missing
	}
	metrics.From(ctx).CountBy(metrics.AlertDetails, outcome)
	h.log.InfoContext(ctx, "alert details", "meterId", q.MeterID, "sessionId", q.SessionID, "outcome", outcome,
		"errorType", errName, "ms", time.Since(start).Milliseconds())
	sc.explained.put(q, explanation{d, errName})
	msg.Report = alert.Explaining(msg.Report, d, errName)
	return msg
}

// maxPublishReserve is the most of a publish's time kept from the calls
// that explain its alert: SNS answers in tens of milliseconds, and its
// retries of a throttled publish need a little more.
const maxPublishReserve = time.Second

// explainDeadline is when the calls that explain an alert must end: within
// alert.Budget of the observation, and early enough that half of the
// publish's time (at most maxPublishReserve) is left for the publish
// itself. Enrichment never prevents a page.
func explainDeadline(ctx context.Context, observedAt time.Time) time.Time {
	end := observedAt.Add(alert.Budget)
	if deadline, ok := ctx.Deadline(); ok {
		reserve := max(min(time.Until(deadline)/2, maxPublishReserve), 0)
		if d := deadline.Add(-reserve); d.Before(end) {
			end = d
		}
	}
	return end
}

// deduplicationID names an observation when there is no memory to name the
// transition: the same meter, version and status seen under the same track
// id. Lambda keeps the request id (our default track id) across its own
// retries of an event, and callers that retry themselves pass the same
// trackId, so SNS drops the repeat within its five-minute window. checkedAt
// and Zuora's request id differ per attempt and are left out on purpose.
func deduplicationID(r Result) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%d\x00%s", r.MeterID, r.Version, r.StatusCode, r.TrackID))
	return hex.EncodeToString(sum[:])
}
