package zuoratest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// zt writes t in the form Zuora's time parameters take.
func zt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-0700") }

// scriptRuns gives meter 7 three runs: a failed NORMAL one with two error
// groups, a DEBUG one, and an older NORMAL one that completed.
func scriptRuns(s *zuoratest.Server) {
	s.SetRuns(7,
		zuoratest.Run{SessionID: "R-1", Start: t0, End: t0.Add(time.Hour), Output: 9760, Errors: []zuoratest.ErrorGroup{
			{Code: "1000002", Message: "Invalid field", OperatorID: "op-a", OperatorName: "Rating", OperatorType: "BILLING-RATING", Count: 200},
			{Code: "70000", Message: "No price", OperatorID: "op-b", OperatorName: "Pricing", OperatorType: "BILLING-RATING", Count: 40},
		}},
		zuoratest.Run{SessionID: "R-2", RunType: zuoratest.RunDebug, Start: t0, End: t0.Add(time.Minute), Output: 5, Errors: []zuoratest.ErrorGroup{
			{Code: "1000002", OperatorID: "op-a", Count: 1},
		}},
		zuoratest.Run{SessionID: "R-0", Start: t0.Add(-48 * time.Hour), End: t0.Add(-47 * time.Hour), Output: 100},
	)
}

func postSummary(t *testing.T, s *zuoratest.Server, meter, body string) answer {
	t.Helper()
	return do(t, http.MethodPost, s.URL+"/meters/"+meter+"/summary", strings.NewReader(body),
		"Authorization", "Bearer static", "Content-Type", "application/json")
}

type summaryAnswer struct {
	Success bool `json:"success"`
	Data    struct {
		RequestID   string          `json:"requestId"`
		RequestTime string          `json:"requestTime"`
		Query       json.RawMessage `json:"query"`
		Output      json.RawMessage `json:"output"`
	} `json:"data"`
	PreviousPage json.RawMessage `json:"previousPage"`
	NextPage     json.RawMessage `json:"nextPage"`
}

func TestSummary(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	day := `"queryFromTime":"` + zt(t0.Add(-time.Hour)) + `","queryToTime":"` + zt(t0.Add(23*time.Hour)) + `"`
	tests := []struct {
		name, body, output string
	}{
		{"by error code and processor", `{"runType":"NORMAL","groupBy":["errorCode","processorId"],` + day + `}`,
			`[{"dimensions":{"errorCode":"1000002","processorId":"op-a"},"output":0,"totalErrorCount":200},` +
				`{"dimensions":{"errorCode":"70000","processorId":"op-b"},"output":0,"totalErrorCount":40},` +
				`{"dimensions":{"errorCode":null,"processorId":null},"output":9760,"totalErrorCount":0}]`},
		{"operatorId is accepted and echoed", `{"runType":"NORMAL","groupBy":["operatorId"],` + day + `}`,
			`[{"dimensions":{"operatorId":"op-a"},"output":0,"totalErrorCount":200},` +
				`{"dimensions":{"operatorId":"op-b"},"output":0,"totalErrorCount":40},` +
				`{"dimensions":{"operatorId":null},"output":9760,"totalErrorCount":0}]`},
		{"by session, every run type and time", `{"groupBy":["sessionId"]}`,
			`[{"dimensions":{"sessionId":"R-0"},"output":100,"totalErrorCount":0},` +
				`{"dimensions":{"sessionId":"R-1"},"output":9760,"totalErrorCount":240},` +
				`{"dimensions":{"sessionId":"R-2"},"output":5,"totalErrorCount":1}]`},
		{"no groupBy: one group", `{"runType":"NORMAL",` + day + `}`, `[{"dimensions":{},"output":9760,"totalErrorCount":240}]`},
		{"session filter", `{"sessionIds":["R-2","R-9"],"groupBy":["errorCode"]}`,
			`[{"dimensions":{"errorCode":"1000002"},"output":0,"totalErrorCount":1},{"dimensions":{"errorCode":null},"output":5,"totalErrorCount":0}]`},
		{"DEBUG", `{"runType":"DEBUG","groupBy":["sessionId"]}`, `[{"dimensions":{"sessionId":"R-2"},"output":5,"totalErrorCount":1}]`},
		{"operator filter: its errors, no output", `{"operatorIds":["op-b"],"groupBy":["sessionId"]}`,
			`[{"dimensions":{"sessionId":"R-1"},"output":0,"totalErrorCount":40}]`},
		{"window before every run", `{"queryFromTime":"2020-01-01T00:00:00+0000","queryToTime":"2020-01-02T00:00:00+0000"}`, `[]`},
		{"window touching the old run's end", `{"queryFromTime":"` + zt(t0.Add(-47*time.Hour)) + `","queryToTime":"` + zt(t0.Add(-time.Minute)) + `"}`,
			`[{"dimensions":{},"output":100,"totalErrorCount":0}]`},
		{"other offset", `{"queryFromTime":"` + t0.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05-0700") + `","groupBy":["sessionId"],"runType":"NORMAL"}`,
			`[{"dimensions":{"sessionId":"R-1"},"output":9760,"totalErrorCount":240}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := postSummary(t, s, "7", tt.body)
			var got summaryAnswer
			if err := json.Unmarshal([]byte(a.body), &got); err != nil || a.status != 200 || !got.Success {
				t.Fatalf("%d %s (%v)", a.status, a.body, err)
			}
			if string(got.Data.Output) != tt.output {
				t.Errorf("output\n got %s\nwant %s", got.Data.Output, tt.output)
			}
			if got.Data.RequestID == "" || len(got.Data.RequestTime) != 24 || string(got.PreviousPage) != "null" || string(got.NextPage) != "null" {
				t.Errorf("envelope %s", a.body)
			}
			if a.header.Get("RateLimit-Remaining") == "" || a.header.Get("Zuora-Request-Id") == "" {
				t.Errorf("headers %v", a.header)
			}
		})
	}

	// data.query echoes the request, with nulls for the filters left out.
	a := postSummary(t, s, "7", `{"runType":"NORMAL","groupBy":["errorCode"]}`)
	var got summaryAnswer
	_ = json.Unmarshal([]byte(a.body), &got)
	if want := `{"runType":"NORMAL","sessionIds":null,"operatorIds":null,"groupBy":["errorCode"],"queryFromTime":null,"queryToTime":null}`; string(got.Data.Query) != want {
		t.Errorf("query %s, want %s", got.Data.Query, want)
	}
	// A meter with a version but no runs has an empty summary.
	s.SetMeter(8, "0.0.1")
	if a := postSummary(t, s, "8", `{}`); a.status != 200 || !strings.Contains(a.body, `"output":[]`) {
		t.Errorf("meter without runs: %d %s", a.status, a.body)
	}
	if n := s.Stats().SummaryCalls; n != len(tests)+2 {
		t.Errorf("SummaryCalls = %d, want %d", n, len(tests)+2)
	}
}

func TestSummaryRefusals(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	tests := []struct {
		name, meter, body string
		header            []string
		status            int
		code              string
	}{
		{"no body", "7", ``, nil, 400, "INVALID_VALUE"},
		{"not an object", "7", `[]`, nil, 400, "INVALID_VALUE"},
		{"unknown field", "7", `{"sessionId":"R-1"}`, nil, 400, "INVALID_VALUE"},
		{"string for a list", "7", `{"groupBy":"errorCode"}`, nil, 400, "INVALID_VALUE"},
		{"bad runType", "7", `{"runType":"normal"}`, nil, 400, "INVALID_VALUE"},
		{"bad groupBy", "7", `{"groupBy":["meterId"]}`, nil, 400, "INVALID_VALUE"},
		{"RFC 3339 time", "7", `{"queryFromTime":"2026-05-01T10:00:00Z"}`, nil, 400, "70002011"},
		{"colon in the offset", "7", `{"queryToTime":"2026-05-01T10:00:00+00:00"}`, nil, 400, "70002011"},
		{"fraction", "7", `{"queryToTime":"2026-05-01T10:00:00.5+0000"}`, nil, 400, "70002011"},
		{"bad meter id", "x7", `{}`, nil, 400, "INVALID_VALUE"},
		{"unknown meter", "99", `{}`, nil, 404, "70002103"},
		{"form body", "7", `{}`, []string{"Content-Type", "text/plain"}, 400, "INVALID_VALUE"},
	}
	for _, tt := range tests {
		h := append([]string{"Authorization", "Bearer static", "Content-Type", "application/json"}, tt.header...)
		a := do(t, http.MethodPost, s.URL+"/meters/"+tt.meter+"/summary", strings.NewReader(tt.body), h...)
		if a.status != tt.status || !strings.Contains(a.body, `"code":"`+tt.code+`"`) || !strings.Contains(a.body, `"success":false`) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.body, tt.status, tt.code)
		}
	}
	if a := do(t, http.MethodGet, s.URL+"/meters/7/summary", nil, "Authorization", "Bearer static"); a.status != 405 {
		t.Errorf("GET: %d", a.status)
	}
	if a := do(t, http.MethodPost, s.URL+"/meters/7/summary", strings.NewReader(`{}`), "Authorization", "Bearer nope"); a.status != 401 ||
		a.header.Get("WWW-Authenticate") == "" {
		t.Errorf("bad token: %d %v", a.status, a.header)
	}
	if n := s.Stats().SummaryCalls; n != len(tests)+2 {
		t.Errorf("SummaryCalls = %d, want %d", n, len(tests)+2)
	}
}

func auditURL(s *zuoratest.Server, meter string, q url.Values) string {
	return s.URL + "/meters/" + meter + "/auditTrail/entries?" + q.Encode()
}

func auditQuery(kv ...string) url.Values {
	q := url.Values{"exportType": {"ERROR"}, "runType": {"NORMAL"},
		"queryFromTime": {zt(t0.Add(-time.Hour))}, "queryToTime": {zt(t0.Add(2 * time.Hour))}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

type auditEntry struct {
	ErrorTime    string          `json:"errorTime"`
	ErrorCode    string          `json:"errorCode"`
	ErrorMessage string          `json:"errorMessage"`
	Payload      json.RawMessage `json:"payload"`
	EventID      string          `json:"eventId"`
	TraceID      string          `json:"traceId"`
	OperatorType string          `json:"operatorType"`
	OperatorName string          `json:"operatorName"`
	OperatorID   string          `json:"operatorId"`
}

type auditAnswer struct {
	Success      bool         `json:"success"`
	Data         []auditEntry `json:"data"`
	PreviousPage *string      `json:"previousPage"`
	NextPage     *string      `json:"nextPage"`
}

func getAudit(t *testing.T, s *zuoratest.Server, meter string, q url.Values) (answer, auditAnswer) {
	t.Helper()
	a := do(t, http.MethodGet, auditURL(s, meter, q), nil, "Authorization", "Bearer static")
	var got auditAnswer
	if a.status == 200 {
		if err := json.Unmarshal([]byte(a.body), &got); err != nil || !got.Success {
			t.Fatalf("%d %s (%v)", a.status, a.body, err)
		}
	}
	return a, got
}

func TestAuditTrailPaging(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	// 240 records in error in R-1: 200 of op-a, then 40 of op-b.
	_, p1 := getAudit(t, s, "7", auditQuery("pageSize", "150"))
	if len(p1.Data) != 150 || p1.NextPage == nil || p1.PreviousPage != nil {
		t.Fatalf("page 1: %d records, next %v, previous %v", len(p1.Data), p1.NextPage, p1.PreviousPage)
	}
	e := p1.Data[0]
	ms, err := strconv.ParseInt(e.ErrorTime, 10, 64)
	if err != nil || e.ErrorCode != "1000002" || e.ErrorMessage != "Invalid field" || e.OperatorID != "op-a" ||
		e.OperatorName != "Rating" || e.OperatorType != "BILLING-RATING" || e.EventID == "" || e.TraceID == "" || len(e.Payload) < 10 {
		t.Errorf("first record %+v", e)
	}
	if at := time.UnixMilli(ms); at.Before(t0) || at.After(t0.Add(time.Hour)) {
		t.Errorf("errorTime %v outside the run", at)
	}
	_, p2 := getAudit(t, s, "7", auditQuery("pageSize", "150", "cursor", *p1.NextPage))
	if len(p2.Data) != 90 || p2.NextPage != nil || p2.PreviousPage == nil {
		t.Fatalf("page 2: %d records, next %v", len(p2.Data), p2.NextPage)
	}
	if p2.Data[49].OperatorID != "op-a" || p2.Data[50].OperatorID != "op-b" || p2.Data[50].ErrorCode != "70000" {
		t.Errorf("group boundary: %+v / %+v", p2.Data[49], p2.Data[50])
	}
	// The previous page's token gives page 1 again, the same records.
	_, again := getAudit(t, s, "7", auditQuery("pageSize", "150", "cursor", *p2.PreviousPage))
	if len(again.Data) != 150 || again.Data[7].EventID != p1.Data[7].EventID || again.Data[7].ErrorTime != p1.Data[7].ErrorTime {
		t.Errorf("page 1 again differs")
	}
	// Default page size.
	if _, d := getAudit(t, s, "7", auditQuery()); len(d.Data) != 30 {
		t.Errorf("default page: %d records", len(d.Data))
	}

	// Millions of records are made a page at a time.
	s.SetRuns(9, zuoratest.Run{SessionID: "R-big", Start: t0, End: t0.Add(time.Hour),
		Errors: []zuoratest.ErrorGroup{{Code: "1", Count: 5_000_000}, {Code: "2", Count: 3_000_000_000}}})
	start := time.Now()
	_, big := getAudit(t, s, "9", auditQuery("pageSize", "500"))
	for range 3 {
		_, big = getAudit(t, s, "9", auditQuery("pageSize", "500", "cursor", *big.NextPage))
	}
	if len(big.Data) != 500 || big.NextPage == nil || big.Data[0].ErrorCode != "1" || time.Since(start) > 5*time.Second {
		t.Errorf("big meter: %d records, next %v, after %v", len(big.Data), big.NextPage, time.Since(start))
	}
}

func TestAuditTrailFilters(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	count := func(kv ...string) int {
		t.Helper()
		a, got := getAudit(t, s, "7", auditQuery(append([]string{"pageSize", "500"}, kv...)...))
		if a.status != 200 {
			t.Fatalf("%v: %d %s", kv, a.status, a.body)
		}
		return len(got.Data)
	}
	for _, tt := range []struct {
		kv   []string
		want int
	}{
		{nil, 240},
		{[]string{"sessionId", "R-1"}, 240},
		{[]string{"sessionId", "R-2"}, 0},
		{[]string{"runType", "DEBUG"}, 1},
		{[]string{"runType", "DEBUG", "sessionId", "R-2"}, 1},
		{[]string{"operatorId", "op-b"}, 40},
		{[]string{"queryFromTime", zt(t0.Add(2 * time.Hour)), "queryToTime", zt(t0.Add(3 * time.Hour))}, 0},
		{[]string{"exportType", "SAMPLE"}, 0},
	} {
		if got := count(tt.kv...); got != tt.want {
			t.Errorf("%v: %d records, want %d", tt.kv, got, tt.want)
		}
	}
}

func TestAuditTrailRefusals(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	_, other := getAudit(t, s, "7", auditQuery("pageSize", "1", "sessionId", "R-1"))
	tests := []struct {
		name, meter string
		q           url.Values
		status      int
		code        string
	}{
		{"no exportType", "7", auditQuery("exportType", ""), 400, "INVALID_VALUE"},
		{"bad exportType", "7", auditQuery("exportType", "ALL"), 400, "INVALID_VALUE"},
		{"no runType", "7", auditQuery("runType", ""), 400, "INVALID_VALUE"},
		{"no from", "7", auditQuery("queryFromTime", ""), 400, "70002011"},
		{"no to", "7", auditQuery("queryToTime", ""), 400, "70002011"},
		{"RFC 3339", "7", auditQuery("queryFromTime", "2026-05-01T10:00:00Z"), 400, "70002011"},
		{"date only", "7", auditQuery("queryToTime", "2026-05-01"), 400, "70002011"},
		{"page size 0", "7", auditQuery("pageSize", "0"), 400, "INVALID_VALUE"},
		{"page size 501", "7", auditQuery("pageSize", "501"), 400, "INVALID_VALUE"},
		{"page size not a number", "7", auditQuery("pageSize", "ten"), 400, "INVALID_VALUE"},
		{"cursor of another query", "7", auditQuery("cursor", *other.NextPage), 400, "INVALID_VALUE"},
		{"garbage cursor", "7", auditQuery("cursor", "eyJ!!"), 400, "INVALID_VALUE"},
		{"unknown meter", "99", auditQuery(), 404, "70002103"},
	}
	for _, tt := range tests {
		a, _ := getAudit(t, s, tt.meter, tt.q)
		if a.status != tt.status || !strings.Contains(a.body, `"code":"`+tt.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.body, tt.status, tt.code)
		}
	}
	// A "+" sent unescaped arrives as a space: not Zuora's form either.
	raw := s.URL + "/meters/7/auditTrail/entries?exportType=ERROR&runType=NORMAL&queryFromTime=2026-05-01T10:00:00+0000&queryToTime=2026-05-01T11:00:00%2B0000"
	if a := do(t, http.MethodGet, raw, nil, "Authorization", "Bearer static"); a.status != 400 || !strings.Contains(a.body, "70002011") {
		t.Errorf("unescaped +: %d %s", a.status, a.body)
	}
	if a := do(t, http.MethodPost, auditURL(s, "7", auditQuery()), nil, "Authorization", "Bearer static"); a.status != 405 {
		t.Errorf("POST: %d", a.status)
	}
	if a := do(t, http.MethodGet, auditURL(s, "7", auditQuery()), nil); a.status != 401 {
		t.Errorf("no token: %d", a.status)
	}
	if n := s.Stats().AuditCalls; n != len(tests)+4 {
		t.Errorf("AuditCalls = %d, want %d", n, len(tests)+4)
	}
}

// TestPayloadMarkerOnlyInPayload: the marker is in every record's payload,
// and nowhere else the simulator sends: not in the rest of a record, not in
// headers, not in error answers.
func TestPayloadMarkerOnlyInPayload(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	a, got := getAudit(t, s, "7", auditQuery("pageSize", "500"))
	if n := strings.Count(a.body, zuoratest.PayloadMarker); n < len(got.Data) || len(got.Data) != 240 {
		t.Fatalf("%d markers in %d records", n, len(got.Data))
	}
	var raw struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(a.body), &raw); err != nil {
		t.Fatal(err)
	}
	for i, rec := range raw.Data {
		if !strings.Contains(string(rec["payload"]), zuoratest.PayloadMarker) {
			t.Errorf("record %d: no marker in its payload", i)
		}
		delete(rec, "payload")
		if b, _ := json.Marshal(rec); strings.Contains(string(b), zuoratest.PayloadMarker) {
			t.Errorf("record %d: marker outside its payload: %s", i, b)
		}
	}
	others := []answer{a}
	others[0].body = "" // its headers only
	others = append(others,
		do(t, http.MethodGet, auditURL(s, "7", auditQuery("pageSize", "0")), nil, "Authorization", "Bearer static"),
		postSummary(t, s, "7", `{"groupBy":["errorCode","processorId","sessionId"]}`))
	s.SetAuditFault(zuoratest.Fault{HTTPStatus: 500})
	others = append(others, do(t, http.MethodGet, auditURL(s, "7", auditQuery()), nil, "Authorization", "Bearer static"))
	for i, o := range others {
		if strings.Contains(o.body, zuoratest.PayloadMarker) || strings.Contains(strings.Join(flatten(o.header), " "), zuoratest.PayloadMarker) {
			t.Errorf("answer %d carries the marker: %v %s", i, o.header, o.body)
		}
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, zuoratest.PayloadMarker) {
			t.Errorf("a recorded request carries the marker: %+v", r)
		}
	}
}

func flatten(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k)
		out = append(out, vs...)
	}
	return out
}

func TestMediationFaults(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	summary := func() answer { return postSummary(t, s, "7", `{}`) }
	audit := func() answer {
		return do(t, http.MethodGet, auditURL(s, "7", auditQuery()), nil, "Authorization", "Bearer static")
	}

	// Each call takes the next fault; the last repeats; none answers from the runs.
	s.SetSummaryFault(zuoratest.Fault{HTTPStatus: 500}, zuoratest.Fault{HTTPStatus: 429, RetryAfter: "3"},
		zuoratest.Fault{HTTPStatus: 400, ErrorCode: "1000002", ErrorMessage: "bad"}, zuoratest.Fault{})
	for i, want := range []struct {
		status int
		body   string
	}{
		{500, `{"reasons":[{"code":"SystemError","message":"internal server error"}]}`},
		{429, `TOO_MANY_REQUESTS`},
		{400, `{"success":false,"errors":[{"code":"1000002","message":"bad"}]}`},
		{200, `"totalErrorCount":241`},
		{200, `"totalErrorCount":241`},
	} {
		a := summary()
		if a.status != want.status || !strings.Contains(a.body, want.body) {
			t.Errorf("summary call %d: %d %s, want %d %s", i, a.status, a.body, want.status, want.body)
		}
		if want.status == 429 && (a.header.Get("Retry-After") != "3" || a.header.Get("RateLimit-Remaining") != "0") {
			t.Errorf("429 headers %v", a.header)
		}
	}
	// A fault is what Zuora answers a call it accepted: a 401 takes none.
	s.SetAuditFault(zuoratest.Fault{Body: `{"success":false,"reasons":[{"code":"X","message":"Y"}]}`})
	if a := do(t, http.MethodGet, auditURL(s, "7", auditQuery()), nil, "Authorization", "Bearer nope"); a.status != 401 {
		t.Errorf("bad token: %d", a.status)
	}
	if a := audit(); a.status != 200 || a.body != `{"success":false,"reasons":[{"code":"X","message":"Y"}]}` {
		t.Errorf("scripted body: %d %s", a.status, a.body)
	}
	// A slow answer ends when the client goes away.
	s.SetAuditFault(zuoratest.Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, auditURL(s, "7", auditQuery()), nil)
	req.Header.Set("Authorization", "Bearer static")
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("slow answer came: %d", resp.StatusCode)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("waited %v", el)
	}
	// Dropped connections.
	s.SetAuditFault(zuoratest.Fault{Drop: true})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ = http.NewRequest(http.MethodGet, auditURL(s, "7", auditQuery()), nil)
	req.Header.Set("Authorization", "Bearer static")
	if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped: got %d", resp.StatusCode)
	}
	s.SetAuditFault()
	if a := audit(); a.status != 200 {
		t.Errorf("after clearing: %d %s", a.status, a.body)
	}
}

// TestMediationSharesTenantLimits: the summary and the audit trail count in
// the tenant's rate limit with the run status, and an outage answers them
// all.
func TestMediationSharesTenantLimits(t *testing.T) {
	s := newSim(t)
	scriptRuns(s)
	s.SetMeter(7, "v", zuoratest.Step{Status: 7})
	s.SetRateLimit(3, time.Hour)
	get := func() answer {
		return do(t, http.MethodGet, s.URL+"/meters/7/v/runStatus", nil, "Authorization", "Bearer static")
	}
	audit := func() answer {
		return do(t, http.MethodGet, auditURL(s, "7", auditQuery()), nil, "Authorization", "Bearer static")
	}
	if a := get(); a.header.Get("RateLimit-Remaining") != "2" {
		t.Errorf("run status: %v", a.header)
	}
	if a := postSummary(t, s, "7", `{}`); a.status != 200 || a.header.Get("RateLimit-Remaining") != "1" {
		t.Errorf("summary: %d %v", a.status, a.header)
	}
	if a := audit(); a.status != 200 || a.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("audit: %d %v", a.status, a.header)
	}
	for i, a := range []answer{get(), postSummary(t, s, "7", `{}`), audit()} {
		if a.status != 429 || a.header.Get("Retry-After") != "3600" {
			t.Errorf("call %d past the limit: %d %v", i, a.status, a.header)
		}
	}
	s.SetRateLimit(0, 0)
	s.SetOutage(503, "2")
	for i, a := range []answer{get(), postSummary(t, s, "7", `{}`), audit()} {
		if a.status != 503 || a.header.Get("Retry-After") != "2" || !strings.Contains(a.body, "SystemError") {
			t.Errorf("call %d in the outage: %d %v %s", i, a.status, a.header, a.body)
		}
	}
	if st := s.Stats(); st.RunStatusCalls != 3 || st.SummaryCalls != 3 || st.AuditCalls != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfigRunsAndFaults(t *testing.T) {
	before := time.Now()
	cfg, err := zuoratest.ParseConfig([]byte(`{"tokens":["static"],
		"meterRuns":[{"meterId":106,"runs":[
			{"sessionId":"R-000043","runType":"NORMAL","start":"-90m","end":"-30m","output":9760,
			 "errors":[{"code":"1000002","message":"Invalid field","operatorId":"op-1","operatorName":"Rating","operatorType":"BILLING-RATING","count":240}]},
			{"sessionId":"R-000001","start":"2026-01-01T00:00:00Z"}]}],
		"summaryFaults":[{"httpStatus":500,"latency":"5ms"},{}],
		"auditFaults":[{"httpStatus":429,"retryAfter":"1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.MeterRuns[0].Runs[0]
	if d := before.Sub(r.Start); d < 89*time.Minute || d > 91*time.Minute || r.End.Sub(r.Start) != time.Hour ||
		r.Errors[0].Count != 240 || r.Errors[0].OperatorType != "BILLING-RATING" || cfg.SummaryFaults[0].Latency != 5*time.Millisecond {
		t.Errorf("parsed %+v", cfg)
	}
	s := zuoratest.NewTestServer(t, cfg)
	if a := postSummary(t, s, "106", `{}`); a.status != 500 {
		t.Errorf("first summary: %d", a.status)
	}
	if a := postSummary(t, s, "106", `{"groupBy":["sessionId"]}`); a.status != 200 || !strings.Contains(a.body, `"R-000043"},"output":9760,"totalErrorCount":240`) {
		t.Errorf("second summary: %d %s", a.status, a.body)
	}
	if a := do(t, http.MethodGet, auditURL(s, "106", auditQuery()), nil, "Authorization", "Bearer static"); a.status != 429 {
		t.Errorf("audit: %d", a.status)
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"start":"`+r.Start.Format(time.RFC3339Nano)+`"`) {
		t.Errorf("run JSON %s (%v)", b, err)
	}
	var back zuoratest.Run
	if err := json.Unmarshal(b, &back); err != nil || !back.Start.Equal(r.Start) || back.Errors[0] != r.Errors[0] {
		t.Errorf("round trip %+v (%v)", back, err)
	}

	for _, bad := range []string{
		`{"meterRuns":[{"meterId":1,"runs":[{"sessionId":"R-1","start":"-1h","colour":"red"}]}]}`,
		`{"meterRuns":[{"meterId":1,"runs":[{"sessionId":"R-1","start":"yesterday"}]}]}`,
		`{"summaryFaults":[{"httpStatus":500,"latency":"soon"}]}`,
		`{"auditFaults":[{"status":500}]}`,
	} {
		if _, err := zuoratest.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) accepted", bad)
		}
	}
	run := func(mod func(*zuoratest.Run)) zuoratest.Config {
		r := zuoratest.Run{SessionID: "R-1", Start: t0, End: t0.Add(time.Hour), Errors: []zuoratest.ErrorGroup{{Code: "1", Count: 1}}}
		mod(&r)
		return zuoratest.Config{MeterRuns: []zuoratest.MeterRuns{{MeterID: 1, Runs: []zuoratest.Run{r}}}}
	}
	for i, bad := range []zuoratest.Config{
		{MeterRuns: []zuoratest.MeterRuns{{MeterID: 0}}},
		run(func(r *zuoratest.Run) { r.SessionID = "" }),
		run(func(r *zuoratest.Run) { r.RunType = "LIVE" }),
		run(func(r *zuoratest.Run) { r.Start = time.Time{} }),
		run(func(r *zuoratest.Run) { r.End = t0.Add(-time.Second) }),
		run(func(r *zuoratest.Run) { r.Output = -1 }),
		run(func(r *zuoratest.Run) { r.Errors[0].Code = "" }),
		run(func(r *zuoratest.Run) { r.Errors[0].Count = -1 }),
		{SummaryFaults: []zuoratest.Fault{{HTTPStatus: 99}}},
		{AuditFaults: []zuoratest.Fault{{HTTPStatus: 600}}},
	} {
		if err := zuoratest.NewUnstartedHandler().Apply(bad); err == nil {
			t.Errorf("Apply(bad %d) accepted", i)
		}
	}
}
