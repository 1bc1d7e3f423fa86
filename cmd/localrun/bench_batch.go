package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/example/zuora-runstatus/handler"
)

// Batch scaling: N distinct meters in one {"meters": [...]} event, with
// every simulator answer taking benchBatchLatency.
var benchBatchSizes = []int{1, 10, 100, 500}

const (
	benchBatchLatency = 50 * time.Millisecond
	benchBatchFirstID = 900001 // the bench's meters are 900001, 900002, ... version 1.0.0
)

// benchBatch is the outcome of one batch size.
type benchBatch struct {
	meters        int
	wall          time.Duration // median round trip of the runs
	maxConcurrent int           // the most run-status calls the simulator served at once, over the runs
}

// benchBatches starts the function afresh, warms it (token, connection) with
// the simulator answering at once, then times each batch size repeats times
// at benchBatchLatency. It returns the concurrency the function was
// configured with.
func benchBatches(ctx context.Context, s *Stack, env map[string]string, fnPath string, repeats int) ([]benchBatch, int, error) {
	concurrency := 32 // BATCH_CONCURRENCY's default
	if v, ok := env["BATCH_CONCURRENCY"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, 0, err
		}
		concurrency = n
	}
	maxN := slices.Max(benchBatchSizes)
	meters := make([]map[string]any, maxN)
	for i := range meters {
		meters[i] = map[string]any{"meterId": benchBatchFirstID + i, "version": "1.0.0", "steps": []map[string]int{{"status": 7}}}
	}
	b, err := json.Marshal(meters)
	if err != nil {
		return nil, 0, err
	}
	if err := s.SimSetMeters(ctx, b); err != nil {
		return nil, 0, err
	}

	if err := s.RestartFunctionWith(ctx, fnPath, env); err != nil {
		return nil, 0, err
	}
	if err := s.SimSetLatency(ctx, 0); err != nil {
		return nil, 0, err
	}
	if _, err := benchInvokeBatch(ctx, s, 1); err != nil {
		return nil, 0, err
	}
	if err := s.SimSetLatency(ctx, benchBatchLatency); err != nil {
		return nil, 0, err
	}
	defer s.SimSetLatency(context.WithoutCancel(ctx), 0)

	var out []benchBatch
	for _, n := range benchBatchSizes {
		res := benchBatch{meters: n}
		var walls []time.Duration
		for range repeats {
			if err := s.SimReset(ctx); err != nil {
				return nil, 0, err
			}
			wall, err := benchInvokeBatch(ctx, s, n)
			if err != nil {
				return nil, 0, err
			}
			st, err := s.SimStats(ctx)
			if err != nil {
				return nil, 0, err
			}
			if st.RunStatusCalls != n {
				return nil, 0, fmt.Errorf("a batch of %d made %d run-status calls", n, st.RunStatusCalls)
			}
			walls = append(walls, wall)
			res.maxConcurrent = max(res.maxConcurrent, st.MaxConcurrent)
		}
		res.wall = median(walls)
		out = append(out, res)
	}
	return out, concurrency, nil
}

// benchInvokeBatch checks the first n bench meters in one event and returns
// the round trip; every meter must come back COMPLETED.
func benchInvokeBatch(ctx context.Context, s *Stack, n int) (time.Duration, error) {
	items := make([]handler.Meter, n)
	for i := range items {
		items[i] = handler.Meter{MeterID: int64(benchBatchFirstID + i), Version: "1.0.0"}
	}
	ictx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	r, err := s.InvokeJSON(ictx, map[string]any{"meters": items})
	if err != nil {
		return 0, err
	}
	var out struct{ Summary handler.BatchSummary }
	if err := r.Decode(&out); err != nil {
		return 0, fmt.Errorf("batch of %d: %w", n, err)
	}
	if out.Summary.Total != n || out.Summary.ByStatus["COMPLETED"] != n {
		return 0, fmt.Errorf("batch of %d: summary %+v, want all %d COMPLETED", n, out.Summary, n)
	}
	return r.Duration, nil
}
