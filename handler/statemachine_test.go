package handler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/internal/reply"
)

// The state machines in statemachine/ (the template's, and the example of a
// caller's own) retry and catch on this package's error names and branch on
// the result's fields. The end-to-end tests execute them; this test holds
// them to the contract without starting anything: a renamed error or field
// breaks it here, not in a customer's workflow.
func TestStateMachineSpeaksTheContract(t *testing.T) {
	files, err := filepath.Glob("../statemachine/*.asl.json")
	examples, err2 := filepath.Glob("../statemachine/examples/*.asl.json")
	if err != nil || err2 != nil || len(files) == 0 || len(examples) == 0 {
		t.Fatalf("no state machines in ../statemachine (%v, %v)", err, err2)
	}
	for _, f := range append(files, examples...) {
		t.Run(filepath.Base(f), func(t *testing.T) { speaksTheContract(t, f) })
	}
}

func speaksTheContract(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type rule struct {
		ErrorEquals []string
		Next        string
	}
	var def struct {
		StartAt string
		States  map[string]struct {
			Type    string
			Next    string
			Default string
			End     bool
			Retry   []rule
			Catch   []rule
			Choices []json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}

	// The contract's retry column.
	retryable := map[string]bool{
		TypeZuoraThrottled: true, TypeZuoraUnavailable: true, TypeSecretUnavailable: true, TypeAlertPublishFailed: true,
		TypeInvalidRequest: false, TypeMeterNotFound: false, TypeZuoraAuthFailed: false,
	}
	retried, caught := map[string]bool{}, map[string]bool{}
	exists := func(name string) bool { _, ok := def.States[name]; return ok }
	if !exists(def.StartAt) {
		t.Errorf("StartAt %q is not a state", def.StartAt)
	}
	for name, s := range def.States {
		for _, next := range []string{s.Next, s.Default} {
			if next != "" && !exists(next) {
				t.Errorf("%s: next state %q does not exist", name, next)
			}
		}
		for _, list := range []struct {
			rules []rule
			seen  map[string]bool
		}{{s.Retry, retried}, {s.Catch, caught}} {
			for _, r := range list.rules {
				if r.Next != "" && !exists(r.Next) {
					t.Errorf("%s: catch goes to missing state %q", name, r.Next)
				}
				for _, e := range r.ErrorEquals {
					if _, ok := retryable[e]; !ok && !strings.HasPrefix(e, "Lambda.") && !strings.HasPrefix(e, "States.") {
						t.Errorf("%s: %q is not an error the function returns", name, e)
					}
					list.seen[e] = true
				}
			}
		}
		for _, c := range s.Choices {
			for _, field := range resultFieldsIn(string(c)) {
				if !resultHasField(t, field) {
					t.Errorf("%s: branches on $.check.result.%s, which the result does not have", name, field)
				}
			}
		}
	}
	for name, retry := range retryable {
		if retry && !retried[name] {
			t.Errorf("%s is retryable but the state machine does not retry it", name)
		}
		if !retry && (!caught[name] || retried[name]) {
			t.Errorf("%s must be caught, not retried", name)
		}
	}
}

// resultFieldsIn lists the X of every "$.check.result.X" in a Choice rule.
func resultFieldsIn(rule string) []string {
	var fields []string
	for _, part := range strings.Split(rule, "$.check.result.")[1:] {
		end := strings.IndexAny(part, `".[`)
		if end < 0 {
			end = len(part)
		}
		fields = append(fields, part[:end])
	}
	return fields
}

func resultHasField(t *testing.T, name string) bool {
	t.Helper()
	b, err := json.Marshal(reply.Result{Alert: &reply.Alert{}})
	if err != nil {
		t.Fatal(err)
	}
	_, ok := decode[map[string]any](t, b)[name]
	return ok
}
