package emftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// units are the specification's MetricDefinition units.
var units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true, "Megabytes": true,
	"Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// Validate checks one line against the EMF specification: a JSON object
// whose _aws member has an epoch-millisecond Timestamp and MetricDirectives
// whose dimensions name root members with string values and whose metrics
// name root members that are numbers or arrays of at most 100 numbers, with
// known units.
func Validate(line []byte) error {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	dec := json.NewDecoder(bytes.NewReader(root["_aws"]))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		return fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil {
		return fmt.Errorf("no _aws.Timestamp")
	}
	if ts, err := meta.Timestamp.Int64(); err != nil || ts < 1e12 || ts > 1e13 {
		return fmt.Errorf("_aws.Timestamp %v is not epoch milliseconds", *meta.Timestamp)
	}
	if len(meta.CloudWatchMetrics) == 0 {
		return fmt.Errorf("no CloudWatchMetrics")
	}
	for _, d := range meta.CloudWatchMetrics {
		if strings.TrimSpace(d.Namespace) == "" || len(d.Namespace) > 255 || len(d.Metrics) == 0 || len(d.Metrics) > 100 {
			return fmt.Errorf("directive %+v", d)
		}
		for _, set := range d.Dimensions {
			for _, k := range set {
				var v string
				if json.Unmarshal(root[k], &v) != nil || v == "" {
					return fmt.Errorf("dimension %q is not a string member", k)
				}
			}
		}
		for _, m := range d.Metrics {
			if err := validateMetric(root[m.Name], m.Name, m.Unit); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateMetric(raw json.RawMessage, name, unit string) error {
	if name == "" || len(name) > 255 || (unit != "" && !units[unit]) {
		return fmt.Errorf("metric %q unit %q", name, unit)
	}
	var one float64
	if json.Unmarshal(raw, &one) == nil {
		return nil
	}
	var many []float64
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > 100 {
		return fmt.Errorf("metric %q is %s: not a number or 1 to 100 numbers", name, raw)
	}
	return nil
}
