package statestore

import (
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

var (
	m8 = memory.Meter{MeterID: 8, Version: "0.0.1"}
	m9 = memory.Meter{MeterID: 9, Version: "1"}
)

// The expectation is the watch route's to write, never Save's:
// a check that read the state before a PUT must not undo it.
var watchAndMuteCases = []conformanceCase{
	{"the expectation is SetWatch's, and a Save keeps it", func(t *testing.T, s subject) {
		e, since := berlin(t), at.Add(-3*time.Hour)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		before := states(t, s, m7)[m7] // a check's read, before the PUT
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true, Expect: e, Since: since}))
		before.Writer = "w2"
		if rev, err := s.store.Save(ctxB, before); err != nil || rev != 2 {
			t.Fatalf("Save of a state read before the PUT: %d, %v", rev, err)
		}
		got := states(t, s, m7)[m7]
		if !sameExpect(got.Expect, e) || !got.ExpectSince.Equal(since) || !got.Watched || got.Rev != 2 {
			t.Errorf("after the Save: expect %+v since %v, watched %v, rev %d; want %+v since %v",
				got.Expect, got.ExpectSince, got.Watched, got.Rev, e, since)
		}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true})) // a PUT without one removes it
		got.Writer = "w3"                                                // read with the expectation: Save does not write it back
		_, err = s.store.Save(ctxB, got)
		must(t, err)
		if got := states(t, s, m7)[m7]; got.Expect != nil || !got.ExpectSince.IsZero() || got.Rev != 3 {
			t.Errorf("a watch without an expectation, then a Save: expect %+v since %v, rev %d", got.Expect, got.ExpectSince, got.Rev)
		}
	}},
	{"unwatching removes the expectation", func(t *testing.T, s subject) {
		e := berlin(t)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true, Expect: e, Since: at}))
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false}))
		got, ok := states(t, s, m7)[m7]
		if !ok || got.Watched || got.Expect != nil || !got.ExpectSince.IsZero() {
			t.Errorf("after unwatching: %+v (stored %v)", got, ok)
		}
		// An unwatched meter version has no expectation, whatever the call says.
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false, Expect: e, Since: at}))
		if got := states(t, s, m7)[m7]; got.Expect != nil {
			t.Errorf("an unwatched meter version has the expectation %+v", got.Expect)
		}
	}},
	{"Item seeds what SetWatch and Save leave", func(t *testing.T, s subject) {
		if s.put == nil {
			t.Skip("Item writes the table's items; the memory store has only its calls")
		}
		e, since := berlin(t), at.Add(-5*time.Hour)
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true, Expect: e, Since: since}))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		want := fullState(m8, "w1")
		want.Watched, want.Expect, want.ExpectSince, want.Rev = true, e, since, 1
		item, err := Item(want)
		must(t, err)
		s.put(item)
		got := states(t, s, m7, m8)
		if !sameExpect(got[m8].Expect, e) {
			t.Errorf("Item's expectation reads back as %+v, want %+v", got[m8].Expect, e)
		}
		seeded, called := got[m8], got[m7]
		seeded.Expect, want.Expect, called.Expect = nil, nil, nil // compared above
		if !sameState(t, seeded, want) {
			t.Errorf("Item's state reads back as\n%+v\nwant\n%+v", seeded, want)
		}
		called.Meter = m8
		if !sameState(t, called, seeded) {
			t.Errorf("the calls leave\n%+v\nItem leaves\n%+v", called, seeded)
		}
	}},
	{"an expectation that no longer builds is read as none", func(t *testing.T, s subject) {
		if s.put == nil {
			t.Skip("only a stored item can outlive its zone")
		}
		gone := &expect.Expectation{Cron: "0 2 * * *", Timezone: "Atlantis/Poseidonia", Grace: time.Hour}
		item, err := Item(memory.State{Meter: m9, Watched: true, Expect: gone, ExpectSince: at})
		must(t, err)
		s.put(item)
		must(t, s.store.SetWatch(ctxB, m8, memory.Watch{Watched: true, Expect: berlin(t), Since: at}))
		page, _, err := s.store.Watched(ctxB, nil, 10)
		if err != nil || len(page) != 2 {
			t.Fatalf("the watch list with a lost zone: %+v, %v", page, err)
		}
		if page[0].Meter != m8 || page[0].Expect == nil || page[1].Meter != m9 || page[1].Expect != nil || !page[1].Watched {
			t.Errorf("the watch list: %+v", page)
		}
	}},
}
