package zuora

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// runStart is when the scripted failed run of meter 7 began.
var runStart = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// newRunsSim is newSim with meter 7's runs: R-1, NORMAL, failed with 200
// records in error at op-a and 40 at op-b; R-2, DEBUG, one.
func newRunsSim(t testing.TB) *zuoratest.Server {
	sim := newSim(t)
	sim.SetRuns(7,
		zuoratest.Run{SessionID: "R-1", Start: runStart, End: runStart.Add(time.Hour), Output: 9760, Errors: []zuoratest.ErrorGroup{
			{Code: "1000002", Message: "Invalid field", OperatorID: "op-a", OperatorName: "Rating", OperatorType: "BILLING-RATING", Count: 200},
			{Code: "70000", Message: "No price", OperatorID: "op-b", OperatorName: "Pricing", OperatorType: "BILLING-RATING", Count: 40},
		}},
		zuoratest.Run{SessionID: "R-2", RunType: RunTypeDebug, Start: runStart, End: runStart.Add(time.Minute), Output: 5,
			Errors: []zuoratest.ErrorGroup{{Code: "1000002", OperatorID: "op-a", Count: 1}}},
	)
	return sim
}

func summaryReq() SummaryRequest {
	return SummaryRequest{MeterID: 7, RunType: RunTypeNormal, From: runStart.Add(-time.Hour), To: runStart.Add(2 * time.Hour),
		GroupBy: []string{GroupErrorCode, GroupProcessor}}
}

func auditReq() AuditRequest {
	return AuditRequest{MeterID: 7, From: runStart.Add(-time.Hour), To: runStart.Add(2 * time.Hour)}
}

func TestSummary(t *testing.T) {
	sim := newRunsSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	s, err := c.Summary(context.Background(), summaryReq())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 3 || s.Output != 9760 || s.Errors != 240 || s.Truncated || s.Attempts != 1 || s.RequestID == "" || s.Latency <= 0 {
		t.Fatalf("summary %+v", s)
	}
	byCode := map[string]SummaryGroup{}
	for _, g := range s.Groups {
		byCode[g.ErrorCode()] = g
	}
	if g := byCode["1000002"]; g.Operator() != "op-a" || g.Errors != 200 || g.Output != 0 {
		t.Errorf("group 1000002: %+v", g)
	}
	if g := byCode[""]; g.Output != 9760 || g.Errors != 0 || g.Operator() != "" {
		t.Errorf("the output's group: %+v", g)
	}
	if got := s.TopErrorCodes(5); fmt.Sprint(got) != "[{1000002 200} {70000 40}]" {
		t.Errorf("TopErrorCodes = %v", got)
	}
	if got := s.TopOperators(1); fmt.Sprint(got) != "[{op-a 200}]" {
		t.Errorf("TopOperators(1) = %v", got)
	}

	// By session, for a callout's session id.
	s, err = c.Summary(context.Background(), SummaryRequest{MeterID: 7, SessionIDs: []string{"R-2"}, GroupBy: []string{GroupSession}})
	if err != nil || len(s.Groups) != 1 || s.Groups[0].Session() != "R-2" || s.Output != 5 || s.Errors != 1 || s.Sessions() != 1 {
		t.Errorf("by session: %+v, %v", s, err)
	}
	if by := (Summary{Groups: []SummaryGroup{{Dimensions: map[string]string{"errorCode": "1"}}}}); by.Sessions() != 0 {
		t.Error("a group without a session counted as one")
	}
}

// TestSummaryRequest checks what goes on the wire: the body's fields, left
// out when unset, times in UTC in Zuora's form, and the headers.
func TestSummaryRequest(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	var headers []http.Header
	base := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, headers = append(bodies, r.Method+" "+r.URL.Path+" "+string(b)), append(headers, r.Header.Clone())
		mu.Unlock()
		_, _ = io.WriteString(w, `{"success":true,"data":{"output":[]}}`)
	})
	c, _ := newTestClient(t, base, nil)
	paris := time.FixedZone("CEST", 2*3600)
	req := SummaryRequest{MeterID: 7, RunType: RunTypeDebug, SessionIDs: []string{"R-00002247"}, OperatorIDs: []string{"op-a"},
		From: time.Date(2025, 11, 17, 1, 0, 0, 0, paris), To: time.Date(2025, 11, 18, 1, 59, 59, 0, time.UTC),
		GroupBy: []string{GroupErrorCode}, TrackID: "trk-1", EntityIDs: "ent", OrgIDs: "o1,o2"}
	for _, r := range []SummaryRequest{req, {MeterID: 8}} {
		if _, err := c.Summary(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`POST /meters/7/summary {"runType":"DEBUG","sessionIds":["R-00002247"],"operatorIds":["op-a"],"groupBy":["errorCode"],` +
			`"queryFromTime":"2025-11-16T23:00:00+0000","queryToTime":"2025-11-18T01:59:59+0000"}`,
		`POST /meters/8/summary {}`,
	}
	for i, w := range want {
		if bodies[i] != w {
			t.Errorf("request %d\n got %s\nwant %s", i, bodies[i], w)
		}
	}
	h := headers[0]
	if h.Get("Authorization") != "Bearer "+testToken || h.Get("Content-Type") != "application/json" || h.Get("Zuora-Track-Id") != "trk-1" ||
		h.Get("Zuora-Entity-Ids") != "ent" || h.Get("Zuora-Org-Ids") != "o1,o2" {
		t.Errorf("headers %v", h)
	}
}

func TestAuditErrors(t *testing.T) {
	sim := newRunsSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	req := auditReq()
	req.PageSize = 150
	p, err := c.AuditErrors(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) != 150 || p.NextCursor == "" || p.Attempts != 1 || p.RequestID == "" {
		t.Fatalf("page 1: %d errors, %+v", len(p.Errors), p)
	}
	e := p.Errors[0]
	if e.ErrorCode != "1000002" || e.ErrorMessage != "Invalid field" || e.OperatorID != "op-a" || e.OperatorName != "Rating" ||
		e.OperatorType != "BILLING-RATING" || e.EventID == "" || e.TraceID == "" ||
		e.Time.Before(runStart) || e.Time.After(runStart.Add(time.Hour)) || e.Time.Location() != time.UTC {
		t.Errorf("first error %+v", e)
	}
	req.Cursor = p.NextCursor
	p, err = c.AuditErrors(context.Background(), req)
	if err != nil || len(p.Errors) != 90 || p.NextCursor != "" || p.Errors[89].ErrorCode != "70000" {
		t.Fatalf("page 2: %d errors, next %q, %v", len(p.Errors), p.NextCursor, err)
	}

	// The query: required parameters, NORMAL by default, "+" escaped.
	sim.ResetStats()
	req = AuditRequest{MeterID: 7, SessionID: "R-1", OperatorID: "op-b", From: runStart.In(time.FixedZone("", -5*3600)), To: runStart.Add(time.Hour), PageSize: 3}
	if p, err = c.AuditErrors(context.Background(), req); err != nil || len(p.Errors) != 3 || p.Errors[0].OperatorID != "op-b" {
		t.Fatalf("filtered: %+v, %v", p, err)
	}
	q, _ := url.ParseQuery(sim.Requests()[0].Query)
	want := url.Values{"exportType": {"ERROR"}, "runType": {"NORMAL"}, "queryFromTime": {"2026-05-01T10:00:00+0000"},
		"queryToTime": {"2026-05-01T11:00:00+0000"}, "pageSize": {"3"}, "sessionId": {"R-1"}, "operatorId": {"op-b"}}
	if q.Encode() != want.Encode() {
		t.Errorf("query %s, want %s", q.Encode(), want.Encode())
	}
	// The default page size; DEBUG runs.
	if p, err = c.AuditErrors(context.Background(), AuditRequest{MeterID: 7, RunType: RunTypeDebug, From: runStart, To: runStart.Add(time.Hour)}); err != nil ||
		len(p.Errors) != 1 || sim.Requests()[1].Query != "exportType=ERROR&pageSize=30&queryFromTime=2026-05-01T10%3A00%3A00%2B0000&queryToTime=2026-05-01T11%3A00%3A00%2B0000&runType=DEBUG" {
		t.Errorf("DEBUG: %+v, %v, query %s", p, err, sim.Requests()[1].Query)
	}
}

// endpoint names one of the two calls for tests that run on both.
type endpoint struct {
	name  string
	fault func(*zuoratest.Server, ...zuoratest.Fault)
	calls func(zuoratest.Stats) int
	call  func(c *Client, ctx context.Context, maxAttempts int) (any, error)
}

var endpoints = []endpoint{
	{"summary", (*zuoratest.Server).SetSummaryFault, func(st zuoratest.Stats) int { return st.SummaryCalls },
		func(c *Client, ctx context.Context, n int) (any, error) {
			r := summaryReq()
			r.MaxAttempts = n
			return c.Summary(ctx, r)
		}},
	{"audit", (*zuoratest.Server).SetAuditFault, func(st zuoratest.Stats) int { return st.AuditCalls },
		func(c *Client, ctx context.Context, n int) (any, error) {
			r := auditReq()
			r.MaxAttempts = n
			return c.AuditErrors(ctx, r)
		}},
}

func TestMediationErrors(t *testing.T) {
	big := zuoratest.Fault{Body: `{"success":true,"data":{"output":[]},"pad":"` + strings.Repeat("A", maxBodyBytes) + `"}`}
	tests := []struct {
		name        string
		faults      []zuoratest.Fault
		meter       int64
		maxAttempts int
		want        error // nil: success
		status      int
		code, msg   string
		calls       int
	}{
		{name: "400 errors[]", faults: []zuoratest.Fault{{HTTPStatus: 400, ErrorCode: "1000002", ErrorMessage: "bad field"}}, want: ErrInvalidArgument, status: 400, code: "1000002", msg: "bad field", calls: 1},
		{name: "401 twice", faults: []zuoratest.Fault{{HTTPStatus: 401}}, want: ErrAuthFailed, status: 401, msg: "Authentication error", calls: 2},
		{name: "401 then success", faults: []zuoratest.Fault{{HTTPStatus: 401}, {}}, calls: 2},
		{name: "404", meter: 99, want: ErrNotFound, status: 404, code: "70002103", calls: 1},
		{name: "429 then success", faults: []zuoratest.Fault{{HTTPStatus: 429}, {}}, calls: 2},
		{name: "429 exhausted", faults: []zuoratest.Fault{{HTTPStatus: 429}}, want: ErrThrottled, status: 429, calls: 3},
		{name: "500 reasons[]", faults: []zuoratest.Fault{{HTTPStatus: 500}}, want: ErrUnavailable, status: 500, code: "SystemError", msg: "internal server error", calls: 3},
		{name: "502 then success", faults: []zuoratest.Fault{{HTTPStatus: 502}, {}}, calls: 2},
		{name: "500, one attempt", faults: []zuoratest.Fault{{HTTPStatus: 500}}, maxAttempts: 1, want: ErrUnavailable, status: 500, calls: 1},
		{name: "401, one attempt", faults: []zuoratest.Fault{{HTTPStatus: 401}, {}}, maxAttempts: 1, want: ErrAuthFailed, status: 401, calls: 1},
		{name: "429, one attempt", faults: []zuoratest.Fault{{HTTPStatus: 429}, {}}, maxAttempts: 1, want: ErrThrottled, status: 429, calls: 1},
		{name: "more than the Client's", faults: []zuoratest.Fault{{HTTPStatus: 503}}, maxAttempts: 9, want: ErrUnavailable, status: 503, calls: 3},
		{name: "dropped then success", faults: []zuoratest.Fault{{Drop: true}, {}}, calls: 2},
		{name: "success false, reasons[]", faults: []zuoratest.Fault{{Body: `{"success":false,"reasons":[{"code":70002005,"message":"RATE_LIMITED"}]}`}}, want: ErrUnavailable, status: 200, code: "70002005", msg: "RATE_LIMITED", calls: 1},
		{name: "success false, errors[]", faults: []zuoratest.Fault{{Body: `{"success":false,"errors":[{"code":"X","message":"no"}]}`}}, want: ErrUnavailable, status: 200, code: "X", msg: "no", calls: 1},
		{name: "success false, nothing said", faults: []zuoratest.Fault{{Body: `{"success":false}`}}, want: ErrUnavailable, status: 200, calls: 1},
		{name: "no success field", faults: []zuoratest.Fault{{Body: `{"data":{"output":[]}}`}}, want: ErrUnavailable, status: 200, calls: 1},
		{name: "success as a string", faults: []zuoratest.Fault{{Body: `{"success":"true","data":[]}`}}, want: ErrUnavailable, status: 200, calls: 1},
		{name: "not JSON", faults: []zuoratest.Fault{{Body: `<html>gateway</html>`}}, want: ErrUnavailable, status: 200, calls: 1},
		{name: "body over 1 MiB", faults: []zuoratest.Fault{big}, want: ErrUnavailable, status: 200, calls: 1},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				sim := newRunsSim(t)
				ep.fault(sim, tt.faults...)
				c, _ := newTestClient(t, sim.URL, nil)
				call := ep.call
				if tt.meter != 0 {
					call = meterCall(ep, tt.meter)
				}
				got, err := call(c, context.Background(), tt.maxAttempts)
				if n := ep.calls(sim.Stats()); n != tt.calls {
					t.Errorf("simulator saw %d calls, want %d", n, tt.calls)
				}
				if tt.want == nil {
					if err != nil || attemptsOf(got) != tt.calls {
						t.Fatalf("got %+v, %v; want success in %d attempts", got, err, tt.calls)
					}
					return
				}
				e := asError(t, err, tt.want)
				if e.HTTPStatus != tt.status || e.Attempts != tt.calls || e.RequestID == "" ||
					tt.code != "" && e.Code != tt.code || tt.msg != "" && e.Message != tt.msg {
					t.Errorf("error %+v", e)
				}
				if strings.Contains(err.Error(), "AAAA") || strings.Contains(err.Error(), testToken) {
					t.Errorf("the error quotes the body or the token: %v", err)
				}
			})
		}
	}
}

func meterCall(ep endpoint, meter int64) func(*Client, context.Context, int) (any, error) {
	return func(c *Client, ctx context.Context, n int) (any, error) {
		if ep.name == "summary" {
			r := summaryReq()
			r.MeterID, r.MaxAttempts = meter, n
			return c.Summary(ctx, r)
		}
		r := auditReq()
		r.MeterID, r.MaxAttempts = meter, n
		return c.AuditErrors(ctx, r)
	}
}

func attemptsOf(v any) int {
	switch v := v.(type) {
	case Summary:
		return v.Attempts
	case AuditPage:
		return v.Attempts
	}
	return -1
}

// TestEnrichmentBudget: the best-effort enrichment of an alert, both calls
// with MaxAttempts 1, costs at most two Zuora calls when Zuora fails.
func TestEnrichmentBudget(t *testing.T) {
	sim := newRunsSim(t)
	sim.SetSummaryFault(zuoratest.Fault{HTTPStatus: 500})
	sim.SetAuditFault(zuoratest.Fault{HTTPStatus: 503, RetryAfter: "1"})
	c, rec := newTestClient(t, sim.URL, nil)
	ctx := ctxTimeout(t, 3*time.Second)
	for _, ep := range endpoints {
		if _, err := ep.call(c, ctx, 1); asError(t, err, ErrUnavailable).Attempts != 1 {
			t.Errorf("%s: %v", ep.name, err)
		}
	}
	if st := sim.Stats(); st.SummaryCalls+st.AuditCalls != 2 || len(rec.all()) != 0 {
		t.Errorf("%+v, waits %v: want 2 calls and no wait", st, rec.all())
	}
}

// TestMediationBreaker: the Client's breaker, opened by run-status calls,
// refuses both new calls without sending them; and their failures count
// towards it like any call's.
func TestMediationBreaker(t *testing.T) {
	sim := newRunsSim(t)
	sim.SetMeter(7, "v", zuoratest.Step{HTTPStatus: 503})
	c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.BreakerFailures, cfg.MaxAttempts = 2, 1 })
	for range 2 {
		_, err := c.RunStatus(context.Background(), Request{MeterID: 7, Version: "v"})
		asError(t, err, ErrUnavailable)
	}
	for _, ep := range endpoints {
		_, err := ep.call(c, context.Background(), 0)
		if e := asError(t, err, ErrUnavailable); e.Attempts != 0 || !strings.HasPrefix(e.Message, "circuit breaker open") || e.RetryAfter <= 0 {
			t.Errorf("%s: %+v", ep.name, e)
		}
	}
	if st := sim.Stats(); st.SummaryCalls != 0 || st.AuditCalls != 0 || st.TokenMints != 0 {
		t.Errorf("sent while the breaker was open: %+v", st)
	}

	// The other way round: the new calls' 5xx open it for the run status.
	sim = newRunsSim(t)
	sim.SetMeter(7, "v", zuoratest.Step{Status: 7})
	sim.SetSummaryFault(zuoratest.Fault{HTTPStatus: 500})
	sim.SetAuditFault(zuoratest.Fault{HTTPStatus: 502})
	c, _ = newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.BreakerFailures, cfg.MaxAttempts = 2, 1 })
	for _, ep := range endpoints {
		_, err := ep.call(c, context.Background(), 0)
		asError(t, err, ErrUnavailable)
	}
	_, err := c.RunStatus(context.Background(), Request{MeterID: 7, Version: "v"})
	if e := asError(t, err, ErrUnavailable); e.Attempts != 0 || sim.Stats().RunStatusCalls != 0 {
		t.Errorf("run status after two failed enrichments: %+v", e)
	}
}

// TestMediationGate: a 429's Retry-After pauses the new calls too; one
// whose deadline comes first fails at once, sending nothing.
func TestMediationGate(t *testing.T) {
	sim := newRunsSim(t)
	sim.SetMeter(7, "v", zuoratest.Step{HTTPStatus: 429, RetryAfter: "5"})
	c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.MaxAttempts = 1 })
	_, err := c.RunStatus(context.Background(), Request{MeterID: 7, Version: "v"})
	asError(t, err, ErrThrottled)
	for _, ep := range endpoints {
		start := time.Now()
		_, err := ep.call(c, ctxTimeout(t, time.Second), 0)
		if e := asError(t, err, ErrThrottled); e.Attempts != 0 || e.RetryAfter < 4*time.Second || time.Since(start) > 500*time.Millisecond {
			t.Errorf("%s: %+v after %v", ep.name, e, time.Since(start))
		}
	}
	if st := sim.Stats(); st.SummaryCalls != 0 || st.AuditCalls != 0 {
		t.Errorf("sent during the pause: %+v", st)
	}
	if st := c.Limits(); st.BreakerRefusals != 0 {
		t.Errorf("Limits() = %+v", st)
	}
}

// TestMediationDeadline: a slow answer ends at the caller's deadline.
func TestMediationDeadline(t *testing.T) {
	sim := newRunsSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	for _, ep := range endpoints {
		ep.fault(sim, zuoratest.Fault{Latency: 10 * time.Second})
		start := time.Now()
		_, err := ep.call(c, ctxTimeout(t, 100*time.Millisecond), 0)
		if e := asError(t, err, ErrUnavailable); !e.Timeout || e.Attempts != 1 || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %+v after %v", ep.name, e, time.Since(start))
		}
	}
}

func TestMediationValidation(t *testing.T) {
	sim := newRunsSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	long := strings.Repeat("x", 65)
	summaries := map[string]func(*SummaryRequest){
		"meter 0":            func(r *SummaryRequest) { r.MeterID = 0 },
		"run type":           func(r *SummaryRequest) { r.RunType = "normal" },
		"empty session":      func(r *SummaryRequest) { r.SessionIDs = []string{""} },
		"long session":       func(r *SummaryRequest) { r.SessionIDs = []string{long} },
		"control in session": func(r *SummaryRequest) { r.SessionIDs = []string{"R-1\n"} },
		"101 sessions":       func(r *SummaryRequest) { r.SessionIDs = make([]string, 101) },
		"long operator":      func(r *SummaryRequest) { r.OperatorIDs = []string{strings.Repeat("o", 129)} },
		"groupBy space":      func(r *SummaryRequest) { r.GroupBy = []string{"error code"} },
		"9 groupBy":          func(r *SummaryRequest) { r.GroupBy = strings.Split("a,b,c,d,e,f,g,h,i", ",") },
		"from after to":      func(r *SummaryRequest) { r.From, r.To = r.To, r.From },
		"year 10000":         func(r *SummaryRequest) { r.To = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"negative attempts":  func(r *SummaryRequest) { r.MaxAttempts = -1 },
		"track id":           func(r *SummaryRequest) { r.TrackID = "a:b" },
		"org ids":            func(r *SummaryRequest) { r.OrgIDs = "a,,b" },
	}
	for name, mod := range summaries {
		r := summaryReq()
		mod(&r)
		if _, err := c.Summary(context.Background(), r); asError(t, err, ErrInvalidArgument) == nil || ValidateSummaryRequest(r) == nil {
			t.Errorf("summary %s accepted", name)
		}
	}
	audits := map[string]func(*AuditRequest){
		"meter -1":          func(r *AuditRequest) { r.MeterID = -1 },
		"run type":          func(r *AuditRequest) { r.RunType = "LIVE" },
		"no from":           func(r *AuditRequest) { r.From = time.Time{} },
		"no to":             func(r *AuditRequest) { r.To = time.Time{} },
		"from after to":     func(r *AuditRequest) { r.From, r.To = r.To, r.From },
		"page size 501":     func(r *AuditRequest) { r.PageSize = 501 },
		"page size -1":      func(r *AuditRequest) { r.PageSize = -1 },
		"long session":      func(r *AuditRequest) { r.SessionID = long },
		"session with é":    func(r *AuditRequest) { r.SessionID = "R-é" },
		"cursor with space": func(r *AuditRequest) { r.Cursor = "ab cd" },
		"long cursor":       func(r *AuditRequest) { r.Cursor = strings.Repeat("c", 4097) },
		"entity ids":        func(r *AuditRequest) { r.EntityIDs = "\r\n" },
		"negative attempts": func(r *AuditRequest) { r.MaxAttempts = -2 },
	}
	for name, mod := range audits {
		r := auditReq()
		mod(&r)
		if _, err := c.AuditErrors(context.Background(), r); asError(t, err, ErrInvalidArgument) == nil || ValidateAuditRequest(r) == nil {
			t.Errorf("audit %s accepted", name)
		}
	}
	if st := sim.Stats(); st.SummaryCalls != 0 || st.AuditCalls != 0 {
		t.Errorf("invalid requests were sent: %+v", st)
	}
	for _, r := range []SummaryRequest{{MeterID: 1}, summaryReq()} {
		if err := ValidateSummaryRequest(r); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	ok := auditReq()
	ok.PageSize, ok.SessionID, ok.Cursor = 500, "R-1", strings.Repeat("c", 4096)
	if err := ValidateAuditRequest(ok); err != nil {
		t.Error(err)
	}
}

// TestSummaryReadsDefensively: unknown dimension keys are kept, numbers and
// strings are text, odd entries are skipped, and everything is bounded.
func TestSummaryReadsDefensively(t *testing.T) {
	body := `{"success":true,"data":{"requestId":"rq","output":[
		{"dimensions":{"error_code":1000002,"operator_id":"op-a","tenantShard":"eu-2"},"output":"12","totalErrorCount":3.0},
		{"dimensions":{"ErrorCode":"SYMBOLIC","processor":{"id":"x"}},"totalErrorCount":-4},
		{"dimensions":{"errorCode":null,"sessionId":"R-1"},"output":1e3},
		{"dimensions":[1,2],"output":"lots","totalErrorCount":2},
		"not a group", null, 7,
		{"output":1,"totalErrorCount":1,"breakdown":{"records":[1,2,3]}}
	]},"previousPage":null,"nextPage":null}`
	s, e := decodeSummary([]byte(body))
	if e != nil {
		t.Fatal(e)
	}
	if len(s.Groups) != 5 || s.Output != 1013 || s.Errors != 6 || s.Truncated || s.RequestID != "rq" {
		t.Fatalf("%+v", s)
	}
	g := s.Groups[0]
	if g.ErrorCode() != "1000002" || g.Operator() != "op-a" || g.Dimensions["tenantShard"] != "eu-2" || g.Output != 12 || g.Errors != 3 {
		t.Errorf("group 0: %+v (code %q, operator %q)", g, g.ErrorCode(), g.Operator())
	}
	if g := s.Groups[1]; g.ErrorCode() != "SYMBOLIC" || g.Operator() != "" || g.Errors != 0 {
		t.Errorf("group 1: %+v", g)
	}
	if g := s.Groups[2]; g.ErrorCode() != "" || g.Session() != "R-1" || g.Output != 1000 {
		t.Errorf("group 2: %+v", g)
	}
	if g := s.Groups[3]; len(g.Dimensions) != 0 || g.Output != 0 || g.Errors != 2 {
		t.Errorf("group 3: %+v", g)
	}

	// Bounds: groups, dimensions per group, value lengths; a next page.
	var b strings.Builder
	b.WriteString(`{"success":true,"data":{"output":[`)
	for i := range MaxSummaryGroups + 5 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"dimensions":{"errorCode":"%d"},"output":1,"totalErrorCount":2}`, i)
	}
	b.WriteString(`]},"nextPage":null}`)
	if s, e = decodeSummary([]byte(b.String())); e != nil || len(s.Groups) != MaxSummaryGroups || !s.Truncated ||
		s.Output != MaxSummaryGroups+5 || s.Errors != 2*(MaxSummaryGroups+5) {
		t.Errorf("%d groups, truncated %v, totals %d/%d, %v", len(s.Groups), s.Truncated, s.Output, s.Errors, e)
	}
	dims := map[string]string{}
	for i := range 40 {
		dims[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 300)
	}
	dj, _ := json.Marshal(dims)
	s, e = decodeSummary([]byte(`{"success":true,"data":{"output":[{"dimensions":` + string(dj) + `}]},"nextPage":"eyJ"}`))
	if e != nil || len(s.Groups[0].Dimensions) != maxDimensions || len(s.Groups[0].Dimensions["k00"]) > maxIDLen+len("…") || !s.Truncated {
		t.Errorf("bounds: %d dimensions, %v", len(s.Groups[0].Dimensions), e)
	}
	for _, bad := range []string{
		`{"success":true}`, `{"success":true,"data":[]}`, `{"success":true,"data":{"output":{}}}`, `{"success":true,"data":{"output":"x"}}`,
	} {
		if _, e := decodeSummary([]byte(bad)); e == nil || e.Class != ErrUnavailable {
			t.Errorf("%s: %v", bad, e)
		}
	}
	if s, e := decodeSummary([]byte(`{"success":true,"data":{}}`)); e != nil || len(s.Groups) != 0 {
		t.Errorf("no output: %+v, %v", s, e)
	}
}

func TestTopTallies(t *testing.T) {
	s := Summary{Groups: []SummaryGroup{
		{Dimensions: map[string]string{"errorCode": "B", "processorId": "p1"}, Errors: 5},
		{Dimensions: map[string]string{"errorCode": "A", "processorId": "p2"}, Errors: 5},
		{Dimensions: map[string]string{"errorCode": "C", "processorId": "p1"}, Errors: 7},
		{Dimensions: map[string]string{"errorCode": "B", "processorId": "p2"}, Errors: 1},
		{Dimensions: map[string]string{"errorCode": "", "processorId": ""}, Output: 100},
		{Dimensions: map[string]string{"errorCode": "D"}, Errors: 0},
	}}
	if got := fmt.Sprint(s.TopErrorCodes(10)); got != "[{C 7} {B 6} {A 5}]" {
		t.Errorf("TopErrorCodes = %s", got)
	}
	if got := fmt.Sprint(s.TopOperators(10)); got != "[{p1 12} {p2 6}]" {
		t.Errorf("TopOperators = %s", got)
	}
	if got := s.TopErrorCodes(2); len(got) != 2 || len(s.TopErrorCodes(-1)) != 0 || len((Summary{}).TopOperators(5)) != 0 {
		t.Errorf("bounds: %v", got)
	}
	g := SummaryGroup{Dimensions: map[string]string{"error_code": "x", "ERRORCODE": "y"}}
	for range 20 { // whatever the map's order
		if g.ErrorCode() != "y" {
			t.Fatalf("ErrorCode() = %q, want the first key in sorted order", g.ErrorCode())
		}
	}
}

func TestAuditReadsDefensively(t *testing.T) {
	ms := int64(1753296408775)
	at := time.UnixMilli(ms).UTC()
	tests := []struct {
		errorTime string // JSON
		want      time.Time
	}{
		{`"1753296408775"`, at},
		{`1753296408775`, at},
		{`1.753296408775e12`, at},
		{`"2025-07-23T18:46:48.775Z"`, at},
		{`"2025-07-23T20:46:48.775+02:00"`, at},
		{`"2025-07-23T18:46:48+0000"`, at.Truncate(time.Second)},
		{`"yesterday"`, time.Time{}},
		{`""`, time.Time{}},
		{`null`, time.Time{}},
		{`-5`, time.Time{}},
		{`"99999999999999999"`, time.Time{}},
		{`{"ms":1753296408775}`, time.Time{}},
	}
	for _, tt := range tests {
		p, e := decodeAudit([]byte(`{"success":true,"data":[{"errorTime":`+tt.errorTime+`}]}`), 3)
		if e != nil || len(p.Errors) != 1 || !p.Errors[0].Time.Equal(tt.want) {
			t.Errorf("errorTime %s: %+v, %v; want %v", tt.errorTime, p, e, tt.want)
		}
	}
	body := `{"success":true,"data":[
		{"errorCode":1000002,"errorMessage":"` + strings.Repeat("m", 2000) + `\nforged","operatorId":15004,"eventId":true},
		{"errorCode":{"nested":1},"errorMessage":["a"]},
		"not an entry", 7, null,
		{"errorCode":"3"}, {"errorCode":"4"}, {"errorCode":"5"}
	],"nextPage":"` + strings.Repeat("n", 5000) + `"}`
	p, e := decodeAudit([]byte(body), 3)
	if e != nil || len(p.Errors) != 3 || p.NextCursor != "" {
		t.Fatalf("%+v, %v", p, e)
	}
	e0 := p.Errors[0]
	if e0.ErrorCode != "1000002" || e0.OperatorID != "15004" || e0.EventID != "true" || !e0.Time.IsZero() ||
		len(e0.ErrorMessage) > maxMessageLen+len("…") || strings.Contains(e0.ErrorMessage, "\n") {
		t.Errorf("entry 0: %+v", e0)
	}
	if p.Errors[1] != (AuditError{}) || p.Errors[2].ErrorCode != "3" {
		t.Errorf("entries 1, 2: %+v", p.Errors[1:])
	}
	if p, e := decodeAudit([]byte(`{"success":true,"data":[],"nextPage":"eyJvIjoyfQ"}`), 3); e != nil || p.NextCursor != "eyJvIjoyfQ" {
		t.Errorf("cursor: %+v, %v", p, e)
	}
	for _, bad := range []string{`{"success":true,"data":{}}`, `{"success":true,"data":"x"}`, `{"success":false,"data":[]}`} {
		if _, e := decodeAudit([]byte(bad), 3); e == nil || e.Class != ErrUnavailable {
			t.Errorf("%s: %v", bad, e)
		}
	}
	if p, e := decodeAudit([]byte(`{"success":true}`), 3); e != nil || len(p.Errors) != 0 {
		t.Errorf("no data: %+v, %v", p, e)
	}
}

// TestPayloadNeverLeaks: whatever shape the answer takes, nothing of a
// record's payload reaches a returned value or an error.
func TestPayloadNeverLeaks(t *testing.T) {
	const m = zuoratest.PayloadMarker
	entry := `{"errorTime":"1753296408775","errorCode":"1000002","errorMessage":"bad","payload":{"account":"` + m +
		`","nested":{"deep":["` + m + `",{"x":"` + m + `"}]},"n":1},"operatorId":"op-a"}`
	bodies := []zuoratest.Fault{
		{}, // the simulator's own records
		{Body: `{"success":true,"data":[` + entry + `,` + entry + `],"nextPage":null}`},
		{Body: `{"success":true,"data":[{"payload":"` + m + `","errorCode":{"p":"` + m + `"},"errorTime":{"p":"` + m + `"},"errorMessage":["` + m + `"]}]}`},
		{Body: `{"success":true,"data":[` + entry + `,{"payload":{"x":"` + m + `"` + `]}`}, // broken JSON after the marker
		{Body: `{"success":true,"data":[{"payload":{"` + m + `":1e999}}]}`},                // a number out of range
		{Body: `{"success":true,"data":{"payload":"` + m + `"}}`},
		{Body: `{"success":false,"data":[` + entry + `]}`},
		{Body: `{"data":[` + entry + `]}`},
		{Body: `{"success":true,"data":[` + entry + `],"pad":"` + strings.Repeat("A", maxBodyBytes) + `"}`},
		{HTTPStatus: 500, Body: `{"success":false,"data":[` + entry + `]}`},
		{HTTPStatus: 400, Body: `{"success":false,"errors":[{"code":"X"}],"data":[` + entry + `]}`},
		{Body: `{"success":true,"data":[` + entry + `]}` + m},
	}
	sim := newRunsSim(t)
	c, _ := newTestClient(t, sim.URL, nil)
	for i, f := range bodies {
		sim.SetAuditFault(f)
		req := auditReq()
		req.PageSize, req.MaxAttempts = 500, 1
		page, err := c.AuditErrors(context.Background(), req)
		out := fmt.Sprintf("%+v %#v %+v %#v", page, page, err, err)
		if err != nil {
			out += err.Error()
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				out += u.Error()
			}
		}
		if strings.Contains(out, m) || strings.Contains(out, `"payload"`) {
			t.Errorf("body %d leaks the payload: %s", i, out)
		}
		if i == 0 && (err != nil || len(page.Errors) != 240) {
			t.Errorf("the simulator's records: %d, %v", len(page.Errors), err)
		}
	}
}

// FuzzDecodeMediation: no body makes the decoders panic, fail with another
// class, or keep more than their bounds.
func FuzzDecodeMediation(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"data":{"output":[{"dimensions":{"errorCode":"1"},"output":1,"totalErrorCount":2}]}}`,
		`{"success":true,"data":[{"errorTime":"1753296408775","errorCode":1,"payload":{"a":1}}],"nextPage":"eyJ"}`,
		`{"success":false,"reasons":[{"code":1,"message":"m"}]}`, `{"success":true,"data":null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, e := decodeSummary(body)
		if e != nil && e.Class != ErrUnavailable || len(s.Groups) > MaxSummaryGroups || s.Output < 0 || s.Errors < 0 {
			t.Fatalf("summary %+v, %v", s, e)
		}
		p, e := decodeAudit(body, 3)
		if e != nil && (e.Class != ErrUnavailable || e.Err != nil) || len(p.Errors) > 3 || len(p.NextCursor) > maxCursorLen {
			t.Fatalf("audit %+v, %v", p, e)
		}
	})
}
