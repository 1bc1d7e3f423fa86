package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The goals the function is held to, against the floors of the same run.
const (
	goalSizeRatio    = 1.3 // arm64 bootstrap, × the SDK floor's
	goalInitRatio    = 1.1 // cold init, × the SDK floor's
	goalWarmOverhead = 500 * time.Microsecond
	goalPeakRSS      = 25 << 20

	// defaultBatchConcurrency is BATCH_CONCURRENCY's default (docs/configuration.md's),
	// which the bench leaves unset.
	defaultBatchConcurrency = 32
)

// report writes the machine and the bench's Markdown table.
func (run *benchRun) report(w io.Writer) {
	fmt.Fprintf(w, "\nCommand: `make bench`: %d cold starts of each binary, alternating, %d warm invocations after each (took %s)\n",
		run.starts, run.warm, run.took.Round(time.Second))
	fmt.Fprintf(w, "Machine: %d cores, %s/%s, %s, %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.Version())
	fmt.Fprintln(w, "| Figure | Function | Bare floor | SDK floor | Goal | Result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, r := range run.rows() {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

// rows are the table's: a figure, its value for the function, the bare
// floor and the SDK floor, the goal, and whether the function meets it.
func (run *benchRun) rows() [][]string {
	each := func(f func(*target) string) []string { return []string{f(run.fn), f(run.bare), f(run.sdk)} }
	fnOnly := func(v string) []string { return []string{v, "—", "—"} }
	row := func(figure string, values []string, goal, result string) []string {
		return slices.Concat([]string{figure}, values, []string{goal, result})
	}
	fn, n := run.fn, len(run.fn.inits)
	sizeGoal := int64(float64(run.sdk.arm64Size) * goalSizeRatio)
	init, sdkInit := percentile(fn.inits, 50), percentile(run.sdk.inits, 50)
	initGoal := time.Duration(float64(sdkInit) * goalInitRatio)
	zuoraP50 := percentile(fn.zuora, 50)
	warmGoal := percentile(run.bare.warm, 50) + zuoraP50 + goalWarmOverhead
	limit := defaultBatchConcurrency
	batch := fmt.Sprintf("%d meters in one batch, Zuora answering in %s", batchMeters, batchLatency)
	rows := [][]string{
		row("arm64 `bootstrap` size", each(func(t *target) string { return mib(t.arm64Size) }),
			fmt.Sprintf("≤ %.1f× SDK floor (%s)", goalSizeRatio, mib(sizeGoal)), verdict(fn.arm64Size <= sizeGoal)),
		row(fmt.Sprintf("Cold init: RIE `INIT REPORT`, median of %d", n), each(func(t *target) string { return msf(percentile(t.inits, 50)) }),
			fmt.Sprintf("≤ %.1f× SDK floor (%s); %.2f×", goalInitRatio, msf(initGoal), float64(init)/float64(sdkInit)), verdict(init <= initGoal)),
		row(fmt.Sprintf("First invocation after a cold start: RIE `INVOKE RTDONE`, median of %d", n),
			each(func(t *target) string { return msf(percentile(t.firsts, 50)) }), "—", ""),
		row(fmt.Sprintf("Warm round trip p50, %d invocations (with STATE_TABLE, as deployed)", len(fn.warm)), each(func(t *target) string { return msf(percentile(t.warm, 50)) }),
			fmt.Sprintf("≤ bare floor + the function's Zuora p50 + 0.5 ms (%s)", msf(warmGoal)), verdict(percentile(fn.warm, 50) <= warmGoal)),
		row("Warm round trip p99", each(func(t *target) string { return msf(percentile(t.warm, 99)) }), "—", ""),
		row("Zuora call as the function logs it (`zuoraLatencyMs`), p50 / p99",
			fnOnly(msf(zuoraP50)+" / "+msf(percentile(fn.zuora, 99))), "—", ""),
		row(fmt.Sprintf("Peak RSS (VmHWM), highest of %d starts", n), each(func(t *target) string { return mib(t.peakRSS) }),
			"≤ 25 MiB", verdict(fn.peakRSS <= goalPeakRSS)),
		row(batch+fmt.Sprintf(": wall time, median of %d", batchRuns), fnOnly(fmt.Sprintf("%.2f s", run.batchWall.Seconds())),
			fmt.Sprintf("— (at least ⌈%d/%d⌉ × %s = %s)", batchMeters, limit, batchLatency, time.Duration((batchMeters+limit-1)/limit)*batchLatency), ""),
		row(batch+": most Zuora calls at once", fnOnly(fmt.Sprint(run.batchMost)),
			fmt.Sprintf("≤ %d (BATCH_CONCURRENCY's default)", limit), verdict(run.batchMost <= limit)),
	}
	return append(rows, run.stateTableRows(row, fnOnly)...)
}

// stateTableRows show what the state table costs a warm check, and a scheduled run
// over a long watch list.
func (run *benchRun) stateTableRows(row func(string, []string, string, string) []string, fnOnly func(string) []string) [][]string {
	m := run.stateTable
	offGoal := percentile(run.bare.warm, 50) + percentile(run.fn.zuora, 50) + goalWarmOverhead
	added := percentile(m.slowOn, 50) - percentile(m.slowOff, 50)
	tickGoal := 8 * time.Second
	ticks := fmt.Sprintf("Scheduled run over %d watched meters, Zuora answering in %s", watched, batchLatency)
	return [][]string{
		row(fmt.Sprintf("Warm round trip p50 without STATE_TABLE, %d invocations", len(m.warmOff)), fnOnly(msf(percentile(m.warmOff, 50))),
			fmt.Sprintf("≤ bare floor + the function's Zuora p50 + 0.5 ms (%s)", msf(offGoal)), verdict(percentile(m.warmOff, 50) <= offGoal)),
		row(fmt.Sprintf("What STATE_TABLE adds to a warm check when Zuora answers in %s: p50 with it (%s) − without (%s)",
			slowZuora, msf(percentile(m.slowOn, 50)), msf(percentile(m.slowOff, 50))), fnOnly(msf(added)),
			"≤ 0.5 ms (the read runs during the Zuora call)", verdict(added <= goalWarmOverhead)),
		row(ticks+": the first, which stores every meter's state", fnOnly(fmt.Sprintf("%.2f s", m.firstTick.Seconds())), "—", ""),
		row(ticks+": one that changes nothing", fnOnly(fmt.Sprintf("%.2f s", m.tick.Seconds())),
			fmt.Sprintf("≤ %s", tickGoal), verdict(m.tick <= tickGoal)),
		row(ticks+": DynamoDB calls of the one that changes nothing (moto's recorder), read / write", fnOnly(fmt.Sprintf("%d / %d", m.reads, m.writes)),
			"≤ 50 / ≤ 10", verdict(m.reads <= 50 && m.writes <= 10)),
	}
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**MISS**"
}

func mib(b int64) string         { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }
func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// percentile is the nearest-rank p-th percentile of ds; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(ds))
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// cpuModel is the first "model name" in /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU model unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "CPU model unknown"
}
