package alert

import (
	"fmt"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

// late is the contract's "late" object: the due time no run came for, with
// the zone's offset, and the expectation it was due on.
type late struct {
	Due       string `json:"due"`
	Cron      string `json:"cron"`
	Timezone  string `json:"timezone"`
	Grace     string `json:"grace"`
	LastRunAt string `json:"lastRunAt,omitempty"`
	Verified  bool   `json:"verified"`
}

func lateObject(l memory.Late, e expect.Expectation) late {
	_, _, grace := e.Strings()
	out := late{Due: e.FormatDueRFC3339(l.Due), Cron: l.Cron, Timezone: l.Timezone, Grace: grace, Verified: l.Verified}
	if !l.LastRunAt.IsZero() {
		out.LastRunAt = l.LastRunAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	return out
}

// page is a message with what its texts would otherwise work out each
// time they need it: a late page's expectation, rebuilt from its cron (a
// parse) once for the JSON, the subject, the e-mail and the SMS.
type page struct {
	memory.Message
	due expect.Expectation // a late page's; the zero one for any other
}

func pageOf(msg memory.Message) page {
	p := page{Message: msg}
	if msg.Late != nil {
		p.due = expectationOf(*msg.Late)
	}
	return p
}

// newExpectation is expect.New, which parses the cron: a variable so that
// a test can count the parses a message costs.
var newExpectation = expect.New

// expectationOf rebuilds the expectation a late page names: its zone writes
// the due time as the meter's owners read their schedule, whatever zone the
// time came back from the store in. The grace is set as the page has it,
// not parsed again, so no bound of the watch route can refuse it. One that
// does not rebuild (the memory built it, so it should) falls back to UTC:
// a page is never lost for its wording.
func expectationOf(l memory.Late) expect.Expectation {
	e, err := newExpectation(l.Cron, l.Timezone, "")
	if err != nil {
		e = expect.Expectation{Cron: l.Cron, Timezone: l.Timezone}
	}
	e.Grace = l.Grace
	return e
}

// lateTail is what a late page says happened: "LATE, no run since due
// 2026-12-07 02:00 CET" for a subject, "LATE: no run since due 02:00 CET"
// for an SMS, which has no room for the date (the page comes within a day
// of it, unless a grace of days delays it).
func lateTail(l memory.Late, e expect.Expectation, short bool) string {
	if short {
		return "LATE: no run since due " + e.FormatDueShort(l.Due)
	}
	return "LATE, no run since due " + e.FormatDue(l.Due)
}

// writeLate is a due time no run came for: what was due, when a run was
// last seen, how the miss was confirmed, and what to do.
func writeLate(b *strings.Builder, r report, msg page) {
	l, e := *msg.Late, msg.due
	_, _, grace := e.Strings()
	if msg.Event == memory.EventReminder {
		fmt.Fprintf(b, "Meter %d, version %s: still no run since the run due %s.\n", r.MeterID, r.Version, dueAt(e, l.Due))
	} else {
		fmt.Fprintf(b, "Meter %d, version %s: no run came for the run due %s.\n", r.MeterID, r.Version, dueAt(e, l.Due))
	}
	fmt.Fprintf(b, "Due: on the cron %q in %s; a run going within %s either side of a due time meets it.\n", l.Cron, l.Timezone, grace)
	if l.LastRunAt.IsZero() {
		b.WriteString("Last run seen: never, as far as this function knows.\n")
	} else {
		fmt.Fprintf(b, "Last run seen: %s.\n", when(l.LastRunAt))
	}
	writeConfirmed(b, r, msg)
	b.WriteString("\nNext: check the upstream schedule or job that starts this meter's runs, and the meter in\n" +
		"Zuora (Mediation > Audit Trail > Runs): whether a run started, and if not, why not. A\n" +
		"resolution follows when a run of this meter version is seen.\n")
}

// dueAt is a due time as the e-mail says it: on the zone's clock, then in
// UTC, as the e-mail's other times are, unless the zone's clock reads UTC
// then (UTC itself, or London in winter) and it would say the same twice.
func dueAt(e expect.Expectation, t time.Time) string {
	s := e.FormatDue(t)
	if _, offset := t.In(e.Location()).Zone(); offset != 0 {
		s += " (" + when(t) + ")"
	}
	return s
}

// writeConfirmed is how the miss was confirmed. Only the page itself was
// judged by the check it reports, so only it can name the summary's end;
// a reminder, or a page held back by a mute, was judged earlier.
func writeConfirmed(b *strings.Builder, r report, msg page) {
	l := *msg.Late
	from, _ := msg.due.Window(l.Due)
	switch {
	case !l.Verified:
		fmt.Fprintf(b, "Not confirmed: Zuora could not be asked (no answer from its summary by %s, twice the grace past the due time); "+
			"this page may be a false alarm.\n", when(l.Due.Add(2*l.Grace)))
	case msg.Event == memory.EventLate && !msg.AfterMute && !r.CheckedAt.IsZero():
		fmt.Fprintf(b, "Confirmed: Zuora's summary from %s to this check (%s) lists no session.\n", when(from), when(r.CheckedAt))
	default:
		fmt.Fprintf(b, "Confirmed: Zuora's summary from %s on listed no session when the miss was judged, and no run has been seen since.\n", when(from))
	}
}

// writeLateResolved is the resolution of a late alert: a run came after
// all.
func writeLateResolved(b *strings.Builder, r report, res memory.Resolution) {
	fmt.Fprintf(b, "Meter %d, version %s: the late alert is closed. A run was seen after the due time missed at %s (%s saw %s at %s).\n",
		r.MeterID, r.Version, when(res.Due), seenBy(r), r.Status, when(r.CheckedAt))
	b.WriteString("The page said no run of this meter version had come for that due time, nor since.\n")
	b.WriteString("\nNothing to do.\n")
}
