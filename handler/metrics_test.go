package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/internal/metrics/emftest"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora"
)

// emfLines decodes what a handler wrote as metrics, each line checked
// against the EMF specification.
func emfLines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out.String()) {
		if err := emftest.Validate([]byte(line)); err != nil {
			t.Errorf("not EMF: %v\n%s", err, line)
		}
		recs = append(recs, decode[map[string]any](t, []byte(line)))
	}
	return recs
}

// sums adds a metric's values over the records, by the value of dimension
// ("" for all).
func sums(recs []map[string]any, metric, dimension string) map[string]float64 {
	out := map[string]float64{}
	for _, r := range recs {
		key, _ := r[dimension].(string)
		switch v := r[metric].(type) {
		case float64:
			out[key] += v
		case []any:
			out[key] += float64(len(v)) // a latency array: count its values
		}
	}
	return out
}

// A 100-meter batch writes its counts in a handful of valid records,
// aggregated by dimension value, with no meter id among the dimensions.
func TestBatchMetrics(t *testing.T) {
	var out bytes.Buffer
	fz := newFakeZuora()
	var items []string
	for i := range 100 {
		id := int64(1000 + i)
		switch {
		case i < 90:
			fz.set(id, "1", 7, zuora.Completed, true, false)
		case i < 95:
			fz.set(id, "1", 8, zuora.Failed, true, true)
		case i < 98:
			fz.fail(id, "1", &zuora.Error{Class: zuora.ErrThrottled})
		}
		items = append(items, fmt.Sprintf(`{"meterId": %d, "version": "1"}`, id))
	}
	h, err := New(withDefaults(Config{}), Deps{Zuora: fz, Alerts: &fakeSNS{}, Metrics: &out, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(h, `{"meters": [`+strings.Join(items, ",")+`]}`); err != nil {
		t.Fatal(err)
	}
	recs := emfLines(t, &out)
	if len(recs) > 8 {
		t.Errorf("%d records for a 100-meter batch, want a handful", len(recs))
	}
	want := map[string]map[string]float64{
		"Checks/Status":         {"COMPLETED": 90, "FAILED": 5},
		"ZuoraErrors/ErrorType": {"ZuoraThrottled": 3, "MeterNotFound": 2},
		"Alerts/Event":          {"alert": 5},
		"ZuoraLatency/":         {"": 95},
	}
	for k, w := range want {
		metric, dimension, _ := strings.Cut(k, "/")
		if got := sums(recs, metric, dimension); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", k, got, w)
		}
	}
	for _, r := range recs {
		meta, err := json.Marshal(r["_aws"])
		if err != nil || strings.Contains(string(meta), "meterId") || r["Function"] != "runstatus-test" || r["requestId"] != "req-1" {
			t.Errorf("record %v", r)
		}
	}
}

// limitsChecker is a Checker that reports Zuora's limits moving.
type limitsChecker struct {
	*fakeZuora
	stats zuora.LimitStats
}

func (l *limitsChecker) Limits() zuora.LimitStats {
	l.stats.BreakerOpenings++
	l.stats.GateWaits += 2
	return l.stats
}

// What Zuora's limits did during the invocation, and a scheduled run's
// Checks even when there was nothing to check (the heartbeat alarm reads
// it); without a writer, nothing.
func TestInvocationMetrics(t *testing.T) {
	var out bytes.Buffer
	lc := &limitsChecker{fakeZuora: newFakeZuora()}
	h, err := New(withDefaults(Config{}), Deps{Zuora: lc, Alerts: &fakeSNS{}, Store: statestore.NewMemory(), Metrics: &out,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoke(h, `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`); err != nil {
		t.Fatal(err)
	}
	recs := emfLines(t, &out)
	if got := sums(recs, "Checks", ""); got[""] != 0 || len(got) != 1 {
		t.Errorf("Checks = %v, want a 0 written", got)
	}
	if got := sums(recs, "BreakerOpenings", "")[""]; got != 1 {
		t.Errorf("BreakerOpenings = %v, want the 1 of this invocation", got)
	}
	if got := sums(recs, "ZuoraThrottleWaits", "")[""]; got != 2 {
		t.Errorf("ZuoraThrottleWaits = %v, want 2", got)
	}

	h.metrics = nil
	if _, err := invoke(h, `{"meterId": 1, "version": "1"}`); errorType(t, err) != TypeMeterNotFound {
		t.Fatal(err)
	}
	if n := len(emfLines(t, &out)); n != len(recs) {
		t.Errorf("a handler without metrics wrote %d records", n-len(recs))
	}
}
