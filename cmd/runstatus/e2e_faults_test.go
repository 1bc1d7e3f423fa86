package main

// The memory's promise under faults, end to end: "one page per failure, and
// never a failure without a page" through lost answers, retries, late and
// replayed news, and a deadline that comes too soon. The local stack's
// fault proxy (localstack.SetFaults) stands between the function and moto.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// failOn refuses every request of op with an HTTP 500.
func failOn(op string) localstack.FaultRule {
	return func(got string, _ int) localstack.Fault {
		if got == op {
			return localstack.Fault{Status: http.StatusInternalServerError}
		}
		return localstack.Fault{}
	}
}

// Rule 6: an owed alert is published before the resolution that follows it,
// never replaced by it.
func TestOwedAlertThenResolutionEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	s.Sim.SetMeter(330, "0.0.1", e2eSteps(8, 7)...)
	const check = `{"meterId": 330, "version": "0.0.1"}`
	e2eWantError(t, s, check, "AlertPublishFailed")
	e2eMust(t, s.Restart(t.Context(), nil))
	if r := e2eInvoke(t, s, check); r.Failed() {
		t.Fatalf("the check that sees COMPLETED: %s", r.Body)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"330 alert", "330 resolved"}) {
		t.Errorf("messages %v, want the owed alert, then the resolution", got)
	}
}

// Rule 8: a claim whose first attempt succeeded but whose answer was lost
// (the SDK retries it, and the retry's condition fails) is the check's own:
// it publishes at once. The same for a callout's notification claim.
func TestLostClaimAnswerEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	dropFirstWrite := func(op string, n int) localstack.Fault {
		return localstack.Fault{DropAnswer: op == "DynamoDB.UpdateItem" && n == 1}
	}
	s.Sim.SetMeter(340, "0.0.1", zuoratest.Step{Status: 8})
	s.SetFaults(dropFirstWrite)
	r := e2eInvoke(t, s, `{"meterId": 340, "version": "0.0.1"}`)
	if res := e2eDecode[e2eResult](t, r.Body); r.Failed() || res.Alert == nil || !res.Alert.Published {
		t.Errorf("a check whose claim's answer was lost: %s", r.Body)
	}
	if _, injected := s.FaultCounts(); injected["DynamoDB.UpdateItem"] != 1 {
		t.Errorf("faults injected: %v", injected)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"340 alert"}) {
		t.Errorf("messages %v, want one page at once", got)
	}

	s.SetFaults(dropFirstWrite) // the first write of a callout claims its notification
	n := s.CalloutNotifier()
	n.Attempts = 1
	status, reply := e2eDeliver(t, n, "n-lost", e2eSession(341, "R-1", "FAILED", "0.0.1"))
	if status != 200 || len(reply.Results) != 1 || reply.Results[0].Alert == nil {
		t.Errorf("a callout whose claim's answer was lost: %d %+v", status, reply)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"341 alert"}) {
		t.Errorf("messages %v, want the callout's page", got)
	}
}

// SNS takes most of the time left; the write that records the
// publish has its own budget, so the next check does not page again.
func TestRecordAfterSlowPublishEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "6"})
	s.Sim.SetMeter(350, "0.0.1", zuoratest.Step{Status: 8})
	s.SetFaults(func(op string, n int) localstack.Fault {
		switch {
		case op == "SNS.Publish" && n == 1: // SNS would answer just before the deadline
			return localstack.Fault{Delay: 5700 * time.Millisecond}
		case op == "DynamoDB.UpdateItem" && n == 2: // the write after the publish
			return localstack.Fault{Delay: 300 * time.Millisecond}
		}
		return localstack.Fault{}
	})
	first := e2eInvoke(t, s, `{"meterId": 350, "version": "0.0.1"}`)
	t.Logf("first check: %s %s (%s)", first.ErrorType, first.Body, first.Duration)
	if first.Unhandled {
		t.Fatalf("the first check ran out of time: %s", first.Body)
	}
	s.SetFaults(nil)
	time.Sleep(1500 * time.Millisecond) // past any lease the first check held
	for range 2 {
		if r := e2eInvoke(t, s, `{"meterId": 350, "version": "0.0.1"}`); r.Failed() {
			t.Errorf("a later check: %s", r.Body)
		}
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"350 alert"}) {
		t.Errorf("messages %v, want one page", got)
	}
}

// e2eCallout is a callout body with the session's start and end times.
func e2eCallout(meter int64, session, status, start, end string) string {
	return e2eBody(zuoratest.SessionEvent{MeterID: meter, SessionID: session, Status: status, RunType: "NORMAL", StartTime: start, EndTime: end})
}

// Callouts out of order, and replays. An older session's news, or a
// non-terminal status for a session already seen terminal, is stale:
// nothing stored, nothing published; the next poll does not page again.
func TestStaleCalloutsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.Sim.SetMeter(360, "0.0.1", zuoratest.Step{Status: 8})
	n := s.CalloutNotifier()
	zuoraTime := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05-0700") }
	steps := []struct{ id, body, want string }{
		{"s1", e2eCallout(360, "R-2", "FAILED", zuoraTime(-40*time.Minute), zuoraTime(-10*time.Minute)), "alert"},
		// R-1 ran before R-2; Zuora's retry of its notification comes late.
		{"s2", e2eCallout(360, "R-1", "COMPLETED", zuoraTime(-3*time.Hour), time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339)), "stale"},
		// R-2 was seen FAILED: a RUNNING of R-2 is old news, however it is dated.
		{"s3", e2eCallout(360, "R-2", "RUNNING", "", ""), "stale"},
		// The signed body of s1 replayed under a new notification id.
		{"s4", e2eCallout(360, "R-2", "FAILED", zuoraTime(-40*time.Minute), zuoraTime(-10*time.Minute)), "none"},
	}
	for _, st := range steps {
		status, r := e2eDeliver(t, n, st.id, st.body)
		got := "none"
		switch {
		case r.Stale:
			got = "stale"
		case len(r.Results) == 1 && r.Results[0].Alert != nil:
			got = r.Results[0].Alert.Event
		}
		if status != 200 || got != st.want {
			t.Errorf("%s %s: %d %+v, want %s", st.id, st.body, status, r, st.want)
		}
	}
	if r := e2eInvoke(t, s, `{"meterId": 360, "version": "0.0.1"}`); r.Failed() || e2eDecode[e2eResult](t, r.Body).Alert != nil {
		t.Errorf("the poll after the stale callouts: %s", r.Body)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"360 alert"}) {
		t.Errorf("messages %v, want R-2's page only", got)
	}
	if !e2eMetricCount(s.FunctionLog(), "StaleCallouts", 2) {
		t.Error("StaleCallouts was not counted twice")
	}
}

// A poll pages R-1's failure before R-1's callout arrives;
// that callout, late, is stale. The rerun R-2 fails after the poll: its
// callout pages, whether it is dated (after the poll) or not (the late
// callout named the session the poll saw). With the callout condition the
// README recommends, no RUNNING comes between to tell the runs apart.
func TestRerunAfterPollEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	n := s.CalloutNotifier()
	zuoraTime := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05-0700") }
	for _, id := range []int64{1101, 1102} {
		s.Sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: 8})
		if r := e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id)); r.Failed() {
			t.Fatalf("poll: %s", r.Body)
		}
		late := e2eCallout(id, "R-1", "FAILED", zuoraTime(-30*time.Minute), zuoraTime(-5*time.Minute))
		if _, r := e2eDeliver(t, n, fmt.Sprintf("r1-%d", id), late); !r.Stale {
			t.Errorf("meter %d: R-1's late callout %+v, want stale", id, r)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the rerun ends in a later second than the poll's
	rerun := map[int64]string{
		1101: e2eCallout(1101, "R-2", "FAILED", zuoraTime(-time.Second), zuoraTime(0)),
		1102: e2eCallout(1102, "R-2", "FAILED", "", ""),
	}
	for id, body := range rerun {
		if status, r := e2eDeliver(t, n, fmt.Sprintf("r2-%d", id), body); status != 200 || len(r.Results) != 1 || r.Results[0].Alert == nil {
			t.Errorf("meter %d: R-2's callout %d %+v, want a page", id, status, r)
		}
	}
	got := e2eMessages(t, s)
	slices.Sort(got)
	if want := []string{"1101 alert", "1101 alert", "1102 alert", "1102 alert"}; !slices.Equal(got, want) {
		t.Errorf("messages %v, want %v", got, want)
	}
}

// A page owed on a meter nobody polls goes out with the next
// callout, stale as that callout may be.
func TestStaleCalloutSendsOwedEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	n := s.CalloutNotifier()
	n.Attempts = 1
	zuoraTime := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05-0700") }
	s.SetFaults(failOn("SNS.Publish"))
	if status, _ := e2eDeliver(t, n, "o-1", e2eCallout(1103, "R-2", "FAILED", zuoraTime(-20*time.Minute), zuoraTime(-10*time.Minute))); status != 503 {
		t.Fatalf("SNS refusing: %d, want 503", status)
	}
	s.SetFaults(nil)
	status, r := e2eDeliver(t, n, "o-2", e2eCallout(1103, "R-1", "COMPLETED", zuoraTime(-3*time.Hour), zuoraTime(-2*time.Hour)))
	if status != 200 || !r.Stale {
		t.Errorf("R-1's late callout: %d %+v, want 200 stale", status, r)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"1103 alert"}) {
		t.Errorf("messages %v, want the owed page", got)
	}
}

// Rule 7: UNKNOWN between two FAILED checks changes nothing.
func TestUnknownStatusEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.Sim.SetMeter(370, "0.0.1", e2eSteps(8, 99, 8)...)
	for range 3 {
		if r := e2eInvoke(t, s, `{"meterId": 370, "version": "0.0.1"}`); r.Failed() {
			t.Fatalf("check: %s", r.Body)
		}
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"370 alert"}) {
		t.Errorf("messages %v, want one page", got)
	}
	if !e2eMetricCount(s.FunctionLog(), "UnknownStatus", 1) {
		t.Error("UnknownStatus was not counted")
	}
}

// A callout that names no version, whose watch-list read fails,
// answers 503 (Zuora retries) rather than land on a version nobody watches.
func TestCalloutWatchListUnreadableEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.SetFaults(failOn("DynamoDB.Query"))
	n := s.CalloutNotifier()
	n.Attempts = 1
	status, r := e2eDeliver(t, n, "n-380", e2eSession(380, "R-1", "FAILED", ""))
	if status != 503 || r.Error == nil || r.Error.Type != "StateUnavailable" {
		t.Errorf("callout: %d %+v, want 503 StateUnavailable", status, r)
	}
	if got := e2eMessages(t, s); len(got) != 0 {
		t.Errorf("messages %v, want none", got)
	}
	s.SetFaults(nil) // Zuora's retry, once the table answers
	if status, r := e2eDeliver(t, n, "n-380", e2eSession(380, "R-1", "FAILED", "")); status != 200 || len(r.Results) != 1 {
		t.Errorf("Zuora's retry: %d %+v", status, r)
	}
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"380 alert"}) {
		t.Errorf("messages %v after the retry, want the page", got)
	}
}

// Rule 9: a scheduled run whose table cannot be read checks WATCH_METERS,
// says so in its reply, and does not fail (Lambda would repeat it).
func TestScheduledRunStateUnavailableEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.SetFaults(failOn("DynamoDB.Query"))
	r := e2eInvoke(t, s, `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`)
	if r.Failed() {
		t.Fatalf("the scheduled run failed: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	var b struct {
		Summary struct {
			Total            int `json:"total"`
			StateUnavailable int `json:"stateUnavailable"`
		} `json:"summary"`
	}
	e2eMust(t, json.Unmarshal(r.Body, &b))
	if b.Summary.Total != 3 || b.Summary.StateUnavailable < 1 {
		t.Errorf("summary %+v, want WATCH_METERS' 3 meters checked and the state error counted: %s", b.Summary, r.Body)
	}
}

// e2eStateItems writes state items as the function leaves them (watched,
// and with a check state when status is set), a batch at a time: a watch
// list of thousands without thousands of invocations.
func e2eStateItems(t *testing.T, s *localstack.Stack, meters []int64, version, status string, code int, at time.Time) {
	t.Helper()
	api := dynamodb.NewFromConfig(s.AWSConfig())
	for chunk := range slices.Chunk(meters, 25) {
		var writes []dbtypes.WriteRequest
		for _, id := range chunk {
			st := memory.State{Meter: e2eMeter(id, version), Watched: true}
			if status != "" {
				st = e2eState(id, version, status, code, at)
				st.Watched, st.Rev = true, 1
			}
			item, err := statestore.Item(st)
			e2eMust(t, err)
			writes = append(writes, dbtypes.WriteRequest{PutRequest: &dbtypes.PutRequest{Item: item}})
		}
		_, err := api.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dbtypes.WriteRequest{localstack.StateTableName: writes}})
		e2eMust(t, err)
	}
}

// A scheduled run's reply stays small whatever the watch list holds:
// only notable items, at most 1,000, then "truncated".
func TestScheduledReplyBoundedEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 1100
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	var ids []int64
	for id := int64(600001); id <= 600000+n; id++ {
		ids = append(ids, id)
		status := 8
		if id > 600000+n-50 {
			status = 7
		}
		s.Sim.SetMeter(id, "1.0.0", zuoratest.Step{Status: status})
	}
	// Already known: the FAILED ones with their alert open, so the run
	// publishes nothing and writes little.
	e2eStateItems(t, s, ids[:n-50], "1.0.0", "FAILED", 8, time.Now().UTC().Truncate(time.Second))
	e2eStateItems(t, s, ids[n-50:], "1.0.0", "COMPLETED", 7, time.Now().UTC().Truncate(time.Second))
	r := e2eInvoke(t, s, `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`)
	if r.Failed() {
		t.Fatalf("%s: %s", r.ErrorType, r.ErrorMessage)
	}
	var b struct {
		e2eBatch
		Truncated bool `json:"truncated"`
	}
	e2eMust(t, json.Unmarshal(r.Body, &b))
	t.Logf("reply: %d bytes, %d results, truncated %v, summary %+v", len(r.Body), len(b.Results), b.Truncated, b.Summary)
	// At most 1,000 results, fewer when 1,000 would not fit in 256 KB.
	if len(r.Body) >= 256<<10 || len(b.Results) > 1000 || len(b.Results) < 500 || !b.Truncated || b.Summary.Total != n || b.Summary.ByStatus["FAILED"] != n-50 {
		t.Errorf("reply of %d bytes: %d results, truncated %v, summary %+v", len(r.Body), len(b.Results), b.Truncated, b.Summary)
	}
	for _, res := range b.Results {
		if res.Status != "FAILED" {
			t.Fatalf("a result that is not notable: %+v", res)
		}
	}
}

// A scheduled run that does not fit its timeout ends before it,
// says what it did not reach, and the next run starts with those.
func TestScheduledRunDeadlineEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 1500
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": "", "AWS_LAMBDA_FUNCTION_TIMEOUT": "5"})
	var ids []int64
	for id := int64(700001); id <= 700000+n; id++ {
		ids = append(ids, id)
		s.Sim.SetMeter(id, "1.0.0", zuoratest.Step{Status: 7})
	}
	e2eStateItems(t, s, ids, "1.0.0", "", 0, time.Time{})
	s.Sim.SetLatency(50 * time.Millisecond)
	const tick = `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`
	var checked [2]map[int64]bool
	for i := range checked {
		start := time.Now().UTC().Truncate(time.Second)
		r := e2eInvoke(t, s, tick)
		if r.Failed() {
			t.Fatalf("tick %d: %s: %s", i+1, r.ErrorType, r.ErrorMessage)
		}
		var b struct {
			Summary struct {
				Total, Unchecked, Errors, StateUnavailable int
				ByStatus                                   map[string]int
			}
		}
		e2eMust(t, json.Unmarshal(r.Body, &b))
		checked[i] = e2eCheckedSince(t, s, start)
		sum := b.Summary
		t.Logf("tick %d in %s: %+v, %d recorded", i+1, r.Duration, sum, len(checked[i]))
		// Every meter is counted once: checked (by status, or failed) or
		// unchecked; a check whose write the deadline cut is counted as a
		// state error, not lost.
		if sum.Total != n || sum.Unchecked == 0 || sum.ByStatus["COMPLETED"]+sum.Errors+sum.Unchecked != n ||
			len(checked[i]) < sum.ByStatus["COMPLETED"]-sum.StateUnavailable {
			t.Errorf("tick %d: summary %+v with %d recorded; want %d in all, some unchecked", i+1, sum, len(checked[i]), n)
		}
		time.Sleep(time.Second) // checkedAt has whole seconds
	}
	for id := range checked[1] {
		if checked[0][id] {
			t.Fatalf("meter %d was checked by both runs; the second should start with those the first did not reach", id)
		}
	}
	if !strings.Contains(s.FunctionLog(), `"ChecksSkipped"`) {
		t.Error("ChecksSkipped was not counted")
	}
}

// A watch list of steady meters (checked before, nothing
// changes) that one run cannot cover is covered over the next runs, every
// meter in turn, though no check of a steady meter writes its checkedAt:
// over two covers' worth of runs plus two, each meter is checked at least
// twice, and a tick that changes nothing writes next to nothing (the
// schedule's one mark). A mark that cannot be written in time, or read,
// costs that run's place in the rotation, never the run (the state error
// is in its summary), and skips no meter.
func TestScheduledRunRotatesEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 200
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": "", "AWS_LAMBDA_FUNCTION_TIMEOUT": "2"})
	var ids []int64
	for id := int64(720001); id <= 720000+n; id++ {
		ids = append(ids, id)
		s.Sim.SetMeter(id, "1.0.0", zuoratest.Step{Status: 7})
	}
	e2eStateItems(t, s, ids, "1.0.0", "COMPLETED", 7, time.Now().UTC().Truncate(time.Second))
	s.Sim.SetLatency(300 * time.Millisecond) // at 32 in flight, about 100 checks a tick
	checks := map[string]int{}               // runStatus path → ticks that asked Zuora about it
	ticks := 0
	tick := func() (asked, stateErrors int) {
		ticks++
		s.Sim.ResetStats()
		stop, err := s.RecordAWSCalls(t.Context())
		e2eMust(t, err)
		r := e2eInvoke(t, s, e2eTick)
		calls, err := stop(t.Context())
		e2eMust(t, err)
		if r.Failed() {
			t.Fatalf("tick %d: %s: %s", ticks, r.ErrorType, r.ErrorMessage)
		}
		var b struct {
			Summary struct{ Total, Unchecked, StateUnavailable int }
		}
		e2eMust(t, json.Unmarshal(r.Body, &b))
		for _, req := range s.Sim.Requests() {
			if strings.HasSuffix(req.Path, "/runStatus") {
				checks[req.Path]++
				asked++
			}
		}
		_, writes := localstack.DynamoDBCalls(calls)
		t.Logf("tick %d in %s: %d meters asked, %d DynamoDB writes, summary %+v", ticks, r.Duration, asked, writes, b.Summary)
		// A tick may check none when reading the table takes most of its
		// time on a loaded machine; it must never check all or write more.
		if asked >= n || writes > 1 || b.Summary.Total != n || b.Summary.Unchecked == 0 {
			t.Errorf("tick %d asked Zuora about %d meters and wrote %d times, summary %+v; want not all %d, at most the one mark", ticks, asked, writes, b.Summary, n)
		}
		return asked, b.Summary.StateUnavailable
	}
	// cover ticks until the runs have checked covers times as many meters as
	// the list holds.
	cover := func(covers int) {
		for covered, idle := 0, 0; covered < covers*n; {
			asked, _ := tick()
			if asked == 0 {
				if idle++; idle == 5 {
					t.Fatalf("tick %d: five ticks checked no meter", ticks)
				}
			}
			covered += asked
		}
	}
	checkedFewer := func(times int) (missed []int64) {
		for _, id := range ids {
			if checks[fmt.Sprintf("/meters/%d/1.0.0/runStatus", id)] < times {
				missed = append(missed, id)
			}
		}
		return missed
	}

	cover(2)
	tick()
	tick()
	if missed := checkedFewer(2); len(missed) > 0 {
		t.Errorf("after %d ticks, two covers' worth and two, %d meters checked fewer than twice: %v", ticks, len(missed), missed)
	}

	// The mark's write held past the run's time for it, then its read
	// refused; a cover's worth of runs after them, and one more, checks
	// every meter.
	clear(checks)
	markFaults := []struct {
		name string
		ops  []string
		f    localstack.Fault
	}{
		{"the mark's write held", []string{"DynamoDB.UpdateItem", "DynamoDB.PutItem"}, localstack.Fault{Delay: 10 * time.Second}},
		{"the mark's read refused", []string{"DynamoDB.BatchGetItem", "DynamoDB.GetItem"}, localstack.Fault{Status: http.StatusInternalServerError}},
	}
	for _, mf := range markFaults {
		s.SetPartitionFaults("schedule", func(op string, _ int) localstack.Fault {
			if slices.Contains(mf.ops, op) {
				return mf.f
			}
			return localstack.Fault{}
		})
		_, stateErrors := tick()
		_, injected := s.FaultCounts()
		if stateErrors == 0 || injected[mf.ops[0]] == 0 {
			t.Errorf("tick %d, %s: %d state errors in the summary, faults injected %v", ticks, mf.name, stateErrors, injected)
		}
	}
	s.SetFaults(nil)
	cover(1)
	tick()
	if missed := checkedFewer(1); len(missed) > 0 {
		t.Errorf("after the faults on the mark, a cover's worth of ticks and one: %d meters never checked: %v", len(missed), missed)
	}
}

// e2eCheckedSince reads the table for the meters checked at or after since.
func e2eCheckedSince(t *testing.T, s *localstack.Stack, since time.Time) map[int64]bool {
	t.Helper()
	table := statestore.New(dynamodb.NewFromConfig(s.AWSConfig()), localstack.StateTableName)
	all, err := table.AllStates(t.Context())
	e2eMust(t, err)
	out := map[int64]bool{}
	for _, st := range all {
		if !st.CheckedAt.Before(since) {
			out[st.MeterID] = true
		}
	}
	return out
}

// Inputs that would grow the table or its keys without bound are
// refused; items of meters nobody watches expire.
func TestBoundedInputsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	n := s.CalloutNotifier()
	if status, r := e2eDeliver(t, n, strings.Repeat("n", 300), e2eSession(390, "R-1", "FAILED", "0.0.1")); status != 400 || r.Error == nil || r.Error.Type != "InvalidRequest" {
		t.Errorf("a 300-character notification id: %d %+v", status, r)
	}
	e2eWantError(t, s, `{"meterId": 390, "version": "0.0.1", "entityIds": "`+strings.Repeat("e", 200)+`"}`, "InvalidRequest")
	e2eWantError(t, s, `{"meterId": 390, "version": "0.0.1", "orgIds": "`+strings.Repeat("o,", 600)+`o"}`, "InvalidRequest")

	s.Sim.SetMeter(391, "0.0.1", zuoratest.Step{Status: 7})
	expiry := func() string {
		out, err := dynamodb.NewFromConfig(s.AWSConfig()).GetItem(t.Context(), &dynamodb.GetItemInput{
			TableName: aws.String(localstack.StateTableName), Key: statestore.Key(e2eMeter(391, "0.0.1"))})
		e2eMust(t, err)
		if v, ok := out.Item["expiresAt"].(*dbtypes.AttributeValueMemberN); ok {
			return v.Value
		}
		return ""
	}
	e2eInvoke(t, s, `{"meterId": 391, "version": "0.0.1"}`)
	if exp := expiry(); exp == "" {
		t.Error("an unwatched meter's item has no expiresAt")
	}
	e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", "/meters/391/0.0.1/watch", nil))
	if exp := expiry(); exp != "" {
		t.Errorf("a watched meter's item expires at %s", exp)
	}
	e2eWatchCall(t, s, e2eWatchRequest(t, "DELETE", "/meters/391/0.0.1/watch", nil))
	if exp := expiry(); exp == "" {
		t.Error("an unwatched meter's item has no expiresAt")
	}
}

func e2eMeter(id int64, version string) memory.Meter {
	return memory.Meter{MeterID: id, Version: version}
}

// e2eState is a meter version last seen in status at, with its alert
// open when the status is FAILED.
func e2eState(id int64, version, status string, code int, at time.Time) memory.State {
	st := memory.State{Meter: e2eMeter(id, version), Status: status, StatusCode: code, CheckedAt: at, ChangedAt: at}
	if status == "FAILED" {
		st.AlertStatus, st.AlertSince, st.NotifiedAt = status, at, at
	}
	return st
}

// e2eMetricCount reports whether the EMF records in log count want of
// metric in all.
func e2eMetricCount(log, metric string, want float64) bool {
	return e2eMetricSum(log, metric) == want
}

// e2eMetricSum adds up metric over the EMF records in log.
func e2eMetricSum(log, metric string) float64 {
	var sum float64
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			if v, ok := rec[metric].(float64); ok {
				sum += v
			}
		}
	}
	return sum
}

// A message SNS refuses as it is (InvalidParameter) goes again
// in its plain form; refused in that form too, it is given up — logged
// whole, the check failed — so that it does not fail every scheduled run
// after it and hold back the meter version's later pages.
func TestRefusedMessageEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	var refuseAll atomic.Bool
	var refusing atomic.Int64 // publishes still to refuse when not all
	s.SetFaults(func(op string, _ int) localstack.Fault {
		if op == "SNS.Publish" && (refuseAll.Load() || refusing.Add(-1) >= 0) {
			return localstack.Fault{Status: http.StatusBadRequest, Code: "InvalidParameter", Message: "Invalid parameter: Message too long"}
		}
		return localstack.Fault{}
	})
	const check, tick = `{"meterId": 1104, "version": "0.0.1"}`, `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`
	e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", "/meters/1104/0.0.1/watch", nil))
	s.Sim.SetMeter(1104, "0.0.1", e2eSteps(8, 8, 5, 8)...)

	refuseAll.Store(true) // SNS refuses this page in every form
	e2eWantError(t, s, check, "AlertPublishFailed")
	if r := e2eInvoke(t, s, tick); r.Failed() {
		t.Errorf("the scheduled run after the refused page: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	if !strings.Contains(s.FunctionLog(), "message undeliverable") {
		t.Error("the page given up was not logged")
	}
	refuseAll.Store(false)
	refusing.Store(1) // the next page is refused once, then taken plain
	for range 2 {
		if r := e2eInvoke(t, s, check); r.Failed() {
			t.Errorf("a later check: %s: %s", r.ErrorType, r.ErrorMessage)
		}
	}
	sent := s.SentMessages()
	if got := e2eMessages(t, s); !slices.Equal(got, []string{"1104 alert"}) || len(sent) != 1 {
		t.Fatalf("messages %v, want the rerun's page", got)
	}
	if sent[0].Email != "" || !strings.Contains(sent[0].Default, `"detailsError":"AlertPublishFailed"`) {
		t.Errorf("the page went out as it was refused, not plain: email %q, %s", sent[0].Email, sent[0].Default)
	}
}
