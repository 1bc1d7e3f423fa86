package handler

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/internal/emf"
	"github.com/example/zuora-runstatus/zuora"
)

// Metrics: CloudWatch Embedded Metric Format records in the function's log,
// counted over one invocation and written at its end: a handful of lines
// for a batch of hundreds, never one per meter, and no meter id as a
// dimension. Every dimension set leads with Function, so that two stacks in
// one account keep their metrics apart.
const metricsNamespace = "ZuoraRunStatus"

// limitsReporter is a Checker that tells what Zuora's limits did to its
// calls (*zuora.Client does).
type limitsReporter interface {
	Limits() zuora.LimitStats
}

// tally counts what one invocation did.
type tally struct {
	mu        sync.Mutex
	checks    map[string]int // by Status
	latencies []float64      // of the Zuora calls, in milliseconds
	errors    map[string]int // failed checks, by ErrorType
	alerts    map[string]int // published, by Event
	callouts  map[string]int // by Outcome: accepted, duplicate, refused, invalid
	counts    map[string]int // AlertPublishFailures, StateUnavailable
	limits    zuora.LimitStats
	scheduled bool // a scheduled run: Checks is written even when 0, for the heartbeat alarm
}

type tallyKey struct{}

func withTally(ctx context.Context, t *tally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

// tallyOf is the invocation's tally; a check outside Invoke counts nothing.
func tallyOf(ctx context.Context) *tally {
	if t, ok := ctx.Value(tallyKey{}).(*tally); ok {
		return t
	}
	return nil
}

// add counts one in the map of the tally that add picks.
func (t *tally) add(pick func(*tally) *map[string]int, key string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	m := pick(t)
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[key]++
}

func (t *tally) checked(status string, latency time.Duration) {
	t.add(func(t *tally) *map[string]int { return &t.checks }, status)
	if t != nil {
		t.mu.Lock()
		t.latencies = append(t.latencies, float64(latency.Microseconds())/1000)
		t.mu.Unlock()
	}
}

func (t *tally) failed(errorType string) {
	t.add(func(t *tally) *map[string]int { return &t.errors }, errorType)
}

func (t *tally) alerted(event string) {
	t.add(func(t *tally) *map[string]int { return &t.alerts }, event)
}

func (t *tally) callout(outcome string) {
	t.add(func(t *tally) *map[string]int { return &t.callouts }, outcome)
}

func (t *tally) markScheduled() {
	if t != nil {
		t.mu.Lock()
		t.scheduled = true
		t.mu.Unlock()
	}
}

func (t *tally) count(name string) {
	t.add(func(t *tally) *map[string]int { return &t.counts }, name)
}

// addN adds n to the invocation's count of name.
func (t *tally) addN(name string, n int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[name] += n
}

// get is the invocation's count of name so far.
func (t *tally) get(name string) int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[name]
}

// startTally begins an invocation's count, with the Zuora client's limits
// read now, to be read again at the end. It counts without a metrics
// writer too: a scheduled run's reply reports some of its counts.
func (h *Handler) startTally(ctx context.Context) (context.Context, *tally) {
	t := &tally{}
	if lr, ok := h.zuora.(limitsReporter); ok {
		t.limits = lr.Limits()
	}
	return withTally(ctx, t), t
}

// flushTally writes the invocation's records. A record that cannot be
// written is logged, never the invocation's failure.
func (h *Handler) flushTally(ctx context.Context, t *tally) {
	if h.metrics == nil {
		return
	}
	if lr, ok := h.zuora.(limitsReporter); ok {
		t.limits = limitsSince(lr.Limits(), t.limits)
	}
	for _, r := range t.records(h.cfg.FunctionName, h.now(), requestID(ctx)) {
		if err := emf.Write(h.metrics, r); err != nil {
			h.log.WarnContext(ctx, "metrics not written", "error", err.Error())
		}
	}
}

func limitsSince(now, then zuora.LimitStats) zuora.LimitStats {
	return zuora.LimitStats{
		GateWaits: now.GateWaits - then.GateWaits, GateWaitTime: now.GateWaitTime - then.GateWaitTime,
		BreakerOpenings: now.BreakerOpenings - then.BreakerOpenings, BreakerRefusals: now.BreakerRefusals - then.BreakerRefusals,
	}
}

// records are the tally as EMF: one record per dimension value of each
// counted metric, then the invocation's own (latencies a hundred a record).
func (t *tally) records(function string, at time.Time, requestID string) []emf.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := func(dims map[string]string, metrics ...emf.Metric) emf.Record {
		values := map[string]string{"Function": function}
		maps.Copy(values, dims)
		sets := [][]string{{"Function"}}
		for k := range dims {
			sets = [][]string{{"Function", k}, {"Function"}}
		}
		return emf.Record{Namespace: metricsNamespace, Time: at, Dimensions: sets, Values: values, Metrics: metrics,
			Properties: map[string]any{"requestId": requestID}}
	}
	var out []emf.Record
	for _, by := range []struct {
		metric, dimension string
		counts            map[string]int
	}{{"Checks", "Status", t.checks}, {"ZuoraErrors", "ErrorType", t.errors}, {"Alerts", "Event", t.alerts}, {"Callouts", "Outcome", t.callouts}} {
		for _, value := range slices.Sorted(maps.Keys(by.counts)) {
			out = append(out, base(map[string]string{by.dimension: value}, countMetric(by.metric, by.counts[value])))
		}
	}
	if t.scheduled && len(t.checks) == 0 {
		out = append(out, base(nil, countMetric("Checks", 0)))
	}
	return append(out, t.invocationRecords(base)...)
}

func (t *tally) invocationRecords(base func(map[string]string, ...emf.Metric) emf.Record) []emf.Record {
	var metrics []emf.Metric
	for _, name := range slices.Sorted(maps.Keys(t.counts)) {
		metrics = append(metrics, countMetric(name, t.counts[name]))
	}
	l := t.limits
	for _, c := range []struct {
		name string
		n    int
	}{{"BreakerOpenings", l.BreakerOpenings}, {"BreakerRefusals", l.BreakerRefusals}, {"ZuoraThrottleWaits", l.GateWaits}} {
		if c.n > 0 {
			metrics = append(metrics, countMetric(c.name, c.n))
		}
	}
	if l.GateWaitTime > 0 {
		metrics = append(metrics, emf.Metric{Name: "ZuoraThrottleWaitTime", Unit: emf.Milliseconds, Values: []float64{float64(l.GateWaitTime.Microseconds()) / 1000}})
	}
	var out []emf.Record
	for chunk := range slices.Chunk(t.latencies, emf.MaxValues) {
		out = append(out, base(nil, append(metrics, emf.Metric{Name: "ZuoraLatency", Unit: emf.Milliseconds, Values: chunk})...))
		metrics = nil // the first record carries them
	}
	if len(metrics) > 0 {
		out = append(out, base(nil, metrics...))
	}
	return out
}

func countMetric(name string, n int) emf.Metric {
	return emf.Metric{Name: name, Unit: emf.Count, Values: []float64{float64(n)}}
}
