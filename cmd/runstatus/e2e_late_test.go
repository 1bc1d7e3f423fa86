package main

// Late runs and muting, end to end: due times a scheduled run judges
// (seeded hours ago, as a PUT watch would have left them then: only due
// times after an expectation was set count), Zuora's summary asked only
// when nothing showed a run, and mutes that hold pages back.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const e2eTick = `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`

// e2eDaily is a daily expectation due ago before now (to the minute, UTC),
// with grace: its latest due time is that one.
func e2eDaily(t *testing.T, ago time.Duration, grace string) (*expect.Expectation, time.Time) {
	t.Helper()
	due := time.Now().UTC().Add(-ago).Truncate(time.Minute)
	e, err := expect.New(fmt.Sprintf("%d %d * * *", due.Minute(), due.Hour()), "UTC", grace)
	e2eMust(t, err)
	return &e, due
}

// e2eExpecting seeds watched meter versions (version 0.0.1) whose
// expectation e was set two hours ago, as last checked in status; each may
// be changed by mod.
func e2eExpecting(t *testing.T, s *localstack.Stack, ids []int64, e *expect.Expectation, status string, code int, mod func(*memory.State)) {
	t.Helper()
	api := dynamodb.NewFromConfig(s.AWSConfig())
	now := time.Now().UTC().Truncate(time.Second)
	for chunk := range slices.Chunk(ids, 25) {
		var writes []dbtypes.WriteRequest
		for _, id := range chunk {
			st := e2eState(id, "0.0.1", status, code, now.Add(-time.Hour))
			st.Watched, st.Rev, st.Expect, st.ExpectSince = true, 1, e, now.Add(-2*time.Hour)
			if mod != nil {
				mod(&st)
			}
			item, err := statestore.Item(st)
			e2eMust(t, err)
			writes = append(writes, dbtypes.WriteRequest{PutRequest: &dbtypes.PutRequest{Item: item}})
		}
		_, err := api.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dbtypes.WriteRequest{localstack.StateTableName: writes}})
		e2eMust(t, err)
	}
}

// e2eSummaryCalls counts the summary calls the simulator saw, by meter.
func e2eSummaryCalls(s *localstack.Stack) map[int64]int {
	calls := map[int64]int{}
	for _, r := range s.Sim.Requests() {
		var id int64
		if _, err := fmt.Sscanf(r.Path, "/meters/%d/summary", &id); err == nil && strings.HasSuffix(r.Path, "/summary") {
			calls[id]++
		}
	}
	return calls
}

// e2eLateMessage is a late page's or a late resolution's message.
type e2eLateMessage struct {
	MeterID int64 `json:"meterId"`
	Late    *struct {
		Due, Cron, Timezone, Grace, LastRunAt string
		Verified                              bool
	} `json:"late"`
	Resolves *struct {
		Late bool
		Due  string
	} `json:"resolves"`
	AfterMute bool `json:"afterMute"`
}

// e2eLateMessages drains the topic: "meterId event" each, and the messages.
func e2eLateMessages(t *testing.T, s *localstack.Stack) ([]string, []e2eLateMessage) {
	t.Helper()
	alerts, err := s.DrainAlerts(t.Context())
	e2eMust(t, err)
	var got []string
	var msgs []e2eLateMessage
	for _, a := range alerts {
		got = append(got, a.Attributes["meterId"].Value+" "+a.Attributes["event"].Value)
		msgs = append(msgs, e2eDecode[e2eLateMessage](t, []byte(a.Message)))
	}
	return got, msgs
}

// Due times judged by the scheduled run: a run seen by a check, by a
// callout, or only in Zuora's summary meets its due time, without a page
// (and the first two without a summary call); a due time no run came for
// pages late, verified, once over several missed due times; the first run
// seen afterwards resolves it.
func TestLateRunsEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	daily, due := e2eDaily(t, 7*time.Minute, "5m")
	const missed, seenByCheck, seenByCallout, inSummary = 1201, 1202, 1203, 1204
	everyMinute, err := expect.New("* * * * *", "UTC", "1m")
	e2eMust(t, err)
	const manyMissed = 1205
	for _, id := range []int64{missed, seenByCallout, inSummary, manyMissed} {
		s.Sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: 7})
	}
	s.Sim.SetMeter(seenByCheck, "0.0.1", zuoratest.Step{Status: 5})
	e2eExpecting(t, s, []int64{missed, seenByCallout, inSummary}, daily, "COMPLETED", 7, nil)
	e2eExpecting(t, s, []int64{manyMissed}, &everyMinute, "COMPLETED", 7, nil)
	e2eExpecting(t, s, []int64{seenByCheck}, daily, "RUNNING", 5, func(st *memory.State) { st.RunStart = due.Add(-time.Minute) })
	s.Sim.SetRuns(inSummary, zuoratest.Run{SessionID: "R-1", Start: due.Add(2 * time.Minute), End: due.Add(3 * time.Minute), Output: 10})
	zuoraTime := func(t time.Time) string { return t.Format("2006-01-02T15:04:05-0700") }
	e2eDeliver(t, s.CalloutNotifier(), "late-1", e2eCallout(seenByCallout, "R-1", "COMPLETED", zuoraTime(due.Add(-2*time.Minute)), zuoraTime(due.Add(time.Minute))))

	for i := range 2 {
		if r := e2eInvoke(t, s, e2eTick); r.Failed() {
			t.Fatalf("tick %d: %s: %s", i+1, r.ErrorType, r.ErrorMessage)
		}
	}
	got, msgs := e2eLateMessages(t, s)
	slices.Sort(got)
	if want := []string{fmt.Sprint(missed, " late"), fmt.Sprint(manyMissed, " late")}; !slices.Equal(got, want) {
		t.Fatalf("messages after two ticks %v, want %v", got, want)
	}
	for _, m := range msgs {
		if m.Late == nil {
			t.Errorf("meter %d's late page carries no late block", m.MeterID)
			continue
		}
		if !m.Late.Verified || m.Late.Timezone != "UTC" || m.Late.LastRunAt != "" {
			t.Errorf("meter %d's late page: %+v", m.MeterID, m.Late)
		}
		if m.MeterID == missed && (m.Late.Grace != "5m" || !strings.HasPrefix(m.Late.Due, due.Format("2006-01-02T15:04"))) {
			t.Errorf("the daily miss: %+v, due %s", m.Late, due)
		}
	}
	calls := e2eSummaryCalls(s)
	if calls[seenByCheck] != 0 || calls[seenByCallout] != 0 || calls[inSummary] != 1 || calls[missed] != 1 || calls[manyMissed] != 1 {
		t.Errorf("summary calls by meter %v: want none for runs seen, one for each due time asked about", calls)
	}
	if n := e2eMetricSum(s.FunctionLog(), "LateChecks"); n != 3 {
		t.Errorf("LateChecks %v, want 3", n)
	}

	// A run: the late alert closes, naming the due time missed.
	s.Sim.SetMeter(missed, "0.0.1", zuoratest.Step{Status: 5})
	e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, missed))
	got, msgs = e2eLateMessages(t, s)
	if len(got) != 1 || got[0] != fmt.Sprint(missed, " resolved") || msgs[0].Resolves == nil || !msgs[0].Resolves.Late {
		t.Errorf("the run after the miss: %v %+v", got, msgs)
	}
}

// Zuora's summary failing: no page within twice the grace (the due time is
// judged again at the next runs), a page with "verified": false after it.
func TestLateRunsUnverifiedEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	recent, _ := e2eDaily(t, 7*time.Minute, "5m") // within twice the grace
	old, _ := e2eDaily(t, 12*time.Minute, "5m")   // past it
	for _, id := range []int64{1211, 1212} {
		s.Sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: 7})
	}
	e2eExpecting(t, s, []int64{1211}, recent, "COMPLETED", 7, nil)
	e2eExpecting(t, s, []int64{1212}, old, "COMPLETED", 7, nil)
	s.Sim.SetSummaryFault(zuoratest.Fault{HTTPStatus: 500})
	for range 2 {
		if r := e2eInvoke(t, s, e2eTick); r.Failed() {
			t.Fatalf("tick: %s: %s", r.ErrorType, r.ErrorMessage)
		}
	}
	got, msgs := e2eLateMessages(t, s)
	if !slices.Equal(got, []string{"1212 late"}) || msgs[0].Late == nil || msgs[0].Late.Verified {
		t.Errorf("messages %v %+v, want one unverified late page for 1212", got, msgs)
	}
	if calls := e2eSummaryCalls(s); calls[1211] != 2 || calls[1212] != 1 {
		t.Errorf("summary calls %v: want 1211 asked again at the second tick, 1212 once", calls)
	}
}

// 1,000 watched meters whose runs were all seen: the scheduled run makes
// no summary call, reads what it read without expectations, and writes no
// more.
func TestLateRunsAtScaleEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 1000
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": ""})
	daily, due := e2eDaily(t, 7*time.Minute, "5m")
	var ids []int64
	for id := int64(1300001); id <= 1300000+n; id++ {
		ids = append(ids, id)
		s.Sim.SetMeter(id, "0.0.1", zuoratest.Step{Status: 5})
	}
	// Checked recently, so that no tick refreshes 1,000 items (a write each
	// that would only load the local DynamoDB): every tick reads alone.
	running := func(st *memory.State) {
		st.RunStart, st.CheckedAt = due.Add(-time.Minute), time.Now().UTC().Add(-10*time.Minute)
	}
	type figures struct {
		took          time.Duration
		reads, writes int
	}
	tick := func(e *expect.Expectation) figures {
		e2eExpecting(t, s, ids, e, "RUNNING", 5, running)
		e2eInvoke(t, s, e2eTick) // warm, and the same start for both
		stop, err := s.RecordAWSCalls(t.Context())
		e2eMust(t, err)
		start := time.Now()
		r := e2eInvoke(t, s, e2eTick)
		took := time.Since(start)
		calls, err := stop(t.Context())
		e2eMust(t, err)
		if r.Failed() {
			t.Fatalf("tick: %s: %s", r.ErrorType, r.ErrorMessage)
		}
		reads, writes := localstack.DynamoDBCalls(calls)
		return figures{took, reads, writes}
	}
	without := tick(nil)
	s.Sim.ResetStats()
	with := tick(daily)
	t.Logf("a tick over %d meters: %s, %d reads, %d writes without expectations; %s, %d reads, %d writes with them; %d summary calls",
		n, without.took.Round(time.Millisecond), without.reads, without.writes, with.took.Round(time.Millisecond), with.reads, with.writes, s.Sim.Stats().SummaryCalls)
	if st := s.Sim.Stats(); st.SummaryCalls != 0 {
		t.Errorf("%d summary calls for %d meters whose runs were all seen", st.SummaryCalls, n)
	}
	if with.reads > without.reads || with.writes > without.writes {
		t.Errorf("with expectations %d reads and %d writes, without %d and %d", with.reads, with.writes, without.reads, without.writes)
	}
	if got, _ := e2eLateMessages(t, s); len(got) != 0 {
		t.Errorf("messages %v", got)
	}
}

// A mute: nothing published while it holds, the checks' results say so
// and the memory records them; when it is lifted, a failure still open
// pages once, afterMute; one that began and ended inside says nothing.
func TestMuteEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, id := range []int{1401, 1402} {
		req := e2eWatchRequest(t, "PUT", fmt.Sprintf("/meters/%d/0.0.1/mute", id), nil)
		var ev map[string]any
		e2eMust(t, json.Unmarshal(req, &ev))
		ev["body"] = `{"until": "` + until + `", "reason": "maintenance <b>CHG-1</b>"}`
		body, _ := json.Marshal(ev)
		if w := e2eWatchCall(t, s, body); !strings.Contains(w.Body, `"reason":"maintenance \u003cb\u003eCHG-1\u003c/b\u003e"`) {
			t.Errorf("the mute's reply: %s", w.Body)
		}
	}
	s.Sim.SetMeter(1401, "0.0.1", e2eSteps(8, 8, 8)...)
	s.Sim.SetMeter(1402, "0.0.1", e2eSteps(8, 7, 7)...)
	for _, id := range []int{1401, 1402} {
		for range 2 {
			r := e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id))
			if res := e2eDecode[map[string]any](t, r.Body); r.Failed() || res["muted"] == nil || res["alert"] != nil {
				t.Errorf("meter %d while muted: %s", id, r.Body)
			}
		}
	}
	if got, _ := e2eLateMessages(t, s); len(got) != 0 {
		t.Fatalf("messages while muted: %v", got)
	}
	if n := e2eMetricSum(s.FunctionLog(), "Muted"); n < 2 {
		t.Errorf("Muted %v, want the pages held back counted", n)
	}
	for _, id := range []int{1401, 1402} {
		e2eWatchCall(t, s, e2eWatchRequest(t, "DELETE", fmt.Sprintf("/meters/%d/0.0.1/mute", id), nil))
		e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id))
	}
	got, msgs := e2eLateMessages(t, s)
	if !slices.Equal(got, []string{"1401 alert"}) || !msgs[0].AfterMute {
		t.Errorf("messages after the mute %v %+v, want 1401's failure once, afterMute", got, msgs)
	}
}
