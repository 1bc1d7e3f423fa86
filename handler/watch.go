package handler

import (
	"context"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
)

// serveWatchList answers the watch-list routes (HTTP only).
func (h *Handler) serveWatchList(ctx context.Context, req trigger.Request) ([]byte, error) {
	if h.store == nil {
		return h.fail(req, invalid("the watch list needs STATE_TABLE, which this function is not configured with"), nil)
	}
	if req.Route == trigger.RouteList {
		page, next, err := h.store.Watched(ctx, req.Page.After, req.Page.Limit)
		if err != nil {
			return h.failState(ctx, req, "list", err)
		}
		out := reply.WatchPage{Meters: make([]reply.WatchedMeter, len(page))}
		for i, s := range page {
			out.Meters[i] = reply.WatchedMeterOf(s)
		}
		if next != nil {
			out.NextToken = trigger.NextToken(*next)
		}
		return trigger.HTTPResponse(200, out, 0)
	}
	m, watched := req.Checks[0].Meter, req.Route == trigger.RouteWatch
	if err := h.store.SetWatch(ctx, m, memory.Watch{Watched: watched}); err != nil {
		return h.failState(ctx, req, "update", err)
	}
	h.log.InfoContext(ctx, "watch list", "meterId", m.MeterID, "version", m.Version, "watched", watched)
	return trigger.HTTPResponse(200, reply.Watch{Meter: m, Watched: watched}, 0)
}

func (h *Handler) failState(ctx context.Context, req trigger.Request, op string, err error) ([]byte, error) {
	err = causedBy(ErrStateUnavailable, err, "cannot %s the watch list; try again", op)
	h.log.ErrorContext(ctx, "state unavailable", "errorType", TypeStateUnavailable, "error", err.Error())
	return h.fail(req, err, nil)
}
