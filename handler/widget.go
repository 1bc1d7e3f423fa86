package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/internal/widget"
)

// widgetDocs is what the console's widget editor shows (a call with
// "describe": true).
const widgetDocs = "## Zuora meter runs: the watch list\n" +
	"Every watched meter version: problems first (pages still owed, open alerts, stuck runs, late runs), " +
	"then the muted ones, then the rest by meter id and version. " +
	"Params: `limit`, the rows shown (1-500, default 100). With the stack's `WidgetActions`, each row has " +
	"*Check now* and *Mute 4h* / *Unmute*."

// serveWidget answers a CloudWatch custom widget's call with the watch list
// as HTML, after its button's action when one was pressed (only with
// WIDGET_ACTIONS: whoever sees the widget can invoke the function). A table
// it cannot read is a message in the widget, not a Lambda error; a page a
// check could not send is the invocation's error, as for a direct check.
func (h *Handler) serveWidget(ctx context.Context, req trigger.Request) ([]byte, error) {
	ev := req.Widget
	if ev.Describe {
		return json.Marshal(widgetDocs)
	}
	var notice string
	if ev.Action != nil {
		if !h.cfg.WidgetActions {
			return h.fail(req, invalid("the widget's actions are off (WIDGET_ACTIONS): %s changed nothing", ev.Action.Kind), nil)
		}
		var err error
		if notice, err = h.widgetAction(ctx, *ev.Action); err != nil {
			return h.fail(req, err, nil)
		}
	}
	start := time.Now()
	p := h.widgetPage(ctx, ev)
	read := time.Since(start)
	p.Notice = notice
	html, err := widget.Render(p)
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(ctx, "widget", "rows", len(p.Rows), "bytes", len(html), "readMs", read.Milliseconds(),
		"renderMs", (time.Since(start) - read).Milliseconds(), "action", ev.Action != nil)
	return json.Marshal(html)
}

// widgetPage is the widget's page for ev: every watched meter version and
// WATCH_METERS, read in one pass over the table, beside the scheduled
// runs' mark.
func (h *Handler) widgetPage(ctx context.Context, ev widget.Event) widget.Page {
	now := h.now()
	p := widget.Page{Limit: ev.Limit, Theme: ev.Context.Theme, Zone: ev.Context.Location(), Now: now,
		Actions: h.cfg.WidgetActions, FunctionARN: functionARN(ctx)}
	if h.store == nil {
		p.Error = "The function has no STATE_TABLE, so no watch list."
		return p
	}
	wl, err := h.readWatchList(ctx, "showing", "the widget", "lastScheduledRun", "unknown")
	if err != nil {
		h.stateUnavailable(ctx, err, "showing", "the widget")
		p.Error = "The state table could not be read; the function's log says why."
		return p
	}
	p.LastScheduledRun, p.LastScheduledRunUnknown = wl.last.LastRun, wl.lastErr != nil
	p.Rows = make([]widget.Row, len(wl.targets))
	for i, m := range wl.targets {
		s, ok := wl.states[m]
		if !ok { // a WATCH_METERS meter version never checked
			s = memory.State{Meter: m}
		}
		p.Rows[i] = widget.RowOf(s, now, alert.Link(h.cfg.AlertLink, m.MeterID, m.Version, s.Session))
	}
	return p
}

// widgetAction does what a widget's button asks, and says what became of
// it: a check as a direct invocation's (its pages, its memory), a mute for
// widget.MuteFor, or its end. The error is a check's page that did not go
// out: never only a notice, so that it is not swallowed.
func (h *Handler) widgetAction(ctx context.Context, a widget.Action) (string, error) {
	m := memory.Meter{MeterID: a.MeterID, Version: a.Version}
	what := fmt.Sprintf("meter %d version %s", m.MeterID, m.Version)
	var err error
	switch a.Kind {
	case widget.ActionCheck:
		res, cerr := h.checkOne(ctx, trigger.Check{Meter: m})
		switch {
		case cerr == nil:
			return fmt.Sprintf("Checked %s: %s%s.", what, res.Status, alertNote(res.Alert)), nil
		case errors.Is(cerr, ErrAlertPublishFailed):
			return "", cerr
		}
		err = cerr
	case widget.ActionMute:
		until := h.now().Add(widget.MuteFor).UTC()
		if err = h.storeMute(ctx, m, &memory.Mute{Until: until, Reason: "muted from the dashboard"}); err == nil {
			return fmt.Sprintf("Muted %s until %s.", what, until.Format(time.RFC3339)), nil
		}
	case widget.ActionUnmute:
		if err = h.storeMute(ctx, m, nil); err == nil {
			return fmt.Sprintf("Unmuted %s: its next check pages what is still open.", what), nil
		}
	}
	return fmt.Sprintf("Could not %s %s: %s", a.Kind, what, callerMessage(err, kindOf(err))), nil
}

// storeMute sets or ends a mute; without a store there is none.
func (h *Handler) storeMute(ctx context.Context, m memory.Meter, mute *memory.Mute) error {
	if h.store == nil {
		return invalid("muting needs STATE_TABLE, which this function is not configured with")
	}
	if err := h.store.SetMute(ctx, m, mute); err != nil {
		return causedBy(ErrStateUnavailable, err, "cannot record the mute; try again")
	}
	return nil
}

// alertNote says what a check published, for a widget's notice (a message
// that did not go out fails the action instead).
func alertNote(a *reply.Alert) string {
	if a == nil {
		return ""
	}
	return "; " + a.Event + " published"
}

// functionARN is the function's own ARN, which the widget's buttons call
// back: the invocation's, so that it names the alias or version invoked.
func functionARN(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.InvokedFunctionArn
	}
	return ""
}
