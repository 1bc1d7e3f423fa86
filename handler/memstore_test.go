package handler

import (
	"context"
	"slices"
	"sync"
	"time"
)

// memStore is the Store in memory, with the DynamoDB store's semantics:
// Save is conditional on the revision (its own write again is a success)
// and leaves Watched alone; SetWatched touches nothing else. It counts its
// calls; err makes every call fail.
type memStore struct {
	mu        sync.Mutex
	items     map[Meter]MeterState
	err       error
	reads     int // States, AllStates and Watched calls
	writes    int // Save and SetWatched calls
	conflicts int // Saves refused for a stale revision
	notes     map[string]notification
}

func newMemStore() *memStore { return &memStore{items: map[Meter]MeterState{}} }

// copyState keeps callers from sharing the stored outbox.
func copyState(s MeterState) MeterState {
	s.Outbox = slices.Clone(s.Outbox)
	return s
}

func (m *memStore) States(_ context.Context, meters []Meter) (map[Meter]MeterState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	out := map[Meter]MeterState{}
	for _, k := range meters {
		if s, ok := m.items[k]; ok {
			out[k] = copyState(s)
		}
	}
	return out, nil
}

func (m *memStore) sorted() []MeterState {
	var all []MeterState
	for _, s := range m.items {
		all = append(all, copyState(s))
	}
	slices.SortFunc(all, func(a, b MeterState) int { return compareMeters(a.Meter, b.Meter) })
	return all
}

func (m *memStore) AllStates(context.Context) ([]MeterState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	return m.sorted(), nil
}

func (m *memStore) Save(_ context.Context, s MeterState) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.err != nil {
		return 0, m.err
	}
	cur := m.items[s.Meter]
	if cur.Rev == s.Rev+1 && s.Writer != "" && cur.Writer == s.Writer {
		return cur.Rev, nil // its own write, retried
	}
	if cur.Rev != s.Rev {
		m.conflicts++
		return 0, ErrStateConflict
	}
	s = copyState(s)
	s.Watched, s.Rev = cur.Watched, cur.Rev+1
	m.items[s.Meter] = s
	return s.Rev, nil
}

func (m *memStore) SetWatched(_ context.Context, k Meter, watched bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.err != nil {
		return m.err
	}
	s, ok := m.items[k]
	if !ok && !watched {
		return nil
	}
	s.Meter, s.Watched = k, watched
	m.items[k] = s
	return nil
}

func (m *memStore) Watched(_ context.Context, after *Meter, limit int) ([]MeterState, *Meter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return nil, nil, m.err
	}
	var page []MeterState
	for _, s := range m.sorted() {
		if !s.Watched || after != nil && compareMeters(s.Meter, *after) <= 0 {
			continue
		}
		if len(page) == limit {
			last := page[len(page)-1].Meter
			return page, &last, nil
		}
		page = append(page, s)
	}
	return page, nil, nil
}

func (m *memStore) get(k Meter) MeterState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copyState(m.items[k])
}

func (m *memStore) counts() (reads, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.writes
}

func (m *memStore) WatchedVersions(_ context.Context, meterID int64) ([]MeterState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	var out []MeterState
	for _, s := range m.sorted() {
		if s.MeterID == meterID && s.Watched {
			out = append(out, s)
		}
	}
	return out, nil
}

// notification is a callout notification id's record.
type notification struct {
	done       bool
	owner      string
	leaseUntil time.Time
}

func (m *memStore) ClaimNotification(_ context.Context, id, owner string, now, leaseUntil time.Time) (NotificationClaim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.err != nil {
		return 0, m.err
	}
	if m.notes == nil {
		m.notes = map[string]notification{}
	}
	n, ok := m.notes[id]
	switch {
	case ok && n.done:
		return NotificationDone, nil
	case ok && n.owner != owner && now.Before(n.leaseUntil):
		return NotificationBusy, nil
	}
	m.notes[id] = notification{owner: owner, leaseUntil: leaseUntil}
	return NotificationNew, nil
}

func (m *memStore) FinishNotification(_ context.Context, id, owner string, handled bool, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	if m.err != nil {
		return m.err
	}
	n := m.notes[id]
	switch {
	case n.owner != owner:
		return ErrStateConflict
	case n.done:
		if handled {
			return nil
		}
		return ErrStateConflict
	}
	m.notes[id] = notification{done: handled, owner: owner}
	return nil
}
