package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// Zuora's Meter Session Status Change callouts (POST /callouts/meter-session):
// internal/callout verifies and reads them; here they become observations.

const (
	// notificationKept is how long a handled notification id is remembered:
	// Zuora retries at most 5 times, 30 minutes apart by default.
	notificationKept = 7 * 24 * time.Hour
	// defaultVersion is Zuora's first meter version, for a callout that names
	// none about a meter without a watched version.
	defaultVersion = "0.0.1"
	// sourceCallout is reply.Result.Source for a callout's observation.
	sourceCallout = "callout"
	// notificationLease is how long a delivery holds its notification at
	// most: a callout is answered in well under Zuora's 25 s.
	notificationLease = time.Minute
)

// serveCallout answers a callout: verified, then deduplicated on
// Zuora-Notification-Id, then observed like a poll by the memory. Nothing
// is stored or published for a callout that fails verification. 5xx only
// for what Zuora's retry can fix.
func (h *Handler) serveCallout(ctx context.Context, req trigger.Request) ([]byte, error) {
	call, t := req.Callout, metrics.From(ctx)
	if err := h.verifyCallout(ctx, call); err != nil {
		outcome := "failed"
		if errors.Is(err, callout.ErrUnauthorized) {
			outcome = "refused"
		}
		t.CountBy(metrics.Callouts, outcome)
		return h.fail(req, err, nil)
	}
	ev, err := callout.ParseBody(call.Body)
	id := call.Header("Zuora-Notification-Id")
	if err == nil {
		err = callout.CheckNotificationID(id)
	}
	if err != nil {
		t.CountBy(metrics.Callouts, "invalid")
		h.log.WarnContext(ctx, "invalid callout", "errorType", TypeInvalidRequest, "error", err.Error())
		return h.fail(req, fmt.Errorf("%w: %w", ErrInvalidRequest, err), nil)
	}
	switch h.claim(ctx, id) {
	case callout.ClaimDone:
		t.CountBy(metrics.Callouts, "duplicate")
		h.log.InfoContext(ctx, "callout", "notificationId", id, "duplicate", true)
		return trigger.HTTPResponse(200, reply.Callout{Received: true, Duplicate: true}, 0)
	case callout.ClaimBusy:
		t.CountBy(metrics.Callouts, "failed")
		return h.fail(req, fmt.Errorf("%w: another delivery of notification %q is being handled", ErrStateUnavailable, id), nil)
	}
	results, err := h.observeCallout(ctx, ev, call)
	h.finish(ctx, id, err == nil)
	switch {
	case err != nil:
		t.CountBy(metrics.Callouts, "failed")
		return h.fail(req, err, nil)
	case len(results) == 0:
		t.CountBy(metrics.Callouts, "stale")
		return trigger.HTTPResponse(200, reply.Callout{Received: true, Stale: true}, 0)
	}
	t.CountBy(metrics.Callouts, "accepted")
	return trigger.HTTPResponse(200, reply.Callout{Received: true, Results: results}, 0)
}

// verifyCallout checks the callout against the callout secret. An
// unreadable secret is logged with why; the reply goes to whoever called
// the open route, so it names no secret and no AWS error.
func (h *Handler) verifyCallout(ctx context.Context, req callout.Request) error {
	if h.callouts == nil {
		return fmt.Errorf("%w: callouts are not configured (CALLOUT_SECRET_ID)", callout.ErrUnauthorized)
	}
	err := h.callouts.Verify(ctx, req)
	if err != nil {
		h.log.WarnContext(ctx, "callout refused", "errorType", kindOf(err).Type, "error", err.Error())
	}
	if errors.Is(err, callout.ErrSecretUnavailable) {
		return fmt.Errorf("%w: the callout secret could not be read; the function's log says why", callout.ErrSecretUnavailable)
	}
	return err
}

// claim takes a notification for this delivery. Without an id or a
// memory there is nothing to deduplicate on; a memory that cannot be
// reached does not stop the callout (a duplicate page beats a missed one).
func (h *Handler) claim(ctx context.Context, id string) callout.Claim {
	if id == "" || h.store == nil {
		return callout.ClaimNew
	}
	now := h.now()
	c, err := h.store.ClaimNotification(ctx, id, memory.InvocationOwner(ctx), now, now.Add(notificationLease))
	if err != nil {
		h.stateUnavailable(ctx, err, "notificationId", id)
		return callout.ClaimNew
	}
	return c
}

// finish records a claimed notification as handled, or gives it up so that
// Zuora's retry handles it.
func (h *Handler) finish(ctx context.Context, id string, handled bool) {
	if id == "" || h.store == nil {
		return
	}
	if err := h.store.FinishNotification(ctx, id, memory.InvocationOwner(ctx), handled, h.now().Add(notificationKept)); err != nil {
		h.stateUnavailable(ctx, err, "notificationId", id)
	}
}

// observeCallout records the callout's status for each meter version it
// applies to, as a poll's, with its session and its date: no Zuora call.
// Versions for which it is stale news are left out of the results.
func (h *Handler) observeCallout(ctx context.Context, ev callout.Event, req callout.Request) ([]reply.Result, error) {
	versions, mo, err := h.calloutTargets(ctx, ev)
	if err != nil {
		return nil, err
	}
	defer mo.Wait()
	id := req.Header("Zuora-Notification-Id")
	trackID := calloutTrackID(id, requestID(ctx))
	now, arrived := h.now(), time.Now()
	at := ev.At()
	if at.After(now) {
		at = now // a clock ahead of ours must not date the memory in the future
	}
	var results []reply.Result
	var errs []error
	explained := &alert.Explained{} // one session, whichever versions it applies to
	for _, m := range versions {
		res := reply.NewResult(trigger.Check{Meter: m, TrackID: trackID}, ev.Status, now)
		res.ZuoraRequestID = req.Header("Zuora-Request-Id")
		res.Source, res.SessionID, res.PreviousStatus, res.RunType = sourceCallout, ev.Session, ev.PreviousStatus, ev.RunType
		countUnknown(ctx, res)
		sc := alert.Scope{TrackID: trackID, EntityIDs: h.cfg.EntityIDs, OrgIDs: h.cfg.OrgIDs, ObservedAt: arrived, Explained: explained}
		if mo != nil {
			n := news{session: ev.Session, at: at.UTC().Truncate(time.Second), start: ev.Start}
			if n.start.After(now) {
				n.start = now
			}
			err = h.observe(ctx, &res, n, mo, sc)
		} else {
			err = h.alertWithoutMemory(ctx, &res, nil, sc)
		}
		h.log.InfoContext(ctx, "callout", "meterId", m.MeterID, "version", m.Version, "sessionId", ev.Session,
			"status", res.Status, "notificationId", id, "alert", alertLog(res.Alert), "stale", errors.Is(err, errStale))
		if errors.Is(err, errStale) {
			metrics.From(ctx).Count(metrics.StaleCallouts)
			continue
		}
		results, errs = append(results, res), append(errs, err)
	}
	return results, errors.Join(errs...)
}

// calloutTrackID follows a callout through the log and Zuora: its
// notification id when Zuora takes that as a track id (at most 64
// characters, none of : ; " '), else the Lambda request id. The
// notification id is logged with the callout either way.
func calloutTrackID(notificationID, requestID string) string {
	if notificationID != "" && zuora.ValidateTrackID(notificationID) == nil {
		return notificationID
	}
	return requestID
}

// calloutTargets is what a callout applies to, with its memory (nil
// without a Store): its version; else the meter's watched versions, whose
// states come with the read that finds them; else defaultVersion. When the
// watch list cannot be read, it is StateUnavailable (a 5xx Zuora retries),
// not defaultVersion: a page must not land on a version nobody watches.
func (h *Handler) calloutTargets(ctx context.Context, ev callout.Event) ([]memory.Meter, *memory.Recollection, error) {
	if ev.Version == "" && h.store != nil {
		watched, err := h.store.WatchedVersions(ctx, ev.MeterID)
		if err != nil {
			h.stateUnavailable(ctx, err, "meterId", ev.MeterID, "answering", 503)
			return nil, nil, fmt.Errorf("%w: the watched versions of meter %d could not be read", ErrStateUnavailable, ev.MeterID)
		}
		if len(watched) > 0 {
			meters, states := make([]memory.Meter, len(watched)), make(map[memory.Meter]memory.State, len(watched))
			for i, s := range watched {
				meters[i], states[s.Meter] = s.Meter, s
			}
			return meters, memory.Recalled(states, nil), nil
		}
	}
	meters := []memory.Meter{{MeterID: ev.MeterID, Version: cmp.Or(ev.Version, defaultVersion)}}
	return meters, memory.Recall(ctx, h.store, meters), nil
}
