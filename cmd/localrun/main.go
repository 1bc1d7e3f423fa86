// Command localrun runs the function on this machine the way Lambda would
// (see internal/localstack), and prints what each sample event gets back,
// one execution of the template's state machine (make run only), and what
// reaches the alert topic (`make run`, `make invoke EVENT=...`):
//
//	localrun -bootstrap .local/bootstrap -rie bin/aws-lambda-rie [-events events | -event events/direct.json]
//
// `localrun bench` measures it (`make bench`, see bench.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// invokeTimeout bounds one invocation of make run or make bench: each takes
// well under a second; a minute is room for a cold start on a slow machine,
// and a bound on one that hangs (the function's own timeout is 300 s).
const invokeTimeout = time.Minute

func main() {
	// Ctrl-C cancels ctx; the stack is then closed, so nothing outlives us.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		code = runBench(ctx, os.Args[2:])
	} else {
		code = run(ctx, os.Args[1:])
	}
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("localrun", flag.ContinueOnError)
	opts := stackFlags(fs)
	dir := fs.String("events", "events", "`directory` of *.json events to send, in name order (env.json is skipped)")
	event := fs.String("event", "", "send this one event `file` instead")
	out := fs.String("out", ".local", "`directory` make run writes the dashboard widget's HTML and screenshots to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files, err := eventFiles(*dir, *event)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localrun:", err)
		return 1
	}
	started := time.Now()
	s, err := localstack.Start(ctx, *opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localrun:", err)
		return 1
	}
	fmt.Printf("stack up in %s: Zuora simulator %s, moto %s\n\n", time.Since(started).Round(time.Millisecond), s.Sim.URL, s.MotoURL)
	var scenarios func(context.Context, *localstack.Stack) (int, string)
	if *event == "" {
		scenarios = func(ctx context.Context, s *localstack.Stack) (int, string) { return sendScenarios(ctx, s, *dir, *out) }
	}
	code := sendEvents(ctx, s, files, scenarios)
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "localrun: closing the stack:", err)
		code = 1
	}
	return code
}

// stackFlags declares the flags that say where the stack's binaries are.
func stackFlags(fs *flag.FlagSet) *localstack.Options {
	var opts localstack.Options
	fs.StringVar(&opts.Bootstrap, "bootstrap", ".local/bootstrap", "the function's `bootstrap`, built for this machine")
	fs.StringVar(&opts.RIE, "rie", "aws-lambda-rie", "the aws-lambda-rie `binary`")
	fs.StringVar(&opts.Moto, "moto", "moto_server", "the moto_server `command`")
	return &opts
}

// eventFiles is event if set, else dir/*.json in name order without
// env.json (settings for `sam local invoke`, not an event).
func eventFiles(dir, event string) ([]string, error) {
	if event != "" {
		_, err := os.Stat(event)
		return []string{event}, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "env.json" })
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no *.json events in %s", dir)
	}
	return files, err
}

// sendEvents invokes the function with each file and prints the replies;
// then the scenarios beyond them, when set (make run's sendScenarios); then
// it prints the alerts and a summary. It returns the exit code.
func sendEvents(ctx context.Context, s *localstack.Stack, files []string, scenarios func(context.Context, *localstack.Stack) (int, string)) int {
	var failed, harnessErrors int
	for _, f := range files {
		r, err := sendEvent(ctx, s, f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "localrun: %s: %v\n", filepath.Base(f), err)
			if ctx.Err() != nil {
				return 1
			}
			harnessErrors++
		} else if r.Failed() {
			failed++
		}
	}
	machine := ""
	if scenarios != nil {
		var errs int
		errs, machine = scenarios(ctx, s)
		harnessErrors += errs
	}
	alerts, err := s.DrainAlerts(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "localrun: reading the alert queue:", err)
		harnessErrors++
	}
	fmt.Printf("== alerts on %s: %d\n", localstack.TopicName, len(alerts))
	for _, a := range alerts {
		printAlert(os.Stdout, a)
	}
	printEmail(os.Stdout, s.SentMessages())
	fmt.Printf("\nsummary: events %d, ok %d, function errors %d, alerts %d, harness errors %d%s\n",
		len(files), len(files)-failed-harnessErrors, failed, len(alerts), harnessErrors, machine)
	if harnessErrors > 0 {
		fmt.Fprintf(os.Stderr, "\nlocalrun: the logs end:\n%s", s.Logs())
		return 1
	}
	return 0
}

// sendScenarios is make run's part beyond the sample events: the Zuora
// simulator's callouts (a failure, and a stuck run), a late run, a mute,
// the state machine, and the dashboard widget of the watch list they left
// (its HTML and screenshots into out). It returns the harness errors and
// what became of the state machine's execution.
func sendScenarios(ctx context.Context, s *localstack.Stack, eventsDir, out string) (harnessErrors int, machine string) {
	for _, sc := range []struct {
		name string
		send func(context.Context, *localstack.Stack) error
	}{{"callout", sendCallout}, {"stuck run callouts", sendStuckCallouts}, {"late run", sendLate}, {"mute", sendMute}} {
		if err := sc.send(ctx, s); err != nil {
			fmt.Fprintf(os.Stderr, "localrun: %s: %v\n", sc.name, err)
			harnessErrors++
		}
	}
	// The execution's meter completes: anything else is a broken definition
	// or wiring, and fails make run.
	machine = ", state machine succeeded"
	ok, err := runStateMachine(ctx, s)
	if err == nil && !ok {
		err = errors.New("the execution did not succeed")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localrun: state machine:", err)
		machine = ", state machine did not succeed"
		harnessErrors++
	}
	if err := sendWidget(ctx, s, eventsDir, out); err != nil {
		fmt.Fprintln(os.Stderr, "localrun: widget:", err)
		harnessErrors++
	}
	return harnessErrors, machine
}

// sendEvent invokes the function with a file and prints the reply.
func sendEvent(ctx context.Context, s *localstack.Stack, path string) (localstack.Reply, error) {
	payload, err := os.ReadFile(path)
	if err != nil {
		return localstack.Reply{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	r, err := s.Invoke(ctx, payload)
	if err != nil {
		return r, err
	}
	fmt.Printf("== %s (%s)\n", filepath.Base(path), r.Duration.Round(time.Millisecond))
	printReply(os.Stdout, r)
	fmt.Println()
	return r, nil
}

// sendCallout has the Zuora simulator send a Meter Session Status Change
// callout through the local HTTP API, signed as Zuora signs it, and then
// the same notification again, as Zuora's retry would.
func sendCallout(ctx context.Context, s *localstack.Stack) error {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	n := s.CalloutNotifier()
	now := time.Now().UTC()
	ev := zuoratest.SessionEvent{MeterID: 106, SessionID: "R-000043", Status: "FAILED", PreviousStatus: "RUNNING",
		RunType: "NORMAL", MeterName: "Storage", Version: "0.0.1",
		StartTime: now.Add(-20 * time.Minute).Format("2006-01-02T15:04:05-0700"), EndTime: now.Format("2006-01-02T15:04:05-0700")}
	d, err := n.Send(ctx, ev)
	if err != nil {
		return err
	}
	fmt.Printf("== Zuora callout (the simulator, signed, through the HTTP API): POST /callouts/meter-session, notification %s\nHTTP %v\n%s\n\n",
		d.NotificationID, d.Statuses, pretty(string(d.Body)))
	body, err := json.Marshal(ev)
	if err == nil {
		d, err = n.Deliver(ctx, d.NotificationID, body)
	}
	if err != nil {
		return err
	}
	fmt.Printf("== the same notification again (Zuora's retry)\nHTTP %v\n%s\n\n", d.Statuses, pretty(string(d.Body)))
	return nil
}
