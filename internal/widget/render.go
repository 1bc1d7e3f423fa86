package widget

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
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

//go:embed widget.tmpl
var templateText string

var tmpl = template.Must(template.New("widget").Parse(templateText))

// view is what the "page" template reads.
type view struct {
	Theme   string
	Error   string
	Notice  string
	Counts  counts
	LastRun string
	Zone    string
	Empty   bool
	Rows    []template.HTML // each from the "row" template
	More    int
	MoreWhy string
}

// Why rows were left out.
const (
	whyLimit = "the widget's params.limit is %d."
	whySize  = "the rest would pass the widget's size limit."
)

// Render writes the widget's HTML for p: the counts, the last scheduled
// run, then the rows, problems first, at most p.Limit of them and never
// more than MaxBytes in all. The error is html/template's; it does not
// happen with this package's template.
func Render(p Page) (string, error) {
	c := newClock(p.Now, p.Zone)
	v := view{Theme: ThemeLight, Zone: c.zone.String()}
	if p.Theme == ThemeDark {
		v.Theme = ThemeDark
	}
	if p.Error != "" {
		v.Error = clipRunes(p.Error, maxError)
		return execute("page", v)
	}
	v.Notice = clipRunes(p.Notice, maxError)
	v.Counts = count(p.Rows, c.now)
	v.LastRun = "never"
	if !p.LastScheduledRun.IsZero() {
		v.LastRun = c.when(p.LastScheduledRun)
	}
	rows := order(p.Rows, c.now)
	v.Empty = len(rows) == 0
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit, len(rows))
	// The page without its rows, saying the most "N more" could say (the
	// most rows, the longer reason once escaped), is what the rows leave
	// room for.
	v.More, v.MoreWhy = len(rows), whySize
	if l := fmt.Sprintf(whyLimit, MaxLimit); len(template.HTMLEscapeString(l)) > len(template.HTMLEscapeString(whySize)) {
		v.MoreWhy = l
	}
	frame, err := execute("page", v)
	if err != nil {
		return "", err
	}
	v.Rows, err = renderRows(rows[:limit], p, c, MaxBytes-len(frame))
	if err != nil {
		return "", err
	}
	v.More, v.MoreWhy = len(rows)-len(v.Rows), ""
	switch {
	case len(v.Rows) < limit:
		v.MoreWhy = whySize
	case v.More > 0:
		v.MoreWhy = fmt.Sprintf(whyLimit, limit)
	}
	return execute("page", v)
}

// renderRows renders rows in order until the next would pass budget bytes.
func renderRows(rows []*Row, p Page, c clock, budget int) ([]template.HTML, error) {
	var buf bytes.Buffer
	ends := make([]int, 0, len(rows))
	for _, r := range rows {
		start := buf.Len()
		if err := tmpl.ExecuteTemplate(&buf, "row", newRowView(r, p, c)); err != nil {
			return nil, fmt.Errorf("widget: a row: %w", err)
		}
		if buf.Len() > budget {
			buf.Truncate(start)
			break
		}
		ends = append(ends, buf.Len())
	}
	all := buf.String()
	out := make([]template.HTML, len(ends))
	start := 0
	for i, end := range ends {
		// Safe: html/template wrote it, from the "row" template, which
		// begins and ends in the HTML text of a table body, where it goes.
		out[i] = template.HTML(all[start:end])
		start = end
	}
	return out, nil
}

func execute(name string, data any) (string, error) {
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("widget: %w", err)
	}
	return b.String(), nil
}

// rowView is what the "row" template reads: every value as text, to be
// escaped where it lands.
type rowView struct {
	MeterID                                           int64
	Version                                           string
	Badges                                            []badge
	Checked                                           bool
	Since, CheckedAt, AlertSince, StuckSince, LateDue string
	NextDue, MutedUntil, MuteReason, Link             string
	Actions                                           *actionsView
}

// badge is a status in words, with a colour that repeats them: the words
// carry the meaning, so a reader who cannot tell the colours apart misses
// nothing.
type badge struct{ Text, Class string }

func newRowView(r *Row, p Page, c clock) rowView {
	muted := r.muted(c.now)
	v := rowView{MeterID: r.MeterID, Version: clipRunes(r.Version, maxShown), Badges: badges(r, muted),
		Checked: r.Checked, Since: c.whenSet(r.ChangedAt), CheckedAt: c.whenSet(r.CheckedAt),
		NextDue: c.whenSet(r.NextDueAt), StuckSince: c.whenSet(r.StuckSince), LateDue: c.whenSet(r.LateDue)}
	if r.AlertStatus != "" {
		v.AlertSince = c.whenSet(r.AlertOpenSince)
	}
	if muted {
		v.MutedUntil, v.MuteReason = c.when(r.MutedUntil), clipRunes(r.MuteReason, maxReason)
	}
	if len(r.Link) <= maxLink {
		v.Link = httpsLink(r.Link)
	}
	if p.Actions {
		v.Actions = newActionsView(r, p.FunctionARN, muted)
	}
	return v
}

func badges(r *Row, muted bool) []badge {
	var bs []badge
	switch {
	case !r.Checked || r.Status == "":
		bs = append(bs, badge{"NOT CHECKED", "n"})
	case r.AlertStatus != "" && r.Status == r.AlertStatus:
		bs = append(bs, badge{clipRunes(r.Status, maxShown), "bad"})
	case r.Status == "COMPLETED":
		bs = append(bs, badge{r.Status, "ok"})
	default:
		bs = append(bs, badge{clipRunes(r.Status, maxShown), "n"})
	}
	switch {
	case r.AlertStatus != "" && r.AlertStatus != r.Status: // a new run began; the failed one's alert is open
		bs = append(bs, badge{"ALERT OPEN: " + clipRunes(r.AlertStatus, maxShown), "bad"})
	case r.AlertStatus != "":
		bs = append(bs, badge{"ALERT OPEN", "bad"})
	}
	if r.OwedPages > 0 {
		bs = append(bs, badge{plural(r.OwedPages, "PAGE", "PAGES") + " OWED", "bad"})
	}
	if !r.StuckSince.IsZero() {
		bs = append(bs, badge{"STUCK", "warn"})
	}
	if !r.LateDue.IsZero() {
		bs = append(bs, badge{"LATE", "warn"})
	}
	if muted {
		bs = append(bs, badge{"MUTED", "mute"})
	}
	return bs
}

// actionsView is a row's buttons: each calls the function back with its
// params, after the console asks the confirmation.
type actionsView struct {
	Endpoint                                 string
	Muted                                    bool
	MuteLabel                                string // "Mute 4h": MuteFor
	Check, Mute, Unmute                      template.HTML
	ConfirmCheck, ConfirmMute, ConfirmUnmute string
}

func newActionsView(r *Row, endpoint string, muted bool) *actionsView {
	name := fmt.Sprintf("meter %d version %s", r.MeterID, clipRunes(r.Version, maxShown))
	a := &actionsView{Endpoint: endpoint, Muted: muted,
		Check:        actionParams(ActionCheck, r.MeterID, r.Version),
		ConfirmCheck: "Check " + name + " now?"}
	if muted {
		a.Unmute = actionParams(ActionUnmute, r.MeterID, r.Version)
		a.ConfirmUnmute = "Unmute " + name + "?"
	} else {
		hours := strconv.Itoa(int(MuteFor.Hours()))
		a.Mute, a.MuteLabel = actionParams(ActionMute, r.MeterID, r.Version), "Mute "+hours+"h"
		a.ConfirmMute = "Mute " + name + " for " + hours + " hours? Nothing is published for it until then."
	}
	return a
}

// actionParams is a button's params, the content of its cwdb-action. The
// console reads that content as JSON. json.Marshal writes < > & as \u003c
// \u003e \u0026 (and control characters escaped), so the JSON holds no
// character that means anything in an element's text: it is the same
// text whether the console reads the element's text or its markup, and no
// version can end the element or start another. Were that ever not so,
// the button gets no params, and a call without them is refused.
func actionParams(kind string, meterID int64, version string) template.HTML {
	b, err := json.Marshal(struct {
		WidgetAction string `json:"widgetAction"`
		MeterID      int64  `json:"meterId"`
		Version      string `json:"version"`
	}{kind, meterID, version})
	if err != nil || bytes.ContainsAny(b, "<>&") {
		return ""
	}
	return template.HTML(b)
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

// when is "2026-12-07 14:05 (3h ago)".
func (c clock) when(t time.Time) string {
	return t.In(c.zone).Format("2006-01-02 15:04") + " (" + relative(c.now.Sub(t)) + ")"
}

// whenSet is when, or "" for the zero time (nothing to show).
func (c clock) whenSet(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return c.when(t)
}

// relative is d in the largest unit that reads well: "just now", "5m ago",
// "3h ago", "2d ago", or "in 3h" for a time still to come.
func relative(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		s = strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
