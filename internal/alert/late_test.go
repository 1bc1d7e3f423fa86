package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

// lateReport is the scheduled run's result for meter 123 that a late page
// reports.
func lateReport(version string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"meterId":123,"version":%q,"status":"COMPLETED","statusCode":7,"checkedAt":"2026-12-07T03:05:00Z","trackId":"req-9"}`, version))
}

// Due times as the memory may hand them over: in UTC, or in a bare offset
// (as a time read back from the store); the page writes them in the
// expectation's zone either way.
var (
	winterDue = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)                   // 02:00 CET
	summerDue = time.Date(2026, 7, 7, 2, 0, 0, 0, time.FixedZone("", 2*60*60)) // 02:00 CEST
	lastRun   = time.Date(2026, 12, 6, 1, 12, 0, 0, time.FixedZone("", 60*60)) // 01:12 CET
)

func berlin(due time.Time, grace time.Duration, lastRunAt time.Time, verified bool) *memory.Late {
	return &memory.Late{Due: due, Cron: "0 2 * * *", Timezone: "Europe/Berlin", Grace: grace, LastRunAt: lastRunAt, Verified: verified}
}

// A late page: the subject and SMS name the due time in the meter's zone,
// the JSON adds every field of "late", and the e-mail says what was due,
// when a run was last seen and how the miss was confirmed.
func TestLatePage(t *testing.T) {
	tests := []struct {
		name    string
		msg     memory.Message
		subject string
		sms     string
		late    string // the JSON's "late" object
		email   []string
		noEmail []string
	}{
		{"winter, verified", memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"), Late: berlin(winterDue, 2*time.Hour, lastRun, true)},
			"Zuora meter 123 version 0.0.1: LATE, no run since due 2026-12-07 02:00 CET",
			"Zuora meter 123 v0.0.1 LATE: no run since due 02:00 CET",
			`{"due":"2026-12-07T02:00:00+01:00","cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"2h","lastRunAt":"2026-12-06T00:12:00Z","verified":true}`,
			[]string{
				"Meter 123, version 0.0.1: no run came for the run due 2026-12-07 02:00 CET (2026-12-07 01:00:00 UTC).",
				`Due: on the cron "0 2 * * *" in Europe/Berlin; a run going within 2h either side`,
				"Last run seen: 2026-12-06 00:12:00 UTC.",
				"Confirmed: Zuora's summary from 2026-12-06 23:00:00 UTC to this check (2026-12-07 03:05:00 UTC) lists no session.",
				"Next: check the upstream schedule", "the meter in\nZuora", "A\nresolution follows when a run of this meter version is seen.",
				"To quote to Zuora: track id req-9.",
			},
			[]string{"false alarm", "After a mute"}},
		{"summer, never seen, unverified", memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"), Late: berlin(summerDue, 90*time.Minute, time.Time{}, false)},
			"Zuora meter 123 version 0.0.1: LATE, no run since due 2026-07-07 02:00 CEST",
			"Zuora meter 123 v0.0.1 LATE: no run since due 02:00 CEST",
			`{"due":"2026-07-07T02:00:00+02:00","cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"1h30m","verified":false}`,
			[]string{
				"no run came for the run due 2026-07-07 02:00 CEST (2026-07-07 00:00:00 UTC).", "within 1h30m either side",
				"Last run seen: never, as far as this function knows.",
				"Not confirmed: Zuora could not be asked (no answer from its summary by 2026-07-07 03:00:00 UTC, twice the grace past the due time); this page may be a false alarm.",
			},
			[]string{"Confirmed:", "lastRunAt"}},
		{"in UTC, the due time said once", memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"),
			Late: &memory.Late{Due: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC), Cron: "0 * * * *", Timezone: "UTC", Grace: 10 * time.Minute, Verified: true}},
			"Zuora meter 123 version 0.0.1: LATE, no run since due 2026-12-07 18:00 UTC",
			"Zuora meter 123 v0.0.1 LATE: no run since due 18:00 UTC",
			`{"due":"2026-12-07T18:00:00Z","cron":"0 * * * *","timezone":"UTC","grace":"10m","verified":true}`,
			[]string{"Meter 123, version 0.0.1: no run came for the run due 2026-12-07 18:00 UTC.\n"},
			[]string{"(2026-12-07 18:00:00 UTC)"}},
		{"reminder", memory.Message{Event: memory.EventReminder, Report: lateReport("0.0.1"), Late: berlin(winterDue, 2*time.Hour, lastRun, true)},
			"Zuora meter 123 version 0.0.1: still LATE, no run since due 2026-12-07 02:00 CET",
			"Zuora meter 123 v0.0.1 still LATE: no run since due 02:00 CET",
			`{"due":"2026-12-07T02:00:00+01:00","cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"2h","lastRunAt":"2026-12-06T00:12:00Z","verified":true}`,
			[]string{
				"Meter 123, version 0.0.1: still no run since the run due 2026-12-07 02:00 CET (2026-12-07 01:00:00 UTC).",
				// The reminder's check did not ask Zuora: it does not say it did.
				"Confirmed: Zuora's summary from 2026-12-06 23:00:00 UTC on listed no session when the miss was judged, and no run has been seen since.",
			},
			[]string{"to this check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(topic, "", tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.subject || m.SMS != tt.sms {
				t.Errorf("subject %q, SMS %q; want %q, %q", m.Subject, m.SMS, tt.subject, tt.sms)
			}
			if want := strings.TrimSuffix(string(tt.msg.Report), "}") + `,"late":` + tt.late + "}"; m.JSON != want {
				t.Errorf("JSON\n%s\nwant\n%s", m.JSON, want)
			}
			var obj struct{ Late map[string]any }
			if err := json.Unmarshal([]byte(m.JSON), &obj); err != nil || len(obj.Late) < 5 {
				t.Errorf("the JSON does not decode with its late object: %v %v", obj.Late, err)
			}
			attrs := fmt.Sprint(m.Attributes)
			if want := fmt.Sprintf("[{meterId Number 123} {version String 0.0.1} {status String COMPLETED} {statusCode Number 7} {event String %s}]", tt.msg.Event); attrs != want {
				t.Errorf("attributes %s, want %s", attrs, want)
			}
			if !strings.HasPrefix(m.Email, tt.subject+"\n\n") || len(m.Email) > maxEmail || !isText(m.Email) {
				t.Errorf("e-mail (%d bytes) does not start with its subject:\n%s", len(m.Email), m.Email)
			}
			for _, want := range tt.email {
				if !strings.Contains(m.Email, want) {
					t.Errorf("the e-mail lacks %q:\n%s", want, m.Email)
				}
			}
			for _, not := range tt.noEmail {
				if strings.Contains(m.Email, not) || strings.Contains(m.JSON, not) {
					t.Errorf("the e-mail or JSON has %q:\n%s\n%s", not, m.JSON, m.Email)
				}
			}
		})
	}
}

// The longest meter id and version still fit: the subject within SNS's
// 100 characters, the SMS within 140, both still saying when it was due.
func TestLatePageLongest(t *testing.T) {
	version := strings.Repeat("v", 64)
	rep := json.RawMessage(fmt.Sprintf(`{"meterId":9223372036854775807,"version":%q,"status":"COMPLETED","statusCode":7,"checkedAt":"2026-07-07T03:05:00Z"}`, version))
	for _, event := range []string{memory.EventLate, memory.EventReminder} {
		m, err := Build(topic, "https://z.example/"+strings.Repeat("x", 1000)+"/{meterId}/{version}", memory.Message{Event: event, Report: rep,
			Late: berlin(summerDue, 168*time.Hour, lastRun, false)})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Subject) > maxSubject || !strings.HasSuffix(m.Subject, "LATE, no run since due 2026-07-07 02:00 CEST") ||
			len(m.SMS) > maxSMS || !strings.HasSuffix(m.SMS, "LATE: no run since due 02:00 CEST") || !strings.Contains(m.SMS, version) ||
			len(m.Email) > maxEmail || !isText(m.Email) || !strings.Contains(m.JSON, `"grace":"168h"`) {
			t.Errorf("%s: subject (%d) %q, SMS (%d) %q, e-mail %d bytes", event, len(m.Subject), m.Subject, len(m.SMS), m.SMS, len(m.Email))
		}
	}
}

// An expectation that no longer rebuilds (a zone this build does not know)
// still pages, its due time written in UTC.
func TestLatePageUnknownZone(t *testing.T) {
	l := &memory.Late{Due: winterDue, Cron: "0 2 * * *", Timezone: "Mars/Olympus_Mons", Grace: time.Hour, Verified: true}
	m, err := Build(topic, "", memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"), Late: l})
	if err != nil || m.Subject != "Zuora meter 123 version 0.0.1: LATE, no run since due 2026-12-07 01:00 UTC" ||
		!strings.Contains(m.JSON, `"late":{"due":"2026-12-07T01:00:00Z","cron":"0 2 * * *","timezone":"Mars/Olympus_Mons","grace":"1h",`) {
		t.Errorf("%v: %q\n%s", err, m.Subject, m.JSON)
	}
}

// A late alert's resolution: the due time missed, with the offset it was
// due in; the subject as every resolution's; an e-mail that says what the
// page was about and that a run came.
func TestLateResolution(t *testing.T) {
	running := json.RawMessage(`{"meterId":123,"version":"0.0.1","status":"RUNNING","statusCode":5,"checkedAt":"2026-12-08T02:10:00Z","source":"callout"}`)
	berlinZone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		due    time.Time
		json   string
		dueUTC string
	}{
		{"in the zone", winterDue.In(berlinZone), `"resolves":{"late":true,"due":"2026-12-07T02:00:00+01:00"}`, "2026-12-07 01:00:00 UTC"},
		{"read back from the store", summerDue, `"resolves":{"late":true,"due":"2026-07-07T02:00:00+02:00"}`, "2026-07-07 00:00:00 UTC"},
		{"sub-second", winterDue.In(berlinZone).Add(time.Millisecond), `"resolves":{"late":true,"due":"2026-12-07T02:00:00+01:00"}`, "2026-12-07 01:00:00 UTC"},
	}
	for _, tt := range tests {
		m, err := Build(topic, "", memory.Message{Event: memory.EventResolved, Report: running, Resolves: &memory.Resolution{Late: true, Due: tt.due}})
		if err != nil {
			t.Fatal(err)
		}
		if m.JSON != strings.TrimSuffix(string(running), "}")+","+tt.json+"}" {
			t.Errorf("%s: JSON %s", tt.name, m.JSON)
		}
		if m.Subject != "Zuora meter 123 version 0.0.1: resolved (RUNNING)" || m.SMS != "Zuora meter 123 v0.0.1 resolved (RUNNING)" ||
			m.Attributes[2].Value != "RUNNING" || m.Attributes[4].Value != "resolved" {
			t.Errorf("%s: subject %q, SMS %q, attributes %v", tt.name, m.Subject, m.SMS, m.Attributes)
		}
		for _, want := range []string{
			"Meter 123, version 0.0.1: the late alert is closed. A run was seen after the due time missed at " + tt.dueUTC +
				" (Zuora's notification saw RUNNING at 2026-12-08 02:10:00 UTC).",
			"The page said no run of this meter version had come for that due time, nor since.", "Nothing to do.",
		} {
			if !strings.Contains(m.Email, want) {
				t.Errorf("%s: the e-mail lacks %q:\n%s", tt.name, want, m.Email)
			}
		}
	}
}

// A condition a mute held back pages when the mute ends: the JSON says so,
// the e-mail says it in one line, and the subject and SMS are the event's
// own. Without AfterMute, neither says a word of it.
func TestAfterMute(t *testing.T) {
	running := json.RawMessage(`{"meterId":123,"version":"0.0.1","status":"RUNNING","statusCode":5,"checkedAt":"2026-11-28T17:10:00Z"}`)
	stuck := &memory.Stuck{Since: checkedAt.Add(-6 * time.Hour), For: 6 * time.Hour, Usual: 40 * time.Minute, Threshold: 2 * time.Hour}
	tests := []struct {
		msg     memory.Message
		subject string
		sms     string
		adds    string // what the JSON adds to the report, before the link
	}{
		{memory.Message{Event: memory.EventAlert, Report: failedReport(""), AfterMute: true},
			"Zuora meter 102 version 0.0.1: FAILED", "Zuora meter 102 v0.0.1 FAILED", `,"afterMute":true`},
		{memory.Message{Event: memory.EventStuck, Report: running, Stuck: stuck, AfterMute: true},
			"Zuora meter 123 version 0.0.1: RUNNING for 6h (usually 40m)", "Zuora meter 123 v0.0.1 RUNNING for 6h (usually 40m)",
			`,"stuck":{"since":"2026-11-28T05:00:00Z","for":"6h","usual":"40m","threshold":"2h"},"afterMute":true`},
		{memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"), Late: berlin(winterDue, 2*time.Hour, time.Time{}, true), AfterMute: true},
			"Zuora meter 123 version 0.0.1: LATE, no run since due 2026-12-07 02:00 CET", "Zuora meter 123 v0.0.1 LATE: no run since due 02:00 CET",
			`,"late":{"due":"2026-12-07T02:00:00+01:00","cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"2h","verified":true},"afterMute":true`},
	}
	const line = "\n\nAfter a mute: this began while the meter version was muted; the mute has ended, and it is still open.\n"
	for _, tt := range tests {
		for _, afterMute := range []bool{true, false} {
			msg := tt.msg
			msg.AfterMute = afterMute
			m, err := Build(topic, "https://z.example/m/{meterId}", msg)
			if err != nil {
				t.Fatal(err)
			}
			adds := tt.adds
			if !afterMute {
				adds = strings.TrimSuffix(adds, `,"afterMute":true`)
			}
			want := strings.TrimSuffix(string(msg.Report), "}") + adds + fmt.Sprintf(`,"link":"https://z.example/m/%s"}`, tt.subject[12:15])
			if m.Subject != tt.subject || m.SMS != tt.sms || m.JSON != want || m.Attributes[4].Value != msg.Event {
				t.Errorf("%s, afterMute %v: subject %q, SMS %q, JSON\n%s\nwant\n%s", msg.Event, afterMute, m.Subject, m.SMS, m.JSON, want)
			}
			if strings.Contains(m.Email, tt.subject+line) != afterMute || strings.Count(m.Email, "mute") != map[bool]int{true: 3, false: 0}[afterMute] {
				t.Errorf("%s, afterMute %v: the e-mail's word of the mute:\n%s", msg.Event, afterMute, m.Email)
			}
		}
	}
	// The memory pages a late alert still open after a mute as its own
	// event; should a reminder carry the flag, it reads the same way.
	m, _ := Build(topic, "", memory.Message{Event: memory.EventReminder, Report: lateReport("0.0.1"), Late: berlin(winterDue, 2*time.Hour, lastRun, true), AfterMute: true})
	if !strings.HasSuffix(m.JSON, `"verified":true},"afterMute":true}`) || !strings.Contains(m.Email, "still LATE, no run since due 2026-12-07 02:00 CET"+line) {
		t.Errorf("late reminder after a mute:\n%s\n%s", m.JSON, m.Email)
	}
}

// A late message's texts rebuild its expectation (a cron parse) once
// between them, whatever event it is.
func TestLateParsesOnce(t *testing.T) {
	parses := 0
	defer func(f func(string, string, string) (expect.Expectation, error)) { newExpectation = f }(newExpectation)
	newExpectation = func(c, z, g string) (expect.Expectation, error) {
		parses++
		return expect.New(c, z, g)
	}
	for _, event := range []string{memory.EventLate, memory.EventReminder} {
		parses = 0
		if _, err := Build(topic, "", memory.Message{Event: event, Report: lateReport("0.0.1"), Late: berlin(winterDue, 2*time.Hour, lastRun, true)}); err != nil {
			t.Fatal(err)
		}
		if parses != 1 {
			t.Errorf("%s: %d parses of the cron, want 1", event, parses)
		}
	}
}
