package localstack

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// The template's state machine, read as the stack executes it: the
// function's ARN filled in by the stack, the template's other substitutions
// by the caller, all of them and nothing else.
func TestTemplateStateMachine(t *testing.T) {
	const template = "../../template.yaml"
	values := map[string]string{"PollIntervalSeconds": "1", "MaxPollChecks": "3"}
	sm, err := templateStateMachine(template, values)
	if err != nil {
		t.Fatal(err)
	}
	if sm.FunctionARN == "" || sm.Values[sm.FunctionARN] != "" {
		t.Fatalf("function ARN placeholder %q, values %v", sm.FunctionARN, sm.Values)
	}
	def, err := sm.substitute("arn:aws:lambda:eu-west-1:123456789012:function:f")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(def) || strings.Contains(string(def), "${") || !strings.Contains(string(def), `"arn:aws:lambda:eu-west-1:123456789012:function:f"`) {
		t.Errorf("substituted definition:\n%s", def)
	}

	for name := range values {
		fewer := maps.Clone(values)
		delete(fewer, name)
		if _, err := templateStateMachine(template, fewer); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v, want an error naming it", name, err)
		}
	}
	more := maps.Clone(values)
	more["PollIntervalSecs"] = "1"
	if _, err := templateStateMachine(template, more); err == nil || !strings.Contains(err.Error(), "PollIntervalSecs") {
		t.Errorf("with a name the template does not have: %v", err)
	}
}

func TestSubstitute(t *testing.T) {
	sm := StateMachine{Name: "t", Definition: []byte(`{"a": "${Fn}", "b": "${X}", "c": "${X}"}`), FunctionARN: "Fn", Values: map[string]string{"X": "1"}}
	if def, err := sm.substitute("arn"); err != nil || string(def) != `{"a": "arn", "b": "1", "c": "1"}` {
		t.Errorf("substitute = %s, %v", def, err)
	}
	sm.Values = map[string]string{"X": "1", "Y": "2"}
	if _, err := sm.substitute("arn"); err == nil || !strings.Contains(err.Error(), "(unused) Y") {
		t.Errorf("a value without a placeholder: %v", err)
	}
	sm.Values = nil
	if _, err := sm.substitute("arn"); err == nil || !strings.Contains(err.Error(), "X") {
		t.Errorf("a placeholder without a value: %v", err)
	}
}
