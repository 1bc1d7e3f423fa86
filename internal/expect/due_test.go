package expect

import (
	"testing"
	"time"
)

func mustNew(t *testing.T, cronSpec, timezone, grace string) Expectation {
	t.Helper()
	e, err := New(cronSpec, timezone, grace)
	if err != nil {
		t.Fatalf("New(%q, %q, %q) = %v", cronSpec, timezone, grace, err)
	}
	return e
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// dueRFC3339 lists the due times from..to as RFC 3339 with the zone's offset.
func dueRFC3339(e Expectation, from, to string) []string {
	var out []string
	for _, t := range dueIn(e, utc(from), utc(to), 100) {
		out = append(out, e.FormatDueRFC3339(t))
	}
	return out
}

func TestDueAcrossDaylightSaving(t *testing.T) {
	tests := []struct {
		name, cron, zone, from, to string
		want                       []string
	}{
		{"Berlin springs forward: 02:30 is due at the jump to 03:00", "30 2 * * *", "Europe/Berlin",
			"2026-03-27T12:00:00Z", "2026-03-31T12:00:00Z",
			[]string{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"}},
		{"Berlin falls back: 02:30 is due the first time only", "30 2 * * *", "Europe/Berlin",
			"2026-10-23T12:00:00Z", "2026-10-27T12:00:00Z",
			[]string{"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"}},
		{"New York springs forward", "30 2 * * *", "America/New_York",
			"2026-03-07T12:00:00Z", "2026-03-10T12:00:00Z",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"}},
		{"New York falls back", "30 1 * * *", "America/New_York",
			"2026-10-31T12:00:00Z", "2026-11-03T12:00:00Z",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"}},
		{"hourly, spring: the skipped 02:30 moves to the jump", "30 * * * *", "Europe/Berlin",
			"2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z",
			[]string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00"}},
		{"hourly on the hour, spring: 02:00 and 03:00 are one due time", "0 * * * *", "Europe/Berlin",
			"2026-03-28T23:30:00Z", "2026-03-29T02:00:00Z",
			[]string{"2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"hourly, fall: one due time in the repeated hour", "30 * * * *", "Europe/Berlin",
			"2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z",
			[]string{"2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00"}},
		{"@weekly in Berlin: Sunday midnight, across spring forward", "@weekly", "Europe/Berlin",
			"2026-03-20T00:00:00Z", "2026-04-06T00:00:00Z",
			[]string{"2026-03-22T00:00:00+01:00", "2026-03-29T00:00:00+01:00", "2026-04-05T00:00:00+02:00"}},
		{"@monthly in New York, across spring forward", "@monthly", "America/New_York",
			"2026-02-15T00:00:00Z", "2026-04-15T00:00:00Z",
			[]string{"2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"}},
		{"@daily in Berlin, across fall back", "@daily", "Europe/Berlin",
			"2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z",
			[]string{"2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustNew(t, tt.cron, tt.zone, "")
			got := dueRFC3339(e, tt.from, tt.to)
			if len(got) != len(tt.want) {
				t.Fatalf("due times = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("due time %d = %s, want %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// A daily cron is due exactly once on every day of the year, whatever the
// clock does that day.
func TestDailyIsDueOnceADay(t *testing.T) {
	for _, c := range []struct{ cron, zone string }{
		{"30 2 * * *", "Europe/Berlin"}, {"0 2 * * *", "Europe/Berlin"}, {"0 3 * * *", "Europe/Berlin"},
		{"30 2 * * *", "America/New_York"}, {"30 1 * * *", "America/New_York"}, {"0 0 * * *", "America/Santiago"},
		{"15 2 * * *", "Australia/Lord_Howe"}, {"45 1 * * *", "Australia/Lord_Howe"}, {"30 2 * * *", "UTC"},
	} {
		e := mustNew(t, c.cron, c.zone, "")
		loc := e.Location()
		from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
		due := dueIn(e, from, to, 1000)
		days := map[string]int{}
		for _, d := range due {
			days[d.Format("2006-01-02")]++
		}
		if len(due) != 365 || len(days) != 365 {
			t.Errorf("%s in %s: %d due times on %d days in 2026, want 365 on 365", c.cron, c.zone, len(due), len(days))
		}
	}
}

func TestNext(t *testing.T) {
	e := mustNew(t, "30 2 * * *", "Europe/Berlin", "")
	tests := []struct{ name, after, want string }{
		{"before", "2026-12-06T12:00:00Z", "2026-12-07T02:30:00+01:00"},
		{"strictly after", "2026-12-07T01:30:00Z", "2026-12-08T02:30:00+01:00"},
		{"a nanosecond before", "2026-12-07T01:29:59.999999999Z", "2026-12-07T02:30:00+01:00"},
		{"at the jump it was moved to", "2026-03-29T01:00:00Z", "2026-03-30T02:30:00+02:00"},
		{"just before the jump", "2026-03-29T00:59:00Z", "2026-03-29T03:00:00+02:00"},
		{"in the repeated hour, after the first 02:30", "2026-10-25T01:10:00Z", "2026-10-26T02:30:00+01:00"},
		{"in the repeated hour, before the first 02:30", "2026-10-25T00:10:00Z", "2026-10-25T02:30:00+02:00"},
	}
	for _, tt := range tests {
		if got := e.FormatDueRFC3339(e.Next(utc(tt.after))); got != tt.want {
			t.Errorf("%s: Next(%s) = %s, want %s", tt.name, tt.after, got, tt.want)
		}
	}
	if loc := e.Next(now).Location(); loc != e.Location() {
		t.Errorf("Next is in %v, want the expectation's zone", loc)
	}
}

func TestLast(t *testing.T) {
	daily := mustNew(t, "0 2 * * *", "Europe/Berlin", "")
	leap := mustNew(t, "0 0 29 2 *", "UTC", "")
	everyMinute := mustNew(t, "* * * * *", "UTC", "1m")
	tests := []struct {
		name              string
		e                 Expectation
		atOrBefore, since string
		want              string // "" for none
	}{
		{"the latest of several", daily, "2026-12-07T12:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T02:00:00+01:00"},
		{"at or before is included", daily, "2026-12-07T01:00:00Z", "2026-12-01T00:00:00Z", "2026-12-07T02:00:00+01:00"},
		{"since is not", daily, "2026-12-07T01:00:00Z", "2026-12-07T01:00:00Z", ""},
		{"none in between", daily, "2026-12-07T00:59:00Z", "2026-12-06T01:00:00Z", ""},
		{"since never", daily, "2026-12-07T12:00:00Z", "0001-01-01T00:00:00Z", "2026-12-07T02:00:00+01:00"},
		{"years back", leap, "2026-12-07T12:00:00Z", "0001-01-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"across 2100, which is no leap year", leap, "2103-12-31T00:00:00Z", "2000-01-01T00:00:00Z", "2096-02-29T00:00:00Z"},
		{"every minute, long ago", everyMinute, "2026-12-07T12:34:56Z", "2020-01-01T00:00:00Z", "2026-12-07T12:34:00Z"},
	}
	for _, tt := range tests {
		got, ok := tt.e.Last(utc(tt.atOrBefore), utc(tt.since))
		if tt.want == "" {
			if ok {
				t.Errorf("%s: Last = %v, want none", tt.name, got)
			}
			continue
		}
		if !ok || tt.e.FormatDueRFC3339(got) != tt.want {
			t.Errorf("%s: Last = %v, %v; want %s", tt.name, got, ok, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	e := mustNew(t, "0 2 * * *", "Europe/Berlin", "2h")
	due := e.Next(now)
	from, to := e.Window(due)
	if !from.Equal(due.Add(-2*time.Hour)) || !to.Equal(due.Add(2*time.Hour)) {
		t.Errorf("Window(%v) = %v, %v", due, from, to)
	}
	for _, tt := range []struct {
		after                 time.Duration
		judgeable, unverified bool
	}{
		{0, false, false},
		{2 * time.Hour, false, false},
		{2*time.Hour + time.Second, true, false},
		{4 * time.Hour, true, false},
		{4*time.Hour + time.Second, true, true},
	} {
		at := due.Add(tt.after)
		if last, ok := e.Last(at.Add(-e.Grace-time.Nanosecond), time.Time{}); (ok && last.Equal(due)) != tt.judgeable {
			t.Errorf("judgeable at due+%v = %v, want %v", tt.after, !tt.judgeable, tt.judgeable)
		}
		if got := e.Unverified(due, at); got != tt.unverified {
			t.Errorf("Unverified at due+%v = %v, want %v", tt.after, got, tt.unverified)
		}
	}
}

// dueIn lists the due times after from and at or before to, oldest first,
// at most max of them: Next, walked.
func dueIn(e Expectation, from, to time.Time, max int) []time.Time {
	var out []time.Time
	for t := e.Next(from); len(out) < max && !t.IsZero() && !t.After(to); t = e.Next(t) {
		out = append(out, t)
	}
	return out
}
