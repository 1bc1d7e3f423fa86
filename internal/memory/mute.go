package memory

import "time"

// Muting (planned maintenance): while a meter version is muted nothing is
// published for it, and checks go on — the memory records what they see.
// A page a mute holds back marks its condition held; when the mute ends
// (its time passes, or it is lifted), each condition still open pages
// once, afterMute. What began and ended inside the mute says nothing, not
// even a resolution; what was owed before it stays owed, and goes out
// after it.

// muting applies next's mute to the messages a check decided (fresh): while
// muted, each is held back (counted in held) — a page marks its condition
// held, the rest is dropped. Once not muted, it adds the pages of the held
// conditions still open.
func (r Rules) muting(next *State, fresh []*Message, now time.Time) (out []*Message, held int) {
	at := now.Truncate(time.Second)
	if next.Mute.Muted(at) {
		for _, m := range fresh {
			if m == nil {
				continue
			}
			held++
			switch {
			case m.Event == EventAlert:
				next.AlertHeld = true
			case m.Event == EventStuck && next.Stuck != nil:
				next.Stuck.Held = true
			case m.Event == EventLate && next.Late != nil:
				next.Late.Held = true
			}
		}
		return nil, held
	}
	return append(fresh, r.afterMute(next, now)...), 0
}

// afterMute pages, once, each condition a mute held back that is still
// open, and forgets the marks of those that closed meanwhile.
func (r Rules) afterMute(next *State, now time.Time) []*Message {
	at := now.Truncate(time.Second)
	var out []*Message
	if next.AlertHeld && next.AlertStatus != "" {
		next.NotifiedAt = at
		out = append(out, &Message{Event: EventAlert, AfterMute: true})
	}
	next.AlertHeld = false
	if next.Stuck != nil && next.Stuck.Held {
		next.Stuck = &StuckAlert{Status: next.Stuck.Status, NotifiedAt: at}
		stuck := r.stuckNow(*next, now)
		out = append(out, &Message{Event: EventStuck, Stuck: &stuck, AfterMute: true})
	}
	if next.Late != nil && next.Late.Held {
		late := *next.Late
		late.Held, late.NotifiedAt = false, at
		next.Late = &late
		out = append(out, &Message{Event: EventLate, Late: lateOf(*next), AfterMute: true})
	}
	return out
}
