package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/internal/reply"
)

// publish sends msg (alert.Sender: with why the run failed when it is an
// alert of a failed run), and records the outcome in res.Alert. It returns msg as it
// went out, or was to go: an owed alert keeps the details it was first
// built with.
func (h *Handler) publish(ctx context.Context, res *reply.Result, msg memory.Message, sc alert.Scope) (memory.Message, error) {
	msg, id, err := h.sender.Send(ctx, msg, sc)
	res.Alert = &reply.Alert{Published: err == nil, MessageID: id, Event: msg.Event}
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
	if errors.Is(err, memory.ErrUndeliverable) {
		return msg, causedBy(ErrAlertPublishFailed, err, "%s for meter %d version %s (%s) refused by the SNS topic even in its plain form; the function's log has it whole", msg.Event, res.MeterID, res.Version, status)
	}
	return msg, causedBy(ErrAlertPublishFailed, err, "%s for meter %d version %s (%s) not published to the SNS topic; it stays owed", msg.Event, res.MeterID, res.Version, status)
}

// givenUp is the failure of a single check whose reply reports a message
// the memory gave up (SNS refused it even in its plain form): the caller
// asked about this meter version and its page did not go out, though no
// retry would send it. A batch, a scheduled run or a callout does not fail
// for it: Lambda or Zuora would repeat every check for nothing.
func givenUp(res reply.Result) error {
	return causedBy(ErrAlertPublishFailed, memory.ErrUndeliverable,
		"%s for meter %d version %s refused by the SNS topic even in its plain form and given up; it is not owed; the function's log has it whole",
		res.Alert.Event, res.MeterID, res.Version)
}

// deduplicationID names an observation when there is no memory to name the
// transition: the same meter, version and status seen under the same track
// id. Lambda keeps the request id (our default track id) across its own
// retries of an event, and callers that retry themselves pass the same
// trackId, so SNS drops the repeat within its five-minute window. checkedAt
// and Zuora's request id differ per attempt and are left out on purpose.
func deduplicationID(r reply.Result) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%d\x00%s", r.MeterID, r.Version, r.StatusCode, r.TrackID))
	return hex.EncodeToString(sum[:])
}
