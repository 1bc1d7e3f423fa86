package zuora

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// A batch as the Lambda runs it: 500 meters, BATCH_CONCURRENCY 32 sharing
// one Client, each check with its own deadline (its share of the
// invocation's time for Zuora).
const (
	batchSize    = 500
	batchWorkers = 32
	batchBudget  = 25 * time.Second
)

// newBatchSim starts a simulator whose meters 1 to batchSize are COMPLETED.
func newBatchSim(tb testing.TB) *zuoratest.Server {
	sim := newSim(tb)
	for id := int64(1); id <= batchSize; id++ {
		sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: 7})
	}
	return sim
}

// newBatchClient is a Client with the default Config on its own connection
// pool, its limiter on clock.
func newBatchClient(tb testing.TB, baseURL string, clock *skipClock) *Client {
	tb.Helper()
	c, err := New(Config{BaseURL: baseURL, Tokens: StaticToken(testToken), HTTPClient: NewHTTPClient()})
	if err != nil {
		tb.Fatal(err)
	}
	c.limits.now = clock.now
	return c
}

// batchResult is what a batch got.
type batchResult struct {
	completed   int           // COMPLETED answers
	failed      map[error]int // failures by class
	sentNothing int           // failures with Attempts 0
	breakerMsgs int           // failures whose message says the breaker is open
	calls       int           // run status calls the simulator saw
	elapsed     time.Duration
}

// runBatch checks meters 1 to batchSize through c.
func runBatch(c *Client, sim *zuoratest.Server) batchResult {
	sim.ResetStats()
	res := batchResult{failed: map[error]int{}}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range batchWorkers {
		wg.Go(func() {
			for id := next.Add(1); id <= batchSize; id = next.Add(1) {
				ctx, cancel := context.WithTimeout(context.Background(), batchBudget)
				rs, err := c.RunStatus(ctx, Request{MeterID: id, Version: "0.0.1"})
				cancel()
				mu.Lock()
				res.add(rs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.calls = sim.Stats().RunStatusCalls
	return res
}

func (r *batchResult) add(rs RunStatus, err error) {
	var ze *Error
	switch {
	case err == nil && rs.Name == Completed:
		r.completed++
	case errors.As(err, &ze):
		r.failed[ze.Class]++
		if ze.Attempts == 0 {
			r.sentNothing++
		}
		if strings.Contains(ze.Message, "circuit breaker open until") {
			r.breakerMsgs++
		}
	default:
		r.failed[nil]++
	}
}

// TestBatchGoals: what a batch gets from Zuora's shared limits with the
// default Config, and that the next batch after the breaker's cool-down is
// served in full. Wall times are BenchmarkBatch500's to report.
func TestBatchGoals(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of Zuora's pauses; not a -short test")
	}
	t.Run("tenant at 100 calls a second", func(t *testing.T) {
		t.Parallel()
		sim := newBatchSim(t)
		sim.SetRateLimit(100, time.Second)
		r := runBatch(newBatchClient(t, sim.URL, &skipClock{}), sim)
		if r.completed != batchSize || r.calls > 600 {
			t.Errorf("%d/%d COMPLETED after %d calls, want all after at most 600 (failed: %v)", r.completed, batchSize, r.calls, r.failed)
		}
	})
	for _, tt := range []struct {
		name   string
		status int
		class  error
	}{
		{"every call 429", 429, ErrThrottled},
		{"every call 503", 503, ErrUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := newBatchSim(t)
			retryAfter := map[int]string{429: "1"}[tt.status]
			sim.SetOutage(tt.status, retryAfter)
			var clock skipClock
			c := newBatchClient(t, sim.URL, &clock)
			r := runBatch(c, sim)
			if r.failed[tt.class] != batchSize || r.calls > 50 {
				t.Errorf("%d of %d failed with %v, after %d calls; want all, after at most 50 (failed: %v)",
					r.failed[tt.class], batchSize, tt.class, r.calls, r.failed)
			}
			if r.sentNothing < batchSize*3/4 || r.breakerMsgs < batchSize*3/4 {
				t.Errorf("%d calls sent nothing, %d say the breaker is open; want most of them", r.sentNothing, r.breakerMsgs)
			}

			clock.skip(30 * time.Second)
			sim.SetOutage(0, "")
			r = runBatch(c, sim)
			if r.completed != batchSize || r.calls != batchSize {
				t.Errorf("30 s later: %d/%d COMPLETED after %d calls, want all, one call each (failed: %v)",
					r.completed, batchSize, r.calls, r.failed)
			}
		})
	}
}
