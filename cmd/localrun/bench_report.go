package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// benchStats gathers one binary's samples.
type benchStats struct {
	size           int64 // arm64 bootstrap, bytes; 0 if not given
	inits, firsts  []time.Duration
	firstSecrets   []time.Duration // the first invocations' Secrets Manager calls
	warmRT, warmFn []time.Duration
	warmZuora      []time.Duration
	hwm            int64 // the highest VmHWM over the starts
	caBundle       bool  // AWS_CA_BUNDLE was set in some start's environment
	firstCalls     benchCalls
	warmCalls      benchCalls
}

func (st *benchStats) add(s benchSample) {
	st.inits = append(st.inits, s.init)
	st.firsts = append(st.firsts, s.first)
	st.firstSecrets = append(st.firstSecrets, s.firstCalls.secretsTime)
	st.warmRT = append(st.warmRT, s.warmRT...)
	st.warmFn = append(st.warmFn, s.warmFn...)
	st.warmZuora = append(st.warmZuora, s.warmZuora...)
	st.hwm = max(st.hwm, s.hwm)
	st.caBundle = st.caBundle || s.caBundle
	st.firstCalls = st.firstCalls.add(s.firstCalls)
	st.warmCalls = st.warmCalls.add(s.warmCalls)
}

// benchReport is everything the bench prints.
type benchReport struct {
	command      string
	machine      string
	elapsed      time.Duration
	warmPerStart int
	repeats      int

	fn, floor   benchStats
	batches     []benchBatch
	concurrency int
	goBench     []benchGoResult
}

// Goals of the issue, against the floor measured in the same run.
const (
	goalColdRatio    = 1.3
	goalWarmOverhead = 500 * time.Microsecond
	goalPeakRSS      = 25 << 20
	goalSize         = 10 << 20
	goalBatchMeters  = 500
	goalBatchWall    = 1500 * time.Millisecond
	goalCheckWork    = 100 * time.Microsecond // "tens of microseconds"
)

func (r *benchReport) write(w io.Writer) {
	fn, fl := &r.fn, &r.floor
	starts := len(fn.inits)
	warmN := len(fn.warmRT)

	fmt.Fprintf(w, "\nCommand: `%s` (measuring took %s, %s)\n", r.command, r.elapsed.Round(time.Second), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(w, "Machine: %d cores, %s/%s, %s; %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, r.machine, runtime.Version())
	ca := "not set"
	if fn.caBundle || fl.caBundle {
		ca = "SET (the figures include parsing a CA bundle)"
	}
	fmt.Fprintf(w, "AWS_CA_BUNDLE in the function's environment: %s\n\n", ca)

	fmt.Fprintln(w, "| Figure | Function | Floor | Goal | Result |")
	fmt.Fprintln(w, "|---|---:|---:|---|---|")
	row := func(figure, fnv, flv, goal, result string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", figure, fnv, flv, goal, result)
	}
	if fn.size > 0 {
		row("arm64 `bootstrap` size", mib(fn.size), mib(fl.size), "≤ 10 MiB", verdict(fn.size <= goalSize))
	}
	fnInit, flInit := median(fn.inits), median(fl.inits)
	row(fmt.Sprintf("Cold start: RIE `INIT REPORT`, median of %d", starts), msf(fnInit), msf(flInit),
		fmt.Sprintf("≤ %.1f× floor (%s); %.2f×", goalColdRatio, msf(time.Duration(float64(flInit)*goalColdRatio)), float64(fnInit)/float64(flInit)),
		verdict(float64(fnInit) <= float64(flInit)*goalColdRatio))
	row(fmt.Sprintf("First invocation after a cold start, median of %d", starts), msf(median(fn.firsts)), msf(median(fl.firsts)), "—", "")
	row("… of which reading the secret (moto, through the counting proxy)", msf(median(fn.firstSecrets)), "—", "—", "")
	fnP50, flP50 := percentile(fn.warmRT, 50), percentile(fl.warmRT, 50)
	row(fmt.Sprintf("Warm invocation p50, round trip (%d sequential, %d after each start)", warmN, r.warmPerStart), msf(fnP50), msf(flP50),
		fmt.Sprintf("≤ floor + 0.5 ms (%s)", msf(flP50+goalWarmOverhead)), verdict(fnP50 <= flP50+goalWarmOverhead))
	row("Warm invocation p99, round trip", msf(percentile(fn.warmRT, 99)), msf(percentile(fl.warmRT, 99)), "—", "")
	row("Warm invocation p50 / p99, RIE `INVOKE RTDONE`",
		msf(percentile(fn.warmFn, 50))+" / "+msf(percentile(fn.warmFn, 99)),
		msf(percentile(fl.warmFn, 50))+" / "+msf(percentile(fl.warmFn, 99)), "—", "")
	if len(fn.warmZuora) > 0 {
		row("… of which the Zuora call, as the function times it (`zuoraLatencyMs`), p50 / p99",
			msf(percentile(fn.warmZuora, 50))+" / "+msf(percentile(fn.warmZuora, 99)), "—", "—", "")
	}
	row(fmt.Sprintf("Peak RSS (VmHWM), highest of %d starts", starts), mib(fn.hwm), mib(fl.hwm), "≤ 25 MiB", verdict(fn.hwm <= goalPeakRSS))
	wc := fn.warmCalls
	row("Zuora calls per warm invocation", perInvocation(wc.zuora, warmN), "—", "exactly 1", verdict(wc.zuora == warmN))
	row("Token mints per warm invocation", perInvocation(wc.tokens, warmN), "—", "0", verdict(wc.tokens == 0))
	row("Secrets Manager calls per warm invocation", perInvocation(wc.secrets, warmN), "—", "0", verdict(wc.secrets == 0))
	row("SNS publishes per warm invocation (no alert due)", perInvocation(wc.publishes, warmN), "—", "—", "")
	fc := fn.firstCalls
	row("Calls per first invocation (Zuora / token / secret / SNS)",
		fmt.Sprintf("%s / %s / %s / %s", perInvocation(fc.zuora, starts), perInvocation(fc.tokens, starts), perInvocation(fc.secrets, starts), perInvocation(fc.publishes, starts)),
		"—", "—", "")
	if len(r.goBench) > 0 {
		worst := 0.0
		var parts []string
		for _, g := range r.goBench {
			ns, _ := g.perCheck("ns")
			worst = max(worst, ns)
			parts = append(parts, fmt.Sprintf("%s %s", g.name, usf(ns)))
		}
		row("Handler's own work per check (Go benchmarks, below)", strings.Join(parts, "; "), "—", "tens of µs",
			verdict(worst < float64(goalCheckWork)))
	}
	for _, b := range r.batches {
		if b.meters == goalBatchMeters {
			row(fmt.Sprintf("%d meters at %s: wall time, most concurrent", b.meters, benchBatchLatency),
				fmt.Sprintf("%s, %d", sf(b.wall), b.maxConcurrent), "—",
				fmt.Sprintf("≤ %s, ≤ %d (configured)", sf(goalBatchWall), r.concurrency),
				verdict(b.wall <= goalBatchWall && b.maxConcurrent <= r.concurrency))
		}
	}

	if len(r.goBench) > 0 {
		fmt.Fprintln(w, "\nGo benchmarks of the handler (`go test -run '^$' -bench . -benchmem ./handler/`), per check:")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| Benchmark | ns/check | B/check | allocs/check | ns/op | allocs/op |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, g := range r.goBench {
			ns, _ := g.perCheck("ns")
			bytes, _ := g.perCheck("B")
			allocs, _ := g.perCheck("allocs")
			fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %.0f | %.0f |\n", g.name, ns, bytes, trimFloat(allocs), g.values["ns/op"], g.values["allocs/op"])
		}
	}

	if len(r.batches) > 0 {
		fmt.Fprintf(w, "\nBatch scaling, simulator latency %s, BATCH_CONCURRENCY %d, median of %d runs:\n\n", benchBatchLatency, r.concurrency, r.repeats)
		fmt.Fprintln(w, "| Meters | Wall time | Lower bound ⌈N/conc.⌉ × latency | Most concurrent requests |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|")
		for _, b := range r.batches {
			waves := (b.meters + r.concurrency - 1) / r.concurrency
			fmt.Fprintf(w, "| %d | %s | %s | %d |\n", b.meters, sf(b.wall), sf(time.Duration(waves)*benchBatchLatency), b.maxConcurrent)
		}
	}
	fmt.Fprintln(w)
}

// perCheck returns a per-op figure ("ns", "B" or "allocs") divided by the
// checks one op makes: the benchmark's "checks/op" metric, else 1.
func (g benchGoResult) perCheck(unit string) (float64, bool) {
	v, ok := g.values[unit+"/op"]
	if n := g.values["checks/op"]; n > 0 {
		v /= n
	}
	return v, ok
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**MISS**"
}

func perInvocation(n, invocations int) string {
	if invocations == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%d/%d)", trimFloat(float64(n)/float64(invocations)), n, invocations)
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func mib(b int64) string         { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }
func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", ms(d)) }
func sf(d time.Duration) string  { return fmt.Sprintf("%.2f s", d.Seconds()) }
func usf(ns float64) string      { return fmt.Sprintf("%.1f µs", ns/1000) }

// median of ds; 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// percentile returns the nearest-rank p-th percentile of ds; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
