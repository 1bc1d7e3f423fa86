// Package expect is when a watched meter version's runs are due: a cron in
// a time zone, and the grace a run has around each due time (the
// contract's "Late runs"). It knows nothing of the memory or of Zuora: the
// memory asks it which due times have passed and when the next one is.
package expect

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	// The Lambda runtime promises no zoneinfo files, and time.LoadLocation
	// fails without them; every binary that reads expectations carries the
	// zones in itself instead.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// Expectation is the schedule a meter version's runs are due on. New and
// Parse build it; its fields say what it was built from (setting Cron or
// Timezone by hand changes no due time). It is stored as the three strings
// Strings returns, and New rebuilds it from them. The zero Expectation has
// no due times.
type Expectation struct {
	Cron     string        // five crontab fields, or @hourly, @daily, @weekly, @monthly
	Timezone string        // the IANA zone the cron is read in; "UTC" by default
	Grace    time.Duration // how far from a due time a run still meets it; 1h by default

	wall *cron.SpecSchedule // the cron on the zone's wall clock (see Next)
	loc  *time.Location     // Timezone, loaded
}

// Defaults and bounds, from the contract.
const (
	DefaultTimezone = "UTC"
	DefaultGrace    = time.Hour
	MinGrace        = time.Minute
	MaxGrace        = 168 * time.Hour

	maxCron     = 100 // a crontab line's five fields fit with room to spare
	maxTimezone = 64  // the longest IANA name is about half that
)

// ErrInvalid is what every error of New and Parse wraps.
var ErrInvalid = errors.New("invalid expectation")

// FieldError says which field of the watch route's body is wrong, and how.
type FieldError struct {
	Field   string // "expect.cron", "expect.timezone", "expect.grace", an unknown "expect.<name>", or "expect"
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap makes every FieldError an ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldError(field, format string, args ...any) error {
	return &FieldError{Field: "expect." + field, Problem: fmt.Sprintf(format, args...)}
}

// New builds the expectation of a cron, a zone and a grace as the watch
// route takes them ("" for a default), and as Strings gives them back. It
// checks each on its own; Parse adds the check that needs the time.
func New(cronSpec, timezone, grace string) (Expectation, error) {
	spec, wall, err := parseCron(cronSpec)
	if err != nil {
		return Expectation{}, err
	}
	zone, loc, err := loadZone(timezone)
	if err != nil {
		return Expectation{}, err
	}
	d, err := parseGrace(grace)
	if err != nil {
		return Expectation{}, err
	}
	return Expectation{Cron: spec, Timezone: zone, Grace: d, wall: wall, loc: loc}, nil
}

// Strings is the expectation as it is stored: New(e.Strings()) rebuilds it.
func (e Expectation) Strings() (cronSpec, timezone, grace string) {
	return e.Cron, e.Timezone, formatGrace(e.Grace)
}

// Parse reads the watch route's `expect` object, fills in the defaults,
// and checks it as of now: the grace may be no longer than the time
// between the next two due times after now. A field it does not know is
// refused, not ignored, so that a misspelt "timzone" does not silently
// leave the zone at UTC. Every error is a *FieldError naming the field.
func Parse(raw json.RawMessage, now time.Time) (Expectation, error) {
	cronSpec, timezone, grace, err := decode(raw)
	if err != nil {
		return Expectation{}, err
	}
	e, err := New(cronSpec, timezone, grace)
	if err != nil {
		return Expectation{}, err
	}
	first := e.Next(now)
	second := e.Next(first)
	if first.IsZero() || second.IsZero() {
		return Expectation{}, fieldError("cron", "has no due times after %s", now.UTC().Format(time.RFC3339))
	}
	if gap := second.Sub(first); e.Grace > gap {
		return Expectation{}, fieldError("grace", "%s is longer than the %s between the next two due times (%s and %s)",
			formatGrace(e.Grace), formatGrace(gap), e.FormatDue(first), e.FormatDue(second))
	}
	return e, nil
}

// fields are the names an `expect` object may hold.
var fields = []string{"cron", "timezone", "grace"}

// decode reads the three strings of an `expect` object. Names are matched
// exactly: encoding/json's case-insensitive match would take "Cron" too.
func decode(raw json.RawMessage) (cronSpec, timezone, grace string, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return "", "", "", &FieldError{Field: "expect", Problem: "must be an object with cron, timezone and grace"}
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(fields, name) {
			return "", "", "", fieldError(clip(name), "is not a field of expect, which takes cron, timezone and grace")
		}
	}
	values := make([]string, len(fields))
	for i, name := range fields {
		if v, ok := obj[name]; ok && json.Unmarshal(v, &values[i]) != nil {
			return "", "", "", fieldError(name, "must be a string")
		}
	}
	return values[0], values[1], values[2], nil
}

// clip bounds what an error repeats of its input.
func clip(s string) string {
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "..."
	}
	return s
}

// MarshalJSON writes the expectation as the watch route echoes it, with
// its defaults: {"cron":"0 2 * * *","timezone":"UTC","grace":"1h"}.
func (e Expectation) MarshalJSON() ([]byte, error) {
	cronSpec, timezone, grace := e.Strings()
	return json.Marshal(struct {
		Cron     string `json:"cron"`
		Timezone string `json:"timezone"`
		Grace    string `json:"grace"`
	}{cronSpec, timezone, grace})
}

// descriptors are the names the contract takes for a cron; robfig/cron
// knows more (@yearly, @midnight, @every 5m), which the contract does not.
var descriptors = []string{"@hourly", "@daily", "@weekly", "@monthly"}

// parser reads the five crontab fields, and the descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron checks a cron and returns it with its spaces made single, and
// its schedule on the wall clock.
func parseCron(s string) (string, *cron.SpecSchedule, error) {
	spec := strings.Join(strings.Fields(s), " ")
	switch {
	case spec == "":
		return "", nil, fieldError("cron", "is required")
	case len(spec) > maxCron:
		return "", nil, fieldError("cron", "is longer than %d characters", maxCron)
	case strings.HasPrefix(spec, "@") && !slices.Contains(descriptors, spec):
		return "", nil, fieldError("cron", "must be five fields or one of %s", strings.Join(descriptors, ", "))
	case strings.ContainsRune(spec, '='):
		return "", nil, fieldError("cron", "takes no TZ= or CRON_TZ= prefix: the zone is expect.timezone")
	case strings.TrimLeft(spec, "@0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ*,-/ ") != "":
		return "", nil, fieldError("cron", "may hold only numbers, month and day names, and * , - /")
	}
	sched, err := parser.Parse(spec)
	if err != nil {
		return "", nil, fieldError("cron", "%v", err)
	}
	wall, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return "", nil, fieldError("cron", "must be five fields or one of %s", strings.Join(descriptors, ", "))
	}
	// Read in UTC, which has no daylight saving, the schedule gives the
	// wall-clock times the cron names; Next places them in the zone.
	wall.Location = time.UTC
	if wall.Next(neverBefore).IsZero() {
		return "", nil, fieldError("cron", "never comes (no day matches it)")
	}
	return spec, wall, nil
}

// neverBefore is where parseCron looks for a first due time: a cron that
// names none in the five years robfig/cron searches names a date that
// does not exist (30 February), which is the same in any year.
var neverBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// loadZone checks a zone's name and loads it.
func loadZone(name string) (string, *time.Location, error) {
	if name == "" {
		name = DefaultTimezone
	}
	switch {
	case name == "Local":
		return "", nil, fieldError("timezone", "must name a zone: Local is the machine's, not the meter's")
	case len(name) > maxTimezone || strings.HasPrefix(name, "/") || strings.Contains(name, ".."):
		return "", nil, fieldError("timezone", "%q is not an IANA time zone name", clip(name))
	case strings.TrimLeft(name, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/_+-") != "":
		return "", nil, fieldError("timezone", "%q is not an IANA time zone name", clip(name))
	}
	loc, err := load(name)
	if err != nil {
		return "", nil, fieldError("timezone", "%q is not an IANA time zone name", name)
	}
	return name, loc, nil
}

// zones holds the zones loaded so far: the scheduled run rebuilds every
// watched meter's expectation, and time.LoadLocation unzips its zone each
// time. Only names that loaded are kept, so it holds a few hundred at most.
var zones sync.Map // name → *time.Location

func load(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("loading the zone: %w", err)
	}
	zones.Store(name, loc)
	return loc, nil
}

// parseGrace checks a grace: a Go duration from MinGrace to MaxGrace, in
// whole seconds (it is written back in seconds at the finest).
func parseGrace(s string) (time.Duration, error) {
	if s == "" {
		return DefaultGrace, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fieldError("grace", "%q is not a Go duration such as 90m or 2h", clip(s))
	case d < MinGrace || d > MaxGrace:
		return 0, fieldError("grace", "must be from %s to %s", formatGrace(MinGrace), formatGrace(MaxGrace))
	case d%time.Second != 0:
		return 0, fieldError("grace", "must be whole seconds")
	}
	return d, nil
}
