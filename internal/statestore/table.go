// Package statestore keeps the function's memory in the DynamoDB table that
// template.yaml declares (STATE_TABLE): each meter version's check state
// (memory.Store), the watch list and the callout notifications already
// handled. Memory is the same in a map, for tests; one conformance suite
// holds both to the same behaviour.
package statestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/memory"
)

// API is the DynamoDB calls the table makes (*dynamodb.Client has them).
type API interface {
	dynamodb.QueryAPIClient
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Table is the function's memory on the DynamoDB table STATE_TABLE names
// (template.yaml declares it). Every meter version is one item of the
// partition "meter", sorted by a zero-padded meterId and the version, so
// one Query reads the whole watch list with its state, in meter order:
//
//	pk "meter", sk "00000000000000000123#0.0.1"
//	meterId, version, watched: the watch list (SetWatch)
//	expectCron, expectTimezone, expectGrace, expectSince: the expectation (SetWatch)
//	muteUntil, muteReason: the mute (SetMute)
//	status, statusCode, session, checkedAt, changedAt, alertStatus, alertSince,
//	notifiedAt, alertHeld, outbox, leaseOwner, leaseUntil, writer, runStart,
//	runDurations, stuck…, runs, dueJudged, late…: the check state (Save)
//	rev: the revision Save's condition compares
//	expiresAt: the table's TTL, on items nobody watches
//
// Callout notifications live in the partition "notification"
// (notifications.go).
type Table struct {
	api  API
	name string
}

// New returns the Table name (a table name or ARN) through api.
func New(api API, name string) *Table { return &Table{api: api, name: name} }

const (
	meterPartition = "meter"
	// batchGetMax is BatchGetItem's limit of keys per call.
	batchGetMax = 100
	// unprocessedTries bounds the rounds for keys BatchGetItem hands back
	// unprocessed (it does so under throttling).
	unprocessedTries = 5
	// unwatchedKept is how long the item of a meter version nobody watches
	// stays after its last write: long enough to keep an ad hoc check's
	// memory across a billing cycle, short enough that scheduled runs do
	// not read meters checked once for ever.
	unwatchedKept = 35 * 24 * time.Hour
)

// Key is the key of m's item.
func Key(m memory.Meter) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: meterPartition},
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%020d#%s", m.MeterID, m.Version)},
	}
}

// States reads the given meter versions with BatchGetItem, a hundred keys
// a call (one key is one call too: a single operation for every read keeps
// the SDK code the function links small). Reads are strongly consistent: a
// check decides on them.
func (t *Table) States(ctx context.Context, meters []memory.Meter) (map[memory.Meter]memory.State, error) {
	out := make(map[memory.Meter]memory.State, len(meters))
	for chunk := range slices.Chunk(meters, batchGetMax) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, m := range chunk {
			keys[i] = Key(m)
		}
		err := t.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
			s, err := decodeState(item)
			if err != nil {
				return err
			}
			out[s.Meter] = s
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchGet reads keys (at most batchGetMax) strongly consistent, handing
// each item found to each. Keys DynamoDB hands back unprocessed (it does
// so under throttling) are asked again, a few times, after a pause.
func (t *Table) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, each func(map[string]types.AttributeValue) error) error {
	for try := 1; len(keys) > 0; try++ {
		if try > unprocessedTries {
			return fmt.Errorf("BatchGetItem left %d keys unprocessed after %d tries", len(keys), unprocessedTries)
		}
		res, err := t.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			t.name: {Keys: keys, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return err
		}
		for _, item := range res.Responses[t.name] {
			if err := each(item); err != nil {
				return err
			}
		}
		if keys = res.UnprocessedKeys[t.name].Keys; len(keys) == 0 {
			return nil
		}
		select {
		case <-time.After(time.Duration(try) * 50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// AllStates reads the meter partition in pages (1 MB each: thousands of
// meter versions per call).
func (t *Table) AllStates(ctx context.Context) ([]memory.State, error) {
	var all []memory.State
	err := t.query(ctx, meterQuery{}, func(s memory.State) bool {
		all = append(all, s)
		return true
	})
	return all, err
}

// Watched reads watched meter versions after after, up to limit; one more
// is read to tell whether another page follows.
func (t *Table) Watched(ctx context.Context, after *memory.Meter, limit int) ([]memory.State, *memory.Meter, error) {
	var page []memory.State
	more := false
	err := t.query(ctx, meterQuery{after: after, watchedOnly: true}, func(s memory.State) bool {
		if len(page) == limit {
			more = true
			return false
		}
		page = append(page, s)
		return true
	})
	if err != nil || !more {
		return page, nil, err
	}
	last := page[len(page)-1].Meter
	return page, &last, nil
}

// WatchedVersions reads one meter's watched versions with their state
// (strongly consistent, as States).
func (t *Table) WatchedVersions(ctx context.Context, meterID int64) ([]memory.State, error) {
	var out []memory.State
	err := t.query(ctx, meterQuery{meterID: meterID, watchedOnly: true}, func(s memory.State) bool {
		out = append(out, s)
		return true
	})
	return out, err
}

// meterQuery is a read of the meter partition: all of it, the versions of
// one meter, or what follows a meter version; all items, or the watched.
type meterQuery struct {
	meterID     int64 // 0: every meter
	after       *memory.Meter
	watchedOnly bool
}

// query reads the meter partition in order, calling each until it returns
// false.
func (t *Table) query(ctx context.Context, q meterQuery, each func(memory.State) bool) error {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: meterPartition}},
		ConsistentRead:            aws.Bool(true),
	}
	if q.meterID != 0 {
		in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :meter)")
		in.ExpressionAttributeValues[":meter"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("%020d#", q.meterID)}
	}
	if q.after != nil {
		in.ExclusiveStartKey = Key(*q.after)
	}
	if q.watchedOnly {
		in.FilterExpression = aws.String("watched = :true")
		in.ExpressionAttributeValues[":true"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	pages := dynamodb.NewQueryPaginator(t.api, in)
	for pages.HasMorePages() {
		res, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range res.Items {
			s, err := decodeState(item)
			if err != nil {
				return err
			}
			if !each(s) {
				return nil
			}
		}
	}
	return nil
}

// Save writes the check state if the stored revision is still s.Rev. When
// the condition fails, the item DynamoDB returns tells a rival's write from
// this write's own earlier attempt, whose answer was lost and which the SDK
// retried: the same revision by the same writer. An unwatched item gets the
// table's TTL; the condition that it is still unwatched keeps a PUT watch
// that came in between from being undone.
func (t *Table) Save(ctx context.Context, s memory.State) (int64, error) {
	fields, err := encodeCheckState(s)
	if err != nil {
		return 0, err
	}
	u := newUpdate()
	u.set("meterId", &types.AttributeValueMemberN{Value: strconv.FormatInt(s.MeterID, 10)})
	u.set("version", &types.AttributeValueMemberS{Value: s.Version})
	for _, name := range checkStateNames() {
		u.set(name, fields[name]) // nil removes what the state leaves empty
	}
	u.set("pending", nil)
	u.set("rev", &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Rev+1, 10)})
	u.condition = "#rev = :oldRev"
	u.values[":oldRev"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Rev, 10)}
	if s.Rev == 0 {
		u.condition = "attribute_not_exists(#rev)"
		delete(u.values, ":oldRev")
	}
	// A watched item's expiry is SetWatch's to remove: a state read as
	// watched may have been unwatched since, and must not lose its expiry.
	if !s.Watched {
		u.set("expiresAt", epochSeconds(s.CheckedAt.Add(unwatchedKept)))
		u.condition = "(" + u.condition + ") AND (attribute_not_exists(#watched) OR #watched = :false)"
		u.names["#watched"] = "watched"
		u.values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	}
	refused, err := t.update(ctx, u, Key(s.Meter))
	switch {
	case err != nil:
		return 0, err
	case refused == nil:
		return s.Rev + 1, nil
	}
	if old, err := decodeState(refused); err == nil && old.Rev == s.Rev+1 && s.Writer != "" && old.Writer == s.Writer {
		return s.Rev + 1, nil // this write's own earlier attempt
	}
	return 0, memory.ErrConflict
}

// SetWatch sets the watch flag and the expectation, and nothing of the
// check state, so it never races a check's Save (which writes neither). An
// unwatched meter version has no expectation: unwatching removes it, as
// does a watch without one. A watched item never expires; an unwatched one
// does, as after a Save. Removing a meter that has no item is a no-op.
func (t *Table) SetWatch(ctx context.Context, m memory.Meter, w memory.Watch) error {
	fields, err := encodeWatch(w)
	if err != nil {
		return fmt.Errorf("the watch of meter %d version %s: %w", m.MeterID, m.Version, err)
	}
	u := newUpdate()
	u.set("watched", &types.AttributeValueMemberBOOL{Value: w.Watched})
	for _, name := range watchStateNames() {
		u.set(name, fields[name]) // nil removes what w leaves empty
	}
	if w.Watched {
		u.set("meterId", &types.AttributeValueMemberN{Value: strconv.FormatInt(m.MeterID, 10)})
		u.set("version", &types.AttributeValueMemberS{Value: m.Version})
		u.set("expiresAt", nil)
	} else {
		u.set("expiresAt", epochSeconds(time.Now().Add(unwatchedKept)))
		u.condition = "attribute_exists(pk)"
	}
	_, err = t.update(ctx, u, Key(m))
	return err
}

// SetMute sets the mute (nil removes it), and nothing of the check state
// or the watch. A mute may come before any watch or check, and the item it
// creates must expire like any unwatched one; a watched item must never
// get an expiry from it. One UpdateItem cannot branch on the item, so
// SetMute tries the watched case (leaving the expiry alone), then the
// unwatched or absent one (setting it), each conditioned on its case; a
// watch that changes in between sends it back to the first, once.
func (t *Table) SetMute(ctx context.Context, m memory.Meter, mute *memory.Mute) error {
	if mute != nil && mute.Until.IsZero() {
		mute = nil // a mute without an end mutes nothing; decodeState reads none
	}
	fields, err := encodeMute(mute)
	if err != nil {
		return fmt.Errorf("the mute of meter %d version %s: %w", m.MeterID, m.Version, err)
	}
	for range 2 {
		refused, err := t.update(ctx, muteUpdate(m, fields, nil), Key(m))
		switch {
		case err != nil || refused == nil:
			return err
		case len(refused) == 0 && mute == nil:
			return nil // no item: no mute to lift
		}
		// Not watched, or no item yet: like any unwatched item it is kept
		// 35 days after the last thing that happened to it, here the
		// mute's end, so that it outlives the mute (which the route allows
		// at most 30 days ahead: a later Save's expiry, 35 days after its
		// check, falls after the end too). Lifting a mute ends it now.
		end := time.Now()
		if mute != nil {
			end = mute.Until
		}
		refused, err = t.update(ctx, muteUpdate(m, fields, epochSeconds(end.Add(unwatchedKept))), Key(m))
		switch {
		case err != nil || refused == nil:
			return err
		case len(refused) == 0 && mute == nil:
			return nil // lifting the mute of a meter that has no item
		}
	}
	return fmt.Errorf("the mute of meter %d version %s: the watch kept changing under it", m.MeterID, m.Version)
}

// muteUpdate sets the mute's attributes (fields; absent ones are removed).
// Without expires, it is conditioned on the item being watched and leaves
// the expiry alone; with it, on the item being unwatched or, when it sets
// a mute, absent, and sets the expiry.
func muteUpdate(m memory.Meter, fields map[string]types.AttributeValue, expires types.AttributeValue) *update {
	u := newUpdate()
	for _, name := range muteStateNames() {
		u.set(name, fields[name])
	}
	u.names["#watched"] = "watched"
	if expires == nil {
		u.condition = "#watched = :true"
		u.values[":true"] = &types.AttributeValueMemberBOOL{Value: true}
		return u
	}
	u.set("expiresAt", expires)
	u.values[":false"] = &types.AttributeValueMemberBOOL{Value: false}
	if len(fields) == 0 { // lifting: no item to create
		u.condition = "attribute_exists(pk) AND (attribute_not_exists(#watched) OR #watched = :false)"
		return u
	}
	u.set("meterId", &types.AttributeValueMemberN{Value: strconv.FormatInt(m.MeterID, 10)})
	u.set("version", &types.AttributeValueMemberS{Value: m.Version})
	u.condition = "attribute_not_exists(#watched) OR #watched = :false"
	return u
}

// update makes u's UpdateItem on key. When its condition fails, it returns
// the item as it was (DynamoDB's ReturnValuesOnConditionCheckFailure), and
// no error.
func (t *Table) update(ctx context.Context, u *update, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	in := u.input(t.name, key)
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err := t.api.UpdateItem(ctx, in)
	var refused *types.ConditionalCheckFailedException
	if errors.As(err, &refused) {
		if refused.Item == nil {
			return map[string]types.AttributeValue{}, nil
		}
		return refused.Item, nil
	}
	return nil, err
}

// update builds an UpdateItem: every attribute goes through a name
// placeholder (status and version are reserved words); a nil value removes
// the attribute.
type update struct {
	sets, removes []string
	names         map[string]string
	values        map[string]types.AttributeValue
	condition     string
}

func newUpdate() *update {
	return &update{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (u *update) set(name string, v types.AttributeValue) {
	u.names["#"+name] = name
	if v == nil {
		u.removes = append(u.removes, "#"+name)
		return
	}
	u.sets = append(u.sets, "#"+name+" = :"+name)
	u.values[":"+name] = v
}

func (u *update) input(table string, key map[string]types.AttributeValue) *dynamodb.UpdateItemInput {
	var clauses []string // an update may only remove (lifting a mute)
	if len(u.sets) > 0 {
		clauses = append(clauses, "SET "+strings.Join(u.sets, ", "))
	}
	if len(u.removes) > 0 {
		clauses = append(clauses, "REMOVE "+strings.Join(u.removes, ", "))
	}
	expr := strings.Join(clauses, " ")
	in := &dynamodb.UpdateItemInput{
		TableName: &table, Key: key, UpdateExpression: &expr,
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	}
	if u.condition != "" {
		in.ConditionExpression = &u.condition
	}
	return in
}

// tableNameBytes are the bytes of a DynamoDB table name.
const tableNameBytes = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

// IsTableName accepts a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)
// or a table's ARN, as STATE_TABLE may give either.
func IsTableName(s string) bool {
	if a, err := arn.Parse(s); err == nil {
		name, ok := strings.CutPrefix(a.Resource, "table/")
		return a.Service == "dynamodb" && ok && IsTableName(name)
	}
	return len(s) >= 3 && len(s) <= 255 && strings.Trim(s, tableNameBytes) == ""
}
