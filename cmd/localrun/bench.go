package main

// The bench subcommand measures the function against the floor, the
// smallest aws-lambda-go function (testdata/floor), in one run and under one
// runtime emulator, and prints the figures as Markdown tables:
//
//	localrun bench -bootstrap .local/bootstrap -floor .local/bench/floor/bootstrap \
//	    -sim .local/zuora-sim -arm64 .local/bench/arm64/bootstrap \
//	    -floor-arm64 .local/bench/floor-arm64/bootstrap
//
// `make bench` builds all of that and runs it. How each figure is taken is
// described on the functions that take it and in the README's Performance
// section.

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
	"strings"
	"syscall"
	"time"
)

// benchOptions are the bench's flags.
type benchOptions struct {
	stack      Options // Bootstrap is the function, built for this machine
	floor      string  // the floor's bootstrap, built for this machine
	arm64      string  // the function's deployable arm64 bootstrap (size only)
	floorArm64 string  // the floor's arm64 bootstrap (size only)

	starts  int    // cold starts of each binary
	warm    int    // warm invocations after each cold start
	repeats int    // runs of each batch size
	goBench string // package whose Go benchmarks to run; "" skips them
	goCmd   string // the go command
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localrun bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o benchOptions
	fs.StringVar(&o.stack.Bootstrap, "bootstrap", "", "the function's `bootstrap`, built for this machine (required)")
	fs.StringVar(&o.floor, "floor", "", "the floor's `bootstrap` (testdata/floor), built the same way (required)")
	fs.StringVar(&o.arm64, "arm64", "", "the function's arm64 `bootstrap`, for its size")
	fs.StringVar(&o.floorArm64, "floor-arm64", "", "the floor's arm64 `bootstrap`, for its size")
	fs.StringVar(&o.stack.Sim, "sim", "", "the zuora-sim `binary` (required)")
	fs.StringVar(&o.stack.RIE, "rie", "bin/aws-lambda-rie", "the aws-lambda-rie `binary`")
	fs.StringVar(&o.stack.SimConfig, "sim-config", "cmd/localrun/testdata/meters.json", "the simulator's `config`")
	fs.StringVar(&o.stack.Moto, "moto", "moto_server", "the moto_server `command`")
	fs.StringVar(&o.stack.LogDir, "logs", "", "keep the children's logs in this `directory`")
	fs.IntVar(&o.starts, "starts", 21, "cold starts of each of the function and the floor, alternating")
	fs.IntVar(&o.warm, "warm", 40, "sequential warm invocations after each cold start")
	fs.IntVar(&o.repeats, "batch-runs", 3, "runs of each batch size (the median is reported)")
	fs.StringVar(&o.goBench, "gobench", "./handler/", "`package` whose Go benchmarks to run (\"\" skips them)")
	fs.StringVar(&o.goCmd, "go", "go", "the go `command`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.stack.Bootstrap == "" || o.floor == "" || o.stack.Sim == "" {
		fmt.Fprintln(stderr, "localrun bench: -bootstrap, -floor and -sim are required")
		fs.Usage()
		return 2
	}
	if o.starts < 1 || o.warm < 1 || o.repeats < 1 {
		fmt.Fprintln(stderr, "localrun bench: -starts, -warm and -batch-runs must be at least 1")
		return 2
	}
	if _, err := os.Stat(o.stack.RIE); err != nil {
		if p, lerr := exec.LookPath("aws-lambda-rie"); lerr == nil {
			o.stack.RIE = p
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := o.run(ctx, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "localrun bench:", err)
		return 1
	}
	rep.command = "localrun bench " + strings.Join(args, " ")
	if os.Getenv("MAKELEVEL") != "" {
		rep.command = "make bench"
	}
	rep.write(stdout)
	return 0
}

// run takes every figure of the report. Progress goes to progress.
func (o benchOptions) run(ctx context.Context, progress io.Writer) (*benchReport, error) {
	started := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "bench %5.1fs: %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	rep := &benchReport{machine: benchMachine(), warmPerStart: o.warm, repeats: o.repeats}
	var err error
	if rep.fn.size, err = benchFileSize(o.arm64); err != nil {
		return nil, err
	}
	if rep.floor.size, err = benchFileSize(o.floorArm64); err != nil {
		return nil, err
	}
	floorPath, err := benchRealPath(o.floor)
	if err != nil {
		return nil, err
	}

	logf("starting moto, the Zuora simulator and the runtime emulator")
	s, err := NewStack(ctx, o.stack)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	fnPath, err := benchRealPath(s.opts.Bootstrap)
	if err != nil {
		return nil, err
	}

	// Every AWS call of the function goes through a counting proxy.
	counter, err := startBenchCounter(s.MotoURL)
	if err != nil {
		return nil, err
	}
	defer counter.Close()
	env := map[string]string{"AWS_ENDPOINT_URL": counter.URL}

	fn := &benchTarget{name: "function", path: fnPath, stats: &rep.fn}
	floor := &benchTarget{name: "floor", path: floorPath, stats: &rep.floor}

	// One start of each first, not measured: it brings both binaries into
	// the page cache, so no measured start pays for reading from disk.
	for _, t := range []*benchTarget{fn, floor} {
		if _, err := t.coldStart(ctx, s, env, counter, 1); err != nil {
			return nil, err
		}
	}
	logf("cold starts: %d of each, alternating, each followed by %d warm invocations", o.starts, o.warm)
	for i := range o.starts {
		for _, t := range []*benchTarget{fn, floor} {
			smp, err := t.coldStart(ctx, s, env, counter, o.warm)
			if err != nil {
				return nil, err
			}
			t.stats.add(smp)
		}
		logf("  round %d: function init %.2f ms, floor init %.2f ms", i+1, ms(fn.stats.inits[i]), ms(floor.stats.inits[i]))
	}

	logf("batches of %v meters, simulator latency %s", benchBatchSizes, benchBatchLatency)
	if rep.batches, rep.concurrency, err = benchBatches(ctx, s, env, fnPath, o.repeats); err != nil {
		return nil, err
	}

	if o.goBench != "" {
		logf("go test -bench %s", o.goBench)
		if rep.goBench, err = runGoBench(ctx, o.goCmd, o.goBench); err != nil {
			return nil, err
		}
	}
	logf("done")
	rep.elapsed = time.Since(started)
	return rep, nil
}

// benchPayload is what every measured invocation sends: a direct check of a
// meter the simulator reports COMPLETED, so no alert is published. The floor
// echoes it.
const benchPayload = `{"meterId": 104, "version": "2.0.0"}`

// benchTarget is one binary being measured.
type benchTarget struct {
	name, path string
	stats      *benchStats
}

// benchSample is what one cold start and the warm invocations after it gave.
type benchSample struct {
	init      time.Duration   // the RIE's INIT REPORT durationMs
	first     time.Duration   // the first invocation, as the RIE timed it
	warmRT    []time.Duration // warm invocations, round trip as the harness saw it
	warmFn    []time.Duration // warm invocations, as the RIE timed them
	warmZuora []time.Duration // warm invocations' Zuora calls as the function timed them (its zuoraLatencyMs log field)
	hwm       int64           // the bootstrap's VmHWM after the warm invocations
	caBundle  bool            // AWS_CA_BUNDLE was in the bootstrap's environment

	firstCalls, warmCalls benchCalls // what the first / the warm invocations called
}

// benchCalls counts the calls to Zuora and AWS made by some invocations.
type benchCalls struct {
	zuora, tokens, secrets, publishes int
	secretsTime                       time.Duration // spent in GetSecretValue
}

func (c benchCalls) sub(d benchCalls) benchCalls {
	return benchCalls{c.zuora - d.zuora, c.tokens - d.tokens, c.secrets - d.secrets, c.publishes - d.publishes, c.secretsTime - d.secretsTime}
}

func (c benchCalls) add(d benchCalls) benchCalls {
	return benchCalls{c.zuora + d.zuora, c.tokens + d.tokens, c.secrets + d.secrets, c.publishes + d.publishes, c.secretsTime + d.secretsTime}
}

// benchReadCalls reads the simulator's and the proxy's counters.
func benchReadCalls(ctx context.Context, s *Stack, counter *benchCounter) (benchCalls, error) {
	st, err := s.SimStats(ctx)
	if err != nil {
		return benchCalls{}, err
	}
	return benchCalls{
		zuora:       st.RunStatusCalls,
		tokens:      st.TokenMints,
		secrets:     counter.count("secretsmanager", "GetSecretValue"),
		publishes:   counter.count("sns", "Publish"),
		secretsTime: counter.spent("secretsmanager", "GetSecretValue"),
	}, nil
}

// coldStart starts a fresh RIE with the target, invokes it once (the cold
// invocation) and then warm times, and reads the RIE's log and /proc.
func (t *benchTarget) coldStart(ctx context.Context, s *Stack, env map[string]string, counter *benchCounter, warm int) (benchSample, error) {
	var smp benchSample
	if err := s.RestartFunctionWith(ctx, t.path, env); err != nil {
		return smp, err
	}
	c0, err := benchReadCalls(ctx, s, counter)
	if err != nil {
		return smp, err
	}
	if err := t.invoke(ctx, s, nil); err != nil {
		return smp, fmt.Errorf("%s, cold invocation: %w", t.name, err)
	}
	c1, err := benchReadCalls(ctx, s, counter)
	if err != nil {
		return smp, err
	}
	for range warm {
		if err := t.invoke(ctx, s, &smp.warmRT); err != nil {
			return smp, fmt.Errorf("%s, warm invocation: %w", t.name, err)
		}
	}
	c2, err := benchReadCalls(ctx, s, counter)
	if err != nil {
		return smp, err
	}
	smp.firstCalls, smp.warmCalls = c1.sub(c0), c2.sub(c1)

	pid, err := benchBootstrapPID(s, t.path)
	if err != nil {
		return smp, fmt.Errorf("%s: %w", t.name, err)
	}
	if smp.hwm, err = benchPeakRSS(pid); err != nil {
		return smp, fmt.Errorf("%s: %w", t.name, err)
	}
	if smp.caBundle, err = benchHasEnv(pid, "AWS_CA_BUNDLE"); err != nil {
		return smp, fmt.Errorf("%s: %w", t.name, err)
	}

	rl, err := benchWaitRIELog(ctx, s, 1+warm)
	if err != nil {
		return smp, fmt.Errorf("%s: %w", t.name, err)
	}
	smp.init, smp.first, smp.warmFn = rl.init, rl.invokes[0], rl.invokes[1:]

	// The function logs one "check" record per check; the floor none.
	var zl []time.Duration
	for _, rec := range s.FunctionLogRecords() {
		if v, ok := rec["zuoraLatencyMs"].(float64); ok {
			zl = append(zl, time.Duration(v*float64(time.Millisecond)))
		}
	}
	if len(zl) == 1+warm {
		smp.warmZuora = zl[1:]
	}
	return smp, nil
}

// invoke sends benchPayload and checks that the answer is not an error; rt,
// if not nil, gets the round trip.
func (t *benchTarget) invoke(ctx context.Context, s *Stack, rt *[]time.Duration) error {
	ictx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	r, err := s.Invoke(ictx, []byte(benchPayload))
	if err != nil {
		return err
	}
	if r.Failed() {
		return fmt.Errorf("%s: %s\n%s", r.ErrorType, r.ErrorMessage, s.Logs())
	}
	if rt != nil {
		*rt = append(*rt, r.Duration)
	}
	return nil
}

// benchWaitRIELog reads the current RIE's log until it shows n finished
// invocations: the RIE writes its lines as it goes, which is nearly always
// before the reply reaches the harness, but not guaranteed to be.
func benchWaitRIELog(ctx context.Context, s *Stack, n int) (benchRIELog, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		rl, err := parseBenchRIELog(s.FunctionLog())
		if err == nil && len(rl.invokes) >= n {
			rl.invokes = rl.invokes[:n]
			return rl, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the RIE logged %d finished invocations, want %d", len(rl.invokes), n)
			}
			return rl, err
		}
		select {
		case <-ctx.Done():
			return rl, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// benchBootstrapPID finds the bootstrap the current RIE started: the RIE's
// descendant running path.
func benchBootstrapPID(s *Stack, path string) (int, error) {
	s.mu.Lock()
	rie := s.rie
	s.mu.Unlock()
	if rie == nil {
		return 0, errors.New("no RIE is running")
	}
	for _, p := range descendants(rie.cmd.Process.Pid) {
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.pid)); err == nil && exe == path {
			return p.pid, nil
		}
	}
	return 0, fmt.Errorf("no process running %s under the RIE", path)
}

// benchRealPath is path absolute and without symlinks, as /proc/PID/exe
// shows the binary a process runs.
func benchRealPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func benchFileSize(path string) (int64, error) {
	if path == "" {
		return 0, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// benchMachine describes where the figures were taken.
func benchMachine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return model
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
