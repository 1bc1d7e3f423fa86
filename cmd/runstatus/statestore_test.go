package main

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/internal/localstack"
)

// newTestStateTable is the local stack's state table, as the template
// declares it, in moto.
func newTestStateTable(t *testing.T) stateTable {
	return stateTable{name: localstack.StateTableName, api: dynamodb.NewFromConfig(motoConfig(localstack.ForTest(t, nil)))}
}

// motoConfig is an SDK configuration for the stack's moto_server.
func motoConfig(s *localstack.Stack) aws.Config {
	return aws.Config{
		Region: localstack.Region, BaseEndpoint: aws.String(s.MotoURL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

// The state table against DynamoDB as moto serves it, with the table the
// template declares: what the handler's in-memory Store in its tests
// assumes of the real one.
func TestStateTable(t *testing.T) {
	table, ctx := newTestStateTable(t), t.Context()
	m := handler.Meter{MeterID: 7, Version: "0.0.1"}
	at := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)

	// Save is conditional on the revision, and keeps the watch flag.
	e2eMust(t, table.SetWatched(ctx, m, true))
	state := handler.MeterState{Meter: m, Watched: true, Status: "FAILED", StatusCode: 8, CheckedAt: at, ChangedAt: at, AlertStatus: "FAILED", AlertSince: at,
		Outbox: []handler.PendingAlert{{Event: handler.EventAlert, ID: "t1", Result: handler.Result{MeterID: 7, Status: "FAILED"}}},
		Lease:  handler.Lease{Owner: "w1", Until: at.Add(time.Minute)}, Writer: "w1"}
	rev, err := table.Save(ctx, state)
	if err != nil || rev != 1 {
		t.Fatalf("first Save: %d, %v", rev, err)
	}
	// The same write again is its own: the SDK's retry of a write whose
	// answer was lost. A rival's write of the same revision is refused.
	if rev, err := table.Save(ctx, state); err != nil || rev != 1 {
		t.Errorf("the same write again: %d, %v; want 1 and no error", rev, err)
	}
	rival := state
	rival.Writer = "w2"
	if _, err := table.Save(ctx, rival); !errors.Is(err, handler.ErrStateConflict) {
		t.Errorf("a rival's Save of a stale revision: %v, want ErrStateConflict", err)
	}
	state.Rev, state.Outbox, state.Lease = rev, nil, handler.Lease{}
	if rev, err = table.Save(ctx, state); err != nil || rev != 2 {
		t.Fatalf("second Save: %d, %v", rev, err)
	}
	got, err := table.States(ctx, []handler.Meter{m, {MeterID: 8, Version: "x"}})
	state.Rev = 2
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[m], state) {
		t.Errorf("States = %+v, %v\nwant %+v", got, err, state)
	}

	// Unwatching keeps the memory; unwatching what was never there is fine.
	e2eMust(t, table.SetWatched(ctx, m, false))
	e2eMust(t, table.SetWatched(ctx, handler.Meter{MeterID: 9, Version: "0.0.1"}, false))
	if got, err := table.States(ctx, []handler.Meter{m}); err != nil || got[m].Watched || got[m].Rev != 2 {
		t.Errorf("after unwatching: %+v, %v", got[m], err)
	}
	if all, err := table.AllStates(ctx); err != nil || len(all) != 1 {
		t.Errorf("AllStates = %+v, %v; want meter 7 alone", all, err)
	}
}

// Reads in hundreds, and the watch list in pages, in meter order.
func TestStateTablePages(t *testing.T) {
	table, ctx := newTestStateTable(t), t.Context()
	var meters []handler.Meter
	for i := range 250 {
		m := handler.Meter{MeterID: int64(1000 - i), Version: "1.0." + fmt.Sprint(i%3)}
		meters = append(meters, m)
		if i%5 != 0 { // every fifth is checked, not watched
			e2eMust(t, table.SetWatched(ctx, m, true))
			continue
		}
		if _, err := table.Save(ctx, handler.MeterState{Meter: m, Status: "COMPLETED", StatusCode: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := table.States(ctx, meters); err != nil || len(got) != 250 {
		t.Errorf("States of 250: %d, %v", len(got), err)
	}
	var page []handler.MeterState
	var after *handler.Meter
	seen := 0
	for {
		var err error
		page, after, err = table.Watched(ctx, after, 64)
		e2eMust(t, err)
		for i, st := range page {
			if !st.Watched || i > 0 && page[i-1].MeterID >= st.MeterID {
				t.Fatalf("page out of order or unwatched: %+v", page)
			}
		}
		if seen += len(page); after == nil {
			break
		}
	}
	if seen != 200 {
		t.Errorf("the watch list had %d meters over its pages, want 200", seen)
	}
}

// Notifications: a claim, a refused second claim while it is held, a
// claim after it is given up, and "done" once handled.
func TestStateTableNotifications(t *testing.T) {
	table, ctx := newTestStateTable(t), t.Context()
	now := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	steps := []struct {
		do   func() (handler.NotificationClaim, error)
		want handler.NotificationClaim
	}{
		{func() (handler.NotificationClaim, error) {
			return table.ClaimNotification(ctx, "n1", "a", now, now.Add(time.Minute))
		}, handler.NotificationNew},
		{func() (handler.NotificationClaim, error) { // a's own claim again: its answer was lost
			return table.ClaimNotification(ctx, "n1", "a", now, now.Add(time.Minute))
		}, handler.NotificationNew},
		{func() (handler.NotificationClaim, error) {
			return table.ClaimNotification(ctx, "n1", "b", now.Add(time.Second), now.Add(time.Minute))
		}, handler.NotificationBusy},
		{func() (handler.NotificationClaim, error) {
			return table.ClaimNotification(ctx, "n1", "b", now.Add(2*time.Minute), now.Add(3*time.Minute)) // the lease ran out
		}, handler.NotificationNew},
		{func() (handler.NotificationClaim, error) {
			// a's lease ran out and b holds it: a finishes nothing.
			if err := table.FinishNotification(ctx, "n1", "a", true, now); !errors.Is(err, handler.ErrStateConflict) {
				t.Errorf("an expired delivery's finish: %v, want ErrStateConflict", err)
			}
			e2eMust(t, table.FinishNotification(ctx, "n1", "b", false, now)) // given up
			return table.ClaimNotification(ctx, "n1", "c", now.Add(2*time.Minute), now.Add(3*time.Minute))
		}, handler.NotificationNew},
		{func() (handler.NotificationClaim, error) {
			e2eMust(t, table.FinishNotification(ctx, "n1", "c", true, now.Add(7*24*time.Hour)))
			e2eMust(t, table.FinishNotification(ctx, "n1", "c", true, now.Add(7*24*time.Hour))) // its own, again
			return table.ClaimNotification(ctx, "n1", "d", now.Add(time.Hour), now.Add(time.Hour))
		}, handler.NotificationDone},
	}
	for i, st := range steps {
		if got, err := st.do(); err != nil || got != st.want {
			t.Errorf("step %d: %v, %v; want %v", i+1, got, err, st.want)
		}
	}
	all, err := table.AllStates(ctx)
	if err != nil || len(all) != 0 {
		t.Errorf("the notification shows among the meters: %+v, %v", all, err)
	}
	e2eMust(t, table.SetWatched(ctx, handler.Meter{MeterID: 5, Version: "1.0"}, true))
	e2eMust(t, table.SetWatched(ctx, handler.Meter{MeterID: 5, Version: "2.0"}, true))
	e2eMust(t, table.SetWatched(ctx, handler.Meter{MeterID: 50, Version: "1.0"}, true))
	got, err := table.WatchedVersions(ctx, 5)
	if err != nil || len(got) != 2 || fmt.Sprint(got[0].Meter, got[1].Meter) != "{5 1.0} {5 2.0}" || !got[0].Watched {
		t.Errorf("WatchedVersions(5) = %+v, %v", got, err)
	}
}
