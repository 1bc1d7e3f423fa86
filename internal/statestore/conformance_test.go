package statestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/memory"
)

// Both stores are handler.Store.
var (
	_ handler.Store = (*Table)(nil)
	_ handler.Store = (*Memory)(nil)
)

// subject is a store under test: a fresh one per case, and how to read
// when it would expire an item.
type subject struct {
	store     handler.Store
	expiresAt func(memory.Meter) (time.Time, bool)
	// The table's own, for what only it has (nil on the memory store):
	// its API and name, and a raw write of one item.
	api   API
	table string
	put   func(item map[string]types.AttributeValue)
}

// The one suite both stores pass: the in-memory store of the handler's
// tests is held to what the DynamoDB table does, on moto_server with the
// table the template declares. Each case gets a store of its own (a table
// of its own on DynamoDB).
func TestConformance(t *testing.T) {
	fresh := map[string]func(t *testing.T) subject{
		"memory": func(*testing.T) subject {
			m := NewMemory()
			return subject{store: m, expiresAt: m.ExpiresAt}
		},
		"dynamodb": dynamoSubject(t),
	}
	for name, newSubject := range fresh {
		t.Run(name, func(t *testing.T) {
			for _, c := range slices.Concat(conformanceCases, watchAndMuteCases) {
				t.Run(c.name, func(t *testing.T) { c.run(t, newSubject(t)) })
			}
		})
	}
}

// dynamoSubject starts moto once and gives each case a table of its own.
func dynamoSubject(t *testing.T) func(*testing.T) subject {
	var moto *localstack.Moto
	n := 0
	return func(tc *testing.T) subject {
		if moto == nil {
			moto = localstack.MotoForTest(t)
		}
		n++
		name := copyTable(tc, moto.DynamoDB, fmt.Sprintf("case-%d", n))
		ttl, err := localstack.StateTableTTL(filepath.Join("..", "..", "template.yaml"))
		if err != nil {
			tc.Fatal(err)
		}
		return subject{store: New(moto.DynamoDB, name), expiresAt: func(m memory.Meter) (time.Time, bool) {
			return rawExpiry(tc, moto.DynamoDB, name, ttl, m)
		}, api: moto.DynamoDB, table: name, put: func(item map[string]types.AttributeValue) {
			if _, err := moto.DynamoDB.PutItem(tc.Context(), &dynamodb.PutItemInput{TableName: aws.String(name), Item: item}); err != nil {
				tc.Fatal(err)
			}
		}}
	}
}

// copyTable creates a table like the template's (the stack created that
// one from it) under another name.
func copyTable(t *testing.T, db *dynamodb.Client, name string) string {
	d, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(localstack.StateTableName)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String(name),
		AttributeDefinitions: d.Table.AttributeDefinitions, KeySchema: d.Table.KeySchema, BillingMode: types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// rawExpiry reads the item's TTL attribute, under the name the template
// gives the table's TimeToLiveSpecification.
func rawExpiry(t *testing.T, db *dynamodb.Client, table, ttl string, m memory.Meter) (time.Time, bool) {
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: Key(m)})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := out.Item[ttl].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q is not epoch seconds", ttl, v.Value)
	}
	return time.Unix(sec, 0), true
}

type conformanceCase struct {
	name string
	run  func(t *testing.T, s subject)
}

var (
	m7   = memory.Meter{MeterID: 7, Version: "0.0.1"}
	at   = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	ctxB = context.Background()
)

// berlin is an expectation in a zone with daylight saving, whose due
// times are not UTC's.
func berlin(t testing.TB) *expect.Expectation {
	e, err := expect.New("0 2 * * *", "Europe/Berlin", "2h")
	if err != nil {
		t.Fatal(err)
	}
	return &e
}

// fullState uses every field Save keeps. Due times are in the
// expectation's zone, as the rules leave them.
func fullState(m memory.Meter, writer string) memory.State {
	since := at.Add(-time.Hour)
	e, _ := expect.New("0 2 * * *", "Europe/Berlin", "2h")
	due := time.Date(2026, 11, 28, 2, 0, 0, 0, e.Location())
	return memory.State{Meter: m, Status: "COMPLETED", StatusCode: 7, Session: "R-42", CheckedAt: at, ChangedAt: since,
		AlertStatus: "FAILED", AlertSince: since, NotifiedAt: at.Add(-time.Minute), AlertHeld: true,
		Outbox: []memory.Message{
			{Event: memory.EventAlert, ID: "a1", Report: json.RawMessage(`{"meterId":7,"status":"FAILED"}`), LastSeen: since.Add(-time.Hour)},
			{Event: memory.EventResolved, ID: "r1", Report: json.RawMessage(`{"meterId":7,"status":"COMPLETED"}`),
				Resolves: &memory.Resolution{Status: "FAILED", Since: since, Stuck: true}},
			{Event: memory.EventStuck, ID: "s1", Report: json.RawMessage(`{"meterId":7,"status":"RUNNING"}`),
				Stuck: &memory.Stuck{Since: since, For: 6*time.Hour + 10*time.Minute, Usual: 40 * time.Minute, Threshold: 2 * time.Hour}},
			{Event: memory.EventLate, ID: "l1", Report: json.RawMessage(`{"meterId":7,"status":"COMPLETED"}`), AfterMute: true,
				Late: &memory.Late{Due: due, Cron: "0 2 * * *", Timezone: "Europe/Berlin", Grace: 2 * time.Hour,
					LastRunAt: since.Add(-47 * time.Hour), Verified: true}},
			{Event: memory.EventResolved, ID: "r2", Report: json.RawMessage(`{"meterId":7,"status":"RUNNING"}`),
				Resolves: &memory.Resolution{Late: true, Due: due}},
		},
		RunStart:     since.Add(1234567 * time.Nanosecond),
		RunDurations: []time.Duration{40 * time.Minute, 38*time.Minute + 500*time.Millisecond, 41 * time.Minute},
		Stuck:        &memory.StuckAlert{Status: "RUNNING", NotifiedAt: at, Held: true},
		Runs: []memory.Span{{From: since.Add(-48 * time.Hour), To: since.Add(-47 * time.Hour)},
			{From: at.Add(-30 * time.Minute), To: at.Add(-30 * time.Minute)}},
		DueJudged: due,
		Late:      &memory.LateAlert{Due: due, Verified: true, NotifiedAt: at.Add(-2 * time.Minute), Held: true},
		Lease:     memory.Lease{Owner: writer, Until: at.Add(time.Minute)}, Writer: writer}
}

// sameState reports whether got is want as stored and read back: every
// due time keeps its zone's offset (the table reads it back in a zone of
// that offset, not the named zone), and all else is equal.
func sameState(t *testing.T, got, want memory.State) bool {
	t.Helper()
	got, want = copyState(got), copyState(want)
	g, w := dueTimes(&got), dueTimes(&want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if a, b := g[i].Format(time.RFC3339Nano), w[i].Format(time.RFC3339Nano); a != b {
			t.Errorf("due time %d reads back as %s, want %s", i, a, b)
		}
		*g[i], *w[i] = g[i].UTC(), w[i].UTC()
	}
	return reflect.DeepEqual(got, want)
}

// dueTimes are the times of s that are in the expectation's zone.
func dueTimes(s *memory.State) []*time.Time {
	out := []*time.Time{&s.DueJudged}
	if s.Late != nil {
		out = append(out, &s.Late.Due)
	}
	for i := range s.Outbox {
		if m := &s.Outbox[i]; m.Late != nil {
			out = append(out, &m.Late.Due)
		}
		if m := &s.Outbox[i]; m.Resolves != nil {
			out = append(out, &m.Resolves.Due)
		}
	}
	return out
}

// sameExpect reports whether got is e, rebuilt: the same strings, and the
// same due times.
func sameExpect(got, e *expect.Expectation) bool {
	if got == nil || e == nil {
		return got == e
	}
	gc, gz, gg := got.Strings()
	ec, ez, eg := e.Strings()
	return gc == ec && gz == ez && gg == eg && got.Next(at).Equal(e.Next(at)) && got.Location().String() == e.Location().String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var conformanceCases = []conformanceCase{
	{"first write, read back whole", func(t *testing.T, s subject) {
		want := fullState(m7, "w1")
		rev, err := s.store.Save(ctxB, want)
		if err != nil || rev != 1 {
			t.Fatalf("Save: %d, %v", rev, err)
		}
		got, err := s.store.States(ctxB, []memory.Meter{m7, {MeterID: 8, Version: "x"}})
		want.Rev = 1
		if err != nil || len(got) != 1 || !sameState(t, got[m7], want) {
			t.Errorf("States = %+v, %v\nwant %+v", got[m7], err, want)
		}
	}},
	{"conditional conflict", func(t *testing.T, s subject) {
		_, err := s.store.Save(ctxB, fullState(m7, "w1"))
		must(t, err)
		if _, err := s.store.Save(ctxB, fullState(m7, "w2")); !errors.Is(err, memory.ErrConflict) {
			t.Errorf("a rival's Save of revision 0 again: %v, want ErrConflict", err)
		}
		next := fullState(m7, "w2")
		next.Rev, next.Outbox, next.Lease = 1, nil, memory.Lease{}
		if rev, err := s.store.Save(ctxB, next); err != nil || rev != 2 {
			t.Errorf("Save at the stored revision: %d, %v", rev, err)
		}
		if got := states(t, s, m7)[m7]; got.Rev != 2 || len(got.Outbox) != 0 || got.Lease.Owner != "" {
			t.Errorf("after the second Save: %+v", got)
		}
	}},
	{"an own retried write is a success", func(t *testing.T, s subject) {
		st := fullState(m7, "w1")
		for range 2 { // the SDK's retry of a write whose answer was lost
			if rev, err := s.store.Save(ctxB, st); err != nil || rev != 1 {
				t.Errorf("Save: %d, %v; want 1, nil both times", rev, err)
			}
		}
		st.Rev = 1
		for range 2 {
			if rev, err := s.store.Save(ctxB, st); err != nil || rev != 2 {
				t.Errorf("Save at 1: %d, %v; want 2, nil both times", rev, err)
			}
		}
	}},
	{"the watch flag is SetWatch's alone", func(t *testing.T, s subject) {
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false})) // unwatching keeps the memory
		must(t, s.store.SetWatch(ctxB, memory.Meter{MeterID: 9, Version: "1"}, memory.Watch{Watched: false}))
		got := states(t, s, m7, memory.Meter{MeterID: 9, Version: "1"})
		if len(got) != 1 || got[m7].Watched || got[m7].Rev != 1 || got[m7].Status != "COMPLETED" {
			t.Errorf("after unwatching: %+v", got)
		}
	}},
	{"a Save that missed a PUT watch is refused", func(t *testing.T, s subject) {
		_, err := s.store.Save(ctxB, fullState(m7, "w1"))
		must(t, err)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		st := fullState(m7, "w2") // read before the PUT: unwatched
		st.Rev = 1
		if _, err := s.store.Save(ctxB, st); !errors.Is(err, memory.ErrConflict) {
			t.Errorf("Save of an unwatched state over a watched item: %v, want ErrConflict", err)
		}
		if got := states(t, s, m7)[m7]; !got.Watched {
			t.Error("the PUT watch was undone")
		}
	}},
	{"unwatched items expire by the template's TTL attribute", func(t *testing.T, s subject) {
		_, err := s.store.Save(ctxB, fullState(m7, "w1"))
		must(t, err)
		if exp, ok := s.expiresAt(m7); !ok || !exp.Equal(at.Add(unwatchedKept)) {
			t.Errorf("an unwatched item expires at %v (%v), want %v", exp, ok, at.Add(unwatchedKept))
		}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("a watched item expires at %v", exp)
		}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false}))
		if exp, ok := s.expiresAt(m7); !ok || time.Until(exp) < unwatchedKept-time.Hour {
			t.Errorf("an unwatched item expires at %v (%v)", exp, ok)
		}
	}},
	{"a Save that missed a DELETE watch leaves the item expiring", func(t *testing.T, s subject) {
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false}))
		st.Rev, st.Writer = 1, "w2" // read before the DELETE: watched
		if _, err := s.store.Save(ctxB, st); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if exp, ok := s.expiresAt(m7); !ok {
			t.Errorf("an unwatched item never expires (%v)", exp)
		}
		if got := states(t, s, m7)[m7]; got.Watched || got.Rev != 2 {
			t.Errorf("after the Save: watched %v, rev %d", got.Watched, got.Rev)
		}
	}},
	{"the schedule's own item, apart from the meters", func(t *testing.T, s subject) {
		if got, err := s.store.Schedule(ctxB); err != nil || !got.LastRun.IsZero() || got.Reached != nil {
			t.Errorf("before the first run: %+v, %v", got, err)
		}
		want := memory.Schedule{LastRun: at.Add(1500 * time.Millisecond), Reached: &memory.Meter{MeterID: 42, Version: "1.0"}}
		must(t, s.store.SaveSchedule(ctxB, want))
		if got, err := s.store.Schedule(ctxB); err != nil || !got.LastRun.Equal(want.LastRun) || got.Reached == nil || *got.Reached != *want.Reached {
			t.Errorf("Schedule = %+v, %v; want %+v", got, err, want)
		}
		must(t, s.store.SaveSchedule(ctxB, memory.Schedule{LastRun: at}))
		if got, err := s.store.Schedule(ctxB); err != nil || got.Reached != nil {
			t.Errorf("after a run that reached nothing: %+v, %v", got, err)
		}
		if all, err := s.store.AllStates(ctxB); err != nil || len(all) != 0 {
			t.Errorf("the schedule shows among the meters: %+v, %v", all, err)
		}
	}},
	{"keys left unprocessed are asked again", func(t *testing.T, s subject) {
		if s.api == nil {
			t.Skip("the memory store is never throttled")
		}
		want := memory.Schedule{LastRun: at, Reached: &memory.Meter{MeterID: 42, Version: "1.0"}}
		must(t, s.store.SaveSchedule(ctxB, want))
		_, err := s.store.Save(ctxB, fullState(m7, "w1"))
		must(t, err)
		// Two throttled answers, then DynamoDB's own.
		throttled := &throttledAPI{API: s.api, left: 2}
		got, err := New(throttled, s.table).Schedule(ctxB)
		if err != nil || !got.LastRun.Equal(want.LastRun) || got.Reached == nil || *got.Reached != *want.Reached {
			t.Errorf("Schedule after two throttled reads = %+v, %v; want %+v", got, err, want)
		}
		throttled.left = 2
		if got, err := New(throttled, s.table).States(ctxB, []memory.Meter{m7, m8}); err != nil || got[m7].Rev != 1 || len(got) != 1 {
			t.Errorf("States after two throttled reads = %+v, %v", got, err)
		}
		throttled.left = unprocessedTries
		if got, err := New(throttled, s.table).Schedule(ctxB); err == nil {
			t.Errorf("Schedule throttled on every try = %+v, want an error", got)
		}
	}},
	{"the watch list in pages, in meter order", func(t *testing.T, s subject) {
		for i := range 30 {
			m := memory.Meter{MeterID: int64(100 - i), Version: "1.0." + strconv.Itoa(i%3)}
			if i%5 == 0 { // checked, not watched
				_, err := s.store.Save(ctxB, memory.State{Meter: m, Status: "COMPLETED", StatusCode: 7, CheckedAt: at})
				must(t, err)
				continue
			}
			must(t, s.store.SetWatch(ctxB, m, memory.Watch{Watched: true}))
		}
		var seen []memory.Meter
		var after *memory.Meter
		for {
			page, next, err := s.store.Watched(ctxB, after, 7)
			must(t, err)
			for _, st := range page {
				seen = append(seen, st.Meter)
			}
			if next == nil {
				break
			}
			after = next
		}
		if len(seen) != 24 || !isSorted(seen) {
			t.Errorf("the watch list: %d meters %v, want 24 in order", len(seen), seen)
		}
		all, err := s.store.AllStates(ctxB)
		if err != nil || len(all) != 30 {
			t.Errorf("AllStates: %d, %v", len(all), err)
		}
		must(t, s.store.SetWatch(ctxB, memory.Meter{MeterID: 5, Version: "2.0"}, memory.Watch{Watched: true}))
		must(t, s.store.SetWatch(ctxB, memory.Meter{MeterID: 5, Version: "1.0"}, memory.Watch{Watched: true}))
		must(t, s.store.SetWatch(ctxB, memory.Meter{MeterID: 50, Version: "1.0"}, memory.Watch{Watched: true}))
		got, err := s.store.WatchedVersions(ctxB, 5)
		if err != nil || len(got) != 2 || got[0].Version != "1.0" || got[1].Version != "2.0" || !got[0].Watched {
			t.Errorf("WatchedVersions(5) = %+v, %v", got, err)
		}
	}},
	{"reads past one 1 MB page", func(t *testing.T, s subject) {
		// 30 items of 40 KB: DynamoDB's Query answers 1 MB at a time.
		report := json.RawMessage(`"` + strings.Repeat("x", 40<<10) + `"`)
		var meters []memory.Meter
		for i := range 30 {
			m := memory.Meter{MeterID: int64(i + 1), Version: "1"}
			meters = append(meters, m)
			must(t, s.store.SetWatch(ctxB, m, memory.Watch{Watched: true}))
			_, err := s.store.Save(ctxB, memory.State{Meter: m, Watched: true, Status: "FAILED", StatusCode: 8, CheckedAt: at,
				Outbox: []memory.Message{{Event: memory.EventAlert, ID: "a", Report: report}}})
			must(t, err)
		}
		all, err := s.store.AllStates(ctxB)
		if err != nil || len(all) != 30 || len(all[29].Outbox[0].Report) != len(report) {
			t.Errorf("AllStates over pages: %d, %v", len(all), err)
		}
		if got := states(t, s, meters...); len(got) != 30 {
			t.Errorf("States of 30: %d", len(got))
		}
	}},
	{"notifications: claims, leases, owners", func(t *testing.T, s subject) {
		claim := func(owner string, now time.Time) callout.Claim {
			c, err := s.store.ClaimNotification(ctxB, "n1", owner, now, now.Add(time.Minute))
			must(t, err)
			return c
		}
		steps := []struct {
			got, want callout.Claim
		}{
			{claim("a", at), callout.ClaimNew},
			{claim("a", at), callout.ClaimNew}, // a's own claim again: its answer was lost
			{claim("b", at.Add(time.Second)), callout.ClaimBusy},
			{claim("b", at.Add(2*time.Minute)), callout.ClaimNew}, // a's lease ran out
		}
		for i, st := range steps {
			if st.got != st.want {
				t.Errorf("claim %d: %v, want %v", i+1, st.got, st.want)
			}
		}
		// a's lease ran out and b holds it: a finishes nothing.
		if err := s.store.FinishNotification(ctxB, "n1", "a", true, at); !errors.Is(err, callout.ErrNotHeld) {
			t.Errorf("an expired delivery's finish: %v, want ErrNotHeld", err)
		}
		must(t, s.store.FinishNotification(ctxB, "n1", "b", false, at)) // given up
		if c := claim("c", at.Add(2*time.Minute)); c != callout.ClaimNew {
			t.Errorf("a claim after it was given up: %v", c)
		}
		must(t, s.store.FinishNotification(ctxB, "n1", "c", true, at.Add(7*24*time.Hour)))
		must(t, s.store.FinishNotification(ctxB, "n1", "c", true, at.Add(7*24*time.Hour))) // its own, again
		if c := claim("d", at.Add(time.Hour)); c != callout.ClaimDone {
			t.Errorf("a handled notification: %v, want ClaimDone", c)
		}
		if all, err := s.store.AllStates(ctxB); err != nil || len(all) != 0 {
			t.Errorf("the notification shows among the meters: %+v, %v", all, err)
		}
	}},
}

func states(t *testing.T, s subject, meters ...memory.Meter) map[memory.Meter]memory.State {
	t.Helper()
	got, err := s.store.States(ctxB, meters)
	must(t, err)
	return got
}

func isSorted(ms []memory.Meter) bool {
	for i := 1; i < len(ms); i++ {
		if memory.Compare(ms[i-1], ms[i]) >= 0 {
			return false
		}
	}
	return true
}

// throttledAPI answers its next left BatchGetItem calls as DynamoDB does
// under throttling: nothing read, every key handed back unprocessed.
type throttledAPI struct {
	API
	left int
}

func (a *throttledAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if a.left == 0 {
		return a.API.BatchGetItem(ctx, in, optFns...)
	}
	a.left--
	return &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: in.RequestItems}, nil
}
