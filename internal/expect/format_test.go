package expect

import "testing"

func TestFormatDue(t *testing.T) {
	berlin := mustNew(t, "0 2 * * *", "Europe/Berlin", "")
	newYork := mustNew(t, "0 2 * * *", "America/New_York", "")
	inUTC := mustNew(t, "0 2 * * *", "", "")
	tests := []struct {
		name            string
		e               Expectation
		at              string
		due, short, rfc string
	}{
		{"Berlin in winter", berlin, "2026-12-07T01:00:00Z", "2026-12-07 02:00 CET", "02:00 CET", "2026-12-07T02:00:00+01:00"},
		{"Berlin in summer", berlin, "2026-07-07T00:00:00Z", "2026-07-07 02:00 CEST", "02:00 CEST", "2026-07-07T02:00:00+02:00"},
		{"New York in winter", newYork, "2026-12-07T07:00:00Z", "2026-12-07 02:00 EST", "02:00 EST", "2026-12-07T02:00:00-05:00"},
		{"New York in summer", newYork, "2026-07-07T06:00:00Z", "2026-07-07 02:00 EDT", "02:00 EDT", "2026-07-07T02:00:00-04:00"},
		{"UTC", inUTC, "2026-12-07T02:00:00Z", "2026-12-07 02:00 UTC", "02:00 UTC", "2026-12-07T02:00:00Z"},
	}
	for _, tt := range tests {
		at := utc(tt.at)
		if got := tt.e.FormatDue(at); got != tt.due {
			t.Errorf("%s: FormatDue = %q, want %q", tt.name, got, tt.due)
		}
		if got := tt.e.FormatDueShort(at); got != tt.short {
			t.Errorf("%s: FormatDueShort = %q, want %q", tt.name, got, tt.short)
		}
		if got := tt.e.FormatDueRFC3339(at); got != tt.rfc {
			t.Errorf("%s: FormatDueRFC3339 = %q, want %q", tt.name, got, tt.rfc)
		}
	}
}
