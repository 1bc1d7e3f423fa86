// Package alert writes the message on the topic: its subject, its
// attributes for subscription filters, and its bodies — the JSON every
// machine subscriber reads, a plain-text e-mail a person reads in ten
// seconds, and a one-line SMS — and, for a failed run, asks Zuora why it
// failed (Explain). It knows nothing of SNS: the bootstrap publishes what
// Build returns.
package alert

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// Details are what Zuora says about why a run failed: the contract's
// "details" object. Fields Zuora did not give are left out; never the
// records' payload, which is the customer's usage data.
type Details struct {
	SessionID string     `json:"sessionId,omitempty"`
	From      *time.Time `json:"from,omitempty"`
	To        *time.Time `json:"to,omitempty"`
	Records   *Records   `json:"records,omitempty"`
	TopErrors []TopError `json:"topErrors,omitempty"`
	Operators []Operator `json:"operators,omitempty"`
	Samples   []Sample   `json:"samples,omitempty"`
}

// Records are the run's records output and in error.
type Records struct {
	Output int64 `json:"output"`
	Errors int64 `json:"errors"`
}

// TopError is an error code and how many records have it.
type TopError struct {
	ErrorCode string `json:"errorCode"`
	Count     int64  `json:"count"`
}

// Operator is a processor (operator) and how many records it failed; its
// name when a sample error names it.
type Operator struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Errors int64  `json:"errors"`
}

// Sample is one record in error, without the record.
type Sample struct {
	ErrorCode    string     `json:"errorCode,omitempty"`
	ErrorMessage string     `json:"errorMessage,omitempty"`
	OperatorName string     `json:"operatorName,omitempty"`
	OperatorType string     `json:"operatorType,omitempty"`
	ErrorTime    *time.Time `json:"errorTime,omitempty"`
}

// The most of each list a message carries.
const (
	maxTopErrors = 5
	maxOperators = 5
	maxSamples   = 3
)

// Budget bounds the Zuora calls of one alert's details, from the check: the
// page is late by at most this much, and never lost for it. The contract
// allows 3 s; half a second of it is left for the publish itself.
const Budget = 2500 * time.Millisecond

// lookBack is the longest window a failure is looked for in.
const lookBack = 24 * time.Hour

// Explainer asks Zuora why a run failed (*zuora.Client is one).
type Explainer interface {
	Summary(ctx context.Context, req zuora.SummaryRequest) (zuora.Summary, error)
	AuditErrors(ctx context.Context, req zuora.AuditRequest) (zuora.AuditPage, error)
}

// Query names the failure to explain: a session when the observation knows
// it (a callout), else the window since the meter version was last seen
// not failed.
type Query struct {
	MeterID   int64
	RunType   string    // zuora.RunTypeNormal for FAILED, zuora.RunTypeDebug for TESTING_FAILED
	SessionID string    // "" for a poll
	LastSeen  time.Time // when a check last saw it not failed; zero: never
	Now       time.Time
	// The scoping headers of the check, passed on.
	TrackID, EntityIDs, OrgIDs string
}

// The outcomes of Explain, as the AlertDetails metric counts them.
const (
	OutcomeOK      = "ok"      // both calls answered
	OutcomePartial = "partial" // one of them did
	OutcomeFailed  = "failed"  // neither did
	OutcomeSkipped = "skipped" // no call was made
)

// Explain makes the two calls the contract allows an alert, side by side,
// one attempt each, through z's gate and breaker, within Budget (less when
// ctx has less time left): the summary (records, top error codes,
// operators) and one page of three error records. It returns what it got,
// the error name of what it did not (errorName maps a call's error; the
// summary's first), and the outcome.
func Explain(ctx context.Context, z Explainer, q Query, errorName func(error) string) (Details, string, string) {
	deadline := time.Now().Add(Budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if time.Until(deadline) < 100*time.Millisecond {
		return Details{}, "", OutcomeSkipped
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	d := Details{SessionID: q.SessionID}
	q.Now = q.Now.UTC().Truncate(time.Second)
	from := q.Now.Add(-lookBack)
	if q.LastSeen.After(from) && q.SessionID == "" { // a session is found by its id, whenever it ran
		from = q.LastSeen
	}
	if q.SessionID == "" {
		to := q.Now
		from = from.UTC().Truncate(time.Second)
		d.From, d.To = &from, &to
	}
	var summary zuora.Summary
	var page zuora.AuditPage
	var sumErr, auditErr error
	var wg sync.WaitGroup
	wg.Go(func() { summary, sumErr = z.Summary(ctx, summaryRequest(q, d)) })
	wg.Go(func() { page, auditErr = z.AuditErrors(ctx, auditRequest(q, from)) })
	wg.Wait()
	if sumErr == nil {
		d.fromSummary(summary)
	}
	if auditErr == nil {
		d.fromAudit(page)
	}
	switch err := errors.Join(sumErr, auditErr); {
	case err == nil:
		return d, "", OutcomeOK
	case sumErr != nil && auditErr != nil:
		return d, errorName(sumErr), OutcomeFailed
	case sumErr != nil:
		return d, errorName(sumErr), OutcomePartial
	default:
		return d, errorName(auditErr), OutcomePartial
	}
}

func summaryRequest(q Query, d Details) zuora.SummaryRequest {
	req := zuora.SummaryRequest{MeterID: q.MeterID, RunType: q.RunType, GroupBy: []string{zuora.GroupErrorCode, zuora.GroupProcessor},
		TrackID: q.TrackID, EntityIDs: q.EntityIDs, OrgIDs: q.OrgIDs, MaxAttempts: 1}
	if q.SessionID != "" {
		req.SessionIDs = []string{q.SessionID}
	} else {
		req.From, req.To = *d.From, *d.To
	}
	return req
}

// auditRequest asks for three records in error of the session, or of the
// window; Zuora requires a window either way.
func auditRequest(q Query, from time.Time) zuora.AuditRequest {
	return zuora.AuditRequest{MeterID: q.MeterID, RunType: q.RunType, SessionID: q.SessionID, From: from, To: q.Now,
		PageSize: maxSamples, TrackID: q.TrackID, EntityIDs: q.EntityIDs, OrgIDs: q.OrgIDs, MaxAttempts: 1}
}

func (d *Details) fromSummary(s zuora.Summary) {
	d.Records = &Records{Output: s.Output, Errors: s.Errors}
	for _, t := range s.TopErrorCodes(maxTopErrors) {
		d.TopErrors = append(d.TopErrors, TopError{ErrorCode: t.Key, Count: t.Errors})
	}
	for _, t := range s.TopOperators(maxOperators) {
		d.Operators = append(d.Operators, Operator{ID: t.Key, Errors: t.Errors})
	}
}

func (d *Details) fromAudit(p zuora.AuditPage) {
	for _, e := range p.Errors[:min(len(p.Errors), maxSamples)] {
		for i, o := range d.Operators {
			if o.ID == e.OperatorID && e.OperatorName != "" {
				d.Operators[i].Name = e.OperatorName
			}
		}
		s := Sample{ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, OperatorName: e.OperatorName, OperatorType: e.OperatorType}
		if !e.Time.IsZero() {
			t := e.Time.UTC()
			s.ErrorTime = &t
		}
		d.Samples = append(d.Samples, s)
	}
	d.Samples = slices.Clip(d.Samples)
}
