package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
)

// serveWatchList answers the watch-list routes (HTTP only): the list, a
// watch (with when the meter version's runs are due), a mute.
func (h *Handler) serveWatchList(ctx context.Context, req trigger.Request) ([]byte, error) {
	if h.store == nil {
		return h.fail(req, invalid("the watch list needs STATE_TABLE, which this function is not configured with"), nil)
	}
	switch req.Route {
	case trigger.RouteList:
		return h.serveList(ctx, req)
	case trigger.RouteMute, trigger.RouteUnmute:
		return h.serveMute(ctx, req)
	}
	m, now := req.Checks[0].Meter, h.now()
	w := memory.Watch{Watched: req.Route == trigger.RouteWatch, Since: now}
	if w.Watched && req.Expect != nil {
		e, err := expect.Parse(req.Expect, now)
		if err != nil {
			return h.fail(req, fmt.Errorf("%w: %w", ErrInvalidRequest, err), nil)
		}
		w.Expect = &e
	}
	if err := h.store.SetWatch(ctx, m, w); err != nil {
		return h.failState(ctx, req, "update", err)
	}
	h.log.InfoContext(ctx, "watch list", "meterId", m.MeterID, "version", m.Version, "watched", w.Watched, "expect", w.Expect)
	return trigger.HTTPResponse(200, reply.WatchOf(m, w, now), 0)
}

func (h *Handler) serveList(ctx context.Context, req trigger.Request) ([]byte, error) {
	page, next, err := h.store.Watched(ctx, req.Page.After, req.Page.Limit)
	if err != nil {
		return h.failState(ctx, req, "list", err)
	}
	now := h.now()
	out := reply.WatchPage{Meters: make([]reply.WatchedMeter, len(page))}
	for i, s := range page {
		out.Meters[i] = reply.WatchedMeterOf(s, now)
	}
	if next != nil {
		out.NextToken = trigger.NextToken(*next)
	}
	return trigger.HTTPResponse(200, out, 0)
}

// maxMute is how far ahead a mute may end: a forgotten mute must not
// silence a meter version for ever.
const maxMute = 30 * 24 * time.Hour

// serveMute mutes a meter version until a time, or ends its mute (its next
// check pages what the mute held back that is still open).
func (h *Handler) serveMute(ctx context.Context, req trigger.Request) ([]byte, error) {
	m, now := req.Checks[0].Meter, h.now()
	var mute *memory.Mute
	if req.Route == trigger.RouteMute {
		until := req.Mute.Until.UTC()
		if !until.After(now) || until.After(now.Add(maxMute)) {
			return h.fail(req, invalid("until %s must be in the future and at most 30 days ahead", until.Format(time.RFC3339)), nil)
		}
		mute = &memory.Mute{Until: until, Reason: req.Mute.Reason}
	}
	if err := h.store.SetMute(ctx, m, mute); err != nil {
		return h.failState(ctx, req, "record the mute in", err)
	}
	out := reply.Mute{Meter: m}
	if mute != nil {
		out.Muted = &reply.Muted{Until: mute.Until, Reason: mute.Reason}
	}
	h.log.InfoContext(ctx, "mute", "meterId", m.MeterID, "version", m.Version, "muted", out.Muted != nil)
	return trigger.HTTPResponse(200, out, 0)
}

func (h *Handler) failState(ctx context.Context, req trigger.Request, op string, err error) ([]byte, error) {
	err = causedBy(ErrStateUnavailable, err, "cannot %s the watch list; try again", op)
	h.log.ErrorContext(ctx, "state unavailable", "errorType", TypeStateUnavailable, "error", err.Error())
	return h.fail(req, err, nil)
}
