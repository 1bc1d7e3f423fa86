package zuoratest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Audit-trail page sizes: Zuora's default and its maximum.
const (
	defaultPageSize = 30
	maxPageSize     = 500
)

type auditResponse struct {
	Success      bool          `json:"success"`
	Data         []auditRecord `json:"data"`
	PreviousPage *string       `json:"previousPage"`
	NextPage     *string       `json:"nextPage"`
}

// auditRecord is one entry of the audit trail, in Zuora's documented shape.
type auditRecord struct {
	ErrorTime    string       `json:"errorTime"` // epoch milliseconds, as a string
	ErrorCode    string       `json:"errorCode"`
	ErrorMessage string       `json:"errorMessage"`
	Payload      auditPayload `json:"payload"`
	EventID      string       `json:"eventId"`
	TraceID      string       `json:"traceId"`
	OperatorType string       `json:"operatorType"`
	OperatorName string       `json:"operatorName"`
	OperatorID   string       `json:"operatorId"`
}

// auditPayload stands for the customer's usage record. PayloadMarker is in
// it, and only in it.
type auditPayload struct {
	AccountNumber string `json:"accountNumber"`
	Quantity      int64  `json:"quantity"`
	UOM           string `json:"uom"`
	Description   string `json:"description"`
	Marker        string `json:"marker"`
}

// auditQuery is a checked audit-trail query.
type auditQuery struct {
	exportType, runType   string
	sessionID, operatorID string
	from, to              time.Time
	pageSize              int
	offset                int64  // of the page's first record, from the cursor
	fingerprint           string // of the filters, which a cursor must match
}

// serveAudit is GET /meters/{meterId}/auditTrail/entries. Its records in
// error come from the ErrorGroups of the runs that match the query: runType,
// sessionId, and overlap with [queryFromTime, queryToTime]; operatorId
// selects error groups. They are made page by page, in the order of the
// runs and their groups, never all at once. SAMPLE (good records) answers
// no records: the simulator has none.
func (s *Server) serveAudit(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	s.stats.AuditCalls++
	s.mu.Unlock()
	u, ok := s.admitMediation(w, r, http.MethodGet, &s.auditFaults)
	if !ok {
		return
	}
	meterID, bad := pathMeterID(path)
	var q auditQuery
	if bad == nil {
		q, bad = parseAuditQuery(meterID, r.URL.Query())
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
	if q.exportType != "ERROR" {
		runs = nil
	}
	records, next := auditPage(runs, q)
	resp := auditResponse{Success: true, Data: records}
	if q.offset > 0 {
		resp.PreviousPage = ptr(q.cursor(max(q.offset-int64(q.pageSize), 0)))
	}
	if next > 0 {
		resp.NextPage = ptr(q.cursor(next))
	}
	setRateLimitHeaders(w.Header(), u, http.StatusOK, "")
	writeJSON(w, r, http.StatusOK, mustJSON(resp))
}

func ptr[T any](v T) *T { return &v }

// parseAuditQuery checks the query as Zuora documents it: exportType,
// runType, queryFromTime and queryToTime required, pageSize 1–500.
func parseAuditQuery(meterID int64, v url.Values) (auditQuery, *errorItem) {
	q := auditQuery{exportType: v.Get("exportType"), sessionID: v.Get("sessionId"), operatorID: v.Get("operatorId"), pageSize: defaultPageSize}
	if q.exportType != "ERROR" && q.exportType != "SAMPLE" {
		return q, &errorItem{"INVALID_VALUE", "exportType is required: ERROR or SAMPLE"}
	}
	var bad *errorItem
	if q.runType, bad = checkRunType(v.Get("runType")); bad != nil {
		return q, bad
	}
	if q.from, bad = parseZuoraTime("queryFromTime", v.Get("queryFromTime")); bad != nil {
		return q, bad
	}
	if q.to, bad = parseZuoraTime("queryToTime", v.Get("queryToTime")); bad != nil {
		return q, bad
	}
	if ps := v.Get("pageSize"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > maxPageSize {
			return q, &errorItem{"INVALID_VALUE", fmt.Sprintf("pageSize must be 1 to %d", maxPageSize)}
		}
		q.pageSize = n
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%d|%d|%s|%s", meterID, q.exportType, q.runType,
		q.from.Unix(), q.to.Unix(), q.sessionID, q.operatorID))
	q.fingerprint = hex.EncodeToString(sum[:6])
	if c := v.Get("cursor"); c != "" {
		off, ok := q.readCursor(c)
		if !ok {
			return q, &errorItem{"INVALID_VALUE", "cursor is not valid for this query"}
		}
		q.offset = off
	}
	return q, nil
}

// pageCursor is a page token: base64 of a small JSON object, like Zuora's.
type pageCursor struct {
	Offset int64  `json:"o"`
	Query  string `json:"q"`
}

func (q auditQuery) cursor(offset int64) string {
	return base64.RawURLEncoding.EncodeToString(mustJSON(pageCursor{Offset: offset, Query: q.fingerprint}))
}

// readCursor reads a token this query made: another query's is refused.
func (q auditQuery) readCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var pc pageCursor
	if err != nil || json.Unmarshal(b, &pc) != nil || pc.Query != q.fingerprint || pc.Offset < 0 {
		return 0, false
	}
	return pc.Offset, true
}

func (q auditQuery) matches(r Run) bool {
	return r.runType() == q.runType && (q.sessionID == "" || r.SessionID == q.sessionID) && r.overlaps(q.from, q.to)
}

// auditPage makes the page of records that starts at q.offset, and
// returns the offset of the next page (0 when this is the last). It walks
// the error groups, not their records.
func auditPage(runs []Run, q auditQuery) ([]auditRecord, int64) {
	records := []auditRecord{}
	skip, total := q.offset, int64(0)
	for _, r := range runs {
		if !q.matches(r) {
			continue
		}
		for gi, eg := range r.Errors {
			if q.operatorID != "" && eg.OperatorID != q.operatorID {
				continue
			}
			n := max(eg.Count, 0)
			total += n
			for i := skip; i < n && len(records) < q.pageSize; i++ {
				records = append(records, newRecord(r, gi, eg, i))
			}
			skip = max(skip-n, 0)
		}
	}
	if next := q.offset + int64(len(records)); next < total {
		return records, next
	}
	return records, 0
}

// newRecord is record i of error group gi of run r. Its time falls evenly
// within the run (a run still going: one a millisecond from its start);
// its ids are stable, so paging twice gives the same records.
func newRecord(r Run, gi int, eg ErrorGroup, i int64) auditRecord {
	at := r.Start.Add(time.Duration(i+1) * time.Millisecond)
	if !r.End.IsZero() {
		at = r.Start.Add(time.Duration(float64(r.End.Sub(r.Start)) * float64(i+1) / float64(eg.Count+1)))
	}
	return auditRecord{
		ErrorTime:    strconv.FormatInt(at.UnixMilli(), 10),
		ErrorCode:    eg.Code,
		ErrorMessage: or(eg.Message, "Invalid usage record"),
		Payload: auditPayload{
			AccountNumber: fmt.Sprintf("A%08d", i+1),
			Quantity:      i + 1,
			UOM:           "API_CALL",
			Description:   "usage record of a customer " + PayloadMarker,
			Marker:        PayloadMarker,
		},
		EventID:      stableID("event", r.SessionID, gi, i),
		TraceID:      stableID("trace", r.SessionID, gi, i),
		OperatorType: eg.OperatorType,
		OperatorName: eg.OperatorName,
		OperatorID:   eg.OperatorID,
	}
}

// stableID is a UUID-shaped id derived from what names a record.
func stableID(kind, session string, group int, i int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%d", kind, session, group, i))
	x := hex.EncodeToString(sum[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
