package widget

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// docsContext is the widgetContext of CloudWatch's documentation, with the
// widget's own params.
const docsContext = `{"dashboardName": "Name-of-current-dashboard", "widgetId": "widget-16", "accountId": "012345678901",
	"locale": "en", "timezone": {"label": "UTC", "offsetISO": "+00:00", "offsetInMinutes": 0},
	"period": 300, "isAutoPeriod": true,
	"timeRange": {"mode": "relative", "start": 1627236199729, "end": 1627322599729, "relativeStart": 86400012,
		"zoom": {"start": 1627276030434, "end": 1627282956521}},
	"theme": "light", "linkCharts": true, "title": "Tweets for Amazon website problem",
	"forms": {"all": {}}, "params": {"limit": 50}, "width": 588, "height": 369}`

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(`{"limit": 50, "widgetContext": ` + docsContext + `}`))
	if err != nil {
		t.Fatal(err)
	}
	c := ev.Context
	if c.DashboardName != "Name-of-current-dashboard" || c.WidgetID != "widget-16" || c.AccountID != "012345678901" ||
		c.Locale != "en" || c.TimeZone != (TimeZone{"UTC", "+00:00", 0}) || c.Period != 300 || !c.IsAutoPeriod ||
		c.TimeRange.Mode != "relative" || c.TimeRange.Start != 1627236199729 || c.TimeRange.Zoom.End != 1627282956521 ||
		c.Theme != ThemeLight || !c.LinkCharts || c.Width != 588 || c.Height != 369 || c.Forms.All == nil {
		t.Errorf("context %+v", c)
	}
	if ev.Limit != 50 || ev.Action != nil || ev.Describe || c.Location() != time.UTC {
		t.Errorf("event %+v", ev)
	}
}

// A button's call: its params at the top, the widget's in the context.
func TestParseEventAction(t *testing.T) {
	for _, tt := range []struct {
		event string
		want  Action
		limit int
	}{
		{`{"widgetAction": "check", "meterId": 123, "version": "0.0.1", "widgetContext": {"params": {"limit": 7}}}`,
			Action{ActionCheck, 123, "0.0.1"}, 7},
		{`{"widgetAction": "mute", "meterId": 9007199254740993, "version": "v_1-2.3", "widgetContext": {}}`,
			Action{ActionMute, 9007199254740993, "v_1-2.3"}, DefaultLimit},
		{`{"widgetAction": "unmute", "meterId": 1, "version": "1", "limit": 3, "widgetContext": {"params": null}}`,
			Action{ActionUnmute, 1, "1"}, 3},
	} {
		ev, err := ParseEvent([]byte(tt.event))
		if err != nil || ev.Action == nil || *ev.Action != tt.want || ev.Limit != tt.limit {
			t.Errorf("%s: %+v, %v", tt.event, ev, err)
		}
	}
}

func TestParseEventInvalid(t *testing.T) {
	for _, tt := range []struct{ event, says string }{
		{``, "JSON object"},
		{`[]`, "JSON object"},
		{`null`, "JSON object"},
		{`{"widgetContext": `, "not valid JSON"},
		{`{}`, "widgetContext is missing"},
		{`{"widgetContext": null}`, "widgetContext is missing"},
		{`{"widgetContext": []}`, `"widgetContext"`},
		{`{"widgetContext": {"theme": "sepia"}}`, "theme"},
		{`{"widgetContext": {"theme": 1}}`, `"widgetContext.theme"`},
		{`{"widgetContext": {"width": "588"}}`, `"widgetContext.width"`},
		{`{"widgetContext": {"width": -1}}`, "width"},
		{`{"widgetContext": {"height": 1e9}}`, "height"},
		{`{"widgetContext": {"timezone": {"offsetISO": "+1:00"}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "01:00"}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "+01:60"}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "+18:01"}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "+0100"}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "+01:00 "}}}`, "offsetISO"},
		{`{"widgetContext": {"timezone": {"offsetISO": "-٠١:٠٠"}}}`, "offsetISO"},
		{`{"widgetContext": {"params": {"limit": 0}}}`, "params.limit"},
		{`{"widgetContext": {"params": {"limit": 501}}}`, "params.limit"},
		{`{"widgetContext": {"params": {"limit": "50"}}}`, "params.limit"},
		{`{"widgetContext": {"params": {"limit": 1.5}}}`, "params.limit"},
		{`{"limit": -1, "widgetContext": {}}`, "params.limit"},
		{`{"widgetContext": {"params": {"limit": 5"}}}`, "not valid JSON"},
		{`{"widgetAction": "delete", "meterId": 1, "version": "1", "widgetContext": {}}`, "widgetAction"},
		{`{"widgetAction": "check", "version": "1", "widgetContext": {}}`, "meterId"},
		{`{"widgetAction": "check", "meterId": "1", "version": "1", "widgetContext": {}}`, "meterId"},
		{`{"widgetAction": "check", "meterId": 0, "version": "1", "widgetContext": {}}`, "meterId"},
		{`{"widgetAction": "check", "meterId": 1.5, "version": "1", "widgetContext": {}}`, "meterId"},
		{`{"widgetAction": "check", "meterId": 1, "widgetContext": {}}`, "version"},
		{`{"widgetAction": "check", "meterId": 1, "version": 1, "widgetContext": {}}`, "version"},
		{`{"widgetAction": "mute", "meterId": 1, "version": "0.0.1\"><img>", "widgetContext": {}}`, "version"},
		{`{"widgetAction": "mute", "meterId": 1, "version": "..", "widgetContext": {}}`, "version"},
		{`{"widgetAction": 1, "widgetContext": {}}`, `"widgetAction"`},
	} {
		_, err := ParseEvent([]byte(tt.event))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tt.event, err, tt.says)
		}
	}
}

func TestParseOffset(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "Z": 0, "+00:00": 0, "-00:00": 0, "+01:00": 3600, "-05:30": -19800, "+05:45": 20700, "+14:00": 50400, "-12:00": -43200, "+18:00": 64800,
	} {
		got, err := ParseOffset(in)
		if err != nil || got != want {
			t.Errorf("ParseOffset(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"-05:30": "UTC-05:30", "+01:00": "UTC+01:00", "Z": "UTC", "+00:00": "UTC"} {
		c := Context{TimeZone: TimeZone{OffsetISO: in}}
		if got := c.Location().String(); got != want {
			t.Errorf("Location of %q: %s, want %s", in, got, want)
		}
	}
}
