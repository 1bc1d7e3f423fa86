package zuora

import (
	"context"
	"testing"

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
