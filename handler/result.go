package handler

import (
	"encoding/json"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// Result is the contract's output object for one check.
type Result struct {
	MeterID           int64         `json:"meterId"`
	Version           string        `json:"version"`
	Status            string        `json:"status"`
	StatusCode        int           `json:"statusCode"`
	StatusDescription string        `json:"statusDescription"`
	Terminal          bool          `json:"terminal"`
	Failed            bool          `json:"failed"`
	CheckedAt         time.Time     `json:"checkedAt"`
	TrackID           string        `json:"trackId"`
	ZuoraRequestID    string        `json:"zuoraRequestId"`
	Alert             *AlertOutcome `json:"alert,omitempty"`
	// AlertOpenSince: with memory, an alert for this meter version is open
	// and this check had nothing to publish.
	AlertOpenSince *time.Time `json:"alertOpenSince,omitempty"`

	// A callout's observation says so, with what Zuora's notification adds.
	Source         string `json:"source,omitempty"` // "callout"
	SessionID      string `json:"sessionId,omitempty"`
	PreviousStatus string `json:"previousStatus,omitempty"`
	RunType        string `json:"runType,omitempty"`
}

// AlertOutcome says whether the message this check published, or tried to,
// reached SNS.
type AlertOutcome struct {
	Published bool   `json:"published"`
	MessageID string `json:"messageId,omitempty"`
	Event     string `json:"event"` // memory.EventAlert, EventReminder or EventResolved
	// An alert of a failed run says why, as its message does: what Zuora
	// said (alert.Explain), and the error name of what it could not say.
	Details      *alert.Details `json:"details,omitempty"`
	DetailsError string         `json:"detailsError,omitempty"`
}

func newResult(c checkRequest, rs zuora.RunStatus, now time.Time) Result {
	return Result{
		MeterID:           c.MeterID,
		Version:           c.Version,
		Status:            rs.Name,
		StatusCode:        rs.Code,
		StatusDescription: rs.Description,
		Terminal:          rs.Terminal,
		Failed:            rs.Failed,
		CheckedAt:         now.UTC().Truncate(time.Second), // the contract shows whole seconds
		TrackID:           c.TrackID,
		ZuoraRequestID:    rs.RequestID,
	}
}

// BatchResult is the contract's batch shape. A scheduled run lists only
// its notable results, and says Truncated when it left some of those out.
type BatchResult struct {
	Results   []BatchItem  `json:"results"`
	Truncated bool         `json:"truncated,omitempty"`
	Summary   BatchSummary `json:"summary"`
}

// BatchSummary counts the results by status and the checks that failed;
// for a scheduled run, also the meters it did not reach before its
// deadline (Total counts them) and the reads or writes of the memory that
// failed.
type BatchSummary struct {
	Total            int            `json:"total"`
	ByStatus         map[string]int `json:"byStatus"`
	Errors           int            `json:"errors"`
	Unchecked        int            `json:"unchecked,omitempty"`
	StateUnavailable int            `json:"stateUnavailable,omitempty"`
}

// BatchItem is either a Result or, for a check that failed, the meter and
// its error; neither while the meter is unchecked.
type BatchItem struct {
	Result *Result
	Meter  memory.Meter
	Error  *ErrorBody
}

func (b BatchItem) unchecked() bool { return b.Result == nil && b.Error == nil }

// MarshalJSON writes a result as the result object, and a failed check as
// {"meterId", "version", "error": {...}}.
func (b BatchItem) MarshalJSON() ([]byte, error) {
	if b.Result != nil {
		return json.Marshal(b.Result)
	}
	return json.Marshal(struct {
		memory.Meter
		Error *ErrorBody `json:"error"`
	}{b.Meter, b.Error})
}

// ErrorBody is the error object in HTTP error replies and failed batch items.
type ErrorBody struct {
	Type           string `json:"type"`
	Message        string `json:"message"`
	ZuoraRequestID string `json:"zuoraRequestId,omitempty"`
}

func summarize(items []BatchItem) BatchSummary {
	s := BatchSummary{Total: len(items), ByStatus: map[string]int{}}
	for _, it := range items {
		if it.Result != nil {
			s.ByStatus[it.Result.Status]++
		} else {
			s.Errors++
		}
	}
	return s
}
