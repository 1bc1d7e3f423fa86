package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/internal/reply"
)

// news is what an observation knows besides the status: a callout's
// session, when it says the news happened and when the session began (zero
// for a poll); and, for a scheduled run's check, how to ask Zuora whether
// a due time's run came (nil: the check judges no due time).
type news struct {
	session   string
	at, start time.Time
	confirm   memory.Confirm
}

// errStale: a callout older than what the memory knows; nothing was done.
var errStale = errors.New("stale callout")

// observe records res in the memory (internal/memory keeps the rules) and
// publishes what they call for; errStale for a callout the memory already
// knows better. When the memory cannot be read or written, it alerts as a
// function without memory does, and logs why: a duplicate page beats a
// missed one.
func (h *Handler) observe(ctx context.Context, res *reply.Result, n news, mo *memory.Recollection, sc alert.Scope) error {
	if err := mo.Err(); err != nil {
		return h.withoutMemory(ctx, res, err, sc)
	}
	report, err := json.Marshal(res)
	if err != nil {
		return err
	}
	m := memory.Meter{MeterID: res.MeterID, Version: res.Version}
	obs := memory.Observation{Meter: m, Status: res.Status, StatusCode: res.StatusCode, Terminal: res.Terminal,
		Session: n.session, At: n.at, Start: n.start, Callout: res.Source == sourceCallout, Report: report, Confirm: n.confirm}
	prev := mo.State(m)
	out, err := h.memory.Record(ctx, prev, obs, memory.NextOwner(ctx), func(ctx context.Context, msg memory.Message) (memory.Message, error) {
		return h.publish(ctx, res, msg, sc)
	})
	switch {
	case out.Stale:
		return h.staleOutcome(ctx, res, prev, err)
	case errors.Is(err, memory.ErrUnavailable) && prev.Mute.Muted(h.now()):
		h.stateUnavailable(ctx, err, "meterId", res.MeterID, "version", res.Version, "muted", true)
		metrics.From(ctx).Count(metrics.Muted) // the mute read holds, though the write failed
		out.Muted, err = prev.Mute, nil
		if res.Source == sourceCallout { // as withoutMemory: Zuora's retry brings the news back
			err = fmt.Errorf("%w: the callout for meter %d version %s could not be recorded", ErrStateUnavailable, res.MeterID, res.Version)
		}
	case errors.Is(err, memory.ErrUnavailable):
		return h.withoutMemory(ctx, res, err, sc)
	}
	if out.Muted != nil {
		res.Muted = &reply.Muted{Until: out.Muted.Until.UTC(), Reason: out.Muted.Reason}
	}
	if !out.OpenSince.IsZero() && res.Alert == nil {
		since := out.OpenSince.UTC()
		res.AlertOpenSince = &since
	}
	return err
}

// staleOutcome is what a stale callout answers: errStale once it sent what
// was owed, or had nothing to send; the publish's error when a message it
// sent failed, and StateUnavailable when the memory failed while something
// was owed — both 5xx, so Zuora's retry sends it, for a meter nobody polls
// has no other check to. Stale news itself never pages.
func (h *Handler) staleOutcome(ctx context.Context, res *reply.Result, prev memory.State, err error) error {
	switch {
	case err == nil:
		return errStale
	case !errors.Is(err, memory.ErrUnavailable):
		return err
	}
	h.stateUnavailable(ctx, err, "meterId", res.MeterID, "version", res.Version, "stale", true, "owed", len(prev.Outbox))
	if len(prev.Outbox) == 0 {
		return errStale
	}
	return fmt.Errorf("%w: a stale callout could not send what meter %d version %s owes", ErrStateUnavailable, res.MeterID, res.Version)
}

// stateUnavailable counts and logs a read or write of the memory that
// failed; attrs say what it was for and what the function does instead.
func (h *Handler) stateUnavailable(ctx context.Context, err error, attrs ...any) {
	metrics.From(ctx).Count(metrics.StateUnavailable)
	h.log.WarnContext(ctx, "state unavailable", append(attrs, "errorType", TypeStateUnavailable, "error", err.Error())...)
}

// withoutMemory is a check whose memory could not be read or written: it
// alerts as a function without memory would. A callout that it could not
// record and that paged nothing is StateUnavailable, a 5xx: Zuora's retry
// brings the news back — a run's start, which times a stuck run, or the
// session that tells a rerun apart — where a poll's comes back with the
// next poll.
func (h *Handler) withoutMemory(ctx context.Context, res *reply.Result, cause error, sc alert.Scope) error {
	err := h.alertWithoutMemory(ctx, res, cause, sc)
	if err == nil && res.Source == sourceCallout && res.Alert == nil {
		return fmt.Errorf("%w: the callout for meter %d version %s could not be recorded", ErrStateUnavailable, res.MeterID, res.Version)
	}
	return err
}

// alertWithoutMemory is the check of a function without STATE_TABLE: every
// status in ALERT_ON alerts.
func (h *Handler) alertWithoutMemory(ctx context.Context, res *reply.Result, cause error, sc alert.Scope) error {
	if cause != nil {
		h.stateUnavailable(ctx, cause, "meterId", res.MeterID, "version", res.Version, "alerting", h.cfg.alertsOn(res.Status))
	}
	if !h.cfg.alertsOn(res.Status) {
		return nil
	}
	report, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = h.publish(ctx, res, memory.Message{Event: memory.EventAlert, ID: deduplicationID(*res), Report: report}, sc)
	return err
}
