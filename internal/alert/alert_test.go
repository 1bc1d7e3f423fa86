package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/zuora"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const topic = "arn:aws:sns:us-east-1:123456789012:alerts"

var checkedAt = time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)

func failedReport(extra string) json.RawMessage {
	return json.RawMessage(`{"meterId":102,"version":"0.0.1","status":"FAILED","statusCode":8,"checkedAt":"2026-11-28T11:00:00Z",` +
		`"trackId":"req-1","zuoraRequestId":"zr-1","sessionId":"R-42","runType":"NORMAL"` + extra + `}`)
}

func TestSubjectFitsSNS(t *testing.T) {
	if got := Subject(123, "0.0.1", "FAILED"); got != "Zuora meter 123 version 0.0.1: FAILED" {
		t.Errorf("subject = %q", got)
	}
	long := Subject(9223372036854775807, strings.Repeat("v", 64), "CONSUME_COMPLETED")
	if len(long) != 100 || !strings.HasSuffix(long, "...: CONSUME_COMPLETED") || !strings.HasPrefix(long, "Zuora meter 9223372036854775807 version vvv") {
		t.Errorf("long subject (%d) = %q", len(long), long)
	}
}

// The JSON body is the report as it is, in its order, with what the
// message adds at the end; attributes and FIFO ids as the contract says.
func TestBuild(t *testing.T) {
	since := checkedAt.Add(-time.Hour)
	tests := []struct {
		topic   string
		msg     memory.Message
		subject string
		json    string
	}{
		{topic, memory.Message{Event: memory.EventAlert, ID: "t1", Report: failedReport("")},
			"Zuora meter 102 version 0.0.1: FAILED", string(failedReport(`,"link":"https://z.example/m/102?s=R-42"`))},
		{topic + ".fifo", memory.Message{Event: memory.EventReminder, ID: "t2", Report: failedReport("")},
			"Zuora meter 102 version 0.0.1: still FAILED", string(failedReport(`,"link":"https://z.example/m/102?s=R-42"`))},
		{topic, memory.Message{Event: memory.EventResolved, ID: "t3", Report: json.RawMessage(`{"meterId":102,"version":"0.0.1","status":"COMPLETED","statusCode":7}`),
			Resolves: &memory.Resolution{Status: "FAILED", Since: since.In(time.FixedZone("x", 3600))}},
			"Zuora meter 102 version 0.0.1: resolved (COMPLETED)",
			`{"meterId":102,"version":"0.0.1","status":"COMPLETED","statusCode":7,"resolves":{"status":"FAILED","since":"2026-11-28T10:00:00Z"},"link":"https://z.example/m/102?s="}`},
	}
	for _, tt := range tests {
		m, err := Build(tt.topic, "https://z.example/m/{meterId}?s={sessionId}", tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		status := map[string]string{memory.EventResolved: "COMPLETED"}[tt.msg.Event]
		if status == "" {
			status = "FAILED"
		}
		attrs := fmt.Sprint(m.Attributes)
		want := fmt.Sprintf("[{meterId Number 102} {version String 0.0.1} {status String %s} {statusCode Number %d} {event String %s}]",
			status, map[string]int{"FAILED": 8, "COMPLETED": 7}[status], tt.msg.Event)
		if m.Subject != tt.subject || m.JSON != tt.json || attrs != want || m.TopicARN != tt.topic {
			t.Errorf("%s: subject %q, json %s, attributes %s", tt.msg.Event, m.Subject, m.JSON, attrs)
		}
		fifo := strings.HasSuffix(tt.topic, ".fifo")
		if fifo != (m.GroupID == "102:0.0.1" && m.DeduplicationID == tt.msg.ID) || !fifo && (m.GroupID != "" || m.DeduplicationID != "") {
			t.Errorf("%s: FIFO ids %q %q", tt.msg.Event, m.GroupID, m.DeduplicationID)
		}
	}
}

// details is what a failed run's message carries after Explain.
var details = Details{SessionID: "R-42", Records: &Records{Output: 9760, Errors: 240},
	TopErrors: []TopError{{"1000002", 200}, {"70002011", 40}},
	Operators: []Operator{{ID: "op-1", Name: "Rating", Errors: 200}, {ID: "op-2", Errors: 40}},
	Samples: []Sample{{ErrorCode: "1000002", ErrorMessage: "no account\nnumber", OperatorName: "Rating", OperatorType: "BILLING-RATING",
		ErrorTime: &checkedAt}}}

// The e-mail says what, since when, how bad, why, what to quote and what
// to do; the SMS says what and how bad, in one line.
func TestEmailAndSMS(t *testing.T) {
	rep := With(failedReport(""), "details", details)
	m, err := Build(topic, "https://z.example/m/{meterId}", memory.Message{Event: memory.EventAlert, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Zuora meter 102 version 0.0.1: FAILED", "the run is FAILED (seen 2026-11-28 11:00:00 UTC", "Session: R-42, run type NORMAL",
		"Records: 240 in error of 10,000 (9,760 output)", "1000002", "200 records", "Rating (op-1)",
		"2026-11-28 11:00:00 UTC 1000002 at Rating (BILLING-RATING): no account number",
		"To quote to Zuora: session R-42, Zuora-Request-Id zr-1, track id req-1", "Meter page: https://z.example/m/102", "Next:",
	} {
		if !strings.Contains(m.Email, want) {
			t.Errorf("the e-mail lacks %q:\n%s", want, m.Email)
		}
	}
	if m.SMS != "Zuora meter 102 v0.0.1 FAILED: 240 records in error" {
		t.Errorf("SMS %q", m.SMS)
	}
	unexplained := With(failedReport(""), "detailsError", "ZuoraUnavailable")
	if m, _ := Build(topic, "", memory.Message{Event: memory.EventAlert, Report: unexplained}); !strings.Contains(m.Email, "incomplete (ZuoraUnavailable)") || m.SMS != "Zuora meter 102 v0.0.1 FAILED" {
		t.Errorf("without details: %q\n%s", m.SMS, m.Email)
	}
	res, _ := Build(topic, "", memory.Message{Event: memory.EventResolved, Report: json.RawMessage(`{"meterId":102,"version":"0.0.1","status":"COMPLETED","checkedAt":"2026-11-28T12:00:00Z"}`),
		Resolves: &memory.Resolution{Status: "FAILED", Since: checkedAt}})
	if !strings.Contains(res.Email, "It was FAILED since 2026-11-28 11:00:00 UTC; a check 2026-11-28 12:00:00 UTC saw COMPLETED") || res.SMS != "Zuora meter 102 v0.0.1 resolved (COMPLETED)" {
		t.Errorf("resolution: %q\n%s", res.SMS, res.Email)
	}
}

// The longest version, session id, codes and messages Zuora and the
// simulator can produce: the e-mail stays within 8 KB, the SMS within 140
// characters, both valid text.
func TestLongestFits(t *testing.T) {
	long := strings.Repeat("é", 600)
	d := Details{SessionID: strings.Repeat("S", 64), Records: &Records{Output: 1<<62 - 1, Errors: 1<<62 - 1}}
	for range maxTopErrors {
		d.TopErrors = append(d.TopErrors, TopError{strings.Repeat("9", 128), 1<<62 - 1})
		d.Operators = append(d.Operators, Operator{ID: strings.Repeat("o", 128), Name: long, Errors: 1<<62 - 1})
	}
	for range maxSamples {
		d.Samples = append(d.Samples, Sample{ErrorCode: long, ErrorMessage: strings.Repeat(long, 4), OperatorName: long, OperatorType: long, ErrorTime: &checkedAt})
	}
	rep := json.RawMessage(fmt.Sprintf(`{"meterId":9223372036854775807,"version":%q,"status":"TESTING_FAILED","sessionId":%q,"runType":"DEBUG","previousStatus":"CONSUME_COMPLETED","trackId":%q,"zuoraRequestId":%q}`,
		strings.Repeat("v", 64), strings.Repeat("S", 64), strings.Repeat("t", 64), strings.Repeat("z", 64)))
	rep = With(With(rep, "details", d), "detailsError", "ZuoraUnavailable")
	m, err := Build(topic, "https://z.example/"+strings.Repeat("x", 1000)+"/{meterId}/{version}/{sessionId}", memory.Message{Event: memory.EventAlert, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Email) > 8<<10 || len(m.SMS) > 140 || !strings.HasPrefix(m.SMS, "Zuora meter 9223372036854775807 v") || !isText(m.Email) || !isText(m.SMS) {
		t.Errorf("e-mail %d bytes, SMS %d characters: %q", len(m.Email), len(m.SMS), m.SMS)
	}
	t.Logf("longest e-mail %d bytes, SMS %d characters", len(m.Email), len(m.SMS))
}

func isText(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// newSim is a simulator with meter 102's failed session scripted.
func newSim(t *testing.T) (*zuoratest.Server, *zuora.Client) {
	t.Helper()
	sim := zuoratest.NewServer()
	t.Cleanup(sim.Close)
	sim.AddToken("tok")
	sim.SetRuns(102, zuoratest.Run{SessionID: "R-42", Start: checkedAt.Add(-time.Hour), End: checkedAt.Add(-time.Minute), Output: 9760,
		Errors: []zuoratest.ErrorGroup{
			{Code: "1000002", Message: "no account number", OperatorID: "op-1", OperatorName: "Rating", OperatorType: "BILLING-RATING", Count: 200},
			{Code: "70002011", Message: "bad date", OperatorID: "op-2", OperatorName: "Parse", OperatorType: "TRANSFORM", Count: 40}}})
	c, err := zuora.New(zuora.Config{BaseURL: sim.URL, Tokens: zuora.StaticToken("tok")})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func errorName(err error) string {
	var ze *zuora.Error
	if errors.As(err, &ze) && errors.Is(ze.Class, zuora.ErrThrottled) {
		return "ZuoraThrottled"
	}
	return "ZuoraUnavailable"
}

// Explain against the simulator: the session's counts, top errors,
// operators and samples; a window when there is no session; and the
// customer's records never in what it returns.
func TestExplain(t *testing.T) {
	sim, c := newSim(t)
	q := Query{MeterID: 102, RunType: zuora.RunTypeNormal, SessionID: "R-42", Now: checkedAt}
	d, errName, outcome := Explain(context.Background(), c, q, errorName)
	b, _ := json.Marshal(d)
	if outcome != OutcomeOK || errName != "" || d.Records == nil || d.Records.Errors != 240 || d.Records.Output != 9760 ||
		len(d.TopErrors) != 2 || d.TopErrors[0] != (TopError{"1000002", 200}) || len(d.Operators) != 2 || d.Operators[0].Name != "Rating" ||
		len(d.Samples) != 3 || d.Samples[0].ErrorMessage != "no account number" {
		t.Errorf("Explain = %s, %q, %s", b, errName, outcome)
	}
	if strings.Contains(string(b), zuoratest.PayloadMarker) {
		t.Errorf("the details carry a record's payload: %s", b)
	}
	q.SessionID, q.LastSeen = "", checkedAt.Add(-2*time.Hour)
	d, _, outcome = Explain(context.Background(), c, q, errorName)
	if outcome != OutcomeOK || d.From == nil || !d.From.Equal(q.LastSeen) || !d.To.Equal(checkedAt) || d.Records == nil || d.Records.Errors != 240 {
		t.Errorf("by window: %+v, %s", d, outcome)
	}
	if st := sim.Stats(); st.SummaryCalls != 2 || st.AuditCalls != 2 {
		t.Errorf("%d summary and %d audit calls for two alerts, want 2 and 2", st.SummaryCalls, st.AuditCalls)
	}
}

// What Zuora cannot say is named, within the budget, in two calls at most.
func TestExplainFailures(t *testing.T) {
	tests := []struct {
		name     string
		summary  zuoratest.Fault
		audit    zuoratest.Fault
		outcome  string
		errName  string
		maxTaken time.Duration
	}{
		{"summary 500", zuoratest.Fault{HTTPStatus: 500}, zuoratest.Fault{}, OutcomePartial, "ZuoraUnavailable", time.Second},
		// The two calls go out together; when the audit's 429 comes first,
		// the summary waits out its Retry-After (1 s), as every call of the
		// tenant does: the bound is the budget.
		{"audit 429", zuoratest.Fault{}, zuoratest.Fault{HTTPStatus: 429, RetryAfter: "1"}, OutcomePartial, "ZuoraThrottled", Budget},
		{"both 400", zuoratest.Fault{HTTPStatus: 400}, zuoratest.Fault{HTTPStatus: 400}, OutcomeFailed, "ZuoraUnavailable", time.Second},
		{"slower than the budget", zuoratest.Fault{Latency: 10 * time.Second}, zuoratest.Fault{Latency: 10 * time.Second}, OutcomeFailed, "ZuoraUnavailable", Budget + 500*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := newSim(t)
			sim.SetSummaryFault(tt.summary)
			sim.SetAuditFault(tt.audit)
			start := time.Now()
			_, errName, outcome := Explain(context.Background(), c, Query{MeterID: 102, RunType: zuora.RunTypeNormal, SessionID: "R-42", Now: checkedAt}, errorName)
			took := time.Since(start)
			st := sim.Stats()
			if outcome != tt.outcome || errName != tt.errName || took > tt.maxTaken || st.SummaryCalls+st.AuditCalls > 2 {
				t.Errorf("%s %q in %s with %d+%d calls; want %s %q within %s and 2 calls at most",
					outcome, errName, took, st.SummaryCalls, st.AuditCalls, tt.outcome, tt.errName, tt.maxTaken)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, outcome := Explain(ctx, nil, Query{}, errorName); outcome != OutcomeSkipped {
		t.Errorf("no time left: %s, want skipped", outcome)
	}
}

// A stuck run's page, its reminder and its resolution.
func TestStuck(t *testing.T) {
	running := json.RawMessage(`{"meterId":123,"version":"0.0.1","status":"RUNNING","statusCode":5,"checkedAt":"2026-11-28T17:10:00Z"}`)
	since := checkedAt.Add(-6*time.Hour - 10*time.Minute)
	info := &memory.Stuck{Since: since, For: 6*time.Hour + 10*time.Minute + 20*time.Second, Usual: 40 * time.Minute, Threshold: 2 * time.Hour}
	m, err := Build(topic, "", memory.Message{Event: memory.EventStuck, Report: running, Stuck: info})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Zuora meter 123 version 0.0.1: RUNNING for 6h10m (usually 40m)" || m.SMS != "Zuora meter 123 v0.0.1 RUNNING for 6h10m (usually 40m)" ||
		!strings.HasSuffix(m.JSON, `"stuck":{"since":"2026-11-28T04:50:00Z","for":"6h10m","usual":"40m","threshold":"2h"}}`) ||
		!strings.Contains(m.Email, "going on for 6h10m, since 2026-11-28 04:50:00 UTC") || !strings.Contains(m.Email, "usually take 40m") ||
		m.Attributes[4].Value != "stuck" {
		t.Errorf("stuck page: %q %q\n%s\n%s", m.Subject, m.SMS, m.JSON, m.Email)
	}
	fresh := &memory.Stuck{Since: since, For: 7 * time.Second, Threshold: 4 * time.Second}
	if m, _ := Build(topic, "", memory.Message{Event: memory.EventReminder, Report: running, Stuck: fresh}); m.Subject != "Zuora meter 123 version 0.0.1: still RUNNING for 7s" ||
		strings.Contains(m.JSON, "usual") || !strings.Contains(m.Email, "No run of it has completed here yet") {
		t.Errorf("stuck reminder without history: %q\n%s\n%s", m.Subject, m.JSON, m.Email)
	}
	completed := json.RawMessage(`{"meterId":123,"version":"0.0.1","status":"COMPLETED","statusCode":7}`)
	m, _ = Build(topic, "", memory.Message{Event: memory.EventResolved, Report: completed, Resolves: &memory.Resolution{Status: "RUNNING", Since: since, Stuck: true}})
	if !strings.Contains(m.JSON, `"resolves":{"status":"RUNNING","since":"2026-11-28T04:50:00Z","stuck":true}`) || !strings.Contains(m.Email, "stuck: RUNNING since") {
		t.Errorf("stuck resolution:\n%s\n%s", m.JSON, m.Email)
	}
	for d, want := range map[time.Duration]string{7 * time.Second: "7s", 40 * time.Minute: "40m", 2 * time.Hour: "2h", 6*time.Hour + 10*time.Minute + 29*time.Second: "6h10m", 90 * time.Second: "2m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// ALERT_LINK is an https:// URL once filled in, and bounded.
func TestIsLinkTemplate(t *testing.T) {
	for _, tt := range []struct {
		template string
		ok       bool
	}{
		{"https://zuora.example.com/meters/{meterId}", true},
		{"https://{meterId}.example.com/v/{version}?s={sessionId}", true},
		{"https://zuora.example.com/" + strings.Repeat("a", MaxLinkTemplate-26), true},
		{"https://zuora.example.com/" + strings.Repeat("a", MaxLinkTemplate-25), false},
		{"http://zuora.example.com/meters/{meterId}", false},
		{"zuora.example.com", false},
		{"https:///meters", false},
		{"https://user:pass@zuora.example.com/", false},
		{"https://zuora.example.com/%zz", false},
	} {
		if got := IsLinkTemplate(tt.template); got != tt.ok {
			t.Errorf("IsLinkTemplate(%.60q) = %v, want %v", tt.template, got, tt.ok)
		}
	}
}

// Only an alert of a failed run that does not say why yet is explained,
// with the run type its status or the callout names.
func TestUnexplained(t *testing.T) {
	seen := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	report := func(status, extra string) json.RawMessage {
		return json.RawMessage(`{"meterId":102,"version":"0.0.1","status":"` + status + `"` + extra + `}`)
	}
	for _, tt := range []struct {
		name  string
		msg   memory.Message
		want  Query
		wants bool
	}{
		{"FAILED poll", memory.Message{Event: memory.EventAlert, Report: report("FAILED", ""), LastSeen: seen},
			Query{MeterID: 102, RunType: zuora.RunTypeNormal, LastSeen: seen}, true},
		{"TESTING_FAILED", memory.Message{Event: memory.EventAlert, Report: report("TESTING_FAILED", "")},
			Query{MeterID: 102, RunType: zuora.RunTypeDebug}, true},
		{"FAILED callout", memory.Message{Event: memory.EventAlert, Report: failedReport("")},
			Query{MeterID: 102, RunType: "NORMAL", SessionID: "R-42"}, true},
		{"callout's run type", memory.Message{Event: memory.EventAlert, Report: report("FAILED", `,"runType":"DEBUG"`)},
			Query{MeterID: 102, RunType: "DEBUG"}, true},
		{"explained", memory.Message{Event: memory.EventAlert, Report: Explaining(failedReport(""), Details{}, "")}, Query{}, false},
		{"explained in part", memory.Message{Event: memory.EventAlert, Report: failedReport(`,"detailsError":"ZuoraUnavailable"`)}, Query{}, false},
		{"reminder", memory.Message{Event: memory.EventReminder, Report: failedReport("")}, Query{}, false},
		{"resolution", memory.Message{Event: memory.EventResolved, Report: report("COMPLETED", "")}, Query{}, false},
		{"CANCELED in ALERT_ON", memory.Message{Event: memory.EventAlert, Report: report("CANCELED", "")}, Query{}, false},
		{"stuck", memory.Message{Event: memory.EventStuck, Report: report("RUNNING", "")}, Query{}, false},
		{"not JSON", memory.Message{Event: memory.EventAlert, Report: json.RawMessage(`{`)}, Query{}, false},
	} {
		got, ok := Unexplained(tt.msg)
		if ok != tt.wants || ok && got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.wants)
		}
	}
	rep := Explaining(failedReport(""), Details{SessionID: "R-42"}, "ZuoraRateLimited")
	if d, errName := DetailsOf(rep); d == nil || d.SessionID != "R-42" || errName != "ZuoraRateLimited" {
		t.Errorf("Explaining: %s", rep)
	}
	if _, errName := DetailsOf(Explaining(failedReport(""), Details{}, "")); errName != "" {
		t.Errorf("Explaining without an error named one: %q", errName)
	}
}
