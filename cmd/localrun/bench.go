package main

// `localrun bench` measures the function against two floors built with the
// same flags, under the same emulator, the three alternating: the bare floor
// (testdata/floor, the smallest aws-lambda-go function) and the SDK floor
// (testdata/sdkfloor: that plus the AWS SDK's default configuration and the
// clients the function builds). `make bench` builds them all, runs it,
// and gets one Markdown table (report.go).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// benchPayload is what every measured invocation sends: a meter the
// simulator reports COMPLETED, so no alert is due. The floors echo it.
const benchPayload = `{"meterId": 104, "version": "2.0.0"}`

// target is one binary under measurement, and what it gave.
type target struct {
	name, path, arm64 string
	arm64Size         int64
	inits, firsts     []time.Duration // the RIE's INIT REPORT and first INVOKE RTDONE, per cold start
	warm              []time.Duration // round trips of the warm invocations
	zuora             []time.Duration // the warm checks' Zuora calls, as the function logs them
	peakRSS           int64           // the highest VmHWM of its starts, bytes
}

// benchRun is everything the table shows.
type benchRun struct {
	fn, bare, sdk *target
	starts, warm  int
	batchWall     time.Duration // median of batchRuns
	batchMost     int           // the most run-status calls in flight at once
	stateTable    stateTableFigures
	took          time.Duration
}

func runBench(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("localrun bench", flag.ContinueOnError)
	opts := stackFlags(fs)
	run := &benchRun{fn: &target{name: "function"}, bare: &target{name: "bare floor"}, sdk: &target{name: "SDK floor"}}
	fs.StringVar(&run.fn.arm64, "arm64", "", "the function's arm64 `bootstrap`, for its size")
	fs.StringVar(&run.bare.path, "floor", "", "the bare floor's `bootstrap`, built for this machine")
	fs.StringVar(&run.bare.arm64, "floor-arm64", "", "the bare floor's arm64 `bootstrap`")
	fs.StringVar(&run.sdk.path, "sdk-floor", "", "the SDK floor's `bootstrap`, built for this machine")
	fs.StringVar(&run.sdk.arm64, "sdk-floor-arm64", "", "the SDK floor's arm64 `bootstrap`")
	fs.IntVar(&run.starts, "starts", 31, "cold starts of each binary")
	fs.IntVar(&run.warm, "warm", 40, "warm invocations after each cold start")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	run.fn.path = opts.Bootstrap
	if err := run.measure(ctx, *opts); err != nil {
		fmt.Fprintln(os.Stderr, "localrun bench:", err)
		return 1
	}
	run.report(os.Stdout)
	return 0
}

func (run *benchRun) targets() []*target { return []*target{run.fn, run.bare, run.sdk} }

func (run *benchRun) measure(ctx context.Context, opts localstack.Options) (err error) {
	started := time.Now()
	for _, t := range run.targets() {
		if t.path == "" || t.arm64 == "" {
			return fmt.Errorf("the %s's bootstrap and arm64 build are both required (see -help)", t.name)
		}
		fi, err := os.Stat(t.arm64)
		if err != nil {
			return err
		}
		t.arm64Size = fi.Size()
	}
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	// One unmeasured start of each brings all three into the page cache.
	for round := range run.starts + 1 {
		for _, t := range run.targets() {
			if err := t.coldStart(ctx, s, run.warm, round > 0); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		fmt.Fprintf(os.Stderr, "bench %5.1fs: start %d of %d done\n", time.Since(started).Seconds(), round, run.starts)
	}
	if run.batchWall, run.batchMost, err = measureBatch(ctx, s, run.fn.path); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench %5.1fs: the state table: warm checks with and without it, %d watched meters\n", time.Since(started).Seconds(), watched)
	if run.stateTable, err = measureStateTable(ctx, s, run.fn.path); err != nil {
		return err
	}
	run.took = time.Since(started)
	return nil
}

// coldStart starts a fresh RIE with the target, invokes it once (the cold
// invocation) and then warm times, and, if record, keeps what the RIE's
// log, the function's log and the bootstrap's peak memory say.
func (t *target) coldStart(ctx context.Context, s *localstack.Stack, warm int, record bool) error {
	if err := s.RestartWith(ctx, t.path, nil); err != nil {
		return err
	}
	var rts []time.Duration
	for range 1 + warm {
		r, err := invokeOK(ctx, s, []byte(benchPayload))
		if err != nil {
			return err
		}
		rts = append(rts, r.Duration)
	}
	rss, err := peakRSS(s)
	if err != nil {
		return err
	}
	init, first, err := parseRIELog(s.FunctionLog())
	if err != nil || !record {
		return err
	}
	t.inits, t.firsts, t.warm = append(t.inits, init), append(t.firsts, first), append(t.warm, rts[1:]...)
	t.peakRSS = max(t.peakRSS, rss)
	var zuora []time.Duration
	for _, rec := range s.FunctionLogRecords() {
		if ms, ok := rec["zuoraLatencyMs"].(float64); ok {
			zuora = append(zuora, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	if len(zuora) > 1 { // the first is the cold check's
		t.zuora = append(t.zuora, zuora[1:]...)
	}
	return nil
}

func invokeOK(ctx context.Context, s *localstack.Stack, payload []byte) (localstack.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	r, err := s.Invoke(ctx, payload)
	if err == nil && r.Failed() {
		err = fmt.Errorf("function error %s: %s\n%s", r.ErrorType, r.ErrorMessage, s.Logs())
	}
	return r, err
}

// What the pinned RIE logs for a start of the runtime and an invocation.
// INIT REPORT times the init phase as Lambda's Init Duration does: from
// starting the bootstrap to its first GET /runtime/invocation/next (the
// Init Duration of this RIE's REPORT line is ~0: it inits lazily). INVOKE
// RTDONE times handing over the event to the runtime's response.
var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: (\w+),[^)]*duration: ([0-9.]+)ms\)`)
)

// parseRIELog returns the init phase and the first invocation of an RIE's log.
func parseRIELog(log string) (init, first time.Duration, err error) {
	i, d := initReport.FindStringSubmatch(log), invokeDone.FindStringSubmatch(log)
	switch {
	case i == nil || d == nil:
		return 0, 0, errors.New("the RIE logged no INIT REPORT or no INVOKE RTDONE")
	case d[1] != "success":
		return 0, 0, fmt.Errorf("the RIE reports the first invocation's status as %s", d[1])
	}
	init, err1 := millis(i[1])
	first, err2 := millis(d[2])
	return init, first, errors.Join(err1, err2)
}

func millis(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	return time.Duration(math.Round(f * float64(time.Millisecond))), err
}

// peakRSS is the bootstrap's VmHWM from /proc/PID/status, in bytes.
func peakRSS(s *localstack.Stack) (int64, error) {
	pid, err := s.BootstrapPID()
	var b []byte
	if err == nil {
		b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	}
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// The batch: distinct COMPLETED meters in one {"meters": [...]} event, with
// every simulator answer taking batchLatency.
const (
	batchMeters  = 500
	batchLatency = 50 * time.Millisecond
	batchRuns    = 3
)

// measureBatch starts the function afresh, warms it (token, connections)
// with the simulator answering at once, and times the batch batchRuns
// times: the median wall time, and the most run-status calls the simulator
// served at once.
func measureBatch(ctx context.Context, s *localstack.Stack, fn string) (wall time.Duration, most int, err error) {
	meters := make([]map[string]any, batchMeters)
	for i := range meters {
		s.Sim.SetMeter(int64(900001+i), "1.0.0", zuoratest.Step{Status: 7})
		meters[i] = map[string]any{"meterId": 900001 + i, "version": "1.0.0"}
	}
	payload, err := json.Marshal(map[string]any{"meters": meters})
	if err == nil {
		err = s.RestartWith(ctx, fn, nil)
	}
	if err == nil {
		_, err = invokeOK(ctx, s, []byte(benchPayload))
	}
	if err != nil {
		return 0, 0, err
	}
	s.Sim.SetLatency(batchLatency)
	defer s.Sim.SetLatency(0)
	var walls []time.Duration
	for range batchRuns {
		s.Sim.ResetStats()
		r, err := invokeOK(ctx, s, payload)
		var out struct{ Summary struct{ Total, Errors int } }
		if err == nil {
			err = json.Unmarshal(r.Body, &out)
		}
		if err != nil || out.Summary.Total != batchMeters || out.Summary.Errors != 0 {
			return 0, 0, fmt.Errorf("batch: summary %+v (%v), want %d checks and no error", out.Summary, err, batchMeters)
		}
		walls = append(walls, r.Duration)
		most = max(most, s.Sim.Stats().MaxConcurrent)
	}
	return percentile(walls, 50), most, nil
}
