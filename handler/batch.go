package handler

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// runBatch checks every meter with at most cfg.BatchConcurrency calls in
// flight. A failed check becomes an item with its error; an alert that did
// not go out fails the whole batch, because an alert is never dropped.
func (h *Handler) runBatch(ctx context.Context, checks []checkRequest) (BatchResult, error) {
	items := make([]BatchItem, len(checks))
	alertErrs := make([]error, len(checks))
	sem := make(chan struct{}, h.cfg.BatchConcurrency)
	var wg sync.WaitGroup
	for i, c := range checks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := h.check(ctx, c)
			switch {
			case err == nil:
				items[i] = BatchItem{Result: &res}
			case errors.Is(err, ErrAlertPublishFailed):
				items[i] = BatchItem{Result: &res}
				alertErrs[i] = err
			default:
				k := kindOf(err)
				items[i] = BatchItem{Meter: c.Meter, Error: &ErrorBody{Type: k.Type, Message: err.Error(), ZuoraRequestID: k.RequestID}}
			}
		})
	}
	wg.Wait()

	batch := BatchResult{Results: items, Summary: summarize(items)}
	if err := errors.Join(alertErrs...); err != nil {
		n := 0
		for _, e := range alertErrs {
			if e != nil {
				n++
			}
		}
		return batch, fmt.Errorf("%d of %d alerts not published: %w", n, len(checks), err)
	}
	return batch, nil
}
