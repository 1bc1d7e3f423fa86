package metrics

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// Namespace is where every metric of the function goes. Every dimension
// set leads with Function, so that two stacks in one account keep their
// metrics apart; no dimension is a meter id (unbounded cardinality).
const Namespace = "ZuoraRunStatus"

// The metrics, and the dimensions some are counted by.
const (
	Checks                = "Checks"       // by Status: polls Zuora answered
	ZuoraLatency          = "ZuoraLatency" // each answered poll's Zuora call
	ZuoraErrors           = "ZuoraErrors"  // by ErrorType: polls that failed
	Alerts                = "Alerts"       // by Event: messages published
	Callouts              = "Callouts"     // by Outcome: Zuora's callouts
	AlertDetails          = "AlertDetails" // by Outcome: enrichment of alerts
	AlertPublishFailures  = "AlertPublishFailures"
	StateUnavailable      = "StateUnavailable"
	StateConflicts        = "StateConflicts"
	UnknownStatus         = "UnknownStatus"
	StaleCallouts         = "StaleCallouts"
	ChecksSkipped         = "ChecksSkipped"
	BreakerOpenings       = "BreakerOpenings"
	BreakerRefusals       = "BreakerRefusals"
	ZuoraThrottleWaits    = "ZuoraThrottleWaits"
	ZuoraThrottleWaitTime = "ZuoraThrottleWaitTime"
	ZuoraAuthRefusals     = "ZuoraAuthRefusals" // calls failed at once: Zuora refused the credentials recently
	LateChecks            = "LateChecks"        // summary calls made to confirm a due time's miss
	Muted                 = "Muted"             // messages a mute held back

	Function  = "Function"
	Status    = "Status"
	ErrorType = "ErrorType"
	Event     = "Event"
	Outcome   = "Outcome"
)

// dimensionOf is the dimension a metric counted by value is counted by.
var dimensionOf = map[string]string{Checks: Status, ZuoraErrors: ErrorType, Alerts: Event, Callouts: Outcome, AlertDetails: Outcome}

// Tally counts what one invocation did. A nil *Tally counts nothing, so
// code outside an invocation needs no check. Safe for concurrent use.
type Tally struct {
	mu        sync.Mutex
	by        map[string]map[string]int // metric → dimension value → count
	counts    map[string]int            // metrics without a dimension of their own
	latencies []float64                 // ZuoraLatency, in milliseconds
	limits    zuora.LimitStats
	scheduled bool // a scheduled run: Checks is written even when 0, for the heartbeat alarm
}

type tallyKey struct{}

// With returns ctx carrying t.
func With(ctx context.Context, t *Tally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

// From is the invocation's tally; nil outside one.
func From(ctx context.Context) *Tally {
	t, _ := ctx.Value(tallyKey{}).(*Tally)
	return t
}

func (t *Tally) lock() func() {
	t.mu.Lock()
	return t.mu.Unlock
}

// CountBy counts one of metric with its dimension's value.
func (t *Tally) CountBy(metric, value string) {
	if t == nil {
		return
	}
	defer t.lock()()
	if t.by == nil {
		t.by = map[string]map[string]int{}
	}
	if t.by[metric] == nil {
		t.by[metric] = map[string]int{}
	}
	t.by[metric][value]++
}

// Checked counts a poll Zuora answered, and how long it took.
func (t *Tally) Checked(status string, latency time.Duration) {
	t.CountBy(Checks, status)
	if t != nil {
		defer t.lock()()
		t.latencies = append(t.latencies, float64(latency.Microseconds())/1000)
	}
}

// Count counts one of name.
func (t *Tally) Count(name string) { t.Add(name, 1) }

// Add adds n to name; nothing is counted for 0.
func (t *Tally) Add(name string, n int) {
	if t == nil || n == 0 {
		return
	}
	defer t.lock()()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[name] += n
}

// Get is the count of name so far.
func (t *Tally) Get(name string) int {
	if t == nil {
		return 0
	}
	defer t.lock()()
	return t.counts[name]
}

// MarkScheduled marks a scheduled run, which writes Checks even when 0.
func (t *Tally) MarkScheduled() {
	if t != nil {
		defer t.lock()()
		t.scheduled = true
	}
}

// SetLimits records what Zuora's limits did to the invocation's calls.
func (t *Tally) SetLimits(l zuora.LimitStats) {
	if t != nil {
		defer t.lock()()
		t.limits = l
	}
}

// Records are the tally as EMF: one record per dimension value of each
// metric counted by one, then the invocation's own (latencies a hundred a
// record).
func (t *Tally) Records(function string, at time.Time, requestID string) []Record {
	defer t.lock()()
	base := func(dims map[string]string, metrics ...Metric) Record {
		values := map[string]string{Function: function}
		maps.Copy(values, dims)
		sets := [][]string{{Function}}
		for k := range dims {
			sets = [][]string{{Function, k}, {Function}}
		}
		return Record{Namespace: Namespace, Time: at, Dimensions: sets, DimensionValues: values, Metrics: metrics,
			Properties: map[string]any{"requestId": requestID}}
	}
	var out []Record
	for _, metric := range slices.Sorted(maps.Keys(t.by)) {
		counts := t.by[metric]
		for _, value := range slices.Sorted(maps.Keys(counts)) {
			out = append(out, base(map[string]string{dimensionOf[metric]: value}, countMetric(metric, counts[value])))
		}
	}
	if t.scheduled && len(t.by[Checks]) == 0 {
		out = append(out, base(nil, countMetric(Checks, 0)))
	}
	return append(out, t.invocationRecords(base)...)
}

func (t *Tally) invocationRecords(base func(map[string]string, ...Metric) Record) []Record {
	var metrics []Metric
	for _, name := range slices.Sorted(maps.Keys(t.counts)) {
		metrics = append(metrics, countMetric(name, t.counts[name]))
	}
	l := t.limits
	for _, c := range []struct {
		name string
		n    int
	}{{BreakerOpenings, l.BreakerOpenings}, {BreakerRefusals, l.BreakerRefusals}, {ZuoraThrottleWaits, l.GateWaits}, {ZuoraAuthRefusals, l.AuthRefusals}} {
		if c.n > 0 {
			metrics = append(metrics, countMetric(c.name, c.n))
		}
	}
	if l.GateWaitTime > 0 {
		metrics = append(metrics, Metric{Name: ZuoraThrottleWaitTime, Unit: Milliseconds, Values: []float64{float64(l.GateWaitTime.Microseconds()) / 1000}})
	}
	var out []Record
	for chunk := range slices.Chunk(t.latencies, MaxValues) {
		out = append(out, base(nil, append(metrics, Metric{Name: ZuoraLatency, Unit: Milliseconds, Values: chunk})...))
		metrics = nil // the first record carries them
	}
	if len(metrics) > 0 {
		out = append(out, base(nil, metrics...))
	}
	return out
}

func countMetric(name string, n int) Metric {
	return Metric{Name: name, Unit: Count, Values: []float64{float64(n)}}
}
