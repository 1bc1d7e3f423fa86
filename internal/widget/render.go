package widget

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxBytes bounds Render's HTML, whatever the rows, Limit and Actions: rows
// that would pass it are left out and counted in "N more". (300 KB in
// decimal, so that it holds in either reading of "KB".)
const MaxBytes = 300_000

// Bounds of what one row shows of a value, so that one odd value cannot
// take the widget's room: a version is at most 64 characters (Zuora's), a
// mute's reason at most 200 (the contract's); a link longer than
// maxLink is not shown.
const (
	maxShown  = 80
	maxReason = 200
	maxLink   = 2048
	maxError  = 1000
)

// Why rows were left out.
const (
	whyLimit = "the widget's params.limit is %d."
	whySize  = "the rest would pass the widget's size limit."
)

// Render writes the widget's HTML for p: the counts, the last scheduled
// run, then the rows, problems first, at most p.Limit of them and never
// more than MaxBytes in all. The error is the HTML writer's refusal of this
// package's own markup (see htmlWriter); the tests reach all of it, so it
// does not happen.
func Render(p Page) (string, error) {
	c := newClock(p.Now, p.Zone)
	var theme markup = sectionLight
	if p.Theme == ThemeDark {
		theme = sectionDark
	}
	var w htmlWriter
	if p.Error != "" {
		writeError(&w, theme, clipRunes(p.Error, maxError))
		return w.String()
	}
	rows := order(p.Rows, c.now)
	s := newSummary(p, c, theme, len(rows) == 0)
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit, len(rows))
	// The page without its rows, saying the most "N more" could say (the
	// most rows, the longer reason once escaped), is what the rows leave
	// room for.
	var frame htmlWriter
	writeTop(&frame, s)
	writeBottom(&frame, s.empty, len(rows), longestWhy())
	if frame.err != nil {
		return "", frame.err
	}
	budget := MaxBytes - frame.Len()
	// One allocation for a page of typical rows and the row that would
	// pass the budget, rather than a doubling series of them.
	w.b = make([]byte, 0, min(MaxBytes, frame.Len()+limit*1280)+4096)
	writeTop(&w, s)
	start, shown := w.Len(), 0
	for _, r := range rows[:limit] {
		m := w.mark()
		writeRow(&w, r, p, c)
		if w.Len()-start > budget {
			w.reset(m)
			break
		}
		shown++
	}
	more, why := len(rows)-shown, ""
	switch {
	case shown < limit:
		why = whySize
	case more > 0:
		why = fmt.Sprintf(whyLimit, limit)
	}
	writeBottom(&w, s.empty, more, why)
	return w.String()
}

// longestWhy is the reason for "N more" that is the longer once escaped.
func longestWhy() string {
	if l := fmt.Sprintf(whyLimit, MaxLimit); len(html.EscapeString(l)) > len(html.EscapeString(whySize)) {
		return l
	}
	return whySize
}

// summary is the page around the rows.
type summary struct {
	theme        markup // the section's start tag
	counts       counts
	clock        clock
	lastRun      time.Time // zero: never
	lastUnknown  bool      // the mark could not be read
	zone, notice string
	empty        bool // no row: the table is not drawn
}

func newSummary(p Page, c clock, theme markup, empty bool) summary {
	return summary{theme: theme, counts: count(p.Rows, c.now), clock: c, lastRun: p.LastScheduledRun,
		lastUnknown: p.LastScheduledRunUnknown,
		zone:        c.zone.String(), notice: clipRunes(p.Notice, maxError), empty: empty}
}

// head is the page's beginning, before its section: CloudWatch takes no
// script in a widget; there is none, and no inline event handler. The
// console's own styles are turned off (cwdb-no-default-styles) so that the
// widget looks the same in the console as in its tests.
const head = `<div class="cwdb-no-default-styles"></div>
<style>
.zw{font:13px/1.4 "Amazon Ember","Helvetica Neue",Roboto,Arial,sans-serif;padding:4px 8px;box-sizing:border-box;max-width:100%;overflow-wrap:anywhere}
.zw.light{background:#fff;color:#000716}.zw.dark{background:#0f1b2a;color:#d1d5db}
.zw ul{list-style:none;margin:0 0 4px;padding:0;display:flex;flex-wrap:wrap;gap:2px 12px}
.zw li b{font-size:15px}.zw p{margin:2px 0 6px}
.zw table{width:100%;border-collapse:collapse;table-layout:fixed}
.zw th{text-align:left;font-weight:bold;padding:2px 4px}
.zw td{vertical-align:top;padding:4px}
.zw th.m{width:20%}.zw th.s{width:26%}.zw .t{white-space:nowrap}
.zw .b{display:inline-block;margin:0 2px 2px 0;padding:0 4px;border-radius:3px;font-size:12px;font-weight:bold}
.zw .a a{display:inline-block;margin:2px 4px 0 0;padding:0 6px;border:1px solid;border-radius:3px;cursor:pointer;font-weight:bold}
.light .k{color:#5f6b7a}.light a{color:#0972d3}.light td,.light th{border-bottom:1px solid #e9ebed}
.light .bad{background:#d91515;color:#fff}.light .warn{background:#8d6605;color:#fff}.light .ok{background:#037f0c;color:#fff}
.light .n{background:#e9ebed;color:#000716}.light .mute{background:#5f6b7a;color:#fff}.light .err{background:#fff7f7;color:#d91515}
.dark .k{color:#9ba7b6}.dark a{color:#42b4ff}.dark td,.dark th{border-bottom:1px solid #414d5c}
.dark .bad{background:#ff7a7a;color:#0f1b2a}.dark .warn{background:#ffe347;color:#0f1b2a}.dark .ok{background:#29ad32;color:#0f1b2a}
.dark .n{background:#414d5c;color:#fff}.dark .mute{background:#8d99a8;color:#0f1b2a}.dark .err{background:#1a2029;color:#ff7a7a}
.zw .err{padding:6px 8px;border:1px solid}
</style>
`

// The section's start tag, in either theme.
const (
	sectionLight = `<section class="zw ` + ThemeLight + `">`
	sectionDark  = `<section class="zw ` + ThemeDark + `">`
)

func writeError(w *htmlWriter, theme markup, msg string) {
	w.Markup(head)
	w.Markup(theme)
	w.Markup("\n" + `<p class="err" role="alert"><strong>The watch list could not be read.</strong> `)
	w.Text(msg)
	w.Markup("</p>\n</section>\n")
}

// writeTop writes the page up to its first row: the counts, the last
// scheduled check, the notice, and the table's head (or that there is no
// row).
func writeTop(w *htmlWriter, s summary) {
	w.Markup(head)
	w.Markup(s.theme)
	w.Markup("\n" + `<ul class="counts">`)
	var pages markup = "pages owed"
	if s.counts.PagesOwed == 1 {
		pages = "page owed"
	}
	for _, n := range []struct {
		n    int
		what markup
	}{{s.counts.Watched, "watched"}, {s.counts.AlertOn, "in an alert status"}, {s.counts.Stuck, "stuck"},
		{s.counts.Late, "late"}, {s.counts.Muted, "muted"}, {s.counts.PagesOwed, pages}} {
		w.Markup("\n<li><b>")
		w.Int(int64(n.n))
		w.Markup("</b> ")
		w.Markup(n.what)
		w.Markup("</li>")
	}
	w.Markup("\n</ul>\n" + `<p class="meta">Last scheduled check: `)
	switch {
	case s.lastUnknown:
		w.Markup("unknown (its record could not be read; the function's log says why)")
	case s.lastRun.IsZero():
		w.Markup("never")
	default:
		s.clock.write(w, s.lastRun)
	}
	w.Markup(`. Times in `)
	w.Text(s.zone)
	w.Markup(`.</p>`)
	if s.notice != "" {
		w.Markup("\n" + `<p class="notice" role="status">`)
		w.Text(s.notice)
		w.Markup(`</p>`)
	}
	if s.empty {
		w.Markup("\n<p>No meter version is watched.</p>")
		return
	}
	w.Markup("\n<table>\n" + `<thead><tr><th class="m" scope="col">Meter</th><th class="s" scope="col">Status</th>` +
		`<th scope="col">When</th></tr></thead>` + "\n<tbody>\n")
}

// writeBottom writes the page after its last row: the table's end, and how
// many rows are not shown and why.
func writeBottom(w *htmlWriter, empty bool, more int, why string) {
	if !empty {
		w.Markup("</tbody>\n</table>")
	}
	if more > 0 {
		w.Markup("\n" + `<p class="more">`)
		w.Int(int64(more))
		w.Markup(" more not shown: ")
		w.Text(why)
		w.Markup("</p>")
	}
	w.Markup("\n</section>\n")
}

// writeRow writes one row of the table: the meter version, its badges,
// and its times, link and buttons.
func writeRow(w *htmlWriter, r *Row, p Page, c clock) {
	muted := r.muted(c.now)
	w.Markup(`<tr><td><b>`)
	w.Int(r.MeterID)
	w.Markup(`</b> <span class="k">v</span>`)
	w.Text(clipRunes(r.Version, maxShown))
	w.Markup(`</td><td>`)
	for _, b := range badges(r, muted) {
		w.Markup(b.tag)
		w.Text(b.text)
		w.Markup(`</span> `)
	}
	w.Markup(`</td><td>`)
	writeTimes(w, r, c, muted)
	if len(r.Link) <= maxLink {
		if link := httpsLink(r.Link); link != "" {
			w.Markup(`<div>`)
			w.Link(link, "meter page")
			w.Markup(`</div>`)
		}
	}
	if p.Actions {
		writeActions(w, r, p.FunctionARN, muted)
	}
	w.Markup("</td></tr>\n")
}

// writeTimes writes a row's times: since when its status holds and when it
// was checked, its open alert, stuck run or late run, its next due time and
// its mute.
func writeTimes(w *htmlWriter, r *Row, c clock, muted bool) {
	if r.Checked {
		writeTime(w, c, "since", r.ChangedAt)
		writeTime(w, c, "checked", r.CheckedAt)
	} else {
		w.Markup(`<div>not checked yet</div>`)
	}
	if r.AlertStatus != "" {
		writeTime(w, c, "alert open since", r.AlertOpenSince)
	}
	writeTime(w, c, "stuck, running since", r.StuckSince)
	writeTime(w, c, "late, due", r.LateDue)
	writeTime(w, c, "next due", r.NextDueAt)
	if muted {
		w.Markup(`<div><span class="k">muted until</span> `)
		c.write(w, r.MutedUntil)
		if reason := clipRunes(r.MuteReason, maxReason); reason != "" {
			w.Markup(": ")
			w.Text(reason)
		}
		w.Markup(`</div>`)
	}
}

// writeTime writes a time with what it is, when there is one.
func writeTime(w *htmlWriter, c clock, what markup, t time.Time) {
	if t.IsZero() {
		return
	}
	w.Markup(`<div><span class="k">`)
	w.Markup(what)
	w.Markup(`</span> `)
	c.write(w, t)
	w.Markup(`</div>`)
}

// badge is a status in words, with a colour that repeats them: the words
// carry the meaning, so a reader who cannot tell the colours apart misses
// nothing. tag is its start tag, which holds the colour's class.
type badge struct {
	text string
	tag  markup
}

// The badges' start tags, by colour.
const (
	badgeBad  = `<span class="b bad">`
	badgeWarn = `<span class="b warn">`
	badgeOK   = `<span class="b ok">`
	badgeNone = `<span class="b n">`
	badgeMute = `<span class="b mute">`
)

func badges(r *Row, muted bool) []badge {
	var bs []badge
	switch {
	case !r.Checked || r.Status == "":
		bs = append(bs, badge{"NOT CHECKED", badgeNone})
	case r.AlertStatus != "" && r.Status == r.AlertStatus:
		bs = append(bs, badge{clipRunes(r.Status, maxShown), badgeBad})
	case r.Status == "COMPLETED":
		bs = append(bs, badge{r.Status, badgeOK})
	default:
		bs = append(bs, badge{clipRunes(r.Status, maxShown), badgeNone})
	}
	if r.AlertStatus != "" { // named even when the row's status repeats it: a new run may have begun since
		bs = append(bs, badge{"ALERT OPEN: " + clipRunes(r.AlertStatus, maxShown), badgeBad})
	}
	if r.OwedPages > 0 {
		bs = append(bs, badge{plural(r.OwedPages, "PAGE", "PAGES") + " OWED", badgeBad})
	}
	if !r.StuckSince.IsZero() {
		bs = append(bs, badge{"STUCK", badgeWarn})
	}
	if !r.LateDue.IsZero() {
		bs = append(bs, badge{"LATE", badgeWarn})
	}
	if muted {
		bs = append(bs, badge{"MUTED", badgeMute})
	}
	return bs
}

// writeActions writes a row's buttons: each calls the function back with
// its params, after the console asks the confirmation.
func writeActions(w *htmlWriter, r *Row, endpoint string, muted bool) {
	name := fmt.Sprintf("meter %d version %s", r.MeterID, clipRunes(r.Version, maxShown))
	w.Markup(`<div class="a">` + "\n")
	writeButton(w, "Check now", endpoint, "Check "+name+" now?", actionParams{ActionCheck, r.MeterID, r.Version})
	if muted {
		writeButton(w, "Unmute", endpoint, "Unmute "+name+"?", actionParams{ActionUnmute, r.MeterID, r.Version})
	} else {
		hours := strconv.Itoa(int(MuteFor.Hours()))
		writeButton(w, "Mute "+hours+"h", endpoint,
			"Mute "+name+" for "+hours+" hours? Nothing is published for it until then.",
			actionParams{ActionMute, r.MeterID, r.Version})
	}
	w.Markup(`</div>`)
}

// writeButton writes a button: its label, then the cwdb-action the console
// makes of it, with the params as its content (see htmlWriter.JSON). Were
// the params ever not written, the button gets none, and a call without
// them is refused.
func writeButton(w *htmlWriter, label, endpoint, confirmation string, params actionParams) {
	w.Markup(`<a>`)
	w.Text(label)
	w.Markup(`</a><cwdb-action action="call"`)
	w.Attr("endpoint", endpoint)
	w.Markup(` display="widget"`)
	w.Attr("confirmation", confirmation)
	w.Markup(`>`)
	w.JSON(params)
	w.Markup(`</cwdb-action>`)
}

// actionParams are a button's params, as ParseEvent reads them back.
type actionParams struct {
	WidgetAction string `json:"widgetAction"`
	MeterID      int64  `json:"meterId"`
	Version      string `json:"version"`
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// clipRunes shortens s to n characters, marking the cut, and makes it valid
// UTF-8.
func clipRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// clock writes times in the dashboard's zone, and how long ago they were.
type clock struct {
	now  time.Time
	zone *time.Location
}

func newClock(now time.Time, zone *time.Location) clock {
	if now.IsZero() {
		now = time.Now()
	}
	if zone == nil {
		zone = time.UTC
	}
	return clock{now, zone}
}

// write writes t as "2026-12-07 14:05 (3h ago)", the time and how long
// ago each on one line: a narrow widget wraps between them, not inside.
func (c clock) write(w *htmlWriter, t time.Time) {
	w.Markup(`<span class="t">`)
	w.Text(t.In(c.zone).Format("2006-01-02 15:04"))
	w.Markup(`</span> <span class="t">(`)
	w.Text(relative(c.now.Sub(t)))
	w.Markup(`)</span>`)
}

// relative is d to the minute, in at most two units: "just now", "5m
// ago", "2h 59m ago", "1d 23h ago", or "in 2h 59m" for a time still to
// come. Minutes under a day, hours beyond it: close enough to tell whether
// a run is due soon, short enough for a cell.
func relative(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	const day = 24 * time.Hour
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + "m"
	case d < day:
		s = twoUnits(int64(d/time.Hour), "h", int64(d%time.Hour/time.Minute), "m")
	default:
		s = twoUnits(int64(d/day), "d", int64(d%day/time.Hour), "h")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// twoUnits is "3h 5m", or "3h" when there is none of the smaller unit.
func twoUnits(n int64, unit string, rest int64, restUnit string) string {
	s := strconv.FormatInt(n, 10) + unit
	if rest > 0 {
		s += " " + strconv.FormatInt(rest, 10) + restUnit
	}
	return s
}
