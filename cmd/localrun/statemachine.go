package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/example/zuora-runstatus/internal/localstack"
)

// make run executes the template's state machine once, against meter 107 of
// the scenario (RUNNING, then COMPLETED), through moto's Step Functions
// interpreter and the function in the RIE. Its Wait state really waits, so
// the poll interval is 1 s instead of the template's default.
const machineInput = `{"meterId": 107, "version": "0.0.1"}`

var machineValues = map[string]string{"PollIntervalSeconds": "1", "MaxPollChecks": "10"}

// runStateMachine executes the state machine and prints its path through
// the states and its output. The error is for failing to run it; an
// execution that did not succeed is reported by ok.
func runStateMachine(ctx context.Context, s *localstack.Stack) (ok bool, err error) {
	sm, err := s.TemplateStateMachine(machineValues)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	e, err := s.Execute(ctx, sm, machineInput)
	if err != nil {
		return false, err
	}
	fmt.Printf("== state machine %s (the template's, polling every %s s, at most %s checks), input %s: %s in %s\n",
		sm.Name, machineValues["PollIntervalSeconds"], machineValues["MaxPollChecks"], machineInput, e.Status, e.Took.Round(time.Millisecond))
	printExecution(os.Stdout, e)
	fmt.Println()
	return e.Status == sfntypes.ExecutionStatusSucceeded, nil
}

// printExecution writes the states an execution entered, each Task attempt's
// result or error in brief, and how it ended.
func printExecution(w io.Writer, e *localstack.Execution) {
	for _, v := range e.Path() {
		if len(v.Attempts) == 0 {
			fmt.Fprintf(w, "  %s\n", v.Name)
		}
		for i, a := range v.Attempts {
			retry := ""
			if i > 0 {
				retry = " (retry)"
			}
			fmt.Fprintf(w, "  %-20s %s%s\n", v.Name, attemptBrief(a), retry)
		}
	}
	if e.Status == sfntypes.ExecutionStatusSucceeded {
		fmt.Fprintf(w, "output:\n%s\n", pretty(e.Output))
	} else {
		fmt.Fprintf(w, "%s: %s: %s\n", e.Status, e.Error, e.Cause)
	}
}

// attemptBrief is a Task attempt in a few words: the function's result as
// "meterId version status", or its error as "errorType: errorMessage".
func attemptBrief(a localstack.TaskAttempt) string {
	if a.Error != "" {
		var doc struct{ ErrorMessage string }
		if json.Unmarshal([]byte(a.Cause), &doc) != nil {
			doc.ErrorMessage = a.Cause
		}
		return "error " + a.Error + ": " + doc.ErrorMessage
	}
	var out struct {
		Payload struct {
			MeterID json.Number `json:"meterId"`
			Version string      `json:"version"`
			Status  string      `json:"status"`
		}
	}
	if json.Unmarshal([]byte(a.Output), &out) != nil || out.Payload.Status == "" {
		return "-> " + strings.Join(strings.Fields(a.Output), " ")
	}
	p := out.Payload
	return fmt.Sprintf("-> %s %s %s", cmp.Or(string(p.MeterID), "?"), p.Version, p.Status)
}
