package zuora

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// groupBy values for a summary. The published example uses these three;
// Zuora's prose also speaks of grouping by operator id, unconfirmed.
const (
	GroupErrorCode = "errorCode"
	GroupProcessor = "processorId"
	GroupSession   = "sessionId"
)

// MaxSummaryGroups is how many groups of one summary are kept.
const MaxSummaryGroups = 1000

// maxGroupBy bounds the groupBy list; its names are short identifiers.
const (
	maxGroupBy    = 8
	maxGroupByLen = 64
)

// SummaryRequest asks how a meter's runs went: records output and records
// in error, grouped by what GroupBy names. Every filter is optional.
type SummaryRequest struct {
	MeterID     int64
	RunType     string    // RunTypeNormal or RunTypeDebug; "" sends none
	SessionIDs  []string  // sessionIds: at most 100, each 1–64 printable US-ASCII characters; nil sends none
	OperatorIDs []string  // operatorIds: at most 100, each 1–128 such characters; nil sends none
	From, To    time.Time // queryFromTime and queryToTime, sent in UTC (2006-01-02T15:04:05+0000); zero sends none
	GroupBy     []string  // e.g. GroupErrorCode, GroupProcessor, GroupSession; at most 8
	TrackID     string    // Zuora-Track-Id, as in Request
	EntityIDs   string    // Zuora-Entity-Ids, as in Request
	OrgIDs      string    // Zuora-Org-Ids, as in Request
	// MaxAttempts bounds this call's HTTP attempts, the 401 retry included:
	// fewer than the Client's MaxAttempts, or 0 for the Client's. With 1 the
	// call makes exactly one attempt.
	MaxAttempts int
}

// Summary is Zuora's summary of a meter's runs.
type Summary struct {
	Groups []SummaryGroup // in Zuora's order; at most MaxSummaryGroups
	// Output and Errors sum output and totalErrorCount over every group of
	// the answer, those beyond MaxSummaryGroups too. What a group's output
	// means when grouped by error code or processor is not published.
	Output, Errors int64
	// Truncated: the answer had more groups than were kept, or named a next
	// page, which this package does not fetch (no paging parameter of the
	// summary is published).
	Truncated bool
	RequestID string // Zuora-Request-Id, else the answer's data.requestId
	Attempts  int    // HTTP attempts this call took
	Latency   time.Duration
}

// SummaryGroup is one entry of the summary's data.output.
type SummaryGroup struct {
	// Dimensions are the group's keys and values as Zuora sent them (at
	// most 16, values as text, null as ""): which key names come back is
	// not published, so read them with ErrorCode, Operator and Session.
	Dimensions map[string]string
	Output     int64 // records output
	Errors     int64 // totalErrorCount
}

// Dimension returns the value of the first of names that the group has,
// comparing names without regard to case, '_', '-' or '.'. Should two keys
// match one name, the first in sorted order wins, whatever the map's order.
func (g SummaryGroup) Dimension(names ...string) (string, bool) {
	for _, want := range names {
		want = foldKey(want)
		best, found := "", false
		for k := range g.Dimensions {
			if foldKey(k) == want && (!found || k < best) {
				best, found = k, true
			}
		}
		if found {
			return g.Dimensions[best], true
		}
	}
	return "", false
}

// ErrorCode is the group's error code ("" for records not in error, or
// when the summary was not grouped by error code).
func (g SummaryGroup) ErrorCode() string {
	v, _ := g.Dimension("errorCode", "error", "code")
	return v
}

// Operator is the id of the group's processor (operator), "" if none.
func (g SummaryGroup) Operator() string {
	v, _ := g.Dimension("processorId", "operatorId", "processor", "operator")
	return v
}

// Session is the group's session id, "" if none.
func (g SummaryGroup) Session() string {
	v, _ := g.Dimension("sessionId", "session")
	return v
}

func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.':
			return -1
		}
		return r
	}, strings.ToLower(k))
}

// Sessions counts the groups that name a session: the sessions that ran,
// in a summary grouped by GroupSession.
func (s Summary) Sessions() int {
	n := 0
	for _, g := range s.Groups {
		if g.Session() != "" {
			n++
		}
	}
	return n
}

// Tally is a count of records in error by one key.
type Tally struct {
	Key    string
	Errors int64
}

// TopErrorCodes sums the groups' errors by error code and returns the n
// largest, most first (ties by code). Groups without a code or an error
// are left out.
func (s Summary) TopErrorCodes(n int) []Tally { return s.top(n, SummaryGroup.ErrorCode) }

// TopOperators does the same by processor (operator) id.
func (s Summary) TopOperators(n int) []Tally { return s.top(n, SummaryGroup.Operator) }

func (s Summary) top(n int, key func(SummaryGroup) string) []Tally {
	sums := map[string]int64{}
	for _, g := range s.Groups {
		if k := key(g); k != "" && g.Errors > 0 {
			sums[k] = addSat(sums[k], g.Errors)
		}
	}
	out := make([]Tally, 0, len(sums))
	for k, v := range sums {
		out = append(out, Tally{Key: k, Errors: v})
	}
	slices.SortFunc(out, func(a, b Tally) int {
		if c := cmp.Compare(b.Errors, a.Errors); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out[:min(max(n, 0), len(out))]
}

// ValidateSummaryRequest checks a SummaryRequest the way Client.Summary does
// before sending anything: nil or an *Error of class ErrInvalidArgument.
func ValidateSummaryRequest(req SummaryRequest) error {
	if req.MeterID <= 0 {
		return invalidArgument("meterId must be a positive integer, got %d", req.MeterID)
	}
	if err := validateRunType(req.RunType); err != nil {
		return err
	}
	if err := validateIDs("sessionIds", req.SessionIDs, maxSessionIDLen); err != nil {
		return err
	}
	if err := validateIDs("operatorIds", req.OperatorIDs, maxOperatorIDLen); err != nil {
		return err
	}
	if err := validateGroupBy(req.GroupBy); err != nil {
		return err
	}
	if err := validateWindow(req.From, req.To, false); err != nil {
		return err
	}
	if err := validateMaxAttempts(req.MaxAttempts); err != nil {
		return err
	}
	return validateScope(req.TrackID, req.EntityIDs, req.OrgIDs)
}

// validateGroupBy accepts any short identifier: which names Zuora takes
// beyond the published three is unconfirmed, and Zuora says so with a 400.
func validateGroupBy(keys []string) error {
	if len(keys) > maxGroupBy {
		return invalidArgument("at most %d groupBy keys, got %d", maxGroupBy, len(keys))
	}
	for _, k := range keys {
		if k == "" || len(k) > maxGroupByLen || strings.IndexFunc(k, notIdentRune) >= 0 {
			return invalidArgument("groupBy key %q must be 1 to %d letters, digits or _", clip(k, maxGroupByLen), maxGroupByLen)
		}
	}
	return nil
}

func notIdentRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
}

// summaryQuery is the summary's request body.
type summaryQuery struct {
	RunType       string   `json:"runType,omitempty"`
	SessionIDs    []string `json:"sessionIds,omitempty"`
	OperatorIDs   []string `json:"operatorIds,omitempty"`
	GroupBy       []string `json:"groupBy,omitempty"`
	QueryFromTime string   `json:"queryFromTime,omitempty"`
	QueryToTime   string   `json:"queryToTime,omitempty"`
}

// Summary asks Zuora for the summary of a meter's runs:
// POST {base}/meters/{meterId}/summary.
//
// It goes through the same machinery as RunStatus (token, gate and breaker,
// retries, 401 once, error classes): 400 is ErrInvalidArgument, 404
// ErrNotFound, 429 ErrThrottled and 5xx ErrUnavailable, retried within
// MaxAttempts; a 200 whose success is not true, or whose body is not
// Zuora's shape, is ErrUnavailable and not retried. The answer is read
// defensively: unknown dimension keys are kept, numbers and strings are both
// taken as text, missing fields are empty.
func (c *Client) Summary(ctx context.Context, req SummaryRequest) (Summary, error) {
	start := time.Now()
	if err := ValidateSummaryRequest(req); err != nil {
		return Summary{}, err
	}
	q := summaryQuery{RunType: req.RunType, SessionIDs: req.SessionIDs, OperatorIDs: req.OperatorIDs, GroupBy: req.GroupBy}
	if !req.From.IsZero() {
		q.QueryFromTime = formatZuoraTime(req.From)
	}
	if !req.To.IsZero() {
		q.QueryToTime = formatZuoraTime(req.To)
	}
	body, err := json.Marshal(q)
	if err != nil {
		return Summary{}, &Error{Class: ErrInvalidArgument, Message: "cannot encode the request", Err: err}
	}
	var s Summary
	x := &exchange{
		method:      http.MethodPost,
		endpoint:    c.base + "/meters/" + strconv.FormatInt(req.MeterID, 10) + "/summary",
		body:        body,
		scope:       scope{req.TrackID, req.EntityIDs, req.OrgIDs},
		maxAttempts: c.attemptsFor(req.MaxAttempts),
		read: func(b []byte) *Error {
			var e *Error
			s, e = decodeSummary(b)
			return e
		},
	}
	got, err := c.do(ctx, x)
	if err != nil {
		return Summary{}, err
	}
	s.Attempts, s.Latency = got.attempts, time.Since(start)
	if got.requestID != "" {
		s.RequestID = clip(got.requestID, maxIDLen)
	}
	return s, nil
}

// summaryData is the summary's data object.
type summaryData struct {
	RequestID text            `json:"requestId"`
	Output    json.RawMessage `json:"output"`
}

// summaryEntry is one entry of data.output; anything but an object reads
// as an entry to skip.
type summaryEntry struct {
	Dimensions dims  `json:"dimensions"`
	Output     count `json:"output"`
	Errors     count `json:"totalErrorCount"`
	skip       bool
}

func (e *summaryEntry) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		e.skip = true
		return nil
	}
	type plain summaryEntry // without this method
	return json.Unmarshal(b, (*plain)(e))
}

// dims is a group's dimensions; anything but an object reads as none.
type dims map[string]text

func (d *dims) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	m := map[string]text{}
	if json.Unmarshal(b, &m) == nil {
		*d = m
	}
	return nil
}

// decodeSummary reads a summary's 200 body.
func decodeSummary(body []byte) (Summary, *Error) {
	env, e := readEnvelope(body)
	if e != nil {
		return Summary{}, e
	}
	var data summaryData
	if len(env.Data) == 0 || env.Data[0] != '{' || json.Unmarshal(env.Data, &data) != nil {
		return Summary{}, shapeError("response has no data object")
	}
	s := Summary{RequestID: clip(string(data.RequestID), maxIDLen), Truncated: nextPage(env.NextPage) != ""}
	err := eachElement(data.Output, func(en summaryEntry) bool {
		if en.skip {
			return true
		}
		s.Output, s.Errors = addSat(s.Output, int64(en.Output)), addSat(s.Errors, int64(en.Errors))
		if len(s.Groups) == MaxSummaryGroups {
			s.Truncated = true
			return true // on, for the totals
		}
		s.Groups = append(s.Groups, SummaryGroup{Dimensions: keepDims(en.Dimensions), Output: int64(en.Output), Errors: int64(en.Errors)})
		return true
	})
	if err != nil {
		return Summary{}, shapeError("data.output is not a list of groups")
	}
	return s, nil
}

// keepDims bounds a group's dimensions: the first maxDimensions keys in
// sorted order (so which are kept does not depend on map order), keys and
// values clipped.
func keepDims(d dims) map[string]string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, min(len(keys), maxDimensions))
	for _, k := range keys[:min(len(keys), maxDimensions)] {
		out[clip(k, maxDimensionKey)] = clip(string(d[k]), maxIDLen)
	}
	return out
}
