package widget

import (
	"cmp"
	"net/url"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
)

// Page is what the widget shows: every watched meter version, and how to
// show them. Render counts the rows itself, so the counts cannot disagree
// with the table.
type Page struct {
	Rows []Row
	// LastScheduledRun is when the last scheduled run checked the watch
	// list; zero: never.
	LastScheduledRun time.Time
	// LastScheduledRunUnknown: the mark of the last scheduled run could
	// not be read, so the page cannot say when it was (not "never").
	LastScheduledRunUnknown bool
	Limit                   int    // rows shown, 1 to MaxLimit; 0: DefaultLimit
	Theme                   string // ThemeLight (also for "") or ThemeDark
	// Zone is the dashboard's time zone (Context.Location); nil: UTC.
	Zone *time.Location
	// Actions adds the buttons "Check now" and "Mute 4h" or "Unmute" to
	// each row, which call FunctionARN back with the row's meter version.
	Actions     bool
	FunctionARN string
	// Error, when set, is shown instead of the list: the table could not
	// be read. The widget says so rather than failing the invocation.
	Error string
	// Notice, when set, is shown above the list: what a button's action
	// did (a check's status, or why it could not be done).
	Notice string
	// Now is when the page is drawn: what "3h ago" and "muted" are measured
	// from. Zero: the time Render is called.
	Now time.Time
}

// Row is one meter version on the watch list, as the memory knows it.
type Row struct {
	MeterID   int64
	Version   string
	Status    string // the last status seen; "" before the first check
	Checked   bool   // false: never checked yet
	ChangedAt time.Time
	CheckedAt time.Time
	// AlertStatus is the status of the open alert, one in ALERT_ON; ""
	// when no alert is open. AlertOpenSince is when it was raised.
	AlertStatus    string
	AlertOpenSince time.Time
	OwedPages      int       // messages still owed to the topic
	StuckSince     time.Time // when the run paged as stuck began; zero: not stuck
	LateDue        time.Time // the first missed due time of an open late alert; zero: not late
	NextDueAt      time.Time // the next due time of its expectation; zero: none set
	MutedUntil     time.Time // muted while after Now
	MuteReason     string
	// Link is ALERT_LINK filled in for this meter version; shown only when
	// it is an https URL.
	Link string
}

// RowOf is the row of a meter version as the memory keeps it, at now, with
// its ALERT_LINK filled in.
func RowOf(s memory.State, now time.Time, link string) Row {
	r := Row{MeterID: s.MeterID, Version: s.Version, Status: s.Status, Checked: s.Rev > 0,
		ChangedAt: s.ChangedAt, CheckedAt: s.CheckedAt, AlertStatus: s.AlertStatus, AlertOpenSince: s.AlertSince,
		OwedPages: len(s.Outbox), Link: link}
	if s.Stuck != nil {
		r.StuckSince = s.RunStart
	}
	if s.Late != nil {
		r.LateDue = s.Late.Due
	}
	if s.Expect != nil {
		r.NextDueAt = s.Expect.Next(now)
	}
	if s.Mute.Muted(now) {
		r.MutedUntil, r.MuteReason = s.Mute.Until, s.Mute.Reason
	}
	return r
}

// The order of the table: problems first, the worst first, then muted
// meter versions, then the rest. A muted meter version's alert, stuck run or
// late run pages nobody, so it ranks with the muted ones; a page still owed
// ranks first even while muted, because it has not reached anyone yet.
const (
	rankOwed = iota
	rankAlert
	rankStuck
	rankLate
	rankMuted
	rankRest
)

func (r Row) muted(now time.Time) bool { return r.MutedUntil.After(now) }

func (r Row) rank(now time.Time) int {
	switch {
	case r.OwedPages > 0:
		return rankOwed
	case r.muted(now):
		return rankMuted
	case r.AlertStatus != "":
		return rankAlert
	case !r.StuckSince.IsZero():
		return rankStuck
	case !r.LateDue.IsZero():
		return rankLate
	}
	return rankRest
}

// counts are the heading's numbers, over every row (not only those shown).
type counts struct {
	Watched int
	AlertOn int // rows with an open alert in an ALERT_ON status
	Stuck   int
	Late    int
	Muted   int
	// PagesOwed is the sum of the messages owed to the topic, over all rows.
	PagesOwed int
}

func count(rows []Row, now time.Time) counts {
	c := counts{Watched: len(rows)}
	for _, r := range rows {
		c.PagesOwed += max(r.OwedPages, 0)
		if r.AlertStatus != "" {
			c.AlertOn++
		}
		if !r.StuckSince.IsZero() {
			c.Stuck++
		}
		if !r.LateDue.IsZero() {
			c.Late++
		}
		if r.muted(now) {
			c.Muted++
		}
	}
	return c
}

// order is rows as the table shows them: by rank, then by meterId, then by
// version. rows itself is left as it is (it is the caller's).
func order(rows []Row, now time.Time) []*Row {
	type keyed struct {
		rank int
		row  *Row
	}
	ks := make([]keyed, len(rows))
	for i := range rows {
		ks[i] = keyed{rows[i].rank(now), &rows[i]}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.row.MeterID, b.row.MeterID),
			cmp.Compare(a.row.Version, b.row.Version))
	})
	out := make([]*Row, len(ks))
	for i, k := range ks {
		out[i] = k.row
	}
	return out
}

// httpsLink is link when it is an absolute https URL with a host and no
// credentials; "" otherwise, so nothing else becomes a link.
func httpsLink(link string) string {
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}
