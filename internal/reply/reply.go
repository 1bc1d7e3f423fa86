// Package reply is what the function answers with, as the contract writes
// it: a check's result, the batch shape and a scheduled run's bounded list
// of it, the watch list's answers, a callout's receipt, and the error
// object. The handler decides what to answer; these are the shapes.
package reply

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// Result is the contract's output object for one check.
type Result struct {
	MeterID           int64     `json:"meterId"`
	Version           string    `json:"version"`
	Status            string    `json:"status"`
	StatusCode        int       `json:"statusCode"`
	StatusDescription string    `json:"statusDescription"`
	Terminal          bool      `json:"terminal"`
	Failed            bool      `json:"failed"`
	CheckedAt         time.Time `json:"checkedAt"`
	TrackID           string    `json:"trackId"`
	ZuoraRequestID    string    `json:"zuoraRequestId"`
	Alert             *Alert    `json:"alert,omitempty"`
	// AlertOpenSince: with memory, an alert for this meter version is open
	// and this check had nothing to publish.
	AlertOpenSince *time.Time `json:"alertOpenSince,omitempty"`

	// Muted: the meter version is muted (nothing was published for it).
	Muted *Muted `json:"muted,omitempty"`

	// A callout's observation says so, with what Zuora's notification adds.
	Source         string `json:"source,omitempty"` // "callout"
	SessionID      string `json:"sessionId,omitempty"`
	PreviousStatus string `json:"previousStatus,omitempty"`
	RunType        string `json:"runType,omitempty"`
}

// Muted is a mute as results and the watch list show it.
type Muted struct {
	Until  time.Time `json:"until"`
	Reason string    `json:"reason,omitempty"`
}

// Alert says whether the message this check published, or tried to,
// reached SNS.
type Alert struct {
	Published bool   `json:"published"`
	MessageID string `json:"messageId,omitempty"`
	Event     string `json:"event"` // memory.EventAlert, EventReminder or EventResolved
	// An alert of a failed run says why, as its message does: what Zuora
	// said (alert.Explain), and the error name of what it could not say.
	Details      *alert.Details `json:"details,omitempty"`
	DetailsError string         `json:"detailsError,omitempty"`
}

// NewResult is the result of a check that Zuora answered with rs at now.
func NewResult(c trigger.Check, rs zuora.RunStatus, now time.Time) Result {
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

// Batch is the contract's batch shape. A scheduled run lists only
// its notable results, and says Truncated when it left some of those out.
type Batch struct {
	Results   []Item  `json:"results"`
	Truncated bool    `json:"truncated,omitempty"`
	Summary   Summary `json:"summary"`
}

// Summary counts the results by status and the checks that failed;
// for a scheduled run, also the meters it did not reach before its
// deadline (Total counts them) and the reads or writes of the memory that
// failed.
type Summary struct {
	Total            int            `json:"total"`
	ByStatus         map[string]int `json:"byStatus"`
	Errors           int            `json:"errors"`
	Unchecked        int            `json:"unchecked,omitempty"`
	StateUnavailable int            `json:"stateUnavailable,omitempty"`
}

// Item is either a Result or, for a check that failed, the meter and
// its error; neither while the meter is unchecked.
type Item struct {
	Result *Result
	Meter  memory.Meter
	Error  *ErrorBody
}

// Unchecked reports whether the item's meter was not reached.
func (b Item) Unchecked() bool { return b.Result == nil && b.Error == nil }

// MarshalJSON writes a result as the result object, and a failed check as
// {"meterId", "version", "error": {...}}.
func (b Item) MarshalJSON() ([]byte, error) {
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

// Summarize counts items by status, and the checks that failed.
func Summarize(items []Item) Summary {
	s := Summary{Total: len(items), ByStatus: map[string]int{}}
	for _, it := range items {
		if it.Result != nil {
			s.ByStatus[it.Result.Status]++
		} else {
			s.Errors++
		}
	}
	return s
}

// Bounds of a scheduled run's reply: it checks a watch list of any size, so
// it lists only the notable items, and few enough that the reply stays well
// under 256 KB (EventBridge and Scheduler invoke asynchronously; Lambda's
// limit for a reply is 6 MB, the contract's is 256 KB).
const (
	maxScheduledResults     = 1000
	maxScheduledResultBytes = 240 << 10
)

// Notable is what a scheduled run's reply lists: the items that published
// or failed to publish a message first, then failed checks, then items in
// an ALERT_ON status, at most 1,000 of them and 240 KB; truncated when some
// were left out. Unchecked items are not listed.
func Notable(items []Item, alertsOn func(string) bool) ([]Item, bool) {
	rank := func(it Item) int {
		switch {
		case it.Result != nil && it.Result.Alert != nil:
			return 0
		case it.Error != nil:
			return 1
		case it.Result != nil && alertsOn(it.Result.Status):
			return 2
		}
		return 3 // not notable, and an unchecked item
	}
	picked := slices.DeleteFunc(slices.Clone(items), func(it Item) bool { return rank(it) == 3 })
	slices.SortStableFunc(picked, func(a, b Item) int { return cmp.Compare(rank(a), rank(b)) })
	size := 0
	for i, it := range picked {
		b, _ := json.Marshal(it) // an Item always marshals
		if size += len(b) + 1; i == maxScheduledResults || size > maxScheduledResultBytes {
			return picked[:i], true
		}
	}
	return picked, false
}

// Watch is the answer to PUT and DELETE /meters/{meterId}/{version}/watch:
// with the expectation its runs are due on, when one was set.
type Watch struct {
	memory.Meter
	Watched   bool                `json:"watched"`
	Expect    *expect.Expectation `json:"expect,omitempty"`
	NextDueAt string              `json:"nextDueAt,omitempty"` // RFC 3339 in the expectation's zone
}

// WatchOf is the answer to a watch route that set w for m, at now.
func WatchOf(m memory.Meter, w memory.Watch, now time.Time) Watch {
	return Watch{Meter: m, Watched: w.Watched, Expect: w.Expect, NextDueAt: nextDue(w.Expect, now)}
}

// Mute is the answer to PUT and DELETE /meters/{meterId}/{version}/mute:
// the mute, or null.
type Mute struct {
	memory.Meter
	Muted *Muted `json:"muted"`
}

// WatchedMeter is one item of GET /meters: the last four of the check
// fields once the meter version has been checked, alertOpenSince only while
// an alert is open; expect and nextDueAt while an expectation is set, late
// while a late alert is open, muted while muted.
type WatchedMeter struct {
	memory.Meter
	Watched        bool                `json:"watched"`
	Status         string              `json:"status,omitempty"`
	StatusCode     *int                `json:"statusCode,omitempty"`
	CheckedAt      *time.Time          `json:"checkedAt,omitempty"`
	ChangedAt      *time.Time          `json:"changedAt,omitempty"`
	AlertOpenSince *time.Time          `json:"alertOpenSince,omitempty"`
	Expect         *expect.Expectation `json:"expect,omitempty"`
	NextDueAt      string              `json:"nextDueAt,omitempty"`
	Late           *Late               `json:"late,omitempty"`
	Muted          *Muted              `json:"muted,omitempty"`
}

// Late is an open late alert as the watch list shows it: the first due
// time missed, and whether Zuora confirmed the miss.
type Late struct {
	Due      string `json:"due"` // RFC 3339 in the expectation's zone
	Verified bool   `json:"verified"`
}

// WatchPage is one page of GET /meters.
type WatchPage struct {
	Meters    []WatchedMeter `json:"meters"`
	NextToken string         `json:"nextToken,omitempty"`
}

// WatchedMeterOf is s as GET /meters lists it at now.
func WatchedMeterOf(s memory.State, now time.Time) WatchedMeter {
	w := WatchedMeter{Meter: s.Meter, Watched: true, Expect: s.Expect, NextDueAt: nextDue(s.Expect, now)}
	if s.Mute.Muted(now) {
		w.Muted = &Muted{Until: s.Mute.Until.UTC(), Reason: s.Mute.Reason}
	}
	if s.Late != nil && s.Expect != nil {
		w.Late = &Late{Due: s.Expect.FormatDueRFC3339(s.Late.Due), Verified: s.Late.Verified}
	}
	if s.Rev == 0 {
		return w
	}
	code, checked, changed := s.StatusCode, s.CheckedAt.UTC(), s.ChangedAt.UTC()
	w.Status, w.StatusCode, w.CheckedAt, w.ChangedAt = s.Status, &code, &checked, &changed
	if s.AlertStatus != "" {
		since := s.AlertSince.UTC()
		w.AlertOpenSince = &since
	}
	return w
}

// nextDue is e's next due time after now, in its zone; "" without one.
func nextDue(e *expect.Expectation, now time.Time) string {
	if e == nil {
		return ""
	}
	if t := e.Next(now); !t.IsZero() {
		return e.FormatDueRFC3339(t)
	}
	return ""
}

// Callout is the 200 answer to a callout.
type Callout struct {
	Received  bool     `json:"received"`
	Duplicate bool     `json:"duplicate,omitempty"`
	Stale     bool     `json:"stale,omitempty"` // older news than the memory's: nothing done
	Results   []Result `json:"results,omitempty"`
}
