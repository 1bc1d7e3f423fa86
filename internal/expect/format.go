package expect

import (
	"strconv"
	"time"
)

// Location is the expectation's zone (UTC for the zero Expectation).
func (e Expectation) Location() *time.Location {
	if e.loc == nil {
		return time.UTC
	}
	return e.loc
}

// FormatDue writes a due time as the pages say it, on the zone's clock
// with the zone's abbreviation: "2026-12-07 02:00 CET" (or "02:00 CEST" in
// summer; a zone without an abbreviation shows its offset, "+03").
func (e Expectation) FormatDue(t time.Time) string {
	return t.In(e.Location()).Format("2006-01-02 15:04 MST")
}

// FormatDueShort is FormatDue without the date, for an SMS: "02:00 CET".
func (e Expectation) FormatDueShort(t time.Time) string {
	return t.In(e.Location()).Format("15:04 MST")
}

// FormatDueRFC3339 writes a due time for the machines, with the zone's
// offset: "2026-12-07T02:00:00+01:00".
func (e Expectation) FormatDueRFC3339(t time.Time) string {
	return t.In(e.Location()).Format(time.RFC3339)
}

// formatGrace writes a grace as people type it: 2h, 90m as 1h30m, 45s;
// time.Duration's String would write 2h0m0s.
func formatGrace(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	d = d.Truncate(time.Second)
	var b []byte
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.name...)
			d -= n * u.unit
		}
	}
	return string(b)
}
