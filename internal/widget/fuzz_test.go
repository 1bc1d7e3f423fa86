package widget

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// ParseEvent never panics; what it accepts is in range, and what it
// refuses wraps ErrInvalid.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"widgetContext": ` + docsContext + `}`,
		`{"widgetAction": "mute", "meterId": 123, "version": "0.0.1", "widgetContext": {"params": {"limit": 7}}}`,
		`{"widgetContext": {"timezone": {"offsetISO": "-05:30"}, "theme": "dark", "width": 460.5}}`,
		`{"widgetContext": {"params": [1]}, "limit": 500}`, `{"widgetContext": {"forms": {"all": {"a": [1, {}]}}}}`,
		`{"widgetContext": 1}`, `[`, `{"widgetContext": {"timezone": {"offsetISO": "+99:99"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := ParseEvent(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			return
		}
		if ev.Limit < 1 || ev.Limit > MaxLimit || ev.Context.Location() == nil {
			t.Fatalf("accepted %+v", ev)
		}
		if a := ev.Action; a != nil && (a.MeterID <= 0 || a.Version == "" || len(a.Version) > 64) {
			t.Fatalf("accepted the action %+v", a)
		}
	})
}

// Render never panics and never errs, whatever the values; its HTML stays
// within MaxBytes, no value becomes markup, and each button's params read
// back as the row's meter version.
func FuzzRender(f *testing.F) {
	f.Add("0.0.1", "FAILED", "FAILED", hostileReason, "https://z.example/m/1", arn, "error", int64(123), 2, 100, 90, true, true)
	f.Add(hostileVersion, `<b>x</b>`, "", "</td></tr></table><script>", "javascript:alert(1)", `"'<>&`, "", int64(-1), -3, -5, -90, false, true)
	f.Add("\xff\xfe", "\u2028", "\x00", "\"}", "https://a\x00b/", "", "", int64(0), 0, 0, 0, true, false)
	f.Fuzz(func(t *testing.T, version, status, alert, reason, link, endpoint, errText string, meterID int64,
		owed, limit, mutedMin int, withActions, dark bool) {
		row := Row{MeterID: meterID, Version: version, Status: status, Checked: status != "", ChangedAt: now.Add(-time.Hour),
			CheckedAt: now, AlertStatus: alert, AlertOpenSince: now.Add(-time.Hour), OwedPages: owed,
			MutedUntil: now.Add(time.Duration(mutedMin) * time.Minute), MuteReason: reason, Link: link}
		p := Page{Rows: []Row{row, {MeterID: 1, Version: "1"}}, Limit: limit, Actions: withActions, FunctionARN: endpoint,
			Now: now, Zone: plus1, Theme: map[bool]string{true: ThemeDark}[dark]}
		for _, p := range []Page{p, {Error: errText, Now: now}} {
			out, err := Render(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > MaxBytes {
				t.Fatalf("%d bytes", len(out))
			}
			markupOK(t, out)
		}
		out, _ := Render(p)
		for _, m := range actions.FindAllStringSubmatch(out, -1) {
			var params struct {
				MeterID int64
				Version string
			}
			if err := json.Unmarshal([]byte(m[2]), &params); err != nil {
				t.Fatalf("params %s: %v", m[2], err)
			}
			if ok := params.MeterID == 1 && params.Version == "1" || params.MeterID == meterID &&
				(params.Version == version || !utf8.ValidString(version)); !ok {
				t.Fatalf("params %s, want version %q", m[2], version)
			}
		}
		if !strings.Contains(out, "</section>") {
			t.Fatal("the page is cut short")
		}
	})
}
