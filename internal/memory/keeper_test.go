package memory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
)

var (
	t0   = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	m102 = memory.Meter{MeterID: 102, Version: "0.0.1"}
)

func observation(status string, code int, terminal bool) memory.Observation {
	return memory.Observation{Meter: m102, Status: status, StatusCode: code, Terminal: terminal,
		Report: json.RawMessage(`{"status":"` + status + `"}`)}
}

var (
	failed    = observation("FAILED", 8, true)
	completed = observation("COMPLETED", 7, true)
)

// topic is a Publisher that records what went out, and refuses while down.
type topic struct {
	mu   sync.Mutex
	sent []memory.Message
	down error
}

func (p *topic) publish(_ context.Context, m memory.Message) (memory.Message, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down != nil {
		m.Report = append(json.RawMessage(nil), `{"status":"FAILED","details":{"records":240}}`...) // what it added
		return m, p.down
	}
	p.sent = append(p.sent, m)
	return m, nil
}

func (p *topic) events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var es []string
	for _, m := range p.sent {
		es = append(es, m.Event)
	}
	return es
}

func keeper(store memory.Store) *memory.Keeper {
	return &memory.Keeper{Store: store, Rules: memory.Rules{AlertOn: []string{"FAILED"}, NotifyResolved: true}, Now: func() time.Time { return t0 }}
}

func record(t *testing.T, k *memory.Keeper, o memory.Observation, owner string, p *topic) error {
	t.Helper()
	states, err := k.Store.States(context.Background(), []memory.Meter{m102})
	if err != nil {
		t.Fatal(err)
	}
	prev, ok := states[m102]
	if !ok {
		prev = memory.State{Meter: m102}
	}
	_, err = k.Record(context.Background(), prev, o, owner, p.publish)
	return err
}

// Claim, publish, record: the page goes out once, and nothing is owed after.
func TestRecordPublishesOnce(t *testing.T) {
	store := statestore.NewMemory()
	k, p := keeper(store), &topic{}
	for i, o := range []memory.Observation{failed, failed, completed} {
		if err := record(t, k, o, "req-1#"+string(rune('1'+i)), p); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.events(); len(got) != 2 || got[0] != "alert" || got[1] != "resolved" {
		t.Errorf("published %v, want an alert and a resolution", got)
	}
	if s := store.Get(m102); len(s.Outbox) != 0 || s.Lease != (memory.Lease{}) {
		t.Errorf("after publishing: outbox %v, lease %+v", s.Outbox, s.Lease)
	}
}

// A refused publish leaves the message owed, as its publisher left it, and
// the lease free: the next check sends it at once, before what it saw.
func TestRefusedPublishStaysOwed(t *testing.T) {
	store := statestore.NewMemory()
	k, p := keeper(store), &topic{down: errors.New("sns: down")}
	if err := record(t, k, failed, "a#1", p); err == nil {
		t.Fatal("a refused publish did not fail the check")
	}
	s := store.Get(m102)
	if len(s.Outbox) != 1 || s.Lease != (memory.Lease{}) || string(s.Outbox[0].Report) != `{"status":"FAILED","details":{"records":240}}` {
		t.Fatalf("after the refusal: outbox %+v, lease %+v", s.Outbox, s.Lease)
	}
	p.down = nil
	if err := record(t, k, completed, "b#1", p); err != nil {
		t.Fatal(err)
	}
	if got := p.events(); len(got) != 2 || got[0] != "alert" || got[1] != "resolved" || string(p.sent[0].Report) != `{"status":"FAILED","details":{"records":240}}` {
		t.Errorf("published %v (%s), want the owed alert as first built, then the resolution", got, p.sent[0].Report)
	}
}

// Checks that decided on the same state meet at the conditional write: one
// publishes, the others re-read and find nothing to do.
func TestRivalsPublishOnce(t *testing.T) {
	store := statestore.NewMemory()
	k, p := keeper(store), &topic{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			_, err := k.Record(context.Background(), memory.State{Meter: m102}, failed, "req#"+string(rune('a'+i)), p.publish)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := p.events(); len(got) != 1 || store.Conflicts() == 0 {
		t.Errorf("%v from 12 rivals with %d conflicts, want one page and some conflicts", got, store.Conflicts())
	}
}

// A store that fails is ErrUnavailable: the caller alerts without memory.
func TestStoreUnavailable(t *testing.T) {
	store := statestore.NewMemory()
	store.SetErr(errors.New("dynamodb: throttled"))
	if _, err := keeper(store).Record(context.Background(), memory.State{Meter: m102}, failed, "a#1", (&topic{}).publish); !errors.Is(err, memory.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

// deadlineStore fails a write whose context is done, as the SDK does.
type deadlineStore struct{ *statestore.Memory }

func (d deadlineStore) Save(ctx context.Context, s memory.State) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return d.Memory.Save(ctx, s)
}

// Rule 8: a publish that takes what is left of the invocation's time does
// not leave its record unwritten: the publish stops early, and the record
// has time of its own.
func TestRecordOutlivesASlowPublish(t *testing.T) {
	store := deadlineStore{statestore.NewMemory()}
	k := keeper(store)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	slow := func(ctx context.Context, m memory.Message) (memory.Message, error) {
		<-ctx.Done() // SNS retries until the publish's own deadline
		return m, ctx.Err()
	}
	if _, err := k.Record(ctx, memory.State{Meter: m102}, failed, "a#1", slow); err == nil {
		t.Fatal("a publish that never answered succeeded")
	}
	if s := store.Get(m102); len(s.Outbox) != 1 || s.Lease != (memory.Lease{}) {
		t.Errorf("after the slow publish: outbox %d, lease %+v; want it owed and free", len(s.Outbox), s.Lease)
	}
}

// slowRecordStore takes its first Save (the claim) at once and keeps every
// later one (the record after the publish) until its context ends, noting
// that context's deadline.
type slowRecordStore struct {
	*statestore.Memory
	mu        sync.Mutex
	saves     int
	deadlines []time.Time
}

func (d *slowRecordStore) Save(ctx context.Context, s memory.State) (int64, error) {
	d.mu.Lock()
	d.saves++
	first := d.saves == 1
	deadline, _ := ctx.Deadline()
	d.deadlines = append(d.deadlines, deadline)
	d.mu.Unlock()
	if first {
		return d.Memory.Save(ctx, s)
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

// The record's own budget ends before the invocation's deadline, not at or
// after it: Lambda ends an invocation at its deadline, and one that is still
// writing then never replies (Sandbox.Timedout) however good its record.
func TestRecordEndsBeforeTheDeadline(t *testing.T) {
	store := &slowRecordStore{Memory: statestore.NewMemory()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	invocationEnds, _ := ctx.Deadline()
	slow := func(ctx context.Context, m memory.Message) (memory.Message, error) {
		<-ctx.Done()
		return m, ctx.Err()
	}
	if _, err := keeper(store).Record(ctx, memory.State{Meter: m102}, failed, "a#1", slow); err == nil {
		t.Fatal("a publish that never answered succeeded")
	}
	if len(store.deadlines) < 2 {
		t.Fatalf("%d saves; want the claim and a record", len(store.deadlines))
	}
	for _, d := range store.deadlines[1:] {
		if d.IsZero() || !d.Before(invocationEnds.Add(-100*time.Millisecond)) {
			t.Errorf("a record's deadline %s is not well before the invocation's %s", d.Format(time.StampMilli), invocationEnds.Format(time.StampMilli))
		}
	}
}

// A stale callout does nothing; an open alert with nothing to publish says
// since when.
func TestOutcome(t *testing.T) {
	store := statestore.NewMemory()
	k, p := keeper(store), &topic{}
	if err := record(t, k, failed, "a#1", p); err != nil {
		t.Fatal(err)
	}
	out, err := k.Record(context.Background(), store.Get(m102), failed, "b#1", p.publish)
	if err != nil || !out.OpenSince.Equal(t0) || out.Stale {
		t.Errorf("FAILED again: %+v, %v", out, err)
	}
	old := completed
	old.Callout, old.Session, old.At = true, "R-0", t0.Add(-time.Hour)
	out, err = k.Record(context.Background(), store.Get(m102), old, "c#1", p.publish)
	if err != nil || !out.Stale || len(p.events()) != 1 || store.Get(m102).Status != "FAILED" {
		t.Errorf("an old callout: %+v, %v; %v", out, err, p.events())
	}
}

// A message the topic will never take is given up and
// logged; it holds back nothing behind it — what was owed after it, and
// every later page, go out — and it is not the check's error: it is owed
// to no one, and a run failed for it would be repeated for nothing.
func TestUndeliverableGivenUp(t *testing.T) {
	store := statestore.NewMemory()
	k, p := keeper(store), &topic{}
	poison := func(ctx context.Context, m memory.Message) (memory.Message, error) {
		if m.Event == memory.EventAlert && len(p.events()) == 0 {
			return m, fmt.Errorf("sns: %w", memory.ErrUndeliverable)
		}
		return p.publish(ctx, m)
	}
	if err := record(t, k, failed, "a#1", &topic{down: errors.New("sns: down")}); err == nil {
		t.Fatal("a refused publish did not fail the check")
	}
	st := store.Get(m102)
	if _, err := k.Record(context.Background(), st, completed, "b#1", poison); err != nil {
		t.Errorf("err = %v, want none for a message given up", err)
	}
	if got := p.events(); len(got) != 1 || got[0] != "resolved" {
		t.Errorf("published %v, want the resolution behind the undeliverable alert", got)
	}
	if s := store.Get(m102); len(s.Outbox) != 0 || s.Lease != (memory.Lease{}) {
		t.Errorf("after: outbox %+v, lease %+v; want nothing owed", s.Outbox, s.Lease)
	}
	if _, err := k.Record(context.Background(), store.Get(m102), failed, "c#1", poison); err != nil {
		t.Fatal(err)
	}
	if got := p.events(); len(got) != 2 || got[1] != "alert" {
		t.Errorf("published %v, want the next failure paged", got)
	}
}

// A scheduled run's check asks Zuora about a due time once, from due −
// grace, though its write meets another writer's and it decides again.
func TestLateAskedOnceAcrossAConflict(t *testing.T) {
	store := statestore.NewMemory()
	ctx := context.Background()
	e, err := expect.New("0 * * * *", "UTC", "10m")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetWatch(ctx, m102, memory.Watch{Watched: true, Expect: &e, Since: t0.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, memory.State{Meter: m102, Watched: true, Status: "COMPLETED", StatusCode: 7, CheckedAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	states, err := store.States(ctx, []memory.Meter{m102})
	if err != nil {
		t.Fatal(err)
	}
	prev := states[m102]
	rival := prev
	rival.CheckedAt = t0 // another check wrote after prev was read
	if _, err := store.Save(ctx, rival); err != nil {
		t.Fatal(err)
	}
	var asked []time.Time
	obs := completed
	obs.Confirm = func(_ context.Context, from time.Time) (int, error) {
		asked = append(asked, from)
		return 0, nil
	}
	k := keeper(store)
	k.Now = func() time.Time { return t0.Add(15 * time.Minute) }
	p := &topic{}
	if _, err := k.Record(ctx, prev, obs, "me", p.publish); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || !asked[0].Equal(t0.Add(-10*time.Minute)) {
		t.Errorf("Zuora asked from %v; want once, from 10:50", asked)
	}
	if got := p.events(); len(got) != 1 || got[0] != memory.EventLate || store.Conflicts() != 1 {
		t.Errorf("published %v after %d conflicts; want one late page after one", got, store.Conflicts())
	}
}
