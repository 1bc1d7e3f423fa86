package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/handler"
)

// itemOf is what Save and SetWatched together leave in the table for s.
func itemOf(s handler.MeterState) map[string]types.AttributeValue {
	it := stateTable{name: "t"}.key(s.Meter)
	it["meterId"] = &types.AttributeValueMemberN{Value: "123"}
	it["version"] = &types.AttributeValueMemberS{Value: s.Version}
	it["watched"] = &types.AttributeValueMemberBOOL{Value: s.Watched}
	it["rev"] = &types.AttributeValueMemberN{Value: "7"}
	for _, f := range checkStateFields(s) {
		if f.value != nil {
			it[f.name] = f.value
		}
	}
	return it
}

// A state survives the trip through DynamoDB's attribute values, times to
// the nanosecond and the owed message's result included.
func TestStateItemRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 28, 11, 0, 0, 123456789, time.UTC)
	since := at.Add(-time.Hour)
	states := []handler.MeterState{
		{Meter: handler.Meter{MeterID: 123, Version: "0.0.1"}, Rev: 7},
		{Meter: handler.Meter{MeterID: 123, Version: "0.0.1"}, Watched: true, Status: "FAILED", StatusCode: 8, Session: "R-42",
			CheckedAt: at, ChangedAt: since, AlertStatus: "FAILED", AlertSince: since, NotifiedAt: at, Rev: 7,
			Lease: handler.Lease{Owner: "req-1#1", Until: at.Add(time.Minute)}, Writer: "req-1#1",
			Outbox: []handler.PendingAlert{
				{Event: handler.EventAlert, ID: "abc", Result: handler.Result{MeterID: 123, Version: "0.0.1", Status: "FAILED", StatusCode: 8, CheckedAt: since.Truncate(time.Second)}},
				{Event: handler.EventResolved, ID: "def", ResolvesStatus: "FAILED", ResolvesSince: since,
					Result: handler.Result{MeterID: 123, Version: "0.0.1", Status: "COMPLETED", StatusCode: 7, CheckedAt: at.Truncate(time.Second)}}}},
	}
	for _, want := range states {
		got, err := decodeState(itemOf(want))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("state = %+v\nwant %+v", got, want)
		}
	}
	bad := itemOf(states[1])
	bad["checkedAt"] = &types.AttributeValueMemberS{Value: "yesterday"}
	if _, err := decodeState(bad); err == nil {
		t.Error("an unreadable checkedAt was taken")
	}
}
