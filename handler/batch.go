package handler

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
)

// runScheduled checks the watch list and WATCH_METERS, the meters never
// checked first, then round from where the last run reached, and stops
// starting checks in time to finish those in flight before the deadline:
// what it did not reach, the next run reaches first. It fails only for an
// alert that did not go out (rule 9): a state error is counted and
// reported, because Lambda would repeat the whole run.
func (h *Handler) runScheduled(ctx context.Context) (reply.Batch, error) {
	metrics.From(ctx).MarkScheduled()
	began := h.now()
	run, err := h.scheduledChecks(ctx)
	if err != nil {
		return reply.Batch{}, err
	}
	h.applyDefaults(ctx, run.checks)
	budget := newRunBudget(ctx)
	checksCtx := ctx
	if !budget.checksEnd.IsZero() {
		var cancel context.CancelFunc
		checksCtx, cancel = context.WithDeadline(ctx, budget.checksEnd)
		defer cancel()
	}
	items, err := h.checkAll(checksCtx, run.checks, run.memory, budget)
	h.saveSchedule(ctx, run, items, began, budget.markBy)
	checked := slices.DeleteFunc(items, func(it reply.Item) bool { return it.Unchecked() })
	batch := reply.Batch{Summary: reply.Summarize(checked)}
	batch.Results, batch.Truncated = reply.Notable(checked, h.cfg.alertsOn)
	batch.Summary.Unchecked = len(run.checks) - len(checked)
	batch.Summary.Total += batch.Summary.Unchecked
	batch.Summary.StateUnavailable = metrics.From(ctx).Get(metrics.StateUnavailable)
	if batch.Summary.Unchecked > 0 {
		metrics.From(ctx).Add(metrics.ChecksSkipped, batch.Summary.Unchecked)
		h.log.WarnContext(ctx, "scheduled run stopped before the deadline", "checked", len(checked),
			"unchecked", batch.Summary.Unchecked, "meters", len(run.checks))
	}
	return batch, err
}

// scheduledRun is what a scheduled run checks, in order (memory.Rotate:
// the first fresh never checked), with the memory read along with the
// watch list, and what the last run left.
type scheduledRun struct {
	checks []trigger.Check
	fresh  int
	memory *memory.Recollection
	last   memory.Schedule
}

// saveSchedule leaves the next run where this one's rotation reached: the
// last check it started after the fresh ones (items keep the order of
// run.checks; those it never started are unchecked), written by by. Without
// a store, or when the write fails, the next run starts round from the last
// mark it can read; a failure is counted, not the run's. A run that could
// not read the watch list writes no mark.
func (h *Handler) saveSchedule(ctx context.Context, run scheduledRun, items []reply.Item, began, by time.Time) {
	if h.store == nil || run.memory.Err() != nil { // a run of WATCH_METERS alone leaves the watch list's mark
		return
	}
	if !by.IsZero() { // a mark not written in time leaves the last one: some meters are checked again, none skipped
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, by)
		defer cancel()
	}
	next := memory.Schedule{LastRun: began, Reached: run.last.Reached}
	for i := len(items) - 1; i >= run.fresh; i-- {
		if !items[i].Unchecked() {
			next.Reached = &run.checks[i].Meter
			break
		}
	}
	if err := h.store.SaveSchedule(ctx, next); err != nil {
		h.stateUnavailable(ctx, err, "saving", "schedule")
	}
}

// runBudget is when a scheduled run stops starting checks (stopAt), when
// the Zuora calls of those it started must end (zuoraBy), when their writes
// and publishes must (checksEnd), and when the run's own mark must be
// written (markBy), so that the reply fits before the deadline. The zero
// budget does not stop.
type runBudget struct {
	stopAt, zuoraBy, checksEnd, markBy time.Time
	judge                              bool // a scheduled run's checks judge due times (late runs)
}

func newRunBudget(ctx context.Context) runBudget {
	deadline, ok := ctx.Deadline()
	if !ok {
		return runBudget{judge: true}
	}
	reserve := min(max(time.Until(deadline)/4, time.Second), 30*time.Second)
	return runBudget{stopAt: deadline.Add(-reserve), zuoraBy: deadline.Add(-reserve / 2), checksEnd: deadline.Add(-reserve / 4),
		markBy: deadline.Add(-reserve / 8), judge: true}
}

func (b runBudget) over() bool { return !b.stopAt.IsZero() && !time.Now().Before(b.stopAt) }

// checkAll checks each meter, at most cfg.BatchConcurrency at once, and
// starts none once the budget is over: those items stay unchecked. The
// error joins the alerts that did not go out.
func (h *Handler) checkAll(ctx context.Context, checks []trigger.Check, mo *memory.Recollection, budget runBudget) ([]reply.Item, error) {
	items := make([]reply.Item, len(checks))
	for i, c := range checks {
		items[i] = reply.Item{Meter: c.Meter} // unchecked until its check ends
	}
	alertErrs := make([]error, len(checks))
	sem := make(chan struct{}, h.cfg.BatchConcurrency)
	var wg sync.WaitGroup
	for i, c := range checks {
		sem <- struct{}{}
		if budget.over() {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			items[i], alertErrs[i] = h.batchItem(ctx, c, mo, budget)
		})
	}
	wg.Wait()
	if err := errors.Join(alertErrs...); err != nil {
		n := len(slices.DeleteFunc(alertErrs, func(e error) bool { return e == nil }))
		return items, causedBy(ErrAlertPublishFailed, err, "%d of %d alerts not published to the SNS topic; they stay owed", n, len(checks))
	}
	return items, nil
}

// batchItem checks one meter of a batch; the error is an alert that did not
// go out.
func (h *Handler) batchItem(ctx context.Context, c trigger.Check, mo *memory.Recollection, run runBudget) (reply.Item, error) {
	res, err := h.check(ctx, c, mo, run)
	switch {
	case err == nil:
		return reply.Item{Result: &res}, nil
	case errors.Is(err, ErrAlertPublishFailed):
		return reply.Item{Result: &res}, err
	}
	k := kindOf(err)
	return reply.Item{Meter: c.Meter, Error: &reply.ErrorBody{Type: k.Type, Message: callerMessage(err, k), ZuoraRequestID: k.RequestID}}, nil
}

// scheduledChecks is what a scheduled event without meters checks: every
// watched meter version and WATCH_METERS, each once, in memory.Rotate's
// order, with the memory read along with the watch list (one pass over the
// table) and, beside it, what the last run left. When the table cannot be
// read, it is WATCH_METERS without memory.
func (h *Handler) scheduledChecks(ctx context.Context) (scheduledRun, error) {
	if h.store == nil {
		if len(h.cfg.WatchMeters) == 0 {
			return scheduledRun{}, invalid("a scheduled event names no meters and WATCH_METERS is empty")
		}
		return scheduledRun{checks: checksOf(h.cfg.WatchMeters)}, nil
	}
	wl, err := h.readWatchList(ctx, "reading", "schedule", "rotation", "from the start")
	if err != nil {
		h.stateUnavailable(ctx, err, "checking", "WATCH_METERS only")
		return scheduledRun{checks: checksOf(h.cfg.WatchMeters), memory: memory.Recalled(nil, err)}, nil
	}
	order, fresh := memory.Rotate(wl.targets, wl.states, wl.last.Reached)
	return scheduledRun{checks: checksOf(order), fresh: fresh, memory: memory.Recalled(wl.states, nil), last: wl.last}, nil
}

// watchList is the watch list as one pass over the table reads it: every
// stored state by meter version; the meter versions to watch, the watched
// ones and WATCH_METERS, sorted by memory.Compare and each once; and what
// the last scheduled run left.
type watchList struct {
	states  map[memory.Meter]memory.State
	targets []memory.Meter
	last    memory.Schedule
	lastErr error // why last could not be read; nil: it was
}

// readWatchList reads every state, and the scheduled runs' mark beside it.
// A mark it cannot read is counted and logged with withoutMark, what the
// caller does instead, and left zero; a table it cannot read is the error,
// for the caller to count with what it does instead. It needs h.store.
func (h *Handler) readWatchList(ctx context.Context, withoutMark ...any) (watchList, error) {
	var last memory.Schedule
	var lastErr error
	var wg sync.WaitGroup
	wg.Go(func() { last, lastErr = h.store.Schedule(ctx) })
	all, err := h.store.AllStates(ctx)
	wg.Wait()
	if err != nil {
		return watchList{}, err
	}
	if lastErr != nil {
		h.stateUnavailable(ctx, lastErr, withoutMark...)
	}
	wl := watchList{states: make(map[memory.Meter]memory.State, len(all)), last: last, lastErr: lastErr}
	for _, s := range all {
		wl.states[s.Meter] = s
		if s.Watched {
			wl.targets = append(wl.targets, s.Meter)
		}
	}
	wl.targets = append(wl.targets, h.cfg.WatchMeters...)
	slices.SortFunc(wl.targets, memory.Compare)
	wl.targets = slices.Compact(wl.targets)
	return wl, nil
}

func checksOf(meters []memory.Meter) []trigger.Check {
	checks := make([]trigger.Check, len(meters))
	for i, m := range meters {
		checks[i] = trigger.Check{Meter: m}
	}
	return checks
}
