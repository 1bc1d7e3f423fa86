package zuoratest

import (
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Zuora's code for a time parameter not in its form.
const CodeInvalidDateString = "70002011"

// zuoraTimeLayout is the form of queryFromTime and queryToTime:
// YYYY-MM-DDTHH:MM:SS±HHMM.
const zuoraTimeLayout = "2006-01-02T15:04:05-0700"

// maxSummaryBody bounds a summary request's body.
const maxSummaryBody = 64 << 10

// summaryQuery is the summary's request body, and its echo in data.query
// with nulls for the filters left out.
type summaryQuery struct {
	RunType       *string  `json:"runType"`
	SessionIDs    []string `json:"sessionIds"`
	OperatorIDs   []string `json:"operatorIds"`
	GroupBy       []string `json:"groupBy"`
	QueryFromTime *string  `json:"queryFromTime"`
	QueryToTime   *string  `json:"queryToTime"`
}

type summaryResponse struct {
	Success      bool        `json:"success"`
	Data         summaryData `json:"data"`
	PreviousPage *string     `json:"previousPage"`
	NextPage     *string     `json:"nextPage"`
}

type summaryData struct {
	RequestID   string         `json:"requestId"`
	RequestTime string         `json:"requestTime"`
	Query       summaryQuery   `json:"query"`
	Output      []summaryGroup `json:"output"`
}

type summaryGroup struct {
	Dimensions      map[string]any `json:"dimensions"`
	Output          int64          `json:"output"`
	TotalErrorCount int64          `json:"totalErrorCount"`
	key             string         // the dimensions as JSON: identity and order
}

// serveSummary is POST /meters/{meterId}/summary. See summarize for what
// it answers.
func (s *Server) serveSummary(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	s.stats.SummaryCalls++
	s.mu.Unlock()
	// The body is read first: until it is, net/http does not notice a
	// client that goes away, and a slow answer would wait for nothing.
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSummaryBody))
	u, ok := s.admitMediation(w, r, http.MethodPost, &s.summaryFaults)
	if !ok {
		return
	}
	meterID, bad := pathMeterID(path)
	var q summaryQuery
	var f summaryFilter
	if bad == nil {
		q, bad = readSummaryQuery(r, body, readErr)
	}
	if bad == nil {
		f, bad = newSummaryFilter(q)
	}
	if bad != nil {
		writeBadRequest(w, r, u, *bad)
		return
	}
	runs, known := s.meterRuns(meterID)
	if !known {
		writeMeterNotFound(w, r, u)
		return
	}
	setRateLimitHeaders(w.Header(), u, http.StatusOK, "")
	writeJSON(w, r, http.StatusOK, mustJSON(summaryResponse{
		Success: true,
		Data: summaryData{
			RequestID:   newID(),
			RequestTime: time.Now().UTC().Format(zuoraTimeLayout),
			Query:       q,
			Output:      summarize(runs, f),
		},
	}))
}

// readSummaryQuery reads the request body: a JSON object (Zuora requires
// one) without fields Zuora does not document, so a client's misspelt
// field fails here instead of being ignored.
func readSummaryQuery(r *http.Request, body []byte, readErr error) (summaryQuery, *errorItem) {
	var q summaryQuery
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return q, &errorItem{"INVALID_VALUE", "Content-Type must be application/json"}
	}
	if readErr != nil {
		return q, &errorItem{"INVALID_VALUE", "the request body cannot be read"}
	}
	if len(strings.TrimSpace(string(body))) == 0 || body[0] != '{' {
		return q, &errorItem{"INVALID_VALUE", "the request body must be a JSON object"}
	}
	if err := strictUnmarshal(body, &q); err != nil {
		return q, &errorItem{"INVALID_VALUE", "the request body is invalid: " + clipString(err.Error(), 200)}
	}
	return q, nil
}

// summaryFilter is a checked summary query.
type summaryFilter struct {
	runType   string          // "": any
	sessions  map[string]bool // nil: any
	operators map[string]bool // nil: any
	groupBy   []string        // without repeats
	from, to  time.Time       // zero: open
}

func newSummaryFilter(q summaryQuery) (summaryFilter, *errorItem) {
	var f summaryFilter
	var bad *errorItem
	if q.RunType != nil {
		if f.runType, bad = checkRunType(*q.RunType); bad != nil {
			return f, bad
		}
	}
	if f.from, bad = optionalTime("queryFromTime", q.QueryFromTime); bad != nil {
		return f, bad
	}
	if f.to, bad = optionalTime("queryToTime", q.QueryToTime); bad != nil {
		return f, bad
	}
	for _, k := range q.GroupBy {
		switch k {
		case "errorCode", "processorId", "operatorId", "sessionId":
		default:
			return f, &errorItem{"INVALID_VALUE", "groupBy " + strconv.Quote(clipString(k, 40)) + " is not one of errorCode, processorId, operatorId, sessionId"}
		}
		if !slices.Contains(f.groupBy, k) {
			f.groupBy = append(f.groupBy, k)
		}
	}
	f.sessions, f.operators = setOf(q.SessionIDs), setOf(q.OperatorIDs)
	return f, nil
}

func setOf(ids []string) map[string]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func (f summaryFilter) matches(r Run) bool {
	return (f.runType == "" || r.runType() == f.runType) &&
		(f.sessions == nil || f.sessions[r.SessionID]) && r.overlaps(f.from, f.to)
}

// summarize groups the runs f selects by f's groupBy keys. Each run gives
// its output to the group whose errorCode and processorId (operatorId) are
// null: output records carry no error and have passed every operator. Each
// error group gives its Count to the group of its code and operator. With
// an operatorIds filter only the errors of those operators count, and no
// output (it belongs to no one operator). Groups with neither output nor
// errors are left out; the rest come sorted by their dimensions.
func summarize(runs []Run, f summaryFilter) []summaryGroup {
	groups := map[string]*summaryGroup{}
	add := func(dims map[string]any, output, errs int64) {
		key := string(mustJSON(dims))
		g := groups[key]
		if g == nil {
			g = &summaryGroup{Dimensions: dims, key: key}
			groups[key] = g
		}
		g.Output += max(output, 0)
		g.TotalErrorCount += max(errs, 0)
	}
	for _, r := range runs {
		if !f.matches(r) {
			continue
		}
		if f.operators == nil {
			add(f.dimensions(r, nil), r.Output, 0)
		}
		for _, eg := range r.Errors {
			if f.operators == nil || f.operators[eg.OperatorID] {
				add(f.dimensions(r, &eg), 0, eg.Count)
			}
		}
	}
	out := make([]summaryGroup, 0, len(groups))
	for _, g := range groups {
		if g.Output > 0 || g.TotalErrorCount > 0 {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(a, b summaryGroup) int { return strings.Compare(a.key, b.key) })
	return out
}

// dimensions are the group keys of run r's output (eg nil) or of one of
// its error groups, under the names the request used.
func (f summaryFilter) dimensions(r Run, eg *ErrorGroup) map[string]any {
	d := make(map[string]any, len(f.groupBy))
	for _, k := range f.groupBy {
		switch {
		case k == "sessionId":
			d[k] = r.SessionID
		case eg == nil:
			d[k] = nil
		case k == "errorCode":
			d[k] = eg.Code
		case eg.OperatorID == "":
			d[k] = nil
		default:
			d[k] = eg.OperatorID
		}
	}
	return d
}

// pathMeterID reads the meter id of /meters/{meterId}/...
func pathMeterID(path string) (int64, *errorItem) {
	id, err := strconv.ParseInt(strings.Split(path, "/")[2], 10, 64)
	if err != nil || id <= 0 {
		return 0, &errorItem{"INVALID_VALUE", "meterId must be a positive integer"}
	}
	return id, nil
}

func checkRunType(v string) (string, *errorItem) {
	if v != RunNormal && v != RunDebug {
		return "", &errorItem{"INVALID_VALUE", "runType must be NORMAL or DEBUG"}
	}
	return v, nil
}

func optionalTime(name string, v *string) (time.Time, *errorItem) {
	if v == nil {
		return time.Time{}, nil
	}
	return parseZuoraTime(name, *v)
}

// parseZuoraTime reads a time parameter strictly in Zuora's form:
// exactly YYYY-MM-DDTHH:MM:SS±HHMM, no fraction, no Z, no colon in the offset.
func parseZuoraTime(name, v string) (time.Time, *errorItem) {
	t, err := time.Parse(zuoraTimeLayout, v)
	if err != nil || len(v) != len(zuoraTimeLayout) {
		return time.Time{}, &errorItem{CodeInvalidDateString,
			"INVALID_DATE_STRING: " + name + " must be in the form YYYY-MM-DDTHH:MM:SS±HHMM"}
	}
	return t, nil
}

func writeBadRequest(w http.ResponseWriter, r *http.Request, u usage, e errorItem) {
	setRateLimitHeaders(w.Header(), u, http.StatusBadRequest, "")
	writeJSON(w, r, http.StatusBadRequest, mustJSON(proxyBadRequest{Errors: []errorItem{e}}))
}

func writeMeterNotFound(w http.ResponseWriter, r *http.Request, u usage) {
	setRateLimitHeaders(w.Header(), u, http.StatusNotFound, "")
	writeJSON(w, r, http.StatusNotFound, mustJSON(mediationError{Error: errorItem{CodeMeterNotFound, "Meter does not exist."}}))
}
