package main

// End-to-end tests of the memory (STATE_TABLE, on by default in the local
// stack as in the template): one page per failure, across checks,
// containers and a refused publish, and the watch list at scale.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2eInvoker is a container: the Stack's own, or one AddFunction started.
type e2eInvoker interface {
	Invoke(ctx context.Context, payload []byte) (localstack.Reply, error)
}

func e2eSteps(codes ...int) []zuoratest.Step {
	steps := make([]zuoratest.Step, len(codes))
	for i, c := range codes {
		steps[i] = zuoratest.Step{Status: c}
	}
	return steps
}

// e2eMessages drains the topic and returns each message as "meterId event".
func e2eMessages(t *testing.T, s *localstack.Stack) []string {
	t.Helper()
	alerts, err := s.DrainAlerts(t.Context())
	e2eMust(t, err)
	var got []string
	for _, a := range alerts {
		got = append(got, a.Attributes["meterId"].Value+" "+a.Attributes["event"].Value)
	}
	return got
}

// One page per transition into FAILED, a resolution when it completes.
func TestMemoryEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	scripts := map[int64][]int{
		301: {8, 8, 8, 8, 8}, // FAILED across 5 checks: 1 page
		302: {8, 5, 8},       // FAILED, RUNNING, FAILED: 2 pages
		303: {8, 7},          // FAILED, COMPLETED: a page and a resolution
	}
	want := map[string]int{"301 alert": 1, "302 alert": 2, "303 alert": 1, "303 resolved": 1}
	for id, codes := range scripts {
		s.Sim.SetMeter(id, "0.0.1", e2eSteps(codes...)...)
		for range codes {
			if r := e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id)); r.Failed() {
				t.Fatalf("meter %d: %s: %s", id, r.ErrorType, r.ErrorMessage)
			}
		}
	}
	got := map[string]int{}
	for _, m := range e2eMessages(t, s) {
		got[m]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("messages %v, want %v", got, want)
	}
}

// Twelve checks of a new FAILED from four containers at once: one page.
func TestConcurrentContainersEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	s.Sim.SetMeter(310, "0.0.1", zuoratest.Step{Status: 8, Latency: 50 * time.Millisecond})
	containers := []e2eInvoker{s}
	for range 3 {
		f, err := s.AddFunction(t.Context(), nil)
		e2eMust(t, err)
		containers = append(containers, f)
	}
	for _, c := range containers { // warm each (token, connections) on another meter
		if r, err := c.Invoke(t.Context(), []byte(`{"meterId": 104, "version": "2.0.0"}`)); err != nil || r.Failed() {
			t.Fatalf("warming: %v %s", err, r.Body)
		}
	}
	var wg sync.WaitGroup
	for _, c := range containers {
		for range 3 {
			wg.Go(func() {
				r, err := c.Invoke(t.Context(), []byte(`{"meterId": 310, "version": "0.0.1"}`))
				if err != nil || r.Failed() {
					t.Errorf("check: %v %s", err, r.Body)
				}
			})
		}
	}
	wg.Wait()
	if got := e2eMessages(t, s); len(got) != 1 {
		t.Errorf("messages %v from 12 checks in 4 containers, want one page", got)
	}
	// The page is one because rivals met and the memory settled it, not
	// because the checks happened to take turns.
	logs := s.FunctionLog()
	for _, c := range containers[1:] {
		logs += c.(*localstack.Function).FunctionLog()
	}
	if conflicts := e2eMetricSum(logs, "StateConflicts"); conflicts < 1 {
		t.Errorf("%v state conflicts counted: the checks never met", conflicts)
	}
}

// An alert SNS refused stays owed, survives a cold start, and the next
// check publishes it, once.
func TestOwedAlertEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"})
	s.Sim.SetMeter(320, "0.0.1", zuoratest.Step{Status: 8})
	const check = `{"meterId": 320, "version": "0.0.1"}`
	e2eWantError(t, s, check, "AlertPublishFailed")
	e2eMust(t, s.Restart(t.Context(), nil))
	for i := range 3 {
		r := e2eInvoke(t, s, check)
		res := e2eDecode[e2eResult](t, r.Body)
		if published := res.Alert != nil && res.Alert.Published; r.Failed() || published != (i == 0) {
			t.Errorf("check %d after the refusal: %s", i+1, r.Body)
		}
	}
	if got := e2eMessages(t, s); len(got) != 1 || got[0] != "320 alert" {
		t.Errorf("messages %v, want the owed alert once", got)
	}
}

// e2eWatchRequest is an HTTP API (payload 2.0) event for the watch list.
func e2eWatchRequest(t *testing.T, method, path string, query map[string]string) []byte {
	t.Helper()
	event, err := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "e2e", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	})
	e2eMust(t, err)
	return event
}

func e2eWatchCall(t *testing.T, c e2eInvoker, event []byte) events.APIGatewayProxyResponse {
	t.Helper()
	r, err := c.Invoke(t.Context(), event)
	h, ok := r.HTTP()
	if err != nil || !ok || h.StatusCode != 200 {
		t.Fatalf("%s: %v %s", event, err, r.Body)
	}
	return h
}

// A thousand watched meters: the last hundred PUT on the watch list from
// four containers (the rest written to the table directly, as the function
// leaves them after a check: a thousand invocations would test nothing
// more), listed in one page, checked in one scheduled invocation with Zuora
// at 50 ms; a second tick that changes nothing makes almost no DynamoDB
// calls, as the fault proxy counts what the function sent.
func TestWatchListAtScaleEndToEnd(t *testing.T) {
	t.Parallel()
	const n, put, running = 1000, 100, 100
	// Stuck runs on: every RUNNING run is timed, and none is paged.
	s := localstack.ForTest(t, map[string]string{"WATCH_METERS": "", "STUCK_AFTER": "1h"})
	containers := []e2eInvoker{s}
	for range 3 {
		f, err := s.AddFunction(t.Context(), nil)
		e2eMust(t, err)
		containers = append(containers, f)
	}
	var seeded []int64
	for id := int64(400001); id <= 400000+n; id++ {
		status := 7
		if id%(n/running) == 0 {
			status = 5
		}
		s.Sim.SetMeter(id, "1.0.0", zuoratest.Step{Status: status})
		if id <= 400000+n-put {
			seeded = append(seeded, id)
		}
	}
	e2eStateItems(t, s, seeded, "1.0.0", "COMPLETED", 7, time.Now().UTC().Truncate(time.Second))
	var wg sync.WaitGroup
	for i, c := range containers {
		wg.Go(func() {
			for id := 400001 + n - put + i; id <= 400000+n; id += len(containers) {
				e2eWatchCall(t, c, e2eWatchRequest(t, "PUT", fmt.Sprintf("/meters/%d/1.0.0/watch", id), nil))
			}
		})
	}
	wg.Wait()
	list := e2eWatchCall(t, s, e2eWatchRequest(t, "GET", "/meters", map[string]string{"limit": "1000"}))
	if page := e2eDecode[struct {
		Meters    []e2eResult
		NextToken string
	}](t, []byte(list.Body)); len(page.Meters) != n || page.NextToken != "" || page.Meters[0].MeterID != 400001 {
		t.Fatalf("GET /meters: %d meters, first %+v, nextToken %q", len(page.Meters), page.Meters[:1], page.NextToken)
	}

	s.Sim.SetLatency(50 * time.Millisecond)
	const tick = `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`
	runTick := func(name string) {
		start := time.Now()
		b := e2eDecode[e2eBatch](t, e2eInvoke(t, s, tick).Body)
		t.Logf("%s tick took %s", name, time.Since(start))
		if b.Summary.Total != n || b.Summary.ByStatus["COMPLETED"] != n-running || b.Summary.ByStatus["RUNNING"] != running {
			t.Fatalf("%s tick: summary %+v", name, b.Summary)
		}
	}
	runTick("first")
	stop, err := s.RecordAWSCalls(t.Context())
	e2eMust(t, err)
	runTick("second")
	calls, err := stop(t.Context())
	e2eMust(t, err)
	reads, writes := localstack.DynamoDBCalls(calls)
	t.Logf("second tick: %d DynamoDB read calls, %d write calls", reads, writes)
	if reads < 1 || reads > 50 || writes > 10 {
		t.Errorf("the second tick made %d read and %d write calls; want 1 to 50 and at most 10", reads, writes)
	}
	if got := e2eMessages(t, s); len(got) != 0 {
		t.Errorf("two ticks of runs well under STUCK_AFTER published %v", got)
	}
}
