package statestore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
)

// Memory is the Table's behaviour in a map, for tests: the same conditions,
// the same own-write rule, the same expiry of unwatched items. It counts
// its calls, and SetErr makes every call fail. Safe for concurrent use.
type Memory struct {
	mu        sync.Mutex
	items     map[memory.Meter]memoryItem
	notes     map[string]note
	schedule  memory.Schedule
	err       error
	reads     int // States, AllStates, Watched and WatchedVersions calls
	writes    int // every call that writes
	conflicts int // Saves refused for a stale revision
}

type memoryItem struct {
	state     memory.State
	expiresAt time.Time // zero: never
}

// note is a callout notification's record.
type note struct {
	done       bool
	owner      string
	leaseUntil time.Time
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{items: map[memory.Meter]memoryItem{}, notes: map[string]note{}}
}

// copyState keeps callers from sharing what the stored state points to.
func copyState(s memory.State) memory.State {
	s.Outbox, s.RunDurations, s.Runs = slices.Clone(s.Outbox), slices.Clone(s.RunDurations), slices.Clone(s.Runs)
	s.Stuck, s.Late, s.Expect, s.Mute = clone(s.Stuck), clone(s.Late), clone(s.Expect), clone(s.Mute)
	for i, msg := range s.Outbox {
		s.Outbox[i].Resolves, s.Outbox[i].Stuck, s.Outbox[i].Late = clone(msg.Resolves), clone(msg.Stuck), clone(msg.Late)
	}
	return s
}

// clone is a copy of *p (nil: nil).
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (m *Memory) begin(write bool) (func(), error) {
	m.mu.Lock()
	if write {
		m.writes++
	} else {
		m.reads++
	}
	return m.mu.Unlock, m.err
}

// States returns the stored state of each of meters that has one.
func (m *Memory) States(_ context.Context, meters []memory.Meter) (map[memory.Meter]memory.State, error) {
	unlock, err := m.begin(false)
	defer unlock()
	if err != nil {
		return nil, err
	}
	out := map[memory.Meter]memory.State{}
	for _, k := range meters {
		if it, ok := m.items[k]; ok {
			out[k] = copyState(it.state)
		}
	}
	return out, nil
}

func (m *Memory) sorted(keep func(memory.State) bool) []memory.State {
	var all []memory.State
	for _, it := range m.items {
		if keep(it.state) {
			all = append(all, copyState(it.state))
		}
	}
	slices.SortFunc(all, func(a, b memory.State) int { return memory.Compare(a.Meter, b.Meter) })
	return all
}

// AllStates returns every stored meter version in meter order.
func (m *Memory) AllStates(context.Context) ([]memory.State, error) {
	unlock, err := m.begin(false)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return m.sorted(func(memory.State) bool { return true }), nil
}

// Save stores s's check state if the stored revision is still s.Rev.
func (m *Memory) Save(_ context.Context, s memory.State) (int64, error) {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return 0, err
	}
	cur := m.items[s.Meter]
	switch {
	case cur.state.Rev == s.Rev+1 && s.Writer != "" && cur.state.Writer == s.Writer:
		return cur.state.Rev, nil // its own write, retried
	case cur.state.Rev != s.Rev || !s.Watched && cur.state.Watched:
		m.conflicts++
		return 0, memory.ErrConflict
	}
	s = copyState(s)
	// The watch, its expectation and the mute are not Save's to write.
	s.Watched, s.Expect, s.ExpectSince, s.Mute = cur.state.Watched, cur.state.Expect, cur.state.ExpectSince, cur.state.Mute
	s.Rev = cur.state.Rev + 1
	var expires time.Time
	if !s.Watched {
		expires = s.CheckedAt.Add(unwatchedKept)
	}
	m.items[s.Meter] = memoryItem{state: s, expiresAt: expires}
	return s.Rev, nil
}

// SetWatch adds k to the watch list, with w's expectation, or removes it,
// as the Table does.
func (m *Memory) SetWatch(_ context.Context, k memory.Meter, w memory.Watch) error {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return err
	}
	it, ok := m.items[k]
	if !ok && !w.Watched {
		return nil
	}
	it.state.Meter, it.state.Watched, it.expiresAt = k, w.Watched, time.Time{}
	it.state.Expect, it.state.ExpectSince = nil, time.Time{}
	if w.Watched && w.Expect != nil {
		e := *w.Expect
		it.state.Expect, it.state.ExpectSince = &e, w.Since
	}
	if !w.Watched {
		it.expiresAt = time.Now().Add(unwatchedKept)
	}
	m.items[k] = it
	return nil
}

// SetMute sets k's mute or lifts it (nil), as the Table does: an unwatched
// or new item expires 35 days after the mute ends (lifted: from now); a
// watched one keeps no expiry.
func (m *Memory) SetMute(_ context.Context, k memory.Meter, mute *memory.Mute) error {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return err
	}
	if mute != nil && mute.Until.IsZero() {
		mute = nil
	}
	it, ok := m.items[k]
	if !ok && mute == nil {
		return nil
	}
	it.state.Meter, it.state.Mute = k, nil
	end := time.Now()
	if mute != nil {
		cp := *mute
		it.state.Mute, end = &cp, mute.Until
	}
	if !it.state.Watched {
		it.expiresAt = end.Add(unwatchedKept)
	}
	m.items[k] = it
	return nil
}

// Watched returns a page of the watch list after after.
func (m *Memory) Watched(_ context.Context, after *memory.Meter, limit int) ([]memory.State, *memory.Meter, error) {
	unlock, err := m.begin(false)
	defer unlock()
	if err != nil {
		return nil, nil, err
	}
	page := m.sorted(func(s memory.State) bool {
		return s.Watched && (after == nil || memory.Compare(s.Meter, *after) > 0)
	})
	if len(page) <= limit {
		return page, nil, nil
	}
	last := page[limit-1].Meter
	return page[:limit], &last, nil
}

// WatchedVersions returns one meter's watched versions with their state.
func (m *Memory) WatchedVersions(_ context.Context, meterID int64) ([]memory.State, error) {
	unlock, err := m.begin(false)
	defer unlock()
	if err != nil {
		return nil, err
	}
	return m.sorted(func(s memory.State) bool { return s.MeterID == meterID && s.Watched }), nil
}

// ClaimNotification takes a notification for owner, as the Table does.
func (m *Memory) ClaimNotification(_ context.Context, id, owner string, now, leaseUntil time.Time) (callout.Claim, error) {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return 0, err
	}
	n, ok := m.notes[id]
	switch {
	case ok && n.done:
		return callout.ClaimDone, nil
	case ok && n.owner != owner && now.Before(n.leaseUntil):
		return callout.ClaimBusy, nil
	}
	m.notes[id] = note{owner: owner, leaseUntil: leaseUntil}
	return callout.ClaimNew, nil
}

// FinishNotification finishes a notification owner holds, as the Table does.
func (m *Memory) FinishNotification(_ context.Context, id, owner string, handled bool, _ time.Time) error {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return err
	}
	n := m.notes[id]
	switch {
	case n.owner == owner && n.done && handled:
		return nil // its own write, retried
	case n.owner != owner || n.done:
		return fmt.Errorf("notification %s: %w", id, callout.ErrNotHeld)
	}
	m.notes[id] = note{done: handled, owner: owner}
	return nil
}

// Schedule returns what the last scheduled run left.
func (m *Memory) Schedule(context.Context) (memory.Schedule, error) {
	unlock, err := m.begin(false)
	defer unlock()
	s := m.schedule
	if s.Reached != nil {
		reached := *s.Reached
		s.Reached = &reached
	}
	return s, err
}

// SaveSchedule keeps what a scheduled run leaves for the next.
func (m *Memory) SaveSchedule(_ context.Context, s memory.Schedule) error {
	unlock, err := m.begin(true)
	defer unlock()
	if err != nil {
		return err
	}
	if s.Reached != nil {
		reached := *s.Reached
		s.Reached = &reached
	}
	m.schedule = s
	return nil
}

// SetErr makes every call fail with err (nil: succeed again).
func (m *Memory) SetErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Counts returns the read and write calls so far.
func (m *Memory) Counts() (reads, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.writes
}

// Get returns m's stored state, without counting a read.
func (m *Memory) Get(k memory.Meter) memory.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copyState(m.items[k].state)
}

// ExpiresAt is when the table's TTL would delete k's item, and whether it
// would.
func (m *Memory) ExpiresAt(k memory.Meter) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[k]
	return it.expiresAt, !it.expiresAt.IsZero()
}

// Conflicts returns the Saves refused for a stale revision so far.
func (m *Memory) Conflicts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conflicts
}
