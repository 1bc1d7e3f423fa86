// Package handler turns Lambda events into Zuora run-status checks, results
// and alerts, and keeps the watch list. It knows the function's contract,
// not how AWS clients are built: its dependencies are the small interfaces
// Checker, alert.Publisher and Store.
package handler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// Checker asks Zuora for a meter version's run status. *zuora.Client is one.
type Checker interface {
	RunStatus(ctx context.Context, req zuora.Request) (zuora.RunStatus, error)
}

// Handler is the Lambda handler. Build it once per container with New.
type Handler struct {
	cfg    Config
	zuora  Checker
	sender *alert.Sender // the messages onto the topic
	// summaries is Zuora's summary, asked when a due time's run was not
	// seen (late runs); nil: due times are not judged.
	summaries alert.Explainer
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
	Alerts alert.Publisher
	// Explainer asks Zuora why a run failed, and which sessions ran when
	// a due time's run was not seen (*zuora.Client, as Zuora is); nil:
	// alerts go without details, and due times are not judged.
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
	h := &Handler{cfg: cfg, zuora: deps.Zuora, summaries: deps.Explainer, store: deps.Store, metrics: deps.Metrics, log: deps.Log, now: time.Now}
	// The memory and the verifier read the handler's clock, so tests that
	// move it move all three.
	clock := func() time.Time { return h.now() }
	h.sender = &alert.Sender{Topic: deps.Alerts, TopicARN: cfg.TopicARN, Link: cfg.AlertLink, Now: clock, Log: deps.Log,
		ErrorName: func(err error) string { return kindOf(err).Type }}
	if cfg.AlertDetails {
		h.sender.Explainer = deps.Explainer
	}
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

// Invoke implements lambda.Handler. It takes the raw payload so that one
// function can tell every trigger's shape apart (internal/trigger), then
// does what it asks. Failures reach Lambda as errors whose errorType is one
// of the contract's names; HTTP callers get an HTTP response instead.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ctx, t, limits := h.startTally(ctx)
	defer h.flushTally(ctx, t, limits)
	ctx = memory.WithOwner(ctx, requestID(ctx))
	req, err := trigger.Parse(payload)
	if err != nil {
		h.log.WarnContext(ctx, "invalid request", "source", req.Source, "errorType", TypeInvalidRequest, "error", err.Error())
		return h.fail(req, err, nil)
	}
	if req.Reply == trigger.ReplyHTTP || req.Reply == trigger.ReplyWidget { // a person waits for both
		budget := httpBudget
		if req.Route == trigger.RouteCallout {
			budget = calloutBudget
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	switch req.Route {
	case trigger.RouteCheck:
		return h.serveCheck(ctx, req)
	case trigger.RouteCallout:
		return h.serveCallout(ctx, req)
	case trigger.RouteWidget:
		return h.serveWidget(ctx, req)
	}
	return h.serveWatchList(ctx, req)
}

// requestID is the Lambda request id of the invocation, "" outside Lambda.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
