package widget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// ErrInvalid: the event is not a widget event the contract describes, or a
// field is out of range. The handler answers it as InvalidRequest.
var ErrInvalid = errors.New("invalid widget event")

// Rows shown: params.limit, 1 to MaxLimit, DefaultLimit without one.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// MuteFor is how long the "Mute 4h" button mutes a meter version; the
// button's label says it, so whoever carries out a mute action uses this.
const MuteFor = 4 * time.Hour

// The widgetAction values of the buttons' params.
const (
	ActionCheck  = "check"
	ActionMute   = "mute"
	ActionUnmute = "unmute"
)

// Context is the widgetContext CloudWatch sends with every call of a custom
// widget: which dashboard and widget, the viewer's locale, time zone and
// theme, the dashboard's time range, the widget's params and size.
type Context struct {
	DashboardName string    `json:"dashboardName"`
	WidgetID      string    `json:"widgetId"`
	AccountID     string    `json:"accountId"`
	Locale        string    `json:"locale"`
	TimeZone      TimeZone  `json:"timezone"`
	Period        int       `json:"period"` // seconds
	IsAutoPeriod  bool      `json:"isAutoPeriod"`
	TimeRange     TimeRange `json:"timeRange"`
	Theme         string    `json:"theme"` // ThemeLight or ThemeDark
	LinkCharts    bool      `json:"linkCharts"`
	Title         string    `json:"title"`
	Forms         Forms     `json:"forms"`
	// Params are the widget's own params, as the dashboard defines them.
	Params json.RawMessage `json:"params"`
	// Width and Height are the widget's size in CSS pixels.
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// TimeZone is the dashboard's time zone setting: Label is "UTC" or "Local";
// OffsetISO ("+01:00", "-05:30", "Z") is what times are shown in.
type TimeZone struct {
	Label           string `json:"label"`
	OffsetISO       string `json:"offsetISO"`
	OffsetInMinutes int    `json:"offsetInMinutes"`
}

// TimeRange is the dashboard's time range, in milliseconds since the epoch.
type TimeRange struct {
	Mode          string `json:"mode"` // "relative" or "absolute"
	Start         int64  `json:"start"`
	End           int64  `json:"end"`
	RelativeStart int64  `json:"relativeStart"`
	Zoom          *Zoom  `json:"zoom"`
}

// Zoom is a zoomed part of the time range, in milliseconds since the epoch.
type Zoom struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Forms holds the values of the widget's HTML form fields, by name.
type Forms struct {
	All map[string]json.RawMessage `json:"all"`
}

// The two themes of a dashboard.
const (
	ThemeLight = "light"
	ThemeDark  = "dark"
)

// Event is a custom widget's call understood: the context, how many rows to
// show, and the button that was pressed, if one was.
type Event struct {
	Context Context
	Limit   int     // params.limit, DefaultLimit when the params have none
	Action  *Action // nil: draw the widget
	// Describe: CloudWatch asks what the widget is, to show it in the
	// console's editor.
	Describe bool
}

// Action is a button's call: what to do to which meter version. The widget
// is drawn again afterwards.
type Action struct {
	Kind    string // ActionCheck, ActionMute or ActionUnmute
	MeterID int64
	Version string
}

// event is the top of the event: the context, and the params CloudWatch
// lays beside it (the widget's own, or a button's).
type event struct {
	WidgetContext *Context        `json:"widgetContext"`
	Describe      bool            `json:"describe"`
	Limit         json.RawMessage `json:"limit"`
	WidgetAction  *string         `json:"widgetAction"`
	MeterID       json.RawMessage `json:"meterId"`
	Version       json.RawMessage `json:"version"`
}

// ParseEvent reads and validates a custom widget's call. Every error wraps
// ErrInvalid and names the field.
func ParseEvent(raw []byte) (Event, error) {
	var e event
	if err := decodeObject(raw, &e); err != nil {
		return Event{}, err
	}
	if e.WidgetContext == nil {
		return Event{}, invalid("widgetContext is missing")
	}
	c := *e.WidgetContext
	if err := c.validate(); err != nil {
		return Event{}, err
	}
	limit, err := c.limit(e.Limit)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Context: c, Limit: limit, Describe: e.Describe}
	if e.WidgetAction != nil {
		a, err := parseAction(*e.WidgetAction, e.MeterID, e.Version)
		if err != nil {
			return Event{}, err
		}
		ev.Action = &a
	}
	return ev, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// decodeObject insists on one JSON object, so that arrays, strings and null
// get a clear message, and names a field of the wrong type.
func decodeObject(raw []byte, v any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("the event must be a JSON object")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid("field %q has the wrong type (%s)", te.Field, te.Value)
		}
		return invalid("the event is not valid JSON: %v", err)
	}
	return nil
}

// validate checks what the widget uses: the theme, the time zone and the
// size. The rest is CloudWatch's to send as it likes.
func (c Context) validate() error {
	switch c.Theme {
	case "", ThemeLight, ThemeDark:
	default:
		return invalid("widgetContext.theme %q: want %q or %q", clip(c.Theme, 20), ThemeLight, ThemeDark)
	}
	if _, err := ParseOffset(c.TimeZone.OffsetISO); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"width", c.Width}, {"height", c.Height}} {
		if f.v < 0 || f.v > 100_000 || math.IsNaN(f.v) {
			return invalid("widgetContext.%s %v is not a size in pixels", f.name, f.v)
		}
	}
	return nil
}

// Location is the dashboard's time zone, a fixed offset named as the widget
// shows it ("UTC", "UTC+01:00"); UTC when the context has none. Call it on a
// Context ParseEvent accepted.
func (c Context) Location() *time.Location {
	off, err := ParseOffset(c.TimeZone.OffsetISO)
	if err != nil || off == 0 {
		return time.UTC
	}
	return time.FixedZone("UTC"+formatOffset(off), off)
}

// ParseOffset reads an ISO 8601 UTC offset, "+01:00", "-05:30", "Z" or ""
// (UTC), into seconds east of UTC. Offsets run from -18:00 to +18:00.
func ParseOffset(s string) (int, error) {
	if s == "" || s == "Z" {
		return 0, nil
	}
	bad := invalid("widgetContext.timezone.offsetISO %q: want ±hh:mm", clip(s, 20))
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s[1:3]) || !digits(s[4:6]) {
		return 0, bad
	}
	h, _ := strconv.Atoi(s[1:3])
	m, _ := strconv.Atoi(s[4:6])
	if m >= 60 || h*60+m > 18*60 {
		return 0, bad
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// formatOffset writes seconds east of UTC as "+01:00" or "-05:30".
func formatOffset(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

func digits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

// limit is params.limit: the widget's own params in the context first (a
// button's call lays its own params at the top), then the top level.
func (c Context) limit(top json.RawMessage) (int, error) {
	var p struct {
		Limit json.RawMessage `json:"limit"`
	}
	if len(bytes.TrimSpace(c.Params)) > 0 && bytes.TrimSpace(c.Params)[0] == '{' {
		if err := json.Unmarshal(c.Params, &p); err != nil {
			return 0, invalid("widgetContext.params: %v", err)
		}
	}
	raw := p.Limit
	if raw == nil || string(raw) == "null" {
		raw = top
	}
	if raw == nil || string(raw) == "null" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil || n < 1 || n > MaxLimit {
		return 0, invalid("params.limit %s: want a whole number from 1 to %d", clip(string(raw), 20), MaxLimit)
	}
	return n, nil
}

// parseAction reads a button's params: the ones Render writes.
func parseAction(kind string, meterID, version json.RawMessage) (Action, error) {
	switch kind {
	case ActionCheck, ActionMute, ActionUnmute:
	default:
		return Action{}, invalid("widgetAction %q: want %q, %q or %q", clip(kind, 20), ActionCheck, ActionMute, ActionUnmute)
	}
	id, err := strconv.ParseInt(string(meterID), 10, 64)
	if err != nil || id <= 0 {
		return Action{}, invalid("meterId %s: want a positive whole number", clip(string(meterID), 24))
	}
	var v string
	if err := json.Unmarshal(version, &v); err != nil {
		return Action{}, invalid("version: want a string")
	}
	if err := zuora.ValidateVersion(v); err != nil {
		return Action{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Action{Kind: kind, MeterID: id, Version: v}, nil
}

// clip bounds a caller's value quoted in an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
