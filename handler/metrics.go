package handler

import (
	"context"

	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/zuora"
)

// Metrics: counted over one invocation (internal/metrics) and written at
// its end as EMF records in the function's log: a handful of lines for a
// batch of hundreds, never one per meter.

// limitsReporter is a Checker that tells what Zuora's limits did to its
// calls (*zuora.Client does).
type limitsReporter interface {
	Limits() zuora.LimitStats
}

// startTally begins an invocation's count, with the Zuora client's limits
// read now, to be read again at the end. It counts without a metrics
// writer too: a scheduled run's reply reports some of its counts.
func (h *Handler) startTally(ctx context.Context) (context.Context, *metrics.Tally, zuora.LimitStats) {
	t := &metrics.Tally{}
	var limits zuora.LimitStats
	if lr, ok := h.zuora.(limitsReporter); ok {
		limits = lr.Limits()
	}
	return metrics.With(ctx, t), t, limits
}

// flushTally writes the invocation's records. A record that cannot be
// written is logged, never the invocation's failure.
func (h *Handler) flushTally(ctx context.Context, t *metrics.Tally, started zuora.LimitStats) {
	if h.metrics == nil {
		return
	}
	if lr, ok := h.zuora.(limitsReporter); ok {
		t.SetLimits(lr.Limits().Since(started))
	}
	for _, r := range t.Records(h.cfg.FunctionName, h.now(), requestID(ctx)) {
		if err := metrics.Write(h.metrics, r); err != nil {
			h.log.WarnContext(ctx, "metrics not written", "error", err.Error())
		}
	}
}
