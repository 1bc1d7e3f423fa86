package expect

import "time"

// Due times are the wall-clock times the cron names, read on the zone's
// clock, each one due once:
//
//   - a time the clock skips when it springs forward (02:30 in
//     Europe/Berlin on 2026-03-29) is due when the clock jumps past it
//     (03:00 CEST), as cron runs a job of the skipped hour right after the
//     change;
//   - a time the clock shows twice when it falls back (02:30 on
//     2026-10-25) is due the first time only (02:30 CEST), as cron does
//     not run a job twice.
//
// So "30 2 * * *" is due once every day of the year. robfig/cron, asked in
// the zone, is not: it skips the first day and fires twice on the second.
// An hourly cron has one due time, not two, in the hour the clock repeats,
// and in the hour it skips the due time moves to the jump.

// Next is the first due time strictly after after, in the expectation's
// zone; the zero time when there is none within five years (a cron that
// names only 29 February, around 2100).
func (e Expectation) Next(after time.Time) time.Time {
	if e.wall == nil || e.loc == nil {
		return time.Time{}
	}
	// No wall-clock time before after's own reading is due after it: the
	// reading's first showing is at or before after, and a later reading
	// never comes earlier.
	w := wallClock(after.In(e.loc))
	for {
		w = e.wall.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		if t := e.instant(w); t.After(after) {
			return t
		}
	}
}

// lookBack bounds how far Last looks: every cron New takes has a due time
// at least every eight years (29 February skips 2100).
const lookBack = 9 * 366 * 24 * time.Hour

// Last is the latest due time at or before atOrBefore and after since:
// the one a late page names when several were missed (rule 7). It looks
// back in spans that double, so it reads few due times however old since
// is.
func (e Expectation) Last(atOrBefore, since time.Time) (time.Time, bool) {
	for span := time.Hour; ; span *= 2 {
		from := atOrBefore.Add(-span)
		done := span >= lookBack || !from.After(since)
		if !from.After(since) {
			from = since
		}
		var last time.Time
		for t := e.Next(from); !t.IsZero() && !t.After(atOrBefore); t = e.Next(t) {
			last = t
		}
		if !last.IsZero() || done {
			return last, !last.IsZero()
		}
	}
}

// instant is when the zone's clock shows the wall-clock time w (w's
// fields, read in UTC): the jump past it when the clock skips it, the
// first showing when the clock shows it twice.
func (e Expectation) instant(w time.Time) time.Time {
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, e.loc)
	if got := wallClock(t); !got.Equal(w) {
		// Skipped. time.Date moved it across the jump one way or the other;
		// the jump is where t's zone starts, or where it ends.
		start, end := t.ZoneBounds()
		if got.After(w) && !start.IsZero() {
			return start
		}
		if !end.IsZero() {
			return end
		}
		return t
	}
	return firstShowing(t)
}

// firstShowing is the first time the clock showed what it shows at t: an
// hour earlier when t is in the hour repeated after the clock fell back.
func firstShowing(t time.Time) time.Time {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return t
	}
	_, before := start.Add(-time.Second).Zone()
	_, after := t.Zone()
	back := time.Duration(before-after) * time.Second // how far the clock fell back at start
	if back <= 0 || t.Sub(start) >= back {
		return t
	}
	return t.Add(-back)
}

// wallClock is what t's clock shows, as a time in UTC.
func wallClock(t time.Time) time.Time {
	_, offset := t.Zone()
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

// Window is the span a run meets the due time t in: a run known to be
// going from t − grace to t + grace (rule 2).
func (e Expectation) Window(t time.Time) (from, to time.Time) {
	return t.Add(-e.Grace), t.Add(e.Grace)
}

// Unverified says whether a page for the due time t goes out at now though
// Zuora could not confirm the miss: t + 2 × grace has passed (rule 5).
func (e Expectation) Unverified(t, now time.Time) bool {
	return now.After(t.Add(2 * e.Grace))
}
