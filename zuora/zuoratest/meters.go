package zuoratest

import (
	"encoding/json"
	"fmt"
	"time"
)

// statusNames are Zuora's runStatus codes 1–13, repeated here rather than
// imported so the simulator stays independent of the client it tests.
var statusNames = [...]string{
	1: "NEVER_RUN", 2: "TESTING", 3: "TESTING_FAILED", 4: "TESTING_PASSED",
	5: "RUNNING", 6: "PAUSED", 7: "COMPLETED", 8: "FAILED", 9: "CANCELED",
	10: "INITIALIZING", 11: "USAGE_PUSHING", 12: "PUSH_COMPLETED", 13: "CONSUME_COMPLETED",
}

// StatusName returns Zuora's name for a runStatus code, or "" for a code
// outside 1–13.
func StatusName(code int) string {
	if code <= 0 || code >= len(statusNames) {
		return ""
	}
	return statusNames[code]
}

// Step is one scripted answer of a meter version's run status.
type Step struct {
	// Status is the runStatus code of a 200 answer (any int: unknown codes
	// are how a test checks the client's handling of a grown enum).
	Status int `json:"status,omitempty"`
	// Description is runStatusDescription; empty gives Zuora's name for
	// Status ("" for an unknown code).
	Description string `json:"description,omitempty"`
	// HTTPStatus is the answer's status; 0 means 200. 400, 401, 403, 404,
	// 429 and 5xx answers carry Zuora's documented body for that status.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Body, when set, is sent as it is instead of the generated body.
	Body string `json:"body,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string `json:"retryAfter,omitempty"`
	// Latency delays this answer (on top of the server's latency).
	Latency time.Duration `json:"-"`
	// ErrorCode and ErrorMessage override the code and message of a
	// generated error body.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// Drop aborts the connection without an answer (a network failure).
	// Go's transport may itself resend an idempotent GET once when a reused
	// connection drops before any byte of the answer, so a dropped step can
	// be consumed twice by one client attempt.
	Drop bool `json:"drop,omitempty"`
	// Hold makes the step last a while instead of one call: it answers
	// every call until Hold has passed since its first answer (a run that
	// stays RUNNING for Hold, however often it is checked), and the next
	// step answers after that.
	Hold time.Duration `json:"-"`
}

// stepJSON is Step on the wire: latency and hold as Go duration strings
// ("50ms").
type stepJSON struct {
	stepAlias
	Latency string `json:"latency,omitempty"`
	Hold    string `json:"hold,omitempty"`
}

type stepAlias Step

// UnmarshalJSON reads a step, with latency as a duration string like "50ms".
func (st *Step) UnmarshalJSON(b []byte) error {
	var j stepJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	*st = Step(j.stepAlias)
	for _, f := range []struct {
		name, text string
		to         *time.Duration
	}{{"latency", j.Latency, &st.Latency}, {"hold", j.Hold, &st.Hold}} {
		if f.text == "" {
			continue
		}
		d, err := time.ParseDuration(f.text)
		if err != nil || d < 0 {
			return fmt.Errorf("step %s %q is not a duration", f.name, f.text)
		}
		*f.to = d
	}
	return nil
}

// MarshalJSON writes a step the way UnmarshalJSON reads it.
func (st Step) MarshalJSON() ([]byte, error) {
	j := stepJSON{stepAlias: stepAlias(st)}
	if st.Latency > 0 {
		j.Latency = st.Latency.String()
	}
	if st.Hold > 0 {
		j.Hold = st.Hold.String()
	}
	return json.Marshal(j)
}

// script is the steps of one meter version; the last one repeats.
type script struct {
	steps []Step
	next  int
	held  time.Time // when the step before next, a held one, first answered
}

func (sc *script) take(now time.Time) Step {
	if sc.next > 0 && sc.next <= len(sc.steps) {
		if prev := sc.steps[sc.next-1]; prev.Hold > 0 && now.Sub(sc.held) < prev.Hold {
			return prev // still held
		}
	}
	i := min(sc.next, len(sc.steps)-1)
	if sc.next < len(sc.steps) {
		sc.next++
		sc.held = now
	}
	return sc.steps[i]
}

// SetMeter creates or replaces a meter version with a script: each run status
// call consumes the next step and the last one repeats, so a test can watch
// RUNNING → COMPLETED. No steps means one NEVER_RUN step.
func (s *Server) SetMeter(meterID int64, version string, steps ...Step) {
	if len(steps) == 0 {
		steps = []Step{{Status: 1}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	versions := s.meters[meterID]
	if versions == nil {
		versions = map[string]*script{}
		s.meters[meterID] = versions
	}
	versions[version] = &script{steps: append([]Step(nil), steps...)}
}

// RemoveMeter deletes a meter and all its versions.
func (s *Server) RemoveMeter(meterID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.meters, meterID)
}
