package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
// from then, so the page is never later than that.
type scope struct {
	trackID, entityIDs, orgIDs string
	observedAt                 time.Time
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
		id, err = h.alerts.Publish(ctx, m)
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
	return msg, fmt.Errorf("%w: %s for meter %d version %s (%s): %w", ErrAlertPublishFailed, msg.Event, res.MeterID, res.Version, status, err)
}

// explain adds to an alert of a failed run what Zuora says about why
// (alert.Explain: two calls at most, within 3 s), once: an alert that
// already has it, a reminder or a resolution makes no call.
func (h *Handler) explain(ctx context.Context, msg memory.Message, sc scope) memory.Message {
	q, ok := alert.Unexplained(msg)
	switch {
	case !ok:
		return msg
	case h.explainer == nil || !h.cfg.AlertDetails:
		metrics.From(ctx).CountBy(metrics.AlertDetails, alert.OutcomeSkipped)
		return msg
	}
	q.Now, q.TrackID, q.EntityIDs, q.OrgIDs = h.now(), sc.trackID, sc.entityIDs, sc.orgIDs
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, sc.observedAt.Add(alert.Budget))
	defer cancel()
	d, errName, outcome := alert.Explain(ctx, h.explainer, q, func(err error) string { return kindOf(err).Type })
	metrics.From(ctx).CountBy(metrics.AlertDetails, outcome)
	h.log.InfoContext(ctx, "alert details", "meterId", q.MeterID, "sessionId", q.SessionID, "outcome", outcome,
		"errorType", errName, "ms", time.Since(start).Milliseconds())
	if outcome == alert.OutcomeSkipped {
		return msg // no time left: the next attempt, if the page is owed, tries again
	}
	msg.Report = alert.Explaining(msg.Report, d, errName)
	return msg
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
