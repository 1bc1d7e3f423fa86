package main

// End-to-end tests of the state machines: the template's (it polls one
// meter until its run ends) and the documented example of a caller's own,
// executed by moto's Step Functions interpreter, each Lambda task answered
// by the real bootstrap in the RIE. Executions run side by side (each in a
// region of its own, see localstack.Execute); Wait states really wait, so
// the template's poll interval is 1 s here and its cap on checks small.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// e2ePollChecks is the template's MaxPollChecks in these tests.
const e2ePollChecks = 3

// e2eCallerExample is docs/state-machine.md's example of a caller's own state machine.
const e2eCallerExample = "../../statemachine/examples/caller.asl.json"

// The template's state machine polls through the function's results and
// errors to the end the definition promises for each.
func TestStateMachineEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, nil)
	sm, err := s.TemplateStateMachine(map[string]string{"PollIntervalSeconds": "1", "MaxPollChecks": strconv.Itoa(e2ePollChecks)})
	e2eMust(t, err)
	const first = "Prepare Check EvaluateRunStatus "
	const again = "CountCheck PollLimitReached WaitBeforeNextCheck Check EvaluateRunStatus "
	tests := []struct {
		name      string
		steps     []zuoratest.Step // the meter's script; none: no such meter
		input     string           // default {"meterId": <meter>, "version": "0.0.1"}
		wantError string           // "" for SUCCEEDED
		wantPath  string           // the states entered
		wantCause string           // a part of the cause
	}{
		{"completed", e2eSteps(7), "", "", first + "RunCompleted", ""},
		{"failed", e2eSteps(8), "", "MeterRunFailed", first + "RunFailed", "run status: FAILED"},
		{"canceled", e2eSteps(9), "", "MeterRunNotCompleted", first + "RunEndedWithoutCompleting", "run status: CANCELED"},
		{"running then completed", e2eSteps(5, 5, 7), "", "", first + again + again + "RunCompleted", ""},
		{"paused forever", e2eSteps(6), "", "MeterRunPollLimitExceeded", // exactly e2ePollChecks checks, and as many Zuora calls
			first + strings.Repeat(again, e2ePollChecks-1) + "CountCheck PollLimitReached PollLimitExceeded",
			fmt.Sprintf("still PAUSED after %d checks", e2ePollChecks)},
		{"unknown meter", nil, "", "MeterNotFound", "Prepare Check CheckRejected", "MeterNotFound"},
		{"bad input", nil, `{"meterId": "abc", "version": "0.0.1"}`, "InvalidRequest", "Prepare Check CheckRejected", "meterId"},
	}
	// Every case starts its executions first and checks them after, so
	// that they run side by side (t.Parallel would run GOMAXPROCS at once);
	// those that wait longest start first.
	type check struct {
		name string
		run  func(t *testing.T)
	}
	checks := []check{{"retried", e2eStateMachineRetry(t, s, sm)}, {"pages once", e2eStateMachinePagesOnce(t, s, sm)}}
	for i, tt := range tests {
		meter := int64(801 + i)
		if tt.steps != nil {
			s.Sim.SetMeter(meter, "0.0.1", tt.steps...)
		}
		wait := e2eStart(t, s, sm, cmp.Or(tt.input, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, meter)))
		checks = append(checks, check{tt.name, func(t *testing.T) {
			e := wait(t)
			e2eWantEnd(t, e, tt.wantError, tt.wantCause)
			if got := strings.Join(e.StateNames(), " "); got != tt.wantPath {
				t.Errorf("path %s\nwant %s", got, tt.wantPath)
			}
			if got, want := e2eRunStatusCalls(s, meter), e2eVisits(e, "Check"); tt.steps != nil && got != want {
				t.Errorf("%d run-status calls for %d checks", got, want)
			}
			if tt.wantError == "" {
				e2eWantLastResult(t, e)
			}
		}})
	}
	checks = append(checks, check{"caller example", e2eCallerExampleRuns(t, s)})
	for _, c := range checks {
		t.Run(c.name, c.run)
	}
}

// A ZuoraUnavailable (three 503s: the client's own three attempts) is
// retried by the Check state's Retry, and the next invocation's answer wins.
func e2eStateMachineRetry(t *testing.T, s *localstack.Stack, sm localstack.StateMachine) func(*testing.T) {
	const meter = 821
	down := zuoratest.Step{HTTPStatus: 503}
	s.Sim.SetMeter(meter, "0.0.1", down, down, down, zuoratest.Step{Status: 7})
	wait := e2eStart(t, s, sm, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, meter))
	return func(t *testing.T) {
		e := wait(t)
		e2eWantEnd(t, e, "", "")
		var attempts []string
		for _, v := range e.Path() {
			for _, a := range v.Attempts {
				attempts = append(attempts, v.Name+":"+cmp.Or(a.Error, "ok"))
			}
		}
		if want := []string{"Check:ZuoraUnavailable", "Check:ok"}; !slices.Equal(attempts, want) {
			t.Errorf("task attempts %q, want %q", attempts, want)
		}
		if calls := e2eRunStatusCalls(s, meter); calls != 4 {
			t.Errorf("%d run-status calls, want 3 for the first invocation and 1 for the retry", calls)
		}
		e2eWantLastResult(t, e)
	}
}

// With the memory (STATE_TABLE), a FAILED run polled by the state machine,
// and polled again by a second execution, pages once.
func e2eStateMachinePagesOnce(t *testing.T, s *localstack.Stack, sm localstack.StateMachine) func(*testing.T) {
	const meter = 831
	s.Sim.SetMeter(meter, "0.0.1", e2eSteps(5, 8)...)
	input := fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, meter)
	wait := e2eStart(t, s, sm, input)
	return func(t *testing.T) {
		e2eWantEnd(t, wait(t), "MeterRunFailed", "run status: FAILED")
		second := e2eStart(t, s, sm, input)(t)
		e2eWantEnd(t, second, "MeterRunFailed", "run status: FAILED")
		alerts, err := s.DrainAlerts(t.Context()) // other cases' alerts go too; only this meter's count here
		e2eMust(t, err)
		var pages []string
		for _, a := range alerts {
			if a.Attributes["meterId"].Value == strconv.Itoa(meter) {
				pages = append(pages, a.Attributes["event"].Value+" "+a.Attributes["status"].Value)
			}
		}
		if !slices.Equal(pages, []string{"alert FAILED"}) {
			t.Errorf("messages for meter %d: %q, want one alert", meter, pages)
		}
		if res := e2eLastResult(t, second); res.AlertOpenSince == "" || res.Alert != nil {
			t.Errorf("the second execution's check: alert %+v, alertOpenSince %q; want the alert found open", res.Alert, res.AlertOpenSince)
		}
	}
}

// The documented caller example: a COMPLETED run goes on to the caller's next
// step; an unknown meter is not retried but caught.
func e2eCallerExampleRuns(t *testing.T, s *localstack.Stack) func(*testing.T) {
	def, err := os.ReadFile(e2eCallerExample)
	e2eMust(t, err)
	sm := localstack.StateMachine{Name: "caller", Definition: def, FunctionARN: "RunStatusFunctionArn"}
	s.Sim.SetMeter(841, "0.0.1", e2eSteps(7)...)
	waitOK := e2eStart(t, s, sm, `{"meterId": 841, "version": "0.0.1", "invoice": "INV-1"}`)
	waitCaught := e2eStart(t, s, sm, `{"meterId": 842, "version": "0.0.1"}`)
	return func(t *testing.T) {
		ok := waitOK(t)
		e2eWantEnd(t, ok, "", "")
		if got := ok.StateNames(); !slices.Equal(got, []string{"CheckMeterRun", "IsRunCompleted", "UsageIsIn"}) {
			t.Errorf("COMPLETED: path %q", got)
		}
		out := e2eDecode[struct {
			Invoice    string
			MeterCheck struct{ RunStatus e2eResult }
		}](t, []byte(ok.Output))
		if out.Invoice != "INV-1" || out.MeterCheck.RunStatus.Status != "COMPLETED" {
			t.Errorf("output %s: want the input with the function's result in meterCheck.runStatus", ok.Output)
		}
		caught := waitCaught(t)
		e2eWantEnd(t, caught, "MeterNotFound", "MeterNotFound")
		path := caught.Path()
		if got := caught.StateNames(); !slices.Equal(got, []string{"CheckMeterRun", "MeterCheckRejected"}) || len(path[0].Attempts) != 1 {
			t.Errorf("unknown meter: path %q, attempts %+v; want one attempt, caught", got, path[0].Attempts)
		}
	}
}

// docs/state-machine.md shows the caller example as it is in its file.
func TestStateMachineCallerExampleInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/state-machine.md")
	e2eMust(t, err)
	def, err := os.ReadFile(e2eCallerExample)
	e2eMust(t, err)
	if !strings.Contains(string(doc), "```json\n"+string(def)+"```\n") {
		t.Errorf("docs/state-machine.md does not show %s as it is", e2eCallerExample)
	}
}

// e2eStart starts an execution in the background (it runs in moto) and
// returns a function that waits for its end.
func e2eStart(t *testing.T, s *localstack.Stack, sm localstack.StateMachine, input string) func(*testing.T) *localstack.Execution {
	type ended struct {
		e   *localstack.Execution
		err error
	}
	done := make(chan ended, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		e, err := s.Execute(ctx, sm, input)
		done <- ended{e, err}
	}()
	return func(t *testing.T) *localstack.Execution {
		t.Helper()
		r := <-done
		if r.err != nil {
			t.Fatalf("%s %s: %v", sm.Name, input, r.err)
		}
		t.Logf("%s %s: %s in %s", sm.Name, input, r.e.Status, r.e.Took.Round(time.Millisecond))
		return r.e
	}
}

// e2eWantEnd checks how an execution ended: SUCCEEDED if wantError is
// empty, else FAILED with that error and a cause that contains wantCause.
func e2eWantEnd(t *testing.T, e *localstack.Execution, wantError, wantCause string) {
	t.Helper()
	want := sfntypes.ExecutionStatusSucceeded
	if wantError != "" {
		want = sfntypes.ExecutionStatusFailed
	}
	if e.Status != want || e.Error != wantError || !strings.Contains(e.Cause, wantCause) {
		t.Errorf("%s %q %q, want %s %q with a cause that has %q\npath: %+v", e.Status, e.Error, e.Cause, want, wantError, wantCause, e.Path())
	}
}

// e2eWantLastResult checks that a succeeded execution's output is the
// function's result, as the last check returned it.
func e2eWantLastResult(t *testing.T, e *localstack.Execution) {
	t.Helper()
	res := e2eLastResult(t, e)
	if !bytes.Equal(e2eCanonical(t, []byte(e.Output)), e2eCanonical(t, e2eLastPayload(t, e))) || res.Status != "COMPLETED" || res.ZuoraRequestID == "" {
		t.Errorf("output %s, want the last check's result %s", e.Output, e2eLastPayload(t, e))
	}
}

// e2eCanonical is JSON with its keys sorted and no spaces.
func e2eCanonical(t *testing.T, data []byte) []byte {
	t.Helper()
	b, err := json.Marshal(e2eDecode[any](t, data))
	e2eMust(t, err)
	return b
}

// e2eLastPayload is the function's result in the last Task attempt that succeeded.
func e2eLastPayload(t *testing.T, e *localstack.Execution) []byte {
	t.Helper()
	var payload json.RawMessage
	for _, v := range e.Path() {
		for _, a := range v.Attempts {
			if a.Error == "" {
				payload = e2eDecode[struct{ Payload json.RawMessage }](t, []byte(a.Output)).Payload
			}
		}
	}
	if payload == nil {
		t.Fatalf("no task succeeded: %+v", e.Path())
	}
	return payload
}

func e2eLastResult(t *testing.T, e *localstack.Execution) e2eResult {
	t.Helper()
	return e2eDecode[e2eResult](t, e2eLastPayload(t, e))
}

// e2eVisits counts the entries into a state.
func e2eVisits(e *localstack.Execution, state string) int {
	n := 0
	for _, v := range e.Path() {
		if v.Name == state {
			n++
		}
	}
	return n
}

// e2eRunStatusCalls counts the simulator's run-status calls for a meter.
func e2eRunStatusCalls(s *localstack.Stack, meter int64) int {
	n := 0
	for _, r := range s.Sim.Requests() {
		if r.Path == fmt.Sprintf("/meters/%d/0.0.1/runStatus", meter) {
			n++
		}
	}
	return n
}
