package expect

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// now is when the tests set their expectations: a Tuesday in winter.
var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		name, raw             string
		cron, timezone, grace string // the normalized form, when it is valid
	}{
		{"defaults", `{"cron": "0 2 * * *"}`, "0 2 * * *", "UTC", "1h"},
		{"everything", `{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "2h"}`, "0 2 * * *", "Europe/Berlin", "2h"},
		{"empty strings are defaults", `{"cron": "0 2 * * *", "timezone": "", "grace": ""}`, "0 2 * * *", "UTC", "1h"},
		{"spaces made single", `{"cron": " 0\t2  * * * "}`, "0 2 * * *", "UTC", "1h"},
		{"names and ranges", `{"cron": "15 6 * jan-mar MON-FRI"}`, "15 6 * jan-mar MON-FRI", "UTC", "1h"},
		{"@hourly", `{"cron": "@hourly"}`, "@hourly", "UTC", "1h"},
		{"@daily", `{"cron": "@daily", "timezone": "America/New_York"}`, "@daily", "America/New_York", "1h"},
		{"@weekly", `{"cron": "@weekly", "grace": "168h"}`, "@weekly", "UTC", "168h"},
		{"@monthly", `{"cron": "@monthly", "grace": "168h"}`, "@monthly", "UTC", "168h"},
		{"29 February", `{"cron": "0 0 29 2 *"}`, "0 0 29 2 *", "UTC", "1h"},
		{"every minute, the shortest grace", `{"cron": "* * * * *", "grace": "1m"}`, "* * * * *", "UTC", "1m"},
		{"grace written short", `{"cron": "0 2 * * *", "grace": "90m"}`, "0 2 * * *", "UTC", "1h30m"},
		{"grace in hours and seconds", `{"cron": "0 2 * * *", "grace": "1.5h30s"}`, "0 2 * * *", "UTC", "1h30m30s"},
		{"grace as long as the gap", `{"cron": "0 */6 * * *", "grace": "6h"}`, "0 */6 * * *", "UTC", "6h"},
		{"zone with a sign", `{"cron": "0 2 * * *", "timezone": "Etc/GMT+5"}`, "0 2 * * *", "Etc/GMT+5", "1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(json.RawMessage(tt.raw), now)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", tt.raw, err)
			}
			cronSpec, timezone, grace := e.Strings()
			if cronSpec != tt.cron || timezone != tt.timezone || grace != tt.grace {
				t.Errorf("Parse(%s) = %q %q %q, want %q %q %q", tt.raw, cronSpec, timezone, grace, tt.cron, tt.timezone, tt.grace)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	long := "0 2 " + strings.Repeat("1,", 50) + "2 * *"
	tests := []struct{ name, raw, field string }{
		{"not an object", `"0 2 * * *"`, "expect"},
		{"null", `null`, "expect"},
		{"nothing", ``, "expect"},
		{"an array", `[]`, "expect"},
		{"broken", `{"cron": "0 2 * * *"`, "expect"},
		{"trailing data", `{"cron": "0 2 * * *"} {}`, "expect"},
		{"a misspelt field", `{"cron": "0 2 * * *", "timzone": "Europe/Berlin"}`, "expect.timzone"},
		{"a field in capitals", `{"Cron": "0 2 * * *"}`, "expect.Cron"},

		{"no cron", `{}`, "expect.cron"},
		{"empty cron", `{"cron": "  "}`, "expect.cron"},
		{"cron not a string", `{"cron": 5}`, "expect.cron"},
		{"four fields", `{"cron": "0 2 * *"}`, "expect.cron"},
		{"six fields (seconds)", `{"cron": "0 0 2 * * *"}`, "expect.cron"},
		{"@every", `{"cron": "@every 1h"}`, "expect.cron"},
		{"@yearly", `{"cron": "@yearly"}`, "expect.cron"},
		{"@midnight", `{"cron": "@midnight"}`, "expect.cron"},
		{"an unknown descriptor", `{"cron": "@reboot"}`, "expect.cron"},
		{"TZ= prefix", `{"cron": "TZ=Europe/Berlin 0 2 * * *"}`, "expect.cron"},
		{"CRON_TZ= prefix", `{"cron": "CRON_TZ=UTC 0 2 * * *"}`, "expect.cron"},
		{"TZ= alone", `{"cron": "TZ=UTC"}`, "expect.cron"},
		{"question mark", `{"cron": "0 2 * * ?"}`, "expect.cron"},
		{"minute out of range", `{"cron": "60 2 * * *"}`, "expect.cron"},
		{"hour out of range", `{"cron": "0 24 * * *"}`, "expect.cron"},
		{"step of zero", `{"cron": "*/0 2 * * *"}`, "expect.cron"},
		{"never (30 February)", `{"cron": "0 0 30 2 *"}`, "expect.cron"},
		{"never (31 April)", `{"cron": "0 0 31 4 *"}`, "expect.cron"},
		{"never (empty list)", `{"cron": ", 2 * * *"}`, "expect.cron"},
		{"too long", `{"cron": "` + long + `"}`, "expect.cron"},

		{"Local", `{"cron": "0 2 * * *", "timezone": "Local"}`, "expect.timezone"},
		{"a path", `{"cron": "0 2 * * *", "timezone": "/etc/localtime"}`, "expect.timezone"},
		{"dot dot", `{"cron": "0 2 * * *", "timezone": "../../etc/passwd"}`, "expect.timezone"},
		{"dot dot inside", `{"cron": "0 2 * * *", "timezone": "Europe/../Europe/Berlin"}`, "expect.timezone"},
		{"unknown zone", `{"cron": "0 2 * * *", "timezone": "Mars/Olympus_Mons"}`, "expect.timezone"},
		{"zone with a space", `{"cron": "0 2 * * *", "timezone": "Europe/Berlin "}`, "expect.timezone"},
		{"zone too long", `{"cron": "0 2 * * *", "timezone": "` + strings.Repeat("A", 65) + `"}`, "expect.timezone"},
		{"zone not a string", `{"cron": "0 2 * * *", "timezone": 1}`, "expect.timezone"},

		{"grace not a duration", `{"cron": "0 2 * * *", "grace": "2 hours"}`, "expect.grace"},
		{"grace without a unit", `{"cron": "0 2 * * *", "grace": "2"}`, "expect.grace"},
		{"grace a number", `{"cron": "0 2 * * *", "grace": 7200}`, "expect.grace"},
		{"grace too short", `{"cron": "0 2 * * *", "grace": "59s"}`, "expect.grace"},
		{"grace negative", `{"cron": "0 2 * * *", "grace": "-1h"}`, "expect.grace"},
		{"grace too long", `{"cron": "@monthly", "grace": "168h1s"}`, "expect.grace"},
		{"grace not whole seconds", `{"cron": "0 2 * * *", "grace": "1m0.5s"}`, "expect.grace"},
		{"grace longer than the gap", `{"cron": "0 */6 * * *", "grace": "6h1m"}`, "expect.grace"},
		{"grace longer than an hour, hourly", `{"cron": "@hourly", "grace": "61m"}`, "expect.grace"},
		{"grace longer than the next gap only", `{"cron": "0 2,3 * * *", "grace": "2h"}`, "expect.grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(json.RawMessage(tt.raw), now)
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%s) = %+v, %v; want a *FieldError for %s", tt.raw, e, err, tt.field)
			}
			if fe.Field != tt.field {
				t.Errorf("Parse(%s): %v names %s, want %s", tt.raw, err, fe.Field, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("Parse(%s): %q does not start with the field", tt.raw, err)
			}
		})
	}
}

// A grace is held to the gap between the next two due times after now,
// which daylight saving changes: a week is 167 hours across spring forward.
func TestParseGraceAgainstAWeekThatIsShort(t *testing.T) {
	raw := json.RawMessage(`{"cron": "@weekly", "timezone": "Europe/Berlin", "grace": "168h"}`)
	beforeSpring := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC) // next: 29 March, then 5 April
	if _, err := Parse(raw, beforeSpring); err == nil || !strings.Contains(err.Error(), "167h") {
		t.Errorf("Parse across spring forward = %v, want a grace longer than 167h refused", err)
	}
	if _, err := Parse(raw, now); err != nil {
		t.Errorf("Parse in December = %v", err)
	}
}

func TestNewRebuildsFromStrings(t *testing.T) {
	e, err := Parse(json.RawMessage(`{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "90m"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := New(e.Strings())
	if err != nil {
		t.Fatal(err)
	}
	if again.Cron != e.Cron || again.Timezone != e.Timezone || again.Grace != e.Grace || !again.Next(now).Equal(e.Next(now)) {
		t.Errorf("New(%q, %q, %q) = %+v, want %+v", e.Cron, e.Timezone, formatGrace(e.Grace), again, e)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	e, err := Parse(json.RawMessage(`{"grace": "90m", "cron": "30 2 * * 1-5", "timezone": "Europe/Berlin"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(struct {
		Expect *Expectation `json:"expect"`
	}{&e})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"expect":{"cron":"30 2 * * 1-5","timezone":"Europe/Berlin","grace":"1h30m"}}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	again, err := Parse(json.RawMessage(b[len(`{"expect":`):len(b)-1]), now)
	if err != nil || again.Cron != e.Cron || again.Timezone != e.Timezone || again.Grace != e.Grace {
		t.Errorf("Parse(Marshal) = %+v, %v; want %+v", again, err, e)
	}
}

func TestFormatGrace(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute:                        "1m",
		time.Hour:                          "1h",
		90 * time.Minute:                   "1h30m",
		time.Hour + 30*time.Second:         "1h30s",
		168 * time.Hour:                    "168h",
		90 * time.Second:                   "1m30s",
		2*time.Hour + 500*time.Millisecond: "2h",
		0:                                  "0s",
	} {
		if got := formatGrace(d); got != want {
			t.Errorf("formatGrace(%v) = %q, want %q", d, got, want)
		}
		if d >= time.Second && d%time.Second == 0 {
			if back, err := time.ParseDuration(formatGrace(d)); err != nil || back != d {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", formatGrace(d), back, err, d)
			}
		}
	}
}

func TestZeroExpectation(t *testing.T) {
	var e Expectation
	if got := e.Next(now); !got.IsZero() {
		t.Errorf("Next = %v, want none", got)
	}
	if got := dueIn(e, now, now.Add(time.Hour), 10); got != nil {
		t.Errorf("due times %v, want none", got)
	}
	if _, ok := e.Last(now, time.Time{}); ok {
		t.Error("Last found a due time")
	}
	if got := e.FormatDue(now); got != "2026-12-01 09:00 UTC" {
		t.Errorf("FormatDue = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "2h"}`,
		`{"cron": "@hourly"}`, `{"cron": "@every 1h"}`, `{"cron": "TZ=UTC"}`, `{"cron": "TZ="}`,
		`{"cron": "*/5 1-3,5 1,15 jan-jun mon-fri", "grace": "5m"}`, `{"cron": "0 0 30 2 *"}`,
		`{"cron": "1-2-3 * * * *"}`, `{"cron": "*/99999999999999999999 * * * *"}`, `{"cron": "0 2 * * *", "grace": "9223372036854775807ns"}`,
		`{"cron": "0 2 * * *", "timezone": "../x"}`, `{"cron": "0 2 * * *", "timezone": "Local"}`, `null`, `[]`, `{"a": 1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := Parse(raw, now)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) || !strings.HasPrefix(fe.Field, "expect") {
				t.Fatalf("Parse(%q) = %v, not a *FieldError", raw, err)
			}
			return
		}
		if next := e.Next(now); !next.After(now) {
			t.Fatalf("Parse(%q): Next(now) = %v", raw, next)
		}
		if e.Grace < MinGrace || e.Grace > MaxGrace {
			t.Fatalf("Parse(%q): grace %v", raw, e.Grace)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(b, now)
		if err != nil || again.Cron != e.Cron || again.Timezone != e.Timezone || again.Grace != e.Grace {
			t.Fatalf("Parse(%s) = %+v, %v; want %+v", b, again, err, e)
		}
	})
}

func FuzzNew(f *testing.F) {
	f.Add("0 2 * * *", "Europe/Berlin", "2h")
	f.Add("TZ=UTC", "", "")
	f.Add("@every 1s", "Local", "1ns")
	f.Add("0-59/7 */3 1-31/2 */2 0-6/2", "America/New_York", "90m")
	f.Fuzz(func(t *testing.T, cronSpec, timezone, grace string) {
		e, err := New(cronSpec, timezone, grace)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("New(%q, %q, %q) = %v, not ErrInvalid", cronSpec, timezone, grace, err)
			}
			return
		}
		if next := e.Next(now); !next.After(now) {
			t.Fatalf("New(%q, %q, %q): Next(now) = %v", cronSpec, timezone, grace, next)
		}
	})
}
