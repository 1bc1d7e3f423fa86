package handler

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// serveCheck checks the meter versions a request names: one, answered with
// its result; a batch; or, for a scheduled event, the watch list.
func (h *Handler) serveCheck(ctx context.Context, req trigger.Request) ([]byte, error) {
	if req.Scheduled {
		batch, err := h.runScheduled(ctx)
		if err != nil {
			return h.fail(req, err, nil)
		}
		return json.Marshal(batch)
	}
	if req.Reply == trigger.ReplyBatch {
		h.applyDefaults(ctx, req.Checks)
		mo := memory.Recall(ctx, h.store, meters(req.Checks))
		defer mo.Wait() // the read ends within the invocation, whatever the checks did
		items, err := h.checkAll(ctx, req.Checks, mo, runBudget{})
		if err != nil {
			return h.fail(req, err, nil)
		}
		return json.Marshal(reply.Batch{Results: items, Summary: reply.Summarize(items)})
	}
	res, err := h.checkOne(ctx, req.Checks[0])
	if err != nil {
		var partial *reply.Result
		if res.Alert != nil { // the check succeeded; only the alert did not go out
			partial = &res
		}
		return h.fail(req, err, partial)
	}
	if req.Reply == trigger.ReplyHTTP {
		return trigger.HTTPResponse(200, res, 0)
	}
	return json.Marshal(res)
}

// checkOne is a check of one meter version on its own, as a direct
// invocation or the widget's "Check now" asks for it. Its error is also a
// message given up (givenUp): the caller asked, and its page did not go out.
func (h *Handler) checkOne(ctx context.Context, c trigger.Check) (reply.Result, error) {
	checks := []trigger.Check{c}
	h.applyDefaults(ctx, checks)
	mo := memory.Recall(ctx, h.store, meters(checks))
	defer mo.Wait() // the read ends within the invocation, whatever the check did
	res, err := h.check(ctx, checks[0], mo, runBudget{})
	if err == nil && res.Alert != nil && !res.Alert.Published {
		err = givenUp(res)
	}
	return res, err
}

// applyDefaults fills what the caller left out: the track id is the Lambda
// request id, so one id follows a check through CloudWatch and Zuora.
func (h *Handler) applyDefaults(ctx context.Context, checks []trigger.Check) {
	id := requestID(ctx)
	for i := range checks {
		c := &checks[i]
		if c.TrackID == "" {
			c.TrackID = id
		}
		if c.EntityIDs == "" {
			c.EntityIDs = h.cfg.EntityIDs
		}
		if c.OrgIDs == "" {
			c.OrgIDs = h.cfg.OrgIDs
		}
	}
}

// meters lists the meter versions of checks.
func meters(checks []trigger.Check) []memory.Meter {
	ms := make([]memory.Meter, len(checks))
	for i, c := range checks {
		ms[i] = c.Meter
	}
	return ms
}

// zuoraContext keeps back a little of the invocation's time from the Zuora
// call, so that when Zuora is slow the function still has time to answer
// with ZuoraUnavailable instead of being cut off by Lambda's timeout. A
// non-zero by ends the call sooner (a scheduled run's budget).
func zuoraContext(ctx context.Context, by time.Time) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(max(time.Until(deadline)/10, 100*time.Millisecond), time.Second)
	end := deadline.Add(-reserve)
	if !by.IsZero() && by.Before(end) {
		end = by
	}
	return context.WithDeadline(ctx, end)
}

// check runs one check: Zuora, then the memory and the alert the status
// calls for. On an alert failure it returns the result too, with
// alert.published false; a message the memory gave up is that without an
// error (it stays owed to no one). mo is the memory read for the invocation (nil
// without a Store); run is a scheduled run's budget (the zero runBudget:
// none), whose checks judge due times.
func (h *Handler) check(ctx context.Context, c trigger.Check, mo *memory.Recollection, run runBudget) (reply.Result, error) {
	zctx, cancel := zuoraContext(ctx, run.zuoraBy)
	rs, err := h.zuora.RunStatus(zctx, zuora.Request{
		MeterID: c.MeterID, Version: c.Version, TrackID: c.TrackID, EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs,
	})
	cancel()
	if err != nil {
		metrics.From(ctx).CountBy(metrics.ZuoraErrors, kindOf(err).Type)
		h.logFailedCheck(ctx, c, err)
		return reply.Result{}, err
	}
	metrics.From(ctx).Checked(rs.Name, rs.Latency)
	res := reply.NewResult(c, rs, h.now())
	countUnknown(ctx, res)
	sc := alert.Scope{TrackID: c.TrackID, EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs, ObservedAt: time.Now()}
	if mo != nil {
		err = h.observe(ctx, &res, news{confirm: h.confirmer(c, run)}, mo, sc)
	} else {
		err = h.alertWithoutMemory(ctx, &res, nil, sc)
	}
	h.log.InfoContext(ctx, "check",
		"meterId", c.MeterID, "version", c.Version, "status", res.Status, "statusCode", res.StatusCode,
		"zuoraLatencyMs", float64(rs.Latency.Microseconds())/1000, "attempts", rs.Attempts,
		"zuoraRequestId", rs.RequestID, "trackId", c.TrackID, "alert", alertLog(res.Alert))
	return res, err
}

// confirmer asks Zuora, for a scheduled run's check of c, whether any
// session of the meter ran from a time to now: its summary of live runs,
// grouped by session, one attempt through the client's gate and breaker,
// within the check's time. nil outside a scheduled run.
func (h *Handler) confirmer(c trigger.Check, run runBudget) memory.Confirm {
	if !run.judge || h.summaries == nil {
		return nil
	}
	return func(ctx context.Context, from time.Time) (int, error) {
		metrics.From(ctx).Count(metrics.LateChecks)
		zctx, cancel := zuoraContext(ctx, run.zuoraBy)
		defer cancel()
		s, err := h.summaries.Summary(zctx, zuora.SummaryRequest{MeterID: c.MeterID, RunType: zuora.RunTypeNormal,
			GroupBy: []string{zuora.GroupSession}, From: from, To: h.now(), TrackID: c.TrackID,
			EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs, MaxAttempts: 1})
		if err != nil {
			h.log.WarnContext(ctx, "late check failed", "meterId", c.MeterID, "version", c.Version, "errorType", kindOf(err).Type, "error", err.Error())
			return 0, err
		}
		return s.Sessions(), nil
	}
}

// countUnknown counts a status the function does not know (rule 7): a
// grown enum shows on the dashboard before anyone reads a log.
func countUnknown(ctx context.Context, res reply.Result) {
	if res.Status == zuora.Unknown {
		metrics.From(ctx).Count(metrics.UnknownStatus)
	}
}

func (h *Handler) logFailedCheck(ctx context.Context, c trigger.Check, err error) {
	k := kindOf(err)
	attrs := []any{"meterId", c.MeterID, "version", c.Version, "errorType", k.Type, "error", err.Error(), "trackId", c.TrackID}
	var ze *zuora.Error
	if errors.As(err, &ze) {
		attrs = append(attrs, "attempts", ze.Attempts, "zuoraRequestId", ze.RequestID, "httpStatus", ze.HTTPStatus)
	}
	h.log.WarnContext(ctx, "check failed", attrs...)
}

func alertLog(a *reply.Alert) string {
	switch {
	case a == nil:
		return "none"
	case a.Published:
		return a.Event + " published"
	}
	return a.Event + " failed"
}
