package main

// What the state table (STATE_TABLE, on by default as the template deploys it)
// costs and gives: warm checks with and without it, and a scheduled run
// over a thousand watched meters.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const (
	// warmSample is the invocations of each warm variant.
	warmSample = 200
	// slowZuora is a Zuora still faster than the real one, but slower than
	// moto: the state read then runs entirely inside the Zuora call.
	slowZuora = 20 * time.Millisecond
	// watched is the watch list of the scheduled-run figures.
	watched = 1000
)

// stateTableFigures are the bench's figures of the state table.
type stateTableFigures struct {
	warmOff         []time.Duration // warm round trips without STATE_TABLE
	slowOff, slowOn []time.Duration // the same, and with STATE_TABLE, Zuora answering in slowZuora
	firstTick, tick time.Duration   // a scheduled run over the watch list: the first one, and one that changes nothing
	reads, writes   int             // DynamoDB calls of the run that changes nothing
}

// measureStateTable takes warm round trips with and without STATE_TABLE, with
// Zuora answering at once and in slowZuora, and the scheduled-run figures.
func measureStateTable(ctx context.Context, s *localstack.Stack, fn string) (m stateTableFigures, err error) {
	off := localstack.NoMemory(nil)
	for _, v := range []struct {
		env     map[string]string
		latency time.Duration
		rts     *[]time.Duration
	}{{off, 0, &m.warmOff}, {off, slowZuora, &m.slowOff}, {nil, slowZuora, &m.slowOn}} {
		s.Sim.SetLatency(v.latency)
		if err = s.RestartWith(ctx, fn, v.env); err == nil {
			*v.rts, err = warmRun(ctx, s)
		}
		s.Sim.SetLatency(0)
		if err != nil {
			return m, err
		}
	}
	return m, m.measureTicks(ctx, s)
}

// warmRun invokes a warm function warmSample times, after one unmeasured
// (cold) invocation, and returns the round trips.
func warmRun(ctx context.Context, s *localstack.Stack) (rts []time.Duration, err error) {
	for i := range 1 + warmSample {
		r, err := invokeOK(ctx, s, []byte(benchPayload))
		if err != nil {
			return nil, err
		}
		if i > 0 {
			rts = append(rts, r.Duration)
		}
	}
	return rts, nil
}

// measureTicks puts watched meters on the watch list through the function's
// own route, then times two scheduled runs with Zuora at batchLatency, and
// counts the second one's DynamoDB calls with moto's recorder.
func (m *stateTableFigures) measureTicks(ctx context.Context, s *localstack.Stack) error {
	for i := range watched {
		id := int64(800001 + i)
		s.Sim.SetMeter(id, "1.0.0", zuoratest.Step{Status: 7})
		put := fmt.Sprintf(`{"version": "2.0", "rawPath": "/meters/%d/1.0.0/watch", "requestContext": {"http": {"method": "PUT"}}}`, id)
		if _, err := invokeOK(ctx, s, []byte(put)); err != nil {
			return err
		}
	}
	s.Sim.SetLatency(batchLatency)
	defer s.Sim.SetLatency(0)
	var err error
	if m.firstTick, err = scheduledRun(ctx, s); err != nil {
		return err
	}
	stop, err := s.RecordAWSCalls(ctx)
	if err != nil {
		return err
	}
	m.tick, err = scheduledRun(ctx, s)
	calls, stopErr := stop(ctx)
	m.reads, m.writes = localstack.DynamoDBCalls(calls)
	return errors.Join(err, stopErr)
}

// scheduledRun sends Scheduler's event and wants every watched meter
// checked COMPLETED (and WATCH_METERS', which the figures count in).
func scheduledRun(ctx context.Context, s *localstack.Stack) (time.Duration, error) {
	r, err := invokeOK(ctx, s, []byte(`{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`))
	if err != nil {
		return 0, err
	}
	var out struct{ Summary struct{ Total, Errors int } }
	if err := json.Unmarshal(r.Body, &out); err != nil || out.Summary.Total < watched || out.Summary.Errors != 0 {
		return 0, fmt.Errorf("scheduled run: summary %+v (%v), want %d meters checked", out.Summary, err, watched)
	}
	return r.Duration, nil
}
