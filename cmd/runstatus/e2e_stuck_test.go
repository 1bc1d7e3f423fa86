package main

// Stuck runs, end to end: a run that goes on far longer than its meter's
// runs usually take pages once, from a poll, the schedule or a callout,
// and its end resolves it or pages as a failure.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eStuckMessage is a stuck page's or a resolution's message.
type e2eStuckMessage struct {
	Status string `json:"status"`
	Stuck  *struct {
		Since                 time.Time
		For, Usual, Threshold string
	} `json:"stuck"`
	Resolves *struct {
		Status string
		Stuck  bool
	} `json:"resolves"`
}

// e2eStuckMessages drains the topic: each message's event, and the message.
func e2eStuckMessages(t *testing.T, s *localstack.Stack) ([]string, []e2eStuckMessage) {
	t.Helper()
	alerts, err := s.DrainAlerts(t.Context())
	e2eMust(t, err)
	var events []string
	var msgs []e2eStuckMessage
	for _, a := range alerts {
		events = append(events, a.Attributes["event"].Value)
		msgs = append(msgs, e2eDecode[e2eStuckMessage](t, []byte(a.Message)))
	}
	return events, msgs
}

// at sleeps until offset after start.
func at(start time.Time, offset time.Duration) { time.Sleep(time.Until(start.Add(offset))) }

// No history, STUCK_AFTER 4 s: checks at 0, 2, 5 and 6 s page once, after
// 4 s; COMPLETED then resolves it, saying it was stuck.
//
// The run begins at the first check, somewhere between earliest and latest
// (a loaded machine can make that check take a second), so each check is
// judged by what those bounds allow: a page is owed once the run has surely
// gone on past 4 s, and forbidden while it surely has not.
func TestStuckRunEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "4s"})
	s.Sim.SetMeter(901, "0.0.1", zuoratest.Step{Status: 5})
	const check = `{"meterId": 901, "version": "0.0.1"}`
	const threshold = 4 * time.Second
	earliest, latest := time.Now(), time.Time{}
	pages := 0
	for _, offset := range []time.Duration{0, 2 * time.Second, 5 * time.Second, 6 * time.Second} {
		if offset > 0 {
			at(latest, offset)
		}
		before := time.Now()
		if r := e2eInvoke(t, s, check); r.Failed() {
			t.Fatal(r.Body)
		}
		after := time.Now()
		if offset == 0 {
			latest = after
		}
		events, msgs := e2eStuckMessages(t, s)
		paged := strings.Join(events, ",") == "stuck"
		switch {
		case len(events) > 1 || len(events) == 1 && !paged:
			t.Errorf("at %s: %v, want at most one stuck page", offset, events)
		case paged && after.Sub(earliest) <= threshold:
			t.Errorf("at %s: paged after at most %s", offset, after.Sub(earliest))
		case !paged && pages == 0 && before.Sub(latest) > threshold:
			t.Errorf("at %s: no page after at least %s", offset, before.Sub(latest))
		}
		if paged {
			pages++
			// "for" is rounded to the second: at least the threshold, and no
			// more than the run can have gone on.
			if msgs[0].Stuck == nil || msgs[0].Stuck.Usual != "" || msgs[0].Stuck.Threshold != "4s" ||
				e2eDuration(t, msgs[0].Stuck.For) < threshold || e2eDuration(t, msgs[0].Stuck.For) > after.Sub(earliest).Round(time.Second) {
				t.Errorf("the stuck page: %+v", msgs[0].Stuck)
			}
		}
	}
	if pages != 1 {
		t.Errorf("%d stuck pages over four checks, want 1", pages)
	}
	s.Sim.SetMeter(901, "0.0.1", zuoratest.Step{Status: 7})
	e2eInvoke(t, s, check)
	events, msgs := e2eStuckMessages(t, s)
	if strings.Join(events, ",") != "resolved" || msgs[0].Resolves == nil || !msgs[0].Resolves.Stuck || msgs[0].Resolves.Status != "RUNNING" {
		t.Errorf("COMPLETED: %v %+v, want one resolution of a stuck RUNNING", events, msgs)
	}
}

// A stuck page SNS refused stays owed, through the table: the next check
// publishes it once, as it was first built, even though the run completed
// meanwhile, and then the resolution; a check after that publishes nothing.
func TestStuckPageOwedEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "1s"})
	s.Sim.SetMeter(905, "0.0.1", zuoratest.Step{Status: 5})
	const check = `{"meterId": 905, "version": "0.0.1"}`
	if r := e2eInvoke(t, s, check); r.Failed() {
		t.Fatal(r.Body)
	}
	time.Sleep(2 * time.Second)
	s.SetFaults(failOn("SNS.Publish"))
	e2eWantError(t, s, check, "AlertPublishFailed")
	s.SetFaults(nil)
	s.Sim.SetMeter(905, "0.0.1", zuoratest.Step{Status: 7})
	for range 2 {
		if r := e2eInvoke(t, s, check); r.Failed() {
			t.Fatal(r.Body)
		}
	}
	events, msgs := e2eStuckMessages(t, s)
	if strings.Join(events, ",") != "stuck,resolved" || msgs[0].Status != "RUNNING" || msgs[0].Stuck == nil ||
		e2eDuration(t, msgs[0].Stuck.For) < 2*time.Second || msgs[1].Resolves == nil || !msgs[1].Resolves.Stuck {
		t.Errorf("after a refused stuck page and a completed run: %v %+v", events, msgs)
	}
}

// Three runs of about 2 s, then STUCK_AFTER 1 s and STUCK_FACTOR 3: a
// fourth run is not stuck at 3 s (the threshold is about 6 s), and is at
// 7 s, usually about 2 s.
func TestStuckRunHistoryEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	var steps []zuoratest.Step
	for range 3 {
		steps = append(steps, zuoratest.Step{Status: 5, Hold: 2 * time.Second}, zuoratest.Step{Status: 7, Hold: time.Second})
	}
	s.Sim.SetMeter(902, "0.0.1", append(steps, zuoratest.Step{Status: 5})...)
	const check = `{"meterId": 902, "version": "0.0.1"}`
	status := func() string { return e2eDecode[e2eResult](t, e2eInvoke(t, s, check).Body).Status }
	// Watch the runs closely, as a schedule would not, so that each is
	// timed at about its 2 s.
	for runs, last := 0, ""; runs < 3; time.Sleep(20 * time.Millisecond) {
		st := status()
		if st == "COMPLETED" && last == "RUNNING" {
			runs++
		}
		last = st
	}
	// With stuck runs on from now: the fourth run begins at the first check
	// that sees it (the simulator starts it then), whatever the restart took.
	e2eMust(t, s.Restart(t.Context(), map[string]string{"STUCK_AFTER": "1s", "STUCK_FACTOR": "3"}))
	for status() != "RUNNING" {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	at(start, 3*time.Second)
	if status(); len(e2eMessages(t, s)) != 0 {
		t.Error("the fourth run paged at 3 s")
	}
	at(start, 7*time.Second)
	status()
	events, msgs := e2eStuckMessages(t, s)
	if len(events) == 0 {
		// A loaded machine polls the history's runs late, so that they read
		// longer than 2.33 s and the threshold passes 7 s: then the page
		// comes by 10 s, and its threshold says why not at 7.
		at(start, 10*time.Second)
		status()
		if events, msgs = e2eStuckMessages(t, s); len(msgs) == 1 && msgs[0].Stuck != nil && e2eDuration(t, msgs[0].Stuck.Threshold) < 7*time.Second {
			t.Errorf("no page at 7 s with a threshold of %s", msgs[0].Stuck.Threshold)
		}
	}
	if strings.Join(events, ",") != "stuck" || msgs[0].Stuck == nil || !slices.Contains([]string{"2s", "3s"}, msgs[0].Stuck.Usual) {
		t.Fatalf("at 7 s: %v %+v", events, msgs)
	}
	t.Logf("the stuck page: %+v", *msgs[0].Stuck)
}

// The schedule finds a stuck watched meter, and pages once over several
// ticks.
func TestStuckRunScheduledEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "2s", "WATCH_METERS": "903:0.0.1"})
	s.Sim.SetMeter(903, "0.0.1", zuoratest.Step{Status: 10}) // INITIALIZING, for ever
	const tick = `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`
	var events []string
	for range 5 {
		if r := e2eInvoke(t, s, tick); r.Failed() {
			t.Fatal(r.Body)
		}
		got, _ := e2eStuckMessages(t, s)
		events = append(events, got...)
		time.Sleep(time.Second)
	}
	if strings.Join(events, ",") != "stuck" {
		t.Errorf("five ticks over 5 s: %v, want one stuck page", events)
	}
}

// A callout's startTime dates its run: RUNNING since 10 s ago, with
// STUCK_AFTER 4 s, is stuck at once. A stuck run that then fails pages the
// failure, once, and closes the stuck alert without a resolution.
func TestStuckRunCalloutEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "4s"})
	n := s.CalloutNotifier()
	started := time.Now().Add(-10 * time.Second).UTC().Format("2006-01-02T15:04:05-0700")
	status, r := e2eDeliver(t, n, "st-1", e2eCallout(904, "R-1", "RUNNING", started, ""))
	events, msgs := e2eStuckMessages(t, s)
	if status != 200 || strings.Join(events, ",") != "stuck" || msgs[0].Stuck == nil || e2eDuration(t, msgs[0].Stuck.For) < 10*time.Second {
		t.Fatalf("a callout of a run started 10 s ago: %d %+v; %v %+v", status, r, events, msgs)
	}
	ended := time.Now().UTC().Format(time.RFC3339) // R-1 fails; the polls see it after
	s.Sim.SetMeter(904, "0.0.1", zuoratest.Step{Status: 8})
	for range 2 {
		e2eInvoke(t, s, `{"meterId": 904, "version": "0.0.1"}`)
	}
	e2eDeliver(t, n, "st-2", e2eCallout(904, "R-1", "FAILED", started, ended))
	if events, _ = e2eStuckMessages(t, s); strings.Join(events, ",") != "alert" {
		t.Errorf("the stuck run failed: %v, want one FAILED page", events)
	}
	e2eWatchCall(t, s, e2eWatchRequest(t, "PUT", "/meters/904/0.0.1/watch", nil))
	var page struct {
		Meters []struct {
			Status         string
			AlertOpenSince string
		}
	}
	e2eMust(t, json.Unmarshal([]byte(e2eWatchCall(t, s, e2eWatchRequest(t, "GET", "/meters", nil)).Body), &page))
	if len(page.Meters) != 1 || page.Meters[0].Status != "FAILED" {
		t.Errorf("the watch list after: %+v", page)
	}
	if e2eMetricSum(s.FunctionLog(), "Alerts") != 2 || !strings.Contains(s.FunctionLog(), `"Event":"stuck"`) {
		t.Error("the stuck page was not counted as Alerts by Event stuck")
	}
}

func e2eDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	e2eMust(t, err)
	return d
}

// A callout-only meter. Session R-1 is stuck; R-2's terminal
// callout, which has no startTime, ends R-1 too: the stuck alert is
// resolved at once (not left open for a poll that never comes), and no
// duration is made up for a run whose end nobody saw.
func TestStuckRunEndedByAnotherSessionEndToEnd(t *testing.T) {
	t.Parallel()
	// STUCK_AFTER far above R-3's age, however long its callout takes to
	// arrive, and far below R-1's, which R-3 would have if R-1's start
	// were taken for its.
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "1m"})
	n := s.CalloutNotifier()
	zuoraTime := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05-0700") }
	e2eDeliver(t, n, "so-1", e2eCallout(905, "R-1", "RUNNING", zuoraTime(-10*time.Minute), ""))
	if events, _ := e2eStuckMessages(t, s); strings.Join(events, ",") != "stuck" {
		t.Fatalf("R-1 started 10 minutes ago: %v, want a stuck page", events)
	}
	status, r := e2eDeliver(t, n, "so-2", e2eCallout(905, "R-2", "COMPLETED", "", zuoraTime(-30*time.Second)))
	events, msgs := e2eStuckMessages(t, s)
	if status != 200 || strings.Join(events, ",") != "resolved" || msgs[0].Resolves == nil || !msgs[0].Resolves.Stuck {
		t.Fatalf("R-2 COMPLETED: %d %+v; messages %v %+v, want the stuck run resolved", status, r, events, msgs)
	}
	// A later run of this meter, begun after R-2 ended (so not stale), is
	// not paged as stuck for R-1's sake, and its history holds no made-up
	// duration.
	r3 := time.Now().Add(-20 * time.Second).UTC().Truncate(time.Second)
	if status, r := e2eDeliver(t, n, "so-3", e2eCallout(905, "R-3", "RUNNING", r3.Format("2006-01-02T15:04:05-0700"), "")); status != 200 || r.Stale {
		t.Fatalf("R-3 RUNNING: %d %+v, want it taken", status, r)
	}
	if events, _ := e2eStuckMessages(t, s); len(events) != 0 {
		t.Errorf("R-3 running for 20 s: %v, want nothing", events)
	}
	states, err := statestore.New(dynamodb.NewFromConfig(s.AWSConfig()), localstack.StateTableName).AllStates(t.Context())
	e2eMust(t, err)
	for _, st := range states {
		if st.MeterID == 905 && (!st.RunStart.Equal(r3) || len(st.RunDurations) != 0) {
			t.Errorf("meter 905's run began %s with durations %v; want R-3's start %s and none", st.RunStart, st.RunDurations, r3)
		}
	}
}

// A callout the memory cannot record (the table unreadable) and that pages
// nothing without it is answered 503, so that Zuora's retry brings it back:
// here a run's start, which a stuck page needs. Answered 200 before, the
// news was lost with the stuck page.
func TestStuckCalloutUnrecordedEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"STUCK_AFTER": "4s"})
	n := s.CalloutNotifier()
	n.Attempts = 1
	started := time.Now().Add(-10 * time.Second).UTC().Format("2006-01-02T15:04:05-0700")
	body := e2eCallout(906, "R-1", "RUNNING", started, "")
	s.SetFaults(failOn("DynamoDB.BatchGetItem"))
	if status, r := e2eDeliver(t, n, "su-1", body); status != 503 || r.Error == nil || r.Error.Type != "StateUnavailable" {
		t.Errorf("the table unreadable: %d %+v, want 503 StateUnavailable", status, r)
	}
	s.SetFaults(nil)
	if status, _ := e2eDeliver(t, n, "su-1", body); status != 200 { // Zuora's retry
		t.Errorf("Zuora's retry: %d", status)
	}
	if events, _ := e2eStuckMessages(t, s); strings.Join(events, ",") != "stuck" {
		t.Errorf("messages %v, want the stuck page", events)
	}
}
