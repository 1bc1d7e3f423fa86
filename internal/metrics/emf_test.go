package metrics

import (
	"bytes"
	"github.com/example/zuora-runstatus/internal/metrics/emftest"
	"math"
	"testing"
	"time"
)

func TestWriteIsValidEMF(t *testing.T) {
	at := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	latencies := make([]float64, 100)
	for i := range latencies {
		latencies[i] = float64(i) / 3
	}
	records := []Record{
		{Namespace: "ZuoraRunStatus", Time: at, Dimensions: [][]string{{"Function", "Status"}, {"Function"}},
			DimensionValues: map[string]string{"Function": "fn", "Status": "FAILED"}, Metrics: []Metric{{"Checks", Count, []float64{3}}},
			Properties: map[string]any{"requestId": "r-1"}},
		{Namespace: "ZuoraRunStatus", Time: at, Dimensions: [][]string{{"Function"}}, DimensionValues: map[string]string{"Function": "fn"},
			Metrics: []Metric{{"ZuoraLatency", Milliseconds, latencies}, {"AlertPublishFailures", Count, []float64{0}}}},
		{Namespace: "ZuoraRunStatus", Time: at, Dimensions: [][]string{{}}, Metrics: []Metric{{"Checks", Count, []float64{1}}}},
	}
	for i, r := range records {
		var buf bytes.Buffer
		if err := Write(&buf, r); err != nil {
			t.Fatal(err)
		}
		line := buf.Bytes()
		if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
			t.Errorf("record %d is not one line: %q", i, line)
		}
		if err := emftest.Validate(line); err != nil {
			t.Errorf("record %d: %v\n%s", i, err, line)
		}
	}
}

func TestWriteRefusesWhatTheSpecificationDoes(t *testing.T) {
	at := time.Now()
	one := []Metric{{"Checks", Count, []float64{1}}}
	for name, r := range map[string]Record{
		"no namespace":       {Time: at, Metrics: one},
		"no metric":          {Namespace: "N", Time: at},
		"dimension no value": {Namespace: "N", Time: at, Dimensions: [][]string{{"Status"}}, Metrics: one},
		"101 values":         {Namespace: "N", Time: at, Metrics: []Metric{{"L", Milliseconds, make([]float64, 101)}}},
		"no values":          {Namespace: "N", Time: at, Metrics: []Metric{{"L", Milliseconds, nil}}},
		"name clash":         {Namespace: "N", Time: at, DimensionValues: map[string]string{"Checks": "x"}, Metrics: one},
	} {
		if err := Write(&bytes.Buffer{}, r); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	if err := Write(&bytes.Buffer{}, Record{Namespace: "N", Time: at, Metrics: []Metric{{"L", Milliseconds, []float64{math.NaN()}}}}); err == nil {
		t.Error("NaN written: JSON has no NaN")
	}
}
