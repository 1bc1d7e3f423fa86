package widget

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

var (
	firstCells = regexp.MustCompile(`<tr><td><b>(\d+)</b> <span class="k">v</span>([^<]*)</td>`)
	tags       = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>`)
	attrs      = regexp.MustCompile(`([^\s="]+)(="[^"]*")?`) // Render quotes every value
	actions    = regexp.MustCompile(`<cwdb-action ([^>]*)>([^<]*)</cwdb-action>`)
	moreLine   = regexp.MustCompile(`<p class="more">([^<]*)</p>`)
)

// rowsOf is the first cell of each row, as a person reads it.
func rowsOf(out string) []string {
	var got []string
	for _, m := range firstCells.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1]+" v"+html.UnescapeString(m[2]))
	}
	return got
}

var (
	hidden = regexp.MustCompile(`(?s)<style>.*?</style>|<cwdb-action [^>]*>[^<]*</cwdb-action>`)
	blocks = regexp.MustCompile(`</?(div|p|ul|li|table|thead|tbody|tr|th|td|section)\b[^>]*>`)
)

// text is out as a person reads it: what the console does not show (the
// style, the buttons' params) left out, a space between blocks, and
// whitespace collapsed.
func text(out string) string {
	out = blocks.ReplaceAllString(hidden.ReplaceAllString(out, ""), " ")
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(out, ""))), " ")
}

func render(t *testing.T, p Page) string {
	t.Helper()
	out, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > MaxBytes {
		t.Fatalf("%d bytes, more than %d", len(out), MaxBytes)
	}
	return out
}

func TestRenderOrderAndCounts(t *testing.T) {
	out := render(t, fixturePage(ThemeLight))
	if got := rowsOf(out); !slices.Equal(got, fixtureOrder) {
		t.Errorf("rows\n%q\nwant\n%q", got, fixtureOrder)
	}
	counts := out[strings.Index(out, `<ul class="counts">`):strings.Index(out, `</ul>`)]
	if got := text(counts); got != fixtureCounts {
		t.Errorf("counts %q, want %q", got, fixtureCounts)
	}
	if !strings.Contains(text(out), "Last scheduled check: 2026-12-07 14:00 (5m ago). Times in UTC+01:00.") {
		t.Errorf("no last scheduled check in %s", text(out))
	}
	if strings.Contains(out, `class="more"`) {
		t.Error(`"N more" with every row shown`)
	}
}

// The rank, one rule at a time; ties go by meterId, then version.
func TestRank(t *testing.T) {
	tests := []struct {
		name string
		row  Row
		want int
	}{
		{"nothing", Row{}, rankRest},
		{"owed", Row{OwedPages: 1}, rankOwed},
		{"owed while muted", Row{OwedPages: 1, MutedUntil: now.Add(time.Hour)}, rankOwed},
		{"alert", Row{AlertStatus: "FAILED", StuckSince: now}, rankAlert},
		{"stuck", Row{StuckSince: now, LateDue: now}, rankStuck},
		{"late", Row{LateDue: now}, rankLate},
		{"muted alert", Row{AlertStatus: "FAILED", MutedUntil: now.Add(time.Second)}, rankMuted},
		{"mute ended", Row{MutedUntil: now}, rankRest},
	}
	for _, tt := range tests {
		if got := tt.row.rank(now); got != tt.want {
			t.Errorf("%s: rank %d, want %d", tt.name, got, tt.want)
		}
	}
	rows := []Row{{MeterID: 2, Version: "b"}, {MeterID: 10, Version: "a"}, {MeterID: 2, Version: "a"}, {MeterID: 1, LateDue: now}}
	var got []string
	for _, r := range order(rows, now) {
		got = append(got, fmt.Sprint(r.MeterID, r.Version))
	}
	if want := []string{"1", "2a", "2b", "10a"}; !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	if rows[0].MeterID != 2 {
		t.Error("order changed the caller's rows")
	}
}

func TestRenderLimit(t *testing.T) {
	rows := make([]Row, 250)
	for i := range rows {
		rows[i] = Row{MeterID: int64(i + 1), Version: "0.0.1", Status: "COMPLETED", Checked: true, CheckedAt: now}
	}
	tests := []struct {
		limit, rows int
		shown       int
		more        string
	}{
		{0, 250, 100, "150 more not shown: the widget's params.limit is 100."},
		{1, 250, 1, "249 more not shown: the widget's params.limit is 1."},
		{100, 100, 100, ""},
		{1000, 250, 250, ""},
		{-5, 3, 3, ""},
	}
	for _, tt := range tests {
		out := render(t, Page{Rows: rows[:tt.rows], Limit: tt.limit, Now: now})
		got := rowsOf(out)
		more := ""
		if m := moreLine.FindStringSubmatch(out); m != nil {
			more = html.UnescapeString(m[1])
		}
		if len(got) != tt.shown || more != tt.more || got[0] != "1 v0.0.1" {
			t.Errorf("limit %d of %d rows: %d shown from %q, more %q; want %d, %q", tt.limit, tt.rows, len(got), got[0], more, tt.shown, tt.more)
		}
	}
	out := render(t, Page{Limit: 5000, Now: now})
	if !strings.Contains(out, "No meter version is watched.") || strings.Contains(out, "<table") {
		t.Errorf("an empty watch list: %s", text(out))
	}
}

// 5,000 rows as large as a row gets, with the buttons and the largest
// limit: the HTML stays within MaxBytes, and the rows left out are counted.
func TestRenderBounded(t *testing.T) {
	for _, actions := range []bool{false, true} {
		p := Page{Rows: manyRows(5000), Limit: MaxLimit, Actions: actions, FunctionARN: arn + strings.Repeat("x", 100), Now: now}
		out := render(t, p)
		shown := len(rowsOf(out))
		m := moreLine.FindStringSubmatch(out)
		if shown == 0 || m == nil {
			t.Fatalf("actions %v: %d rows shown, more %q", actions, shown, m)
		}
		if want := fmt.Sprintf("%d more not shown: %s", 5000-shown, whySize); html.UnescapeString(m[1]) != want {
			t.Errorf("actions %v: %q, want %q", actions, html.UnescapeString(m[1]), want)
		}
		t.Logf("actions %v: %d rows in %d bytes", actions, shown, len(out))
	}
	// Wherever the last row that fits ends, near the bound or at it, the
	// page with its "N more" stays within it.
	rows := manyRows(200)
	for extra := range 48 {
		render(t, Page{Rows: rows, Limit: MaxLimit, Actions: true, FunctionARN: arn + strings.Repeat("x", extra), Now: now})
	}
}

func TestRenderTimeZone(t *testing.T) {
	checked := time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC)
	for _, tt := range []struct{ offset, want, zone string }{
		{"+01:00", "2026-12-07 14:05", "UTC+01:00"},
		{"-05:30", "2026-12-07 07:35", "UTC-05:30"},
		{"Z", "2026-12-07 13:05", "UTC"},
		{"+00:00", "2026-12-07 13:05", "UTC"},
		{"+14:00", "2026-12-08 03:05", "UTC+14:00"},
	} {
		c := Context{TimeZone: TimeZone{OffsetISO: tt.offset}}
		out := text(render(t, Page{Rows: []Row{{MeterID: 1, Version: "1", Status: "RUNNING", Checked: true, CheckedAt: checked}},
			Zone: c.Location(), Now: checked.Add(3 * time.Hour)}))
		if !strings.Contains(out, "checked "+tt.want+" (3h ago)") || !strings.Contains(out, "Times in "+tt.zone+".") {
			t.Errorf("%s: %s", tt.offset, out)
		}
	}
}

func TestRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "just now", 59 * time.Second: "just now", -30 * time.Second: "just now",
		90 * time.Second: "1m ago", 59 * time.Minute: "59m ago", 3 * time.Hour: "3h ago", 3*time.Hour + 5*time.Minute: "3h 5m ago",
		3*time.Hour + 59*time.Minute + 59*time.Second: "3h 59m ago", -(2*time.Hour + 59*time.Minute): "in 2h 59m",
		-(16*time.Hour + 58*time.Minute): "in 16h 58m", -21 * time.Hour: "in 21h", 24 * time.Hour: "1d ago",
		47 * time.Hour: "1d 23h ago", 48*time.Hour + 59*time.Minute: "2d ago", 49 * time.Hour: "2d 1h ago",
		-3 * 24 * time.Hour: "in 3d", -(400*24*time.Hour + 5*time.Hour): "in 400d 5h",
	} {
		if got := relative(d); got != want {
			t.Errorf("relative(%v) = %q, want %q", d, got, want)
		}
	}
}

// allowed are the elements Render writes; anything else in the
// output came from a value.
var allowed = []string{"a", "b", "cwdb-action", "div", "li", "p", "section", "span", "strong", "style",
	"table", "tbody", "td", "th", "thead", "tr", "ul"}

// markupOK fails t when out has an element Render does not write, an
// event handler attribute, or a link that is not https.
func markupOK(t *testing.T, out string) {
	t.Helper()
	body := out[strings.Index(out, "</style>"):] // CSS is no markup
	for _, m := range tags.FindAllStringSubmatch(body, -1) {
		if !slices.Contains(allowed, strings.ToLower(m[2])) {
			t.Errorf("an element from a value: %s", m[0])
		}
		for _, a := range attrs.FindAllStringSubmatch(m[3], -1) {
			if name := strings.ToLower(a[1]); strings.HasPrefix(name, "on") || name == "style" || name == "src" {
				t.Errorf("attribute %s from a value: %s", name, m[0])
			}
			if a[1] == "href" && !strings.HasPrefix(a[2], `="https://`) {
				t.Errorf("a link that is not https: %s", m[0])
			}
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	p := fixturePage(ThemeDark)
	p.Rows = append(p.Rows, Row{MeterID: 9, Version: `"><script>alert(4)</script>`, Status: `<b onclick=x>FAILED</b>`,
		Checked: true, AlertStatus: `<iframe src=//evil>`, MutedUntil: now.Add(time.Hour), MuteReason: "</style><svg onload=alert(5)>",
		Link: `https://ok.example.com/"><img src=x onerror=alert(6)>`})
	p.FunctionARN = `arn" onmouseover="alert(7)`
	p.Notice = `Checked meter 9: <img src=x onerror=alert(8)>`
	out := render(t, p)
	markupOK(t, out)
	if !strings.Contains(text(out), p.Notice) {
		t.Error("the notice does not read as it was written")
	}
	if !strings.Contains(out, "&lt;img src=x onerror=&#34;document.title=&#39;pwned&#39;;alert(1)&#34;&gt;") {
		t.Error("the hostile reason is not shown as text")
	}
	if !strings.Contains(text(out), "muted until 2026-12-07 16:05 (in 2h): "+hostileReason) {
		t.Error("the hostile reason does not read as it was written")
	}
	// The buttons' params are JSON as text and as markup, holding the
	// whole version, and the endpoint stays in its attribute.
	found := 0
	for _, m := range actions.FindAllStringSubmatch(out, -1) {
		found++
		if !strings.Contains(m[1], `endpoint="arn&#34; onmouseover=&#34;alert(7)"`) || !strings.Contains(m[1], `display="widget"`) {
			t.Errorf("attributes %s", m[1])
		}
		var asMarkup, asText struct {
			WidgetAction, Version string
			MeterID               int64
		}
		if err := json.Unmarshal([]byte(m[2]), &asMarkup); err != nil {
			t.Fatalf("params %s as markup: %v", m[2], err)
		}
		if err := json.Unmarshal([]byte(html.UnescapeString(m[2])), &asText); err != nil || asText != asMarkup {
			t.Fatalf("params %s as text: %v, %+v", m[2], err, asText)
		}
		if asMarkup.MeterID == 105 && asMarkup.Version != hostileVersion {
			t.Errorf("version %q, want %q", asMarkup.Version, hostileVersion)
		}
	}
	if found != 2*len(p.Rows) {
		t.Errorf("%d buttons, want 2 for each of %d rows", found, len(p.Rows))
	}
}

func TestRenderActions(t *testing.T) {
	p := fixturePage(ThemeLight)
	p.Actions = false
	if out := render(t, p); strings.Contains(out, "<cwdb-action") || strings.Contains(out, "Check now") {
		t.Error("buttons with actions off")
	}
	p.Actions = true
	out := render(t, p)
	var got []string
	for _, m := range actions.FindAllStringSubmatch(out, -1) {
		confirm := regexp.MustCompile(`confirmation="([^"]*)"`).FindStringSubmatch(m[1])
		got = append(got, html.UnescapeString(m[2])+" "+html.UnescapeString(confirm[1]))
	}
	for _, want := range []string{
		`{"widgetAction":"check","meterId":106,"version":"0.0.1"} Check meter 106 version 0.0.1 now?`,
		`{"widgetAction":"mute","meterId":106,"version":"0.0.1"} Mute meter 106 version 0.0.1 for 4 hours? Nothing is published for it until then.`,
		`{"widgetAction":"unmute","meterId":105,"version":"0.0.1\"}\u003c/cwdb-action\u003e\u003cimg src=x onerror=alert(2)\u003e'\u0026amp;"} Unmute meter 105 version ` + hostileVersion + "?",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no button %s in\n%s", want, strings.Join(got, "\n"))
		}
	}
	if strings.Count(out, ">Unmute</a>") != 1 || strings.Count(out, ">Mute 4h</a>") != 8 || strings.Count(out, ">Check now</a>") != 9 {
		t.Errorf("buttons: %s", text(out))
	}
	if !strings.Contains(out, `endpoint="`+arn+`"`) {
		t.Error("the buttons do not call the function's ARN")
	}
}

func TestRenderRowDetails(t *testing.T) {
	out := text(render(t, fixturePage(ThemeLight)))
	for _, want := range []string{
		"104 v0.0.2 NOT CHECKED LATE not checked yet late, due 2026-12-07 11:05 (3h ago) next due 2026-12-08 11:05 (in 21h)",
		"102 v0.0.1 FAILED ALERT OPEN: FAILED since 2026-12-07 12:05 (2h ago) checked 2026-12-07 14:00 (5m ago) alert open since 2026-12-07 12:05 (2h ago) meter page",
		"103 v0.0.1 RUNNING STUCK since 2026-12-07 08:05 (6h ago)",
		"106 v0.0.1 COMPLETED 2 PAGES OWED",
		"107 v1.0 COMPLETED since 2026-12-07 10:05 (4h ago) checked 2026-12-07 14:00 (5m ago) Check now",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	one := text(render(t, Page{Now: now, Rows: []Row{{MeterID: 1, Version: "1", Status: "RUNNING", Checked: true, CheckedAt: now,
		AlertStatus: "FAILED", AlertOpenSince: now, OwedPages: 1}}}))
	if !strings.Contains(one, "RUNNING ALERT OPEN: FAILED 1 PAGE OWED") || !strings.Contains(one, "1 page owed") {
		t.Errorf("an alert open while a new run goes on: %s", one)
	}
}

func TestRenderLinks(t *testing.T) {
	for link, want := range map[string]string{
		"https://zuora.example.com/m/1?s=R-1":                       `href="https://zuora.example.com/m/1?s=R-1"`,
		"http://zuora.example.com/m/1":                              "",
		"javascript:alert(1)":                                       "",
		"https://user:pw@zuora.example.com/":                        "",
		"//zuora.example.com/m/1":                                   "",
		"https:///m/1":                                              "",
		"https://zuora.example.com/" + strings.Repeat("a", maxLink): "",
	} {
		out := render(t, Page{Now: now, Rows: []Row{{MeterID: 1, Version: "1", Link: link}}})
		got := regexp.MustCompile(`href="[^"]*"`).FindString(out)
		if got != want {
			t.Errorf("link %.40q: %q, want %q", link, got, want)
		}
	}
}

func TestRenderError(t *testing.T) {
	for _, theme := range []string{ThemeLight, ThemeDark, "unknown"} {
		out := render(t, Page{Error: "AccessDeniedException: <b>not allowed</b>", Theme: theme, Rows: fixtureRows(), Now: now})
		markupOK(t, out)
		want := "The watch list could not be read. AccessDeniedException: <b>not allowed</b>"
		if text(out) != want || !strings.Contains(out, `role="alert"`) || strings.Contains(out, "<table") {
			t.Errorf("%s: %s", theme, text(out))
		}
		class := `class="zw light"`
		if theme == ThemeDark {
			class = `class="zw dark"`
		}
		if !strings.Contains(out, class) {
			t.Errorf("%s: no %s", theme, class)
		}
	}
}

// BenchmarkRender5000 is the widget of 5,000 watched meter versions at the
// largest limit with the buttons on: rows as a watch list has them, and
// rows as large as rows get.
func BenchmarkRender5000(b *testing.B) {
	for _, bb := range []struct {
		name string
		rows []Row
	}{{"typical", typicalRows(5000)}, {"largest", manyRows(5000)}} {
		b.Run(bb.name, func(b *testing.B) {
			p := Page{Rows: bb.rows, Limit: MaxLimit, Actions: true, FunctionARN: arn, Zone: plus1, Now: now}
			var out string
			for b.Loop() {
				var err error
				if out, err = Render(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out)), "html-bytes")
			b.ReportMetric(float64(len(rowsOf(out))), "rows-shown")
		})
	}
}

// A row is the memory's state of a meter version: its open conditions, the
// messages it owes, its next due time and its mute while it holds.
func TestRowOf(t *testing.T) {
	e, err := expect.New("0 2 * * *", "UTC", "1h")
	if err != nil {
		t.Fatal(err)
	}
	s := memory.State{Meter: memory.Meter{MeterID: 7, Version: "1"}, Status: "RUNNING", StatusCode: 5, Rev: 3,
		CheckedAt: now, ChangedAt: now.Add(-time.Hour), AlertStatus: "FAILED", AlertSince: now.Add(-2 * time.Hour),
		RunStart: now.Add(-time.Hour), Stuck: &memory.StuckAlert{Status: "RUNNING"}, Expect: &e,
		Late: &memory.LateAlert{Due: now.Add(-3 * time.Hour)}, Outbox: []memory.Message{{Event: "alert"}},
		Mute: &memory.Mute{Until: now.Add(time.Hour), Reason: "maintenance"}}
	r := RowOf(s, now, "https://z.example/7")
	if !r.Checked || r.OwedPages != 1 || !r.StuckSince.Equal(s.RunStart) || !r.LateDue.Equal(s.Late.Due) || r.NextDueAt.IsZero() ||
		!r.MutedUntil.Equal(s.Mute.Until) || r.MuteReason != "maintenance" || r.AlertStatus != "FAILED" || r.Link == "" {
		t.Errorf("row %+v", r)
	}
	s.Mute.Until, s.Stuck, s.Late, s.Expect = now.Add(-time.Minute), nil, nil, nil
	if r = RowOf(s, now, ""); !r.MutedUntil.IsZero() || !r.StuckSince.IsZero() || !r.LateDue.IsZero() || !r.NextDueAt.IsZero() {
		t.Errorf("a mute over, nothing stuck or late or due: %+v", r)
	}
}
