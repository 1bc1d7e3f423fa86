package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
	"slices"
	"sync"
	"time"
)

// Bounds of a scheduled run's reply: it checks a watch list of any size, so
// it lists only the notable items, and few enough that the reply stays well
// under 256 KB (EventBridge and Scheduler invoke asynchronously; Lambda's
// limit for a reply is 6 MB, the contract's is 256 KB).
const (
	maxScheduledResults     = 1000
	maxScheduledResultBytes = 240 << 10
)

// runBatch checks every meter of a batch with at most cfg.BatchConcurrency
// calls in flight. A failed check becomes an item with its error; an alert
// that did not go out fails the whole batch, because an alert is never
// dropped.
func (h *Handler) runBatch(ctx context.Context, inv invocation) (BatchResult, error) {
	if inv.scheduled {
		return h.runScheduled(ctx)
	}
	checks := inv.checks
	mo := memory.Recall(ctx, h.store, meters(checks))
	defer mo.Wait()
	h.applyDefaults(ctx, checks)
	items, err := h.checkAll(ctx, checks, mo, runBudget{})
	return BatchResult{Results: items, Summary: summarize(items)}, err
}

// runScheduled checks the watch list and WATCH_METERS, the meters checked
// longest ago first, and stops starting checks in time to finish those in
// flight before the deadline: what it did not reach, the next run reaches
// first. It fails only for an alert that did not go out (rule 9): a state
// error is counted and reported, because Lambda would repeat the whole run.
func (h *Handler) runScheduled(ctx context.Context) (BatchResult, error) {
	metrics.From(ctx).MarkScheduled()
	checks, mo, err := h.scheduledChecks(ctx)
	if err != nil {
		return BatchResult{}, err
	}
	h.applyDefaults(ctx, checks)
	budget := newRunBudget(ctx)
	if !budget.checksEnd.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, budget.checksEnd)
		defer cancel()
	}
	items, err := h.checkAll(ctx, checks, mo, budget)
	checked := slices.DeleteFunc(items, func(it BatchItem) bool { return it.unchecked() })
	batch := BatchResult{Summary: summarize(checked)}
	batch.Results, batch.Truncated = notable(checked, h.cfg.alertsOn)
	batch.Summary.Unchecked = len(checks) - len(checked)
	batch.Summary.Total += batch.Summary.Unchecked
	batch.Summary.StateUnavailable = metrics.From(ctx).Get(metrics.StateUnavailable)
	if batch.Summary.Unchecked > 0 {
		metrics.From(ctx).Add(metrics.ChecksSkipped, batch.Summary.Unchecked)
		h.log.WarnContext(ctx, "scheduled run stopped before the deadline", "checked", len(checked),
			"unchecked", batch.Summary.Unchecked, "meters", len(checks))
	}
	return batch, err
}

// runBudget is when a scheduled run stops starting checks (stopAt), when
// the Zuora calls of those it started must end (zuoraBy), and when their
// writes and publishes must (checksEnd), so that the reply fits before the
// deadline. The zero budget does not stop.
type runBudget struct {
	stopAt, zuoraBy, checksEnd time.Time
}

func newRunBudget(ctx context.Context) runBudget {
	deadline, ok := ctx.Deadline()
	if !ok {
		return runBudget{}
	}
	reserve := min(max(time.Until(deadline)/4, time.Second), 30*time.Second)
	return runBudget{stopAt: deadline.Add(-reserve), zuoraBy: deadline.Add(-reserve / 2), checksEnd: deadline.Add(-reserve / 4)}
}

func (b runBudget) over() bool { return !b.stopAt.IsZero() && !time.Now().Before(b.stopAt) }

// checkAll checks each meter, at most cfg.BatchConcurrency at once, and
// starts none once the budget is over: those items stay unchecked. The
// error joins the alerts that did not go out.
func (h *Handler) checkAll(ctx context.Context, checks []checkRequest, mo *memory.Recollection, budget runBudget) ([]BatchItem, error) {
	items := make([]BatchItem, len(checks))
	for i, c := range checks {
		items[i] = BatchItem{Meter: c.Meter} // unchecked until its check ends
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
			items[i], alertErrs[i] = h.batchItem(ctx, c, mo, budget.zuoraBy)
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
func (h *Handler) batchItem(ctx context.Context, c checkRequest, mo *memory.Recollection, zuoraBy time.Time) (BatchItem, error) {
	res, err := h.check(ctx, c, mo, zuoraBy)
	switch {
	case err == nil:
		return BatchItem{Result: &res}, nil
	case errors.Is(err, ErrAlertPublishFailed):
		return BatchItem{Result: &res}, err
	}
	k := kindOf(err)
	return BatchItem{Meter: c.Meter, Error: &ErrorBody{Type: k.Type, Message: callerMessage(err, k), ZuoraRequestID: k.RequestID}}, nil
}

// notable is what a scheduled run's reply lists: the items that published
// or failed to publish a message first, then failed checks, then items in
// an ALERT_ON status, at most maxScheduledResults and maxScheduledResultBytes
// of them; truncated when some were left out.
func notable(items []BatchItem, alertsOn func(string) bool) ([]BatchItem, bool) {
	rank := func(it BatchItem) int {
		switch {
		case it.Result != nil && it.Result.Alert != nil:
			return 0
		case it.Error != nil:
			return 1
		case alertsOn(it.Result.Status):
			return 2
		}
		return 3
	}
	picked := slices.DeleteFunc(slices.Clone(items), func(it BatchItem) bool { return rank(it) == 3 })
	slices.SortStableFunc(picked, func(a, b BatchItem) int { return cmp.Compare(rank(a), rank(b)) })
	size := 0
	for i, it := range picked {
		b, _ := json.Marshal(it) // a BatchItem always marshals
		if size += len(b) + 1; i == maxScheduledResults || size > maxScheduledResultBytes {
			return picked[:i], true
		}
	}
	return picked, false
}

// scheduledChecks is what a scheduled event without meters checks: every
// watched meter version and WATCH_METERS, each once, the one checked
// longest ago first (never checked first of all), with the memory read
// along with the watch list (one pass over the table). When the table
// cannot be read, it is WATCH_METERS without memory.
func (h *Handler) scheduledChecks(ctx context.Context) ([]checkRequest, *memory.Recollection, error) {
	if h.store == nil {
		if len(h.cfg.WatchMeters) == 0 {
			return nil, nil, invalid("a scheduled event names no meters and WATCH_METERS is empty")
		}
		return checksOf(h.cfg.WatchMeters), nil, nil
	}
	all, err := h.store.AllStates(ctx)
	if err != nil {
		h.stateUnavailable(ctx, err, "checking", "WATCH_METERS only")
		return checksOf(h.cfg.WatchMeters), memory.Recalled(nil, err), nil
	}
	states := make(map[memory.Meter]memory.State, len(all))
	var targets []memory.Meter
	for _, s := range all {
		states[s.Meter] = s
		if s.Watched {
			targets = append(targets, s.Meter)
		}
	}
	targets = append(targets, h.cfg.WatchMeters...)
	slices.SortFunc(targets, memory.Compare)
	targets = slices.Compact(targets)
	slices.SortStableFunc(targets, func(a, b memory.Meter) int {
		return states[a].CheckedAt.Compare(states[b].CheckedAt)
	})
	return checksOf(targets), memory.Recalled(states, nil), nil
}

func checksOf(meters []memory.Meter) []checkRequest {
	checks := make([]checkRequest, len(meters))
	for i, m := range meters {
		checks[i] = checkRequest{Meter: m}
	}
	return checks
}
