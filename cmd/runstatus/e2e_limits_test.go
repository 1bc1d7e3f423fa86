package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// A 500-meter batch through the real bootstrap against a Zuora that stays
// throttled, one that is down, and a tenant limited to 100 calls a second:
// the container's shared gate and breaker keep the calls few, and the batch
// still gets every meter's answer. (Without STATE_TABLE: this is about
// Zuora, and moto's writes would only slow it down.)
func TestZuoraLimitsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, localstack.NoMemory(nil))
	const n = 500
	batch := e2eCompletedBatch(t, s, 700001, n)
	tests := []struct {
		name       string
		situation  func()
		wantStatus string // each item's status, or its error type after "!"
		maxCalls   int
	}{
		{"every call 429", func() { s.Sim.SetOutage(429, "1") }, "!ZuoraThrottled", 50},
		{"every call 503", func() { s.Sim.SetOutage(503, "") }, "!ZuoraUnavailable", 50},
		{"tenant at 100 calls a second", func() { s.Sim.SetRateLimit(100, time.Second) }, "COMPLETED", 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Sim.SetOutage(0, "")
			s.Sim.SetRateLimit(0, 0)
			e2eMust(t, s.Restart(t.Context(), localstack.NoMemory(nil))) // a fresh container: its own gate and breaker
			e2eWantOK(t, s, "warming")                                   // the token, before the situation
			tt.situation()
			s.Sim.ResetStats()
			start := time.Now()
			b := e2eDecode[e2eBatch](t, e2eInvoke(t, s, string(batch)).Body)
			calls := s.Sim.Stats().RunStatusCalls
			t.Logf("%d of %d as wanted, %d calls to Zuora, %s", e2eCount(b, tt.wantStatus), n, calls, time.Since(start).Round(time.Millisecond))
			if got := e2eCount(b, tt.wantStatus); got != n || calls > tt.maxCalls {
				t.Errorf("%d of %d items %s, %d calls; want all, at most %d calls", got, n, tt.wantStatus, calls, tt.maxCalls)
			}
		})
	}
}

func e2eCount(b e2eBatch, want string) int {
	n := 0
	for _, r := range b.Results {
		if r.Error != nil && "!"+r.Error.Type == want || r.Error == nil && r.Status == want {
			n++
		}
	}
	return n
}

// e2eCompletedBatch scripts n meters from first on, version 1.0.0, all
// COMPLETED, and returns the batch event that checks them.
func e2eCompletedBatch(t *testing.T, s *localstack.Stack, first int64, n int) []byte {
	t.Helper()
	meters := make([]map[string]any, n)
	for i := range meters {
		s.Sim.SetMeter(first+int64(i), "1.0.0", zuoratest.Step{Status: 7})
		meters[i] = map[string]any{"meterId": first + int64(i), "version": "1.0.0"}
	}
	batch, err := json.Marshal(map[string]any{"meters": meters})
	e2eMust(t, err)
	return batch
}
