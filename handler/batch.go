package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// runBatch checks every meter of a batch (or, for a scheduled event, of the
// watch list and WATCH_METERS) with at most cfg.BatchConcurrency calls in
// flight. A failed check becomes an item with its error; an alert that did
// not go out fails the whole batch, because an alert is never dropped.
func (h *Handler) runBatch(ctx context.Context, inv invocation) (BatchResult, error) {
	checks, mo := inv.checks, (*memo)(nil)
	var listErr error // the watch list could not be read
	if inv.scheduled {
		tallyOf(ctx).markScheduled()
		var err error
		if checks, mo, err = h.scheduledChecks(ctx); err != nil {
			return BatchResult{}, err
		}
		if mo != nil {
			listErr = mo.err // read already: scheduledChecks's memo is known
		}
	} else {
		mo = h.recallAsync(ctx, meters(checks))
		defer mo.wait()
	}
	h.applyDefaults(ctx, checks)
	items := make([]BatchItem, len(checks))
	alertErrs := make([]error, len(checks))
	sem := make(chan struct{}, h.cfg.BatchConcurrency)
	var wg sync.WaitGroup
	for i, c := range checks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			items[i], alertErrs[i] = h.batchItem(ctx, c, mo)
		})
	}
	wg.Wait()

	batch := BatchResult{Results: items, Summary: summarize(items)}
	if listErr != nil {
		// What was checked was checked (and alerted on), but the run is
		// not whole.
		return batch, fmt.Errorf("%w: the watch list could not be read: %w", ErrStateUnavailable, listErr)
	}
	if err := errors.Join(alertErrs...); err != nil {
		n := len(slices.DeleteFunc(alertErrs, func(e error) bool { return e == nil }))
		return batch, fmt.Errorf("%d of %d alerts not published: %w", n, len(checks), err)
	}
	return batch, nil
}

// batchItem checks one meter of a batch; the error is an alert that did not
// go out.
func (h *Handler) batchItem(ctx context.Context, c checkRequest, mo *memo) (BatchItem, error) {
	res, err := h.check(ctx, c, mo)
	switch {
	case err == nil:
		return BatchItem{Result: &res}, nil
	case errors.Is(err, ErrAlertPublishFailed):
		return BatchItem{Result: &res}, err
	}
	k := kindOf(err)
	return BatchItem{Meter: c.Meter, Error: &ErrorBody{Type: k.Type, Message: err.Error(), ZuoraRequestID: k.RequestID}}, nil
}

// scheduledChecks is what a scheduled event without meters checks: every
// watched meter version and WATCH_METERS, each once, in meter order, with
// the memory read along with the watch list (one pass over the table).
func (h *Handler) scheduledChecks(ctx context.Context) ([]checkRequest, *memo, error) {
	if h.store == nil {
		if len(h.cfg.WatchMeters) == 0 {
			return nil, nil, invalid("a scheduled event names no meters and WATCH_METERS is empty")
		}
		return checksOf(h.cfg.WatchMeters), nil, nil
	}
	all, err := h.store.AllStates(ctx)
	if err != nil {
		h.stateUnavailable(ctx, err, "checking", "WATCH_METERS only")
		return checksOf(h.cfg.WatchMeters), known(nil, err), nil
	}
	states := make(map[Meter]MeterState, len(all))
	var targets []Meter
	for _, s := range all {
		states[s.Meter] = s
		if s.Watched {
			targets = append(targets, s.Meter)
		}
	}
	targets = append(targets, h.cfg.WatchMeters...)
	slices.SortFunc(targets, compareMeters)
	return checksOf(slices.Compact(targets)), known(states, nil), nil
}

func checksOf(meters []Meter) []checkRequest {
	checks := make([]checkRequest, len(meters))
	for i, m := range meters {
		checks[i] = checkRequest{Meter: m}
	}
	return checks
}

// compareMeters orders meter versions by meterId, then version.
func compareMeters(a, b Meter) int {
	return cmp.Or(cmp.Compare(a.MeterID, b.MeterID), cmp.Compare(a.Version, b.Version))
}
