package emftest

import "testing"

// The validator itself refuses what is not EMF.
func TestValidate(t *testing.T) {
	for _, bad := range []string{
		`[]`, `{}`, `{"_aws": {"CloudWatchMetrics": []}}`, `{"_aws": {"Timestamp": 5, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "C"}]}], "C": 1}}`,
		`{"_aws": {"Timestamp": 1795863600000, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["D"]], "Metrics": [{"Name": "C"}]}], "C": 1}}`,
		`{"_aws": {"Timestamp": 1795863600000, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "C", "Unit": "Parsecs"}]}], "C": 1}}`,
		`{"_aws": {"Timestamp": 1795863600000, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [], "Metrics": [{"Name": "C"}]}], "C": "1"}}`,
	} {
		if Validate([]byte(bad)) == nil {
			t.Errorf("valid: %s", bad)
		}
	}
}
