// Command localrun runs the function locally, the way Lambda would, and
// prints what each sample event gets back and what reaches the alert topic.
//
//	localrun -bootstrap .local/bootstrap -sim .local/zuora-sim [-events events | -event events/direct.json]
//
// See doc.go for the harness the end-to-end tests share with it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" { // localrun bench ...: see bench.go
		os.Exit(runBench(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, so that deferred clean-up happens.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	fs.StringVar(&opts.Bootstrap, "bootstrap", "", "the function's `bootstrap` binary (required)")
	fs.StringVar(&opts.Sim, "sim", "", "the zuora-sim `binary` (required)")
	fs.StringVar(&opts.RIE, "rie", "bin/aws-lambda-rie", "the aws-lambda-rie `binary`; looked up in PATH if missing")
	fs.StringVar(&opts.SimConfig, "sim-config", "cmd/localrun/testdata/meters.json", "the simulator's `config`")
	fs.StringVar(&opts.Moto, "moto", "moto_server", "the moto_server `command`")
	eventsDir := fs.String("events", "events", "`directory` of *.json events to invoke with (env.json is skipped)")
	eventFile := fs.String("event", "", "invoke with this one event `file` instead of the -events directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if opts.Bootstrap == "" || opts.Sim == "" {
		fmt.Fprintln(stderr, "localrun: -bootstrap and -sim are required")
		fs.Usage()
		return 2
	}
	if _, err := os.Stat(opts.RIE); err != nil {
		if p, lerr := exec.LookPath("aws-lambda-rie"); lerr == nil {
			opts.RIE = p
		}
	}
	events := []string{*eventFile}
	var err error
	if *eventFile == "" {
		events, err = eventFiles(*eventsDir)
	} else {
		_, err = os.Stat(*eventFile)
	}
	if err != nil {
		fmt.Fprintln(stderr, "localrun:", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	st, err := NewStack(ctx, opts)
	if err != nil {
		fmt.Fprintln(stderr, "localrun: the stack did not start:", err)
		return 1
	}
	defer st.Close()
	fmt.Fprintf(stdout, "stack up in %s: zuora-sim %s, moto %s\n\n", time.Since(started).Round(time.Millisecond), st.SimURL, st.MotoURL)

	var sum summary
	for _, path := range events {
		if err := invokeFile(ctx, st, path, stdout, &sum); err != nil {
			fmt.Fprintf(stderr, "localrun: %s: %v\n", filepath.Base(path), err)
			if ctx.Err() != nil {
				return 1
			}
			sum.harnessErrors++
		}
	}

	alerts, err := st.DrainAlerts(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "localrun: reading the alert queue:", err)
		sum.harnessErrors++
	}
	fmt.Fprintf(stdout, "== alerts on %s: %d\n", TopicName, len(alerts))
	for _, a := range alerts {
		printAlert(stdout, a)
	}
	sum.alerts = len(alerts)
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, sum.String())
	if sum.harnessErrors > 0 {
		fmt.Fprintf(stderr, "\nlocalrun: the harness hit errors; last log lines:\n%s", st.Logs())
		return 1
	}
	return 0
}

// eventFiles lists dir/*.json, sorted, without env.json (which holds
// environment settings for other tools, not an event).
func eventFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if filepath.Base(p) != "env.json" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no *.json events in %s", dir)
	}
	sort.Strings(out)
	return out, nil
}

// invokeTimeout bounds one invocation: the function's own timeout (30 s)
// plus room for a cold start.
const invokeTimeout = 45 * time.Second

func invokeFile(ctx context.Context, st *Stack, path string, w io.Writer, sum *summary) error {
	payload, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	r, err := st.Invoke(ctx, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no reply within %s: %w", invokeTimeout, err)
		}
		return err
	}
	fmt.Fprintf(w, "== %s (%s)\n", filepath.Base(path), r.Duration.Round(time.Millisecond))
	printReply(w, r)
	fmt.Fprintln(w)
	sum.events++
	if r.Failed() {
		sum.functionErrors++
	}
	return nil
}

type summary struct {
	events, functionErrors, alerts, harnessErrors int
}

func (s summary) String() string {
	parts := []string{
		plural(s.events, "event"),
		fmt.Sprintf("%d ok", s.events-s.functionErrors),
		plural(s.functionErrors, "function error"),
		plural(s.alerts, "alert"),
	}
	if s.harnessErrors > 0 {
		parts = append(parts, plural(s.harnessErrors, "harness error"))
	}
	return "summary: " + strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
