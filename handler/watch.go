package handler

import (
	"context"
	"github.com/example/zuora-runstatus/internal/memory"
	"time"
)

// watchReply is the answer to PUT and DELETE /meters/{meterId}/{version}/watch.
type watchReply struct {
	memory.Meter
	Watched bool `json:"watched"`
}

// watchedMeter is one item of GET /meters: the last four fields once the
// meter version has been checked, alertOpenSince only while an alert is open.
type watchedMeter struct {
	memory.Meter
	Watched        bool       `json:"watched"`
	Status         string     `json:"status,omitempty"`
	StatusCode     *int       `json:"statusCode,omitempty"`
	CheckedAt      *time.Time `json:"checkedAt,omitempty"`
	ChangedAt      *time.Time `json:"changedAt,omitempty"`
	AlertOpenSince *time.Time `json:"alertOpenSince,omitempty"`
}

type watchPage struct {
	Meters    []watchedMeter `json:"meters"`
	NextToken string         `json:"nextToken,omitempty"`
}

// serveWatchList answers the watch-list routes (HTTP only).
func (h *Handler) serveWatchList(ctx context.Context, inv invocation) ([]byte, error) {
	if h.store == nil {
		return h.fail(inv, invalid("the watch list needs STATE_TABLE, which this function is not configured with"), nil)
	}
	if inv.route == routeList {
		page, next, err := h.store.Watched(ctx, inv.page.after, inv.page.limit)
		if err != nil {
			return h.failState(ctx, inv, "list", err)
		}
		out := watchPage{Meters: make([]watchedMeter, len(page))}
		for i, s := range page {
			out.Meters[i] = watchedMeterOf(s)
		}
		if next != nil {
			out.NextToken = nextToken(*next)
		}
		return httpReply(200, out, 0)
	}
	m, watched := inv.checks[0].Meter, inv.route == routeWatch
	if err := h.store.SetWatched(ctx, m, watched); err != nil {
		return h.failState(ctx, inv, "update", err)
	}
	h.log.InfoContext(ctx, "watch list", "meterId", m.MeterID, "version", m.Version, "watched", watched)
	return httpReply(200, watchReply{Meter: m, Watched: watched}, 0)
}

func (h *Handler) failState(ctx context.Context, inv invocation, op string, err error) ([]byte, error) {
	err = causedBy(ErrStateUnavailable, err, "cannot %s the watch list; try again", op)
	h.log.ErrorContext(ctx, "state unavailable", "errorType", TypeStateUnavailable, "error", err.Error())
	return h.fail(inv, err, nil)
}

func watchedMeterOf(s memory.State) watchedMeter {
	w := watchedMeter{Meter: s.Meter, Watched: true}
	if s.Rev == 0 {
		return w
	}
	code, checked, changed := s.StatusCode, s.CheckedAt.UTC(), s.ChangedAt.UTC()
	w.Status, w.StatusCode, w.CheckedAt, w.ChangedAt = s.Status, &code, &checked, &changed
	if s.AlertStatus != "" {
		since := s.AlertSince.UTC()
		w.AlertOpenSince = &since
	}
	return w
}
