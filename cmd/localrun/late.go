package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// The meters make run shows late and muted.
const (
	lateMeter  = 109 // due every hour, and no run for three hours
	mutedMeter = 110 // FAILED during a mute
)

// sendLate shows a late page: meter 109, on the watch list since three
// hours ago with runs due every hour (grace 10m), had a run complete then
// and none since — the stack writes its item as a PUT watch and a check of
// that run would have left it, since only due times after an expectation
// was set count. A scheduled run judges its last due time, finds no run,
// asks the Zuora simulator's summary, which has no session either, and
// pages late, naming that last run. It first shows the PUT with an
// expectation itself on another meter, and what it answers.
func sendLate(ctx context.Context, s *localstack.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	s.Sim.SetMeter(lateMeter, "0.0.1", zuoratest.Step{Status: 7})
	if err := sendHTTP(ctx, s, "PUT", "/meters/104/2.0.0/watch", `{"expect": {"cron": "30 6 * * 1-5", "timezone": "America/New_York", "grace": "45m"}}`); err != nil {
		return err
	}
	hourly, err := expect.New("0 * * * *", "UTC", "10m")
	if err != nil {
		return err
	}
	since := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	lastRun := memory.Span{From: since.Add(-40 * time.Minute), To: since}
	item, err := statestore.Item(memory.State{Meter: memory.Meter{MeterID: lateMeter, Version: "0.0.1"}, Watched: true,
		Status: "COMPLETED", StatusCode: 7, CheckedAt: since, ChangedAt: lastRun.To, Rev: 1, Runs: []memory.Span{lastRun},
		Expect: &hourly, ExpectSince: since})
	if err == nil {
		_, err = dynamodb.NewFromConfig(s.AWSConfig()).BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dbtypes.WriteRequest{
			localstack.StateTableName: {{PutRequest: &dbtypes.PutRequest{Item: item}}}}})
	}
	if err != nil {
		return err
	}
	fmt.Printf("== meter %d: watched since %s with runs due every hour (\"0 * * * *\", UTC, grace 10m); its last run completed then, and none since; a scheduled run:\n",
		lateMeter, since.Format("15:04 MST"))
	r, err := s.Invoke(ctx, []byte(`{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`))
	if err != nil {
		return err
	}
	printReply(os.Stdout, r)
	fmt.Println()
	return nil
}

// sendMute shows a mute: meter 110 is muted for maintenance; its check
// finds it FAILED, says so and pages nothing; the mute is lifted, and the
// next check pages the failure still open, once, afterMute, with what
// Zuora's summary says of the failed run.
func sendMute(ctx context.Context, s *localstack.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	now := time.Now().UTC()
	s.Sim.SetMeter(mutedMeter, "0.0.1", zuoratest.Step{Status: 8})
	s.Sim.SetRuns(mutedMeter, zuoratest.Run{SessionID: "R-000061", RunType: "NORMAL", Start: now.Add(-25 * time.Minute), End: now.Add(-3 * time.Minute),
		Output: 1380, Errors: []zuoratest.ErrorGroup{{Code: "53100210", Message: "Account not found for account number A00018342",
			OperatorID: "6b0d2f8e-47a1-4c9e-a3d5-2e8f1b7c9a64", OperatorName: "Find account", OperatorType: "LOOKUP", Count: 460}}})
	until := now.Add(4 * time.Hour).Format(time.RFC3339)
	check := fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, mutedMeter)
	path := fmt.Sprintf("/meters/%d/0.0.1/mute", mutedMeter)
	steps := []func() error{
		func() error {
			return sendHTTP(ctx, s, "PUT", path, `{"until": "`+until+`", "reason": "billing migration, CHG-4711"}`)
		},
		func() error {
			return sendDirect(ctx, s, fmt.Sprintf("meter %d, its check while muted", mutedMeter), check)
		},
		func() error { return sendHTTP(ctx, s, "DELETE", path, "") },
		func() error {
			return sendDirect(ctx, s, fmt.Sprintf("meter %d, its check after the mute", mutedMeter), check)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// httpEvent is an HTTP API (payload 2.0) request, as the stack's API sends it.
func httpEvent(method, path, body string) []byte {
	ev, _ := json.Marshal(map[string]any{"version": "2.0", "routeKey": method + " " + path, "rawPath": path, "body": body,
		"requestContext": map[string]any{"requestId": "localrun", "http": map[string]any{"method": method, "path": path}}}) // strings always marshal
	return ev
}

// sendHTTP sends an HTTP API request through the function and prints it.
func sendHTTP(ctx context.Context, s *localstack.Stack, method, path, body string) error {
	return callHTTP(ctx, s, method, path, body, true)
}

// callHTTP sends an HTTP API request through the function, wanting a 200,
// and prints the request and its reply when show is set.
func callHTTP(ctx context.Context, s *localstack.Stack, method, path, body string, show bool) error {
	r, err := s.Invoke(ctx, httpEvent(method, path, body))
	if err != nil {
		return err
	}
	if show {
		fmt.Printf("== %s %s %s\n", method, path, body)
		printReply(os.Stdout, r)
		fmt.Println()
	}
	if h, ok := r.HTTP(); !ok || h.StatusCode != 200 {
		return fmt.Errorf("%s %s: %s", method, path, r.Body)
	}
	return nil
}

// sendDirect invokes the function with a direct payload and prints it
// under title.
func sendDirect(ctx context.Context, s *localstack.Stack, title, payload string) error {
	r, err := s.Invoke(ctx, []byte(payload))
	if err != nil {
		return err
	}
	fmt.Printf("== %s: %s\n", title, payload)
	printReply(os.Stdout, r)
	fmt.Println()
	return nil
}
