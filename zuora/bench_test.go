package zuora

import (
	"context"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// BenchmarkRunStatusWarm measures one call on a warm Client (pooled
// connection, cached token) against the in-process simulator. The figures
// include the simulator's own work, which runs in the same process.
func BenchmarkRunStatusWarm(b *testing.B) {
	sim := newSim(b)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 5})
	c, err := New(Config{BaseURL: sim.URL, Tokens: StaticToken(testToken)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := Request{MeterID: 123, Version: "0.0.1", TrackID: "bench"}
	if _, err := c.RunStatus(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.RunStatus(ctx, req); err != nil {
			b.Fatal(err)
		}
		if i++; i%10000 == 0 {
			sim.ResetStats() // keeps the simulator's request log small
		}
	}
}

func BenchmarkDecodeRunStatus(b *testing.B) {
	body := []byte(`{"success": true, "data": {"runStatus": 7, "runStatusDescription": "COMPLETED"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decodeRunStatus(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatch500 runs the Lambda's batch (500 meters, 32 at a time
// through one Client, 25 s for each check) against the in-process simulator
// with the default Config, in each of Zuora's situations that the Client's
// gate and breaker are for, and reports per batch the run status calls
// Zuora got, the checks answered COMPLETED, and the seconds it took. The
// "then" situations are the batch after the outage has ended and 30 s have
// passed on the Client's clock. Run it once each:
//
//	go test -run '^$' -bench Batch500 -benchtime 1x ./zuora/
func BenchmarkBatch500(b *testing.B) {
	for _, sit := range []struct {
		name   string
		set    func(*zuoratest.Server)
		outage bool // the outage ends, 30 s pass, then the timed batch
	}{
		{"limit-100-per-s", func(s *zuoratest.Server) { s.SetRateLimit(100, time.Second) }, false},
		{"every-call-429", func(s *zuoratest.Server) { s.SetOutage(429, "1") }, false},
		{"every-call-503", func(s *zuoratest.Server) { s.SetOutage(503, "") }, false},
		{"429-then-30s", func(s *zuoratest.Server) { s.SetOutage(429, "1") }, true},
		{"503-then-30s", func(s *zuoratest.Server) { s.SetOutage(503, "") }, true},
	} {
		b.Run(sit.name, func(b *testing.B) {
			var calls, ok int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				sim := newBatchSim(b)
				sit.set(sim)
				var clock skipClock
				c := newBatchClient(b, sim.URL, &clock)
				if sit.outage {
					runBatch(c, sim)
					sim.SetOutage(0, "")
					clock.skip(30 * time.Second)
				}
				b.StartTimer()
				r := runBatch(c, sim)
				calls, ok, elapsed = calls+r.calls, ok+r.completed, elapsed+r.elapsed
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls)/n, "calls/batch")
			b.ReportMetric(float64(ok)/n, "ok/batch")
			b.ReportMetric(elapsed.Seconds()/n, "s/batch")
		})
	}
}
