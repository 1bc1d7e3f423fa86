package zuora

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Audit-trail page sizes: Zuora's default and its maximum.
const (
	DefaultAuditPageSize = 30
	MaxAuditPageSize     = 500
)

// AuditRequest asks for one page of a meter's records in error.
type AuditRequest struct {
	MeterID    int64
	RunType    string    // RunTypeNormal or RunTypeDebug; Zuora requires one, "" sends RunTypeNormal
	SessionID  string    // optional: 1–64 printable US-ASCII characters
	OperatorID string    // optional: 1–128 such characters
	From, To   time.Time // required: queryFromTime and queryToTime, sent in UTC (2006-01-02T15:04:05+0000)
	PageSize   int       // 1–500; 0 means DefaultAuditPageSize
	Cursor     string    // the previous page's NextCursor; "" for the first page; at most 4,096 characters
	TrackID    string    // Zuora-Track-Id, as in Request
	EntityIDs  string    // Zuora-Entity-Ids, as in Request
	OrgIDs     string    // Zuora-Org-Ids, as in Request
	// MaxAttempts bounds this call's HTTP attempts as in SummaryRequest.
	MaxAttempts int
}

// AuditPage is one page of records in error.
type AuditPage struct {
	Errors []AuditError // at most the request's page size
	// NextCursor asks for the next page; "" on the last one, and when
	// Zuora's token is longer than 4,096 characters or not printable
	// US-ASCII without spaces (it could not be sent back).
	NextCursor string
	RequestID  string // Zuora-Request-Id
	Attempts   int    // HTTP attempts this call took
	Latency    time.Duration
}

// AuditError is one record in error, without the record itself: Zuora's
// entry also carries the customer's usage record (its payload), which this
// package never decodes, so it cannot reach an alert, a log or an error.
type AuditError struct {
	Time         time.Time // errorTime; zero when absent or unreadable
	ErrorCode    string    // as text, whether Zuora sent a number or a string
	ErrorMessage string    // at most 512 bytes
	OperatorName string
	OperatorType string // e.g. BILLING-RATING
	OperatorID   string
	EventID      string
	TraceID      string
}

// ValidateAuditRequest checks an AuditRequest the way Client.AuditErrors
// does before sending anything: nil or an *Error of class
// ErrInvalidArgument.
func ValidateAuditRequest(req AuditRequest) error {
	if req.MeterID <= 0 {
		return invalidArgument("meterId must be a positive integer, got %d", req.MeterID)
	}
	if err := validateRunType(req.RunType); err != nil {
		return err
	}
	if req.SessionID != "" {
		if err := validateID("sessionId", req.SessionID, maxSessionIDLen); err != nil {
			return err
		}
	}
	if req.OperatorID != "" {
		if err := validateID("operatorId", req.OperatorID, maxOperatorIDLen); err != nil {
			return err
		}
	}
	if req.Cursor != "" {
		if err := validateToken("cursor", req.Cursor); err != nil {
			return err
		}
	}
	if req.PageSize < 0 || req.PageSize > MaxAuditPageSize {
		return invalidArgument("pageSize must be 1 to %d (0 for %d), got %d", MaxAuditPageSize, DefaultAuditPageSize, req.PageSize)
	}
	if err := validateWindow(req.From, req.To, true); err != nil {
		return err
	}
	if err := validateMaxAttempts(req.MaxAttempts); err != nil {
		return err
	}
	return validateScope(req.TrackID, req.EntityIDs, req.OrgIDs)
}

// AuditErrors reads one page of a meter's records in error:
// GET {base}/meters/{meterId}/auditTrail/entries?exportType=ERROR&….
//
// It goes through the same machinery as RunStatus, with the status classes
// of Summary. Entries are read defensively (errorTime as epoch milliseconds,
// a number or RFC 3339; codes as text; missing fields empty), and at most
// the page size of them are kept. Each entry's payload, the customer's
// usage record, is skipped unread, and no error of this call quotes the
// answer's body.
func (c *Client) AuditErrors(ctx context.Context, req AuditRequest) (AuditPage, error) {
	start := time.Now()
	if err := ValidateAuditRequest(req); err != nil {
		return AuditPage{}, err
	}
	pageSize := cmp.Or(req.PageSize, DefaultAuditPageSize)
	var p AuditPage
	x := &exchange{
		method:      http.MethodGet,
		endpoint:    c.base + "/meters/" + strconv.FormatInt(req.MeterID, 10) + "/auditTrail/entries?" + auditQuery(req, pageSize).Encode(),
		scope:       scope{req.TrackID, req.EntityIDs, req.OrgIDs},
		maxAttempts: c.attemptsFor(req.MaxAttempts),
		read: func(b []byte) *Error {
			var e *Error
			p, e = decodeAudit(b, pageSize)
			return e
		},
	}
	got, err := c.do(ctx, x)
	if err != nil {
		return AuditPage{}, err
	}
	p.RequestID, p.Attempts, p.Latency = clip(got.requestID, maxIDLen), got.attempts, time.Since(start)
	return p, nil
}

// auditQuery is the query of a validated request.
func auditQuery(req AuditRequest, pageSize int) url.Values {
	q := url.Values{
		"exportType":    {"ERROR"},
		"runType":       {cmp.Or(req.RunType, RunTypeNormal)},
		"queryFromTime": {formatZuoraTime(req.From)},
		"queryToTime":   {formatZuoraTime(req.To)},
		"pageSize":      {strconv.Itoa(pageSize)},
	}
	for k, v := range map[string]string{"sessionId": req.SessionID, "operatorId": req.OperatorID, "cursor": req.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// auditEntry is the part of an audit-trail entry this package reads. It has
// no payload field on purpose: the decoder skips the customer's record
// without keeping any of it. Anything but an object reads as an entry to
// skip.
type auditEntry struct {
	ErrorTime    text `json:"errorTime"`
	ErrorCode    text `json:"errorCode"`
	ErrorMessage text `json:"errorMessage"`
	OperatorName text `json:"operatorName"`
	OperatorType text `json:"operatorType"`
	OperatorID   text `json:"operatorId"`
	EventID      text `json:"eventId"`
	TraceID      text `json:"traceId"`
	skip         bool
}

func (e *auditEntry) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		e.skip = true
		return nil
	}
	type plain auditEntry // without this method
	return json.Unmarshal(b, (*plain)(e))
}

// decodeAudit reads an audit-trail 200 body, keeping at most limit entries.
func decodeAudit(body []byte, limit int) (AuditPage, *Error) {
	env, e := readEnvelope(body)
	if e != nil {
		return AuditPage{}, e
	}
	var p AuditPage
	if c := nextPage(env.NextPage); validateToken("cursor", c) == nil {
		p.NextCursor = c
	}
	err := eachElement(env.Data, func(en auditEntry) bool {
		if !en.skip {
			p.Errors = append(p.Errors, en.audited())
		}
		return len(p.Errors) < limit
	})
	if err != nil {
		return AuditPage{}, shapeError("data is not a list of audit entries")
	}
	return p, nil
}

func (en auditEntry) audited() AuditError {
	return AuditError{
		Time:         parseEventTime(string(en.ErrorTime)),
		ErrorCode:    clip(string(en.ErrorCode), maxIDLen),
		ErrorMessage: clip(string(en.ErrorMessage), maxMessageLen),
		OperatorName: clip(string(en.OperatorName), maxIDLen),
		OperatorType: clip(string(en.OperatorType), maxIDLen),
		OperatorID:   clip(string(en.OperatorID), maxIDLen),
		EventID:      clip(string(en.EventID), maxIDLen),
		TraceID:      clip(string(en.TraceID), maxIDLen),
	}
}
