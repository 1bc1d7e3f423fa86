// Package handler turns Lambda events into Zuora run-status checks, results
// and alerts, and keeps the watch list. It knows the function's contract,
// not how AWS clients are built: its dependencies are the small interfaces
// Checker, Publisher and Store.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/zuora"
)

// Checker asks Zuora for a meter version's run status. *zuora.Client is one.
type Checker interface {
	RunStatus(ctx context.Context, req zuora.Request) (zuora.RunStatus, error)
}

// Handler is the Lambda handler. Build it once per container with New.
type Handler struct {
	cfg       Config
	zuora     Checker
	alerts    Publisher
	explainer alert.Explainer   // nil: alerts are not explained
	store     Store             // nil: no memory
	memory    *memory.Keeper    // the memory's rules on store; nil without it
	callouts  *callout.Verifier // nil: callouts are refused
	metrics   io.Writer         // nil: no metrics
	log       *slog.Logger
	now       func() time.Time
}

// Deps are what the handler calls out to.
type Deps struct {
	Zuora  Checker
	Alerts Publisher
	// Explainer asks Zuora why a run failed (*zuora.Client, as Zuora is);
	// nil: alerts go without details.
	Explainer alert.Explainer
	Store     Store             // nil: no memory (no STATE_TABLE)
	Callouts  callout.KeySource // nil: callouts are refused (no CALLOUT_SECRET_ID)
	Metrics   io.Writer         // where the EMF records go (the function's stdout); nil: none
	Log       *slog.Logger      // nil means slog.Default()
}

// New returns a Handler, or an error if cfg or deps are incomplete.
func New(cfg Config, deps Deps) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Zuora == nil || deps.Alerts == nil {
		return nil, errors.New("handler: Deps.Zuora and Deps.Alerts are required")
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	h := &Handler{cfg: cfg, zuora: deps.Zuora, alerts: deps.Alerts, explainer: deps.Explainer, store: deps.Store,
		metrics: deps.Metrics, log: deps.Log, now: time.Now}
	// The memory and the verifier read the handler's clock, so tests that
	// move it move all three.
	clock := func() time.Time { return h.now() }
	if deps.Store != nil {
		h.memory = &memory.Keeper{Store: deps.Store, Rules: cfg.rules(), Now: clock, Log: deps.Log}
	}
	if deps.Callouts != nil {
		h.callouts = callout.NewVerifier(deps.Callouts, clock)
	}
	return h, nil
}

// How long an HTTP invocation may work: API Gateway gives up after 30 s,
// whatever the function's own timeout (which a scheduled run of a long
// watch list needs to be much longer); Zuora gives a callout 25 s in all,
// its connection included, and the answer must reach it well within that.
const (
	httpBudget    = 29 * time.Second
	calloutBudget = 20 * time.Second
)

// Invoke implements lambda.Handler. It takes the raw event so that one
// function can tell every trigger's shape apart. Failures reach Lambda as
// errors whose errorType is one of the contract's names; HTTP callers get an
// HTTP response instead.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ctx, t, limits := h.startTally(ctx)
	defer h.flushTally(ctx, t, limits)
	ctx = memory.WithOwner(ctx, requestID(ctx))
	inv, err := parseEvent(payload)
	if err != nil {
		h.log.WarnContext(ctx, "invalid request", "source", inv.source, "errorType", TypeInvalidRequest, "error", err.Error())
		return h.fail(inv, err, nil)
	}
	if inv.shape == replyHTTP {
		budget := httpBudget
		if inv.route == routeCallout {
			budget = calloutBudget
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	switch {
	case inv.route == routeCallout:
		return h.serveCallout(ctx, inv)
	case inv.route != routeCheck:
		return h.serveWatchList(ctx, inv)
	case inv.shape == replyBatch:
		batch, err := h.runBatch(ctx, inv)
		if err != nil {
			return h.fail(inv, err, nil)
		}
		return json.Marshal(batch)
	}
	h.applyDefaults(ctx, inv.checks)
	mo := memory.Recall(ctx, h.store, meters(inv.checks))
	defer mo.Wait() // the read ends within the invocation, whatever the check did
	res, err := h.check(ctx, inv.checks[0], mo, time.Time{})
	if err != nil {
		var partial *Result
		if res.Alert != nil { // the check succeeded; only the alert did not go out
			partial = &res
		}
		return h.fail(inv, err, partial)
	}
	if inv.shape == replyHTTP {
		return httpReply(200, res, 0)
	}
	return json.Marshal(res)
}

// applyDefaults fills what the caller left out: the track id is the Lambda
// request id, so one id follows a check through CloudWatch and Zuora.
func (h *Handler) applyDefaults(ctx context.Context, checks []checkRequest) {
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

// requestID is the Lambda request id of the invocation, "" outside Lambda.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// meters lists the meter versions of checks.
func meters(checks []checkRequest) []memory.Meter {
	ms := make([]memory.Meter, len(checks))
	for i, c := range checks {
		ms[i] = c.Meter
	}
	return ms
}

// fail turns an error into the caller's failure: an HTTP error response, or a
// Lambda error named after the contract.
func (h *Handler) fail(inv invocation, err error, partial *Result) ([]byte, error) {
	k := kindOf(err)
	if inv.shape == replyHTTP {
		body := struct {
			Error  ErrorBody `json:"error"`
			Result *Result   `json:"result,omitempty"`
		}{ErrorBody{k.Type, callerMessage(err, k), k.RequestID}, partial}
		return httpReply(k.HTTPStatus, body, k.RetryAfter)
	}
	return nil, messages.InvokeResponse_Error{Type: k.Type, Message: callerMessage(err, k)}
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
// alert.published false. mo is the memory read for the invocation (nil
// without a Store); zuoraBy, when set, is when the Zuora call must end.
func (h *Handler) check(ctx context.Context, c checkRequest, mo *memory.Recollection, zuoraBy time.Time) (Result, error) {
	zctx, cancel := zuoraContext(ctx, zuoraBy)
	rs, err := h.zuora.RunStatus(zctx, zuora.Request{
		MeterID: c.MeterID, Version: c.Version, TrackID: c.TrackID, EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs,
	})
	cancel()
	if err != nil {
		metrics.From(ctx).CountBy(metrics.ZuoraErrors, kindOf(err).Type)
		h.logFailedCheck(ctx, c, err)
		return Result{}, err
	}
	metrics.From(ctx).Checked(rs.Name, rs.Latency)
	res := newResult(c, rs, h.now())
	countUnknown(ctx, res)
	sc := scope{trackID: c.TrackID, entityIDs: c.EntityIDs, orgIDs: c.OrgIDs, observedAt: time.Now()}
	if mo != nil {
		err = h.observe(ctx, &res, calloutNews{}, mo, sc)
	} else {
		err = h.alertWithoutMemory(ctx, &res, nil, sc)
	}
	h.log.InfoContext(ctx, "check",
		"meterId", c.MeterID, "version", c.Version, "status", res.Status, "statusCode", res.StatusCode,
		"zuoraLatencyMs", float64(rs.Latency.Microseconds())/1000, "attempts", rs.Attempts,
		"zuoraRequestId", rs.RequestID, "trackId", c.TrackID, "alert", alertLog(res.Alert))
	return res, err
}

// countUnknown counts a status the function does not know (rule 7): a
// grown enum shows on the dashboard before anyone reads a log.
func countUnknown(ctx context.Context, res Result) {
	if res.Status == zuora.Unknown {
		metrics.From(ctx).Count(metrics.UnknownStatus)
	}
}

func (h *Handler) logFailedCheck(ctx context.Context, c checkRequest, err error) {
	k := kindOf(err)
	attrs := []any{"meterId", c.MeterID, "version", c.Version, "errorType", k.Type, "error", err.Error(), "trackId", c.TrackID}
	var ze *zuora.Error
	if errors.As(err, &ze) {
		attrs = append(attrs, "attempts", ze.Attempts, "zuoraRequestId", ze.RequestID, "httpStatus", ze.HTTPStatus)
	}
	h.log.WarnContext(ctx, "check failed", attrs...)
}

func alertLog(a *AlertOutcome) string {
	switch {
	case a == nil:
		return "none"
	case a.Published:
		return a.Event + " published"
	}
	return a.Event + " failed"
}
