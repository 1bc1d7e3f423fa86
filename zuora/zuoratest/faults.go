package zuoratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Fault is a scripted answer of the summary or the audit-trail endpoint
// to a call that passed authentication and the tenant's limit, instead of
// (or, with only Latency, before) the answer the runs give.
type Fault struct {
	// HTTPStatus is the answer's status, with Zuora's body for it (as for
	// a Step: 400 errors[], 5xx reasons[], ...); 0 or 200 answers from the
	// runs, or with Body.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Body, when set, is sent as it is.
	Body string `json:"body,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string `json:"retryAfter,omitempty"`
	// ErrorCode and ErrorMessage override those of a generated error body.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	// Latency delays the answer; the wait ends early if the client goes away.
	Latency time.Duration `json:"-"`
	// Drop aborts the connection without an answer.
	Drop bool `json:"drop,omitempty"`
}

type faultJSON struct {
	faultAlias
	Latency string `json:"latency,omitempty"`
}

type faultAlias Fault

// UnmarshalJSON reads a fault, with latency as a duration string like "5s".
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	*f = Fault(j.faultAlias)
	if j.Latency != "" {
		d, err := time.ParseDuration(j.Latency)
		if err != nil || d < 0 {
			return fmt.Errorf("fault latency %q is not a duration", j.Latency)
		}
		f.Latency = d
	}
	return nil
}

// MarshalJSON writes a fault the way UnmarshalJSON reads it.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{faultAlias: faultAlias(f)}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	return json.Marshal(j)
}

func (f Fault) validate() error {
	if f.HTTPStatus != 0 && (f.HTTPStatus < 200 || f.HTTPStatus > 599) {
		return fmt.Errorf("fault status %d is not an HTTP status", f.HTTPStatus)
	}
	return nil
}

// faultScript is an endpoint's faults: each call takes the next, the last
// repeats; none answers from the runs.
type faultScript struct {
	faults []Fault
	next   int
}

func (fs *faultScript) take() Fault {
	if len(fs.faults) == 0 {
		return Fault{}
	}
	i := min(fs.next, len(fs.faults)-1)
	if fs.next < len(fs.faults) {
		fs.next++
	}
	return fs.faults[i]
}

// SetSummaryFault scripts the summary's answers: each call takes the next
// fault and the last repeats, so SetSummaryFault(Fault{HTTPStatus: 500},
// Fault{}) fails once and then answers from the runs. No faults clears it.
func (s *Server) SetSummaryFault(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.summaryFaults = faultScript{faults: append([]Fault(nil), faults...)}
}

// SetAuditFault does the same for the audit trail.
func (s *Server) SetAuditFault(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auditFaults = faultScript{faults: append([]Fault(nil), faults...)}
}

// admitMediation is what the summary and the audit trail do before their
// own work, in the order the run status does it: the method, the bearer
// token, the tenant's limit and outage, then the endpoint's scripted fault.
// It reports whether the call goes on; when not, it has answered (or, for
// a client that went away or a dropped connection, given up).
func (s *Server) admitMediation(w http.ResponseWriter, r *http.Request, method string, faults *faultScript) (usage, bool) {
	if r.Method != method {
		writeJSON(w, r, http.StatusMethodNotAllowed, []byte(`{"message":"Method Not Allowed"}`))
		return usage{}, false
	}
	if !s.authorized(r) {
		writeUnauthorized(w, r)
		return usage{}, false
	}
	u, imposed := s.countCall()
	if imposed != nil {
		s.writeStep(w, r, *imposed, 0, u)
		return u, false
	}
	s.mu.Lock()
	f := faults.take()
	s.mu.Unlock()
	if !sleepCtx(r.Context(), f.Latency) {
		return u, false // the client went away
	}
	if f.Drop {
		panic(http.ErrAbortHandler) // aborts the connection; net/http does not log it
	}
	if f.Body != "" || f.HTTPStatus != 0 && f.HTTPStatus != http.StatusOK {
		s.writeStep(w, r, Step{HTTPStatus: f.HTTPStatus, Body: f.Body, RetryAfter: f.RetryAfter,
			ErrorCode: f.ErrorCode, ErrorMessage: f.ErrorMessage}, 0, u)
		return u, false
	}
	return u, true
}
