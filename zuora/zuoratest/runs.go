package zuoratest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PayloadMarker is in the payload of every audit-trail record the simulator
// sends, and nowhere else in any of its answers: the payload stands for a
// customer's usage record, so a test can search messages, errors and logs
// for the marker to prove none of it leaked.
const PayloadMarker = "ZUORATEST-PAYLOAD-7c1e9b"

// Run types.
const (
	RunNormal = "NORMAL"
	RunDebug  = "DEBUG"
)

// Run is one scripted run (a session) of a meter, what the summary and the
// audit trail report.
type Run struct {
	SessionID string // e.g. R-00002247
	RunType   string // RunNormal (also for "") or RunDebug
	// Start and End bound the run; a zero End is a run still going. A run
	// is in a query's window when it overlaps it.
	Start, End time.Time
	Output     int64        // records output
	Errors     []ErrorGroup // records in error, by code and operator
}

// ErrorGroup is Count records in error with one code at one operator. The
// audit trail makes their records as they are asked for, so a Count of
// millions costs nothing until it is paged through.
type ErrorGroup struct {
	Code         string // errorCode, e.g. "1000002"
	Message      string // errorMessage
	OperatorID   string
	OperatorName string // e.g. Rating
	OperatorType string // e.g. BILLING-RATING
	Count        int64
}

// SetRuns replaces a meter's runs (none: the meter has no runs). A meter
// with runs exists for the summary and the audit trail even without a
// scripted version; one without either answers 404 there.
func (s *Server) SetRuns(meterID int64, runs ...Run) {
	cp := make([]Run, len(runs))
	for i, r := range runs {
		cp[i] = r
		cp[i].Errors = append([]ErrorGroup(nil), r.Errors...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[meterID] = cp
}

// meterRuns returns the meter's runs and whether the meter exists, for the
// summary and the audit trail.
func (s *Server) meterRuns(meterID int64) ([]Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	runs, withRuns := s.runs[meterID]
	_, withVersions := s.meters[meterID]
	return runs, withRuns || withVersions
}

// runType is r's run type, NORMAL when unset.
func (r Run) runType() string { return or(r.RunType, RunNormal) }

// overlaps reports whether r overlaps [from, to]; a zero end is open.
func (r Run) overlaps(from, to time.Time) bool {
	if !to.IsZero() && r.Start.After(to) {
		return false
	}
	return from.IsZero() || r.End.IsZero() || !r.End.Before(from)
}

// runJSON is Run on the wire: times as RFC 3339, or as a Go duration
// relative to when the config is read ("-90m": 90 minutes before), so a
// scenario can script a run that has just failed.
type runJSON struct {
	SessionID string           `json:"sessionId"`
	RunType   string           `json:"runType,omitempty"`
	Start     string           `json:"start"`
	End       string           `json:"end,omitempty"`
	Output    int64            `json:"output,omitempty"`
	Errors    []errorGroupJSON `json:"errors,omitempty"`
}

type errorGroupJSON struct {
	Code         string `json:"code"`
	Message      string `json:"message,omitempty"`
	OperatorID   string `json:"operatorId,omitempty"`
	OperatorName string `json:"operatorName,omitempty"`
	OperatorType string `json:"operatorType,omitempty"`
	Count        int64  `json:"count"`
}

// UnmarshalJSON reads a run as MeterRuns documents it.
func (r *Run) UnmarshalJSON(b []byte) error {
	var j runJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	now := time.Now()
	start, err := configTime(j.Start, now)
	if err != nil {
		return fmt.Errorf("run %q start: %w", j.SessionID, err)
	}
	var end time.Time
	if j.End != "" {
		if end, err = configTime(j.End, now); err != nil {
			return fmt.Errorf("run %q end: %w", j.SessionID, err)
		}
	}
	*r = Run{SessionID: j.SessionID, RunType: j.RunType, Start: start, End: end, Output: j.Output}
	for _, g := range j.Errors {
		r.Errors = append(r.Errors, ErrorGroup(g))
	}
	return nil
}

// MarshalJSON writes a run with RFC 3339 times.
func (r Run) MarshalJSON() ([]byte, error) {
	j := runJSON{SessionID: r.SessionID, RunType: r.RunType, Start: r.Start.Format(time.RFC3339Nano), Output: r.Output}
	if !r.End.IsZero() {
		j.End = r.End.Format(time.RFC3339Nano)
	}
	for _, g := range r.Errors {
		j.Errors = append(j.Errors, errorGroupJSON(g))
	}
	return json.Marshal(j)
}

func configTime(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", v)
}

// MeterRuns scripts the runs of one meter in a Config (see SetRuns).
type MeterRuns struct {
	MeterID int64 `json:"meterId"`
	Runs    []Run `json:"runs"`
}

func (m MeterRuns) validate() error {
	if m.MeterID <= 0 {
		return fmt.Errorf("meterRuns %d: meterId must be positive", m.MeterID)
	}
	for _, r := range m.Runs {
		if err := r.validate(); err != nil {
			return fmt.Errorf("meterRuns %d: %w", m.MeterID, err)
		}
	}
	return nil
}

func (r Run) validate() error {
	switch {
	case r.SessionID == "" || len(r.SessionID) > 64:
		return errors.New("a run needs a sessionId of at most 64 characters")
	case r.RunType != "" && r.RunType != RunNormal && r.RunType != RunDebug:
		return fmt.Errorf("run %s: runType %q is neither NORMAL nor DEBUG", r.SessionID, r.RunType)
	case r.Start.IsZero():
		return fmt.Errorf("run %s: start is required", r.SessionID)
	case !r.End.IsZero() && r.End.Before(r.Start):
		return fmt.Errorf("run %s: end is before start", r.SessionID)
	case r.Output < 0:
		return fmt.Errorf("run %s: output is negative", r.SessionID)
	}
	for _, g := range r.Errors {
		if g.Code == "" || g.Count < 0 {
			return fmt.Errorf("run %s: an error group needs a code and a count ≥ 0", r.SessionID)
		}
	}
	return nil
}
