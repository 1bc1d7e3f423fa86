package statestore

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

var (
	m8 = memory.Meter{MeterID: 8, Version: "0.0.1"}
	m9 = memory.Meter{MeterID: 9, Version: "1"}
)

// The expectation and the mute are the routes' to write, never Save's:
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
	{"the mute is SetMute's; a watched item gets no expiry from it", func(t *testing.T, s subject) {
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		before := states(t, s, m7)[m7]
		mute := &memory.Mute{Until: at.Add(4 * time.Hour), Reason: "quarter-end maintenance"}
		must(t, s.store.SetMute(ctxB, m7, mute))
		before.Writer = "w2"
		_, err = s.store.Save(ctxB, before)
		must(t, err)
		got := states(t, s, m7)[m7]
		if got.Mute == nil || !got.Mute.Until.Equal(mute.Until) || got.Mute.Reason != mute.Reason || got.Rev != 2 {
			t.Errorf("after a Save of a state read before the mute: mute %+v, rev %d; want %+v", got.Mute, got.Rev, mute)
		}
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("a muted watched item expires at %v", exp)
		}
		must(t, s.store.SetMute(ctxB, m7, nil))
		got = states(t, s, m7)[m7]
		if got.Mute != nil || got.Rev != 2 || got.Status != "COMPLETED" || !got.Watched {
			t.Errorf("after lifting the mute: mute %+v, rev %d, status %q, watched %v", got.Mute, got.Rev, got.Status, got.Watched)
		}
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("a watched item whose mute was lifted expires at %v", exp)
		}
	}},
	{"a mute on an unwatched item keeps it until 35 days after the mute", func(t *testing.T, s subject) {
		_, err := s.store.Save(ctxB, fullState(m7, "w1"))
		must(t, err)
		until := time.Now().Add(20 * 24 * time.Hour).Truncate(time.Second)
		must(t, s.store.SetMute(ctxB, m7, &memory.Mute{Until: until}))
		if exp, ok := s.expiresAt(m7); !ok || !exp.Equal(until.Add(unwatchedKept)) {
			t.Errorf("a muted unwatched item expires at %v (%v), want %v", exp, ok, until.Add(unwatchedKept))
		}
		if got := states(t, s, m7)[m7]; got.Mute == nil || got.Mute.Reason != "" || got.Rev != 1 || got.Status != "COMPLETED" {
			t.Errorf("after the mute: mute %+v, rev %d, status %q", got.Mute, got.Rev, got.Status)
		}
		must(t, s.store.SetMute(ctxB, m7, nil)) // lifted: 35 days from now
		if exp, ok := s.expiresAt(m7); !ok || time.Until(exp) < unwatchedKept-time.Hour || time.Until(exp) > unwatchedKept {
			t.Errorf("an unwatched item whose mute was lifted expires at %v (%v)", exp, ok)
		}
		must(t, s.store.SetMute(ctxB, m7, &memory.Mute{Until: until}))
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true}))
		must(t, s.store.SetMute(ctxB, m7, &memory.Mute{Until: until.Add(time.Hour), Reason: "longer"}))
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("a watched item expires at %v after a mute", exp)
		}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false}))
		if got := states(t, s, m7)[m7]; got.Mute == nil || got.Mute.Reason != "longer" {
			t.Errorf("unwatching lost the mute: %+v", got.Mute)
		}
		if _, ok := s.expiresAt(m7); !ok {
			t.Error("an unwatched muted item never expires")
		}
	}},
	{"a mute on a meter with no item creates an expiring one", func(t *testing.T, s subject) {
		must(t, s.store.SetMute(ctxB, m9, nil)) // lifting a mute nobody set: nothing to write
		if all, err := s.store.AllStates(ctxB); err != nil || len(all) != 0 {
			t.Fatalf("lifting the mute of no item stored %+v, %v", all, err)
		}
		until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
		must(t, s.store.SetMute(ctxB, m9, &memory.Mute{Until: until, Reason: "migration"}))
		got, ok := states(t, s, m9)[m9]
		if !ok || got.Meter != m9 || got.Watched || got.Rev != 0 || got.Mute == nil || !got.Mute.Until.Equal(until) {
			t.Errorf("the item a mute created: %+v (stored %v)", got, ok)
		}
		if exp, ok := s.expiresAt(m9); !ok || !exp.Equal(until.Add(unwatchedKept)) {
			t.Errorf("it expires at %v (%v), want %v", exp, ok, until.Add(unwatchedKept))
		}
		if page, _, err := s.store.Watched(ctxB, nil, 10); err != nil || len(page) != 0 {
			t.Errorf("a mute put the meter on the watch list: %+v, %v", page, err)
		}
		// A first check's Save after it: revision 0, and the mute stays.
		if rev, err := s.store.Save(ctxB, memory.State{Meter: m9, Status: "COMPLETED", StatusCode: 7, CheckedAt: at}); err != nil || rev != 1 {
			t.Fatalf("the first Save after a mute: %d, %v", rev, err)
		}
		if got := states(t, s, m9)[m9]; got.Mute == nil || got.Mute.Reason != "migration" {
			t.Errorf("the first Save lost the mute: %+v", got.Mute)
		}
	}},
	{"Item seeds what the routes and Save leave", func(t *testing.T, s subject) {
		if s.put == nil {
			t.Skip("Item writes the table's items; the memory store has only its calls")
		}
		e, since := berlin(t), at.Add(-5*time.Hour)
		mute := &memory.Mute{Until: at.Add(time.Hour), Reason: "upgrade"}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: true, Expect: e, Since: since}))
		must(t, s.store.SetMute(ctxB, m7, mute))
		st := fullState(m7, "w1")
		st.Watched = true
		_, err := s.store.Save(ctxB, st)
		must(t, err)
		want := fullState(m8, "w1")
		want.Watched, want.Expect, want.ExpectSince, want.Mute, want.Rev = true, e, since, mute, 1
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
	{"SetMute retries once when the watch changes under it", func(t *testing.T, s subject) {
		if s.api == nil {
			t.Skip("the memory store has no race between two writes")
		}
		// Between SetMute's watched attempt and its unwatched one, a PUT
		// watch makes the item watched: the unwatched attempt is refused,
		// and the watched one, tried again, takes.
		racing := &racingAPI{API: s.api, race: func(ctx context.Context) {
			must(t, New(s.api, s.table).SetWatch(ctx, m7, memory.Watch{Watched: true}))
		}}
		until := time.Now().Add(time.Hour).Truncate(time.Second)
		must(t, New(racing, s.table).SetMute(ctxB, m7, &memory.Mute{Until: until}))
		if got := states(t, s, m7)[m7]; !got.Watched || got.Mute == nil || !got.Mute.Until.Equal(until) {
			t.Errorf("after the race: %+v", got)
		}
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("the watched item expires at %v", exp)
		}
		if racing.updates != 3 {
			t.Errorf("%d updates, want 3: watched, unwatched, watched again", racing.updates)
		}
		// A watch that keeps changing: an error after the one retry, no
		// expiry on the watched item.
		racing = &racingAPI{API: s.api}
		racing.race = func(ctx context.Context) {
			must(t, New(s.api, s.table).SetWatch(ctx, m7, memory.Watch{Watched: racing.updates%2 == 1}))
		}
		must(t, s.store.SetWatch(ctxB, m7, memory.Watch{Watched: false}))
		if err := New(racing, s.table).SetMute(ctxB, m7, nil); err == nil || racing.updates != 4 {
			t.Errorf("SetMute under a flapping watch: %v after %d updates, want an error after 4", err, racing.updates)
		}
		if exp, ok := s.expiresAt(m7); ok {
			t.Errorf("the watched item expires at %v", exp)
		}
	}},
}

// racingAPI runs race before each of its updates but the first.
type racingAPI struct {
	API
	race    func(ctx context.Context)
	updates int
}

func (r *racingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if r.updates > 0 {
		r.race(ctx)
	}
	r.updates++
	return r.API.UpdateItem(ctx, in, optFns...)
}
