package main

import (
	"os"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// templateAt returns the node at path in template.yaml (mapping keys), or
// nil. CloudFormation's tags (!Ref, !If...) stay on the nodes, undecoded.
func templateAt(t *testing.T, path ...string) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	for _, key := range path {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// Every route of the HTTP API is throttled: with ApiAuthorization NONE the
// run-status route is open, and each request is an invocation and a Zuora
// call. The fleet's size can be bounded too (ReservedConcurrency).
func TestTemplateBoundsTheFleet(t *testing.T) {
	api := []string{"Resources", "RunStatusApi", "Properties", "DefaultRouteSettings"}
	for _, limit := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
		n := templateAt(t, append(api, limit)...)
		if v, err := strconv.Atoi(nodeValue(n)); err != nil || v <= 0 {
			t.Errorf("%s: %v, want a positive default limit for every route", limit, nodeValue(n))
		}
	}
	if templateAt(t, "Parameters", "ReservedConcurrency") == nil ||
		templateAt(t, "Resources", "RunStatusFunction", "Properties", "ReservedConcurrentExecutions") == nil {
		t.Error("no ReservedConcurrency parameter wired to the function's ReservedConcurrentExecutions")
	}
	if nodeValue(templateAt(t, "Resources", "ChecksSkippedAlarm", "Properties", "MetricName")) != "ChecksSkipped" {
		t.Error("no alarm on ChecksSkipped")
	}
}

func nodeValue(n *yaml.Node) string {
	if n == nil {
		return "(absent)"
	}
	return n.Value
}
