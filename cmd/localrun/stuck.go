package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// stuckMeter is the meter whose run make run shows stuck (meters.json holds
// it in RUNNING).
const stuckMeter = 108

// sendStuckCallouts has the Zuora simulator tell the function, by callout,
// of three runs of meter 108 that completed in about 40 minutes each, and
// then of a run that started 6h10m ago and is still RUNNING: far past three
// times its usual, so it pages as stuck (the local stack sets STUCK_AFTER).
func sendStuckCallouts(ctx context.Context, s *localstack.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	n := s.CalloutNotifier()
	now := time.Now().UTC()
	zuoraTime := func(ago time.Duration) string { return now.Add(-ago).Format("2006-01-02T15:04:05-0700") }
	history := []struct{ start, took time.Duration }{{9*time.Hour + 10*time.Minute, 40 * time.Minute},
		{8*time.Hour + 10*time.Minute, 42 * time.Minute}, {7*time.Hour + 20*time.Minute, 38 * time.Minute}}
	var statuses []string
	for i, run := range history {
		ev := zuoratest.SessionEvent{MeterID: stuckMeter, SessionID: fmt.Sprintf("R-00005%d", i), Status: "COMPLETED",
			PreviousStatus: "RUNNING", RunType: "NORMAL", Version: "0.0.1",
			StartTime: zuoraTime(run.start), EndTime: zuoraTime(run.start - run.took)}
		d, err := n.Send(ctx, ev)
		if err != nil {
			return err
		}
		statuses = append(statuses, strings.Trim(fmt.Sprint(d.Statuses), "[]"))
	}
	d, err := n.Send(ctx, zuoratest.SessionEvent{MeterID: stuckMeter, SessionID: "R-000053", Status: "RUNNING",
		PreviousStatus: "INITIALIZING", RunType: "NORMAL", Version: "0.0.1", StartTime: zuoraTime(6*time.Hour + 10*time.Minute)})
	if err != nil {
		return err
	}
	fmt.Printf("== Zuora callouts for meter %d: three runs COMPLETED in 40m, 42m and 38m (HTTP %s),\n"+
		"   then R-000053 RUNNING since 6h10m ago, notification %s\nHTTP %v\n%s\n\n",
		stuckMeter, strings.Join(statuses, ", "), d.NotificationID, d.Statuses, pretty(string(d.Body)))
	return nil
}
