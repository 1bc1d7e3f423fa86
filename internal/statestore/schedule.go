package statestore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/memory"
)

// The scheduled runs' own item lives in the partition "schedule", apart
// from the meters, so that no read of the watch list meets it:
//
//	pk "schedule", sk "run"
//	lastRun                          RFC 3339: when the last scheduled run began
//	reachedMeterId, reachedVersion   the last meter version its rotation reached
var scheduleKey = map[string]types.AttributeValue{
	"pk": &types.AttributeValueMemberS{Value: "schedule"},
	"sk": &types.AttributeValueMemberS{Value: "run"},
}

// Schedule reads what the last scheduled run left (the zero Schedule
// before the first), strongly consistent: the next run goes on from it.
func (t *Table) Schedule(ctx context.Context) (memory.Schedule, error) {
	var s memory.Schedule
	err := t.batchGet(ctx, []map[string]types.AttributeValue{scheduleKey}, func(item map[string]types.AttributeValue) error {
		var err error
		s, err = decodeSchedule(item)
		return err
	})
	return s, err
}

func decodeSchedule(item map[string]types.AttributeValue) (memory.Schedule, error) {
	var s memory.Schedule
	if v, ok := item["lastRun"].(*types.AttributeValueMemberS); ok {
		at, err := time.Parse(time.RFC3339Nano, v.Value)
		if err != nil {
			return s, fmt.Errorf("the schedule's lastRun %q: %w", v.Value, err)
		}
		s.LastRun = at
	}
	id, idOK := item["reachedMeterId"].(*types.AttributeValueMemberN)
	version, vOK := item["reachedVersion"].(*types.AttributeValueMemberS)
	if idOK && vOK {
		n, err := strconv.ParseInt(id.Value, 10, 64)
		if err != nil {
			return s, fmt.Errorf("the schedule's reachedMeterId %q: %w", id.Value, err)
		}
		s.Reached = &memory.Meter{MeterID: n, Version: version.Value}
	}
	return s, nil
}

// SaveSchedule writes what a scheduled run leaves for the next: one
// unconditional write a run (the last run's word is the one that counts).
func (t *Table) SaveSchedule(ctx context.Context, s memory.Schedule) error {
	u := newUpdate()
	u.set("lastRun", &types.AttributeValueMemberS{Value: s.LastRun.UTC().Format(time.RFC3339Nano)})
	var id, version types.AttributeValue // nil removes them
	if s.Reached != nil {
		id = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Reached.MeterID, 10)}
		version = &types.AttributeValueMemberS{Value: s.Reached.Version}
	}
	u.set("reachedMeterId", id)
	u.set("reachedVersion", version)
	_, err := t.update(ctx, u, scheduleKey)
	return err
}
