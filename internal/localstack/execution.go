package localstack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// executionRegions are the regions executions are created in, one each.
// moto 5.2 deep-copies a state machine, together with its region's backend,
// on StartExecution, and that copy fails (HTTP 500, "cannot pickle
// '_thread.RLock' object") once any execution in the region has run, of
// that state machine or another; a region of its own for each execution
// avoids it.
var executionRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
	"ap-south-1", "ap-east-1", "me-south-1", "af-south-1",
}

// stateMachineRole is the role the state machines are created with; moto
// checks its form, not its policies.
const stateMachineRole = "arn:aws:iam::123456789012:role/local-state-machine"

// executionPoll is how often Execute asks whether an execution has ended.
const executionPoll = 250 * time.Millisecond

// Execution is one run of a state machine, ended.
type Execution struct {
	ARN, Region string
	Status      sfntypes.ExecutionStatus // SUCCEEDED, FAILED, TIMED_OUT or ABORTED
	Output      string                   // when it succeeded
	Error       string                   // when it failed: the error name, and its cause
	Cause       string
	History     []sfntypes.HistoryEvent // oldest first
	Took        time.Duration           // from StartExecution to the end
}

// FunctionARN is the ARN of the function in region, as the router knows it.
func (s *Stack) FunctionARN(region string) string {
	return "arn:aws:lambda:" + region + ":" + s.Account + ":function:" + s.functionName()
}

// Execute creates sm in a region of its own, runs one execution of it with
// input to its end (or until ctx ends), and returns it with its history.
// Executions may run side by side; each takes one of a few regions
// (len(executionRegions) per stack).
func (s *Stack) Execute(ctx context.Context, sm StateMachine, input string) (*Execution, error) {
	region, err := s.takeRegion()
	if err != nil {
		return nil, err
	}
	def, err := sm.substitute(s.FunctionARN(region))
	if err != nil {
		return nil, err
	}
	c := s.sfnClient(region)
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(sm.Name), Definition: aws.String(string(def)), RoleArn: aws.String(stateMachineRole),
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine %s in %s: %w", sm.Name, region, err)
	}
	start := time.Now()
	// Named: without a name moto names every execution "None".
	started, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(input),
		Name: aws.String(fmt.Sprintf("%s-%d", sm.Name, start.UnixNano()))})
	if err != nil {
		return nil, fmt.Errorf("start execution of %s in %s: %w", sm.Name, region, err)
	}
	e := &Execution{ARN: aws.ToString(started.ExecutionArn), Region: region}
	if err := e.wait(ctx, c); err != nil {
		return e, err
	}
	e.Took = time.Since(start)
	return e, e.readHistory(ctx, c)
}

// takeRegion hands out the next unused region.
func (s *Stack) takeRegion() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.regionsUsed == len(executionRegions) {
		return "", fmt.Errorf("localstack: %d executions already, one per region, and no region left", s.regionsUsed)
	}
	s.regionsUsed++
	return executionRegions[s.regionsUsed-1], nil
}

func (s *Stack) sfnClient(region string) *sfn.Client {
	return sfn.NewFromConfig(awsConfig(s.MotoURL, s.Account, region))
}

// wait polls DescribeExecution until the execution has ended.
func (e *Execution) wait(ctx context.Context, c *sfn.Client) error {
	tick := time.NewTicker(executionPoll)
	defer tick.Stop()
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(e.ARN)})
		if err != nil {
			return fmt.Errorf("describe execution %s: %w", e.ARN, err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning && d.Status != sfntypes.ExecutionStatusPendingRedrive {
			e.Status, e.Output, e.Error, e.Cause = d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("execution %s still %s: %w", e.ARN, d.Status, ctx.Err())
		case <-tick.C:
		}
	}
}

func (e *Execution) readHistory(ctx context.Context, c *sfn.Client) error {
	pages := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(e.ARN)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("execution history %s: %w", e.ARN, err)
		}
		e.History = append(e.History, page.Events...)
	}
	return nil
}

// StateVisit is one entry into a state, as the history shows it.
type StateVisit struct {
	Name string
	Type string // Task, Choice, Pass, Wait, Succeed, Fail, ...
	// Attempts are a Task's: one per try, retries included.
	Attempts []TaskAttempt
}

// TaskAttempt is one try of a Task: its output, or its error and cause.
type TaskAttempt struct {
	Output       string
	Error, Cause string
}

// Path is the states the execution entered, in order, with each Task's
// attempts.
func (e *Execution) Path() []StateVisit {
	var path []StateVisit
	for _, ev := range e.History {
		var last *StateVisit
		if len(path) > 0 {
			last = &path[len(path)-1]
		}
		switch typ := string(ev.Type); {
		case strings.HasSuffix(typ, "StateEntered") && ev.StateEnteredEventDetails != nil:
			path = append(path, StateVisit{Name: aws.ToString(ev.StateEnteredEventDetails.Name), Type: strings.TrimSuffix(typ, "StateEntered")})
		case last == nil:
		case ev.TaskSucceededEventDetails != nil:
			last.Attempts = append(last.Attempts, TaskAttempt{Output: aws.ToString(ev.TaskSucceededEventDetails.Output)})
		case ev.TaskFailedEventDetails != nil:
			d := ev.TaskFailedEventDetails
			last.Attempts = append(last.Attempts, TaskAttempt{Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause)})
		case ev.TaskTimedOutEventDetails != nil:
			d := ev.TaskTimedOutEventDetails
			last.Attempts = append(last.Attempts, TaskAttempt{Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause)})
		}
	}
	return path
}

// StateNames is the names of the states the execution entered, in order.
func (e *Execution) StateNames() []string {
	var names []string
	for _, v := range e.Path() {
		names = append(names, v.Name)
	}
	return names
}
