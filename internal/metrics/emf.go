// Package metrics counts what one invocation of the function did and writes
// it as CloudWatch Embedded Metric Format records: JSON log lines from
// which CloudWatch Logs extracts metrics, with no agent and no API call
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits of the specification.
const (
	MaxValues     = 100 // values of one metric in one record
	MaxMetrics    = 100 // metrics in one record
	MaxDimensions = 30  // keys in one dimension set
)

// Units CloudWatch knows (the ones this module uses).
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
)

// Metric is one metric of a record: a single value, or up to MaxValues
// (CloudWatch keeps them all, so percentiles are taken over each value).
type Metric struct {
	Name   string
	Unit   string
	Values []float64
}

// Record is one EMF log line: metrics published under every dimension set
// of Dimensions, whose keys are keys of DimensionValues, in Namespace.
type Record struct {
	Namespace       string
	Time            time.Time
	Dimensions      [][]string        // sets of keys of DimensionValues; an empty set publishes without dimensions
	DimensionValues map[string]string // the dimensions' values
	Metrics         []Metric
	Properties      map[string]any // more fields of the line, not metrics (a request id)
}

// Write writes r as one line, after checking it against the
// specification's rules.
func Write(w io.Writer, r Record) error {
	if err := r.check(); err != nil {
		return err
	}
	metrics := make([]map[string]string, len(r.Metrics))
	line := make(map[string]any, len(r.Properties)+len(r.DimensionValues)+len(r.Metrics)+1)
	for k, v := range r.Properties {
		line[k] = v
	}
	for k, v := range r.DimensionValues {
		line[k] = v
	}
	for i, m := range r.Metrics {
		metrics[i] = map[string]string{"Name": m.Name, "Unit": m.Unit}
		if len(m.Values) == 1 {
			line[m.Name] = m.Values[0]
		} else {
			line[m.Name] = m.Values
		}
	}
	line["_aws"] = map[string]any{
		"Timestamp": r.Time.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace": r.Namespace, "Dimensions": r.Dimensions, "Metrics": metrics,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func (r Record) check() error {
	switch {
	case r.Namespace == "":
		return errors.New("emf: no namespace")
	case len(r.Metrics) == 0 || len(r.Metrics) > MaxMetrics:
		return fmt.Errorf("emf: %d metrics; a record has 1 to %d", len(r.Metrics), MaxMetrics)
	}
	for _, set := range r.Dimensions {
		if len(set) > MaxDimensions {
			return fmt.Errorf("emf: a dimension set of %d keys; at most %d", len(set), MaxDimensions)
		}
		for _, k := range set {
			if r.DimensionValues[k] == "" {
				return fmt.Errorf("emf: dimension %q has no value", k)
			}
		}
	}
	for _, m := range r.Metrics {
		if m.Name == "" || len(m.Values) == 0 || len(m.Values) > MaxValues {
			return fmt.Errorf("emf: metric %q has %d values; 1 to %d", m.Name, len(m.Values), MaxValues)
		}
		if _, clash := r.DimensionValues[m.Name]; clash {
			return fmt.Errorf("emf: %q is both a metric and a dimension", m.Name)
		}
	}
	return nil
}
