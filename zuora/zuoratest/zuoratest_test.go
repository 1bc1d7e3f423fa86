package zuoratest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends one request with the given headers and returns the raw answer
// (gzip is not decoded, so tests see what the simulator sent).
func do(t *testing.T, method, u string, body io.Reader, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func newSim(t *testing.T) *zuoratest.Server {
	return zuoratest.NewTestServer(t, zuoratest.Config{
		Clients: []zuoratest.ClientConfig{{ClientID: "cid", ClientSecret: "csecret"}},
		Tokens:  []string{"static"},
	})
}

func tokenForm(id, secret, grant string) io.Reader {
	return strings.NewReader(url.Values{"client_id": {id}, "client_secret": {secret}, "grant_type": {grant}}.Encode())
}

const form = "application/x-www-form-urlencoded"

func TestTokenEndpoint(t *testing.T) {
	s := newSim(t)
	tests := []struct {
		name      string
		method    string
		body      io.Reader
		header    []string
		status    int
		wantError string
	}{
		{"GET", http.MethodGet, nil, nil, 400, "invalid_request"},
		{"JSON body", http.MethodPost, strings.NewReader(`{"client_id":"cid"}`), []string{"Content-Type", "application/json"}, 400, "invalid_request"},
		{"wrong grant", http.MethodPost, tokenForm("cid", "csecret", "password"), []string{"Content-Type", form}, 400, "unsupported_grant_type"},
		{"wrong secret", http.MethodPost, tokenForm("cid", "nope", "client_credentials"), []string{"Content-Type", form}, 401, "invalid_client"},
		{"unknown client", http.MethodPost, tokenForm("who", "csecret", "client_credentials"), []string{"Content-Type", form}, 401, "invalid_client"},
		{"basic auth instead of form", http.MethodPost, strings.NewReader("grant_type=client_credentials"),
			[]string{"Content-Type", form, "Authorization", "Basic Y2lkOmNzZWNyZXQ="}, 401, "invalid_client"},
	}
	for _, tt := range tests {
		a := do(t, tt.method, s.URL+"/oauth/token", tt.body, tt.header...)
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal([]byte(a.body), &e); err != nil || a.status != tt.status || e.Error != tt.wantError || e.Description == "" {
			t.Errorf("%s: %d %s, want %d %s", tt.name, a.status, a.body, tt.status, tt.wantError)
		}
	}
	if n := s.Stats().TokenMints; n != 0 {
		t.Errorf("%d mints from refused requests", n)
	}

	a := do(t, http.MethodPost, s.URL+"/oauth/token", tokenForm("cid", "csecret", "client_credentials"), "Content-Type", form)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
		JTI         string `json:"jti"`
	}
	if err := json.Unmarshal([]byte(a.body), &tok); err != nil || a.status != 200 || tok.AccessToken == "" ||
		tok.TokenType != "bearer" || tok.ExpiresIn != 3599 || tok.Scope == "" || tok.JTI == "" {
		t.Fatalf("mint: %d %s", a.status, a.body)
	}
	if st := s.Stats(); st.TokenMints != 1 || st.TokenRequests != len(tests)+1 {
		t.Errorf("%d mints of %d token requests, want 1 of %d", st.TokenMints, st.TokenRequests, len(tests)+1)
	}
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	if a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer "+tok.AccessToken); a.status != 200 {
		t.Errorf("minted token refused: %d", a.status)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-2] // the mint
	if last.Form.Get("client_secret") != "<redacted>" || last.Form.Get("client_id") != "cid" {
		t.Errorf("recorded form %v", last.Form)
	}
	if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Bearer <redacted>" {
		t.Errorf("recorded Authorization %q", got)
	}
	for _, r := range reqs {
		if strings.Contains(r.Header.Get("Authorization"), "Y2lk") || strings.Contains(r.Form.Encode(), "csecret") {
			t.Errorf("a secret was recorded: %+v", r)
		}
	}
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	s.SetTokenTTL(40 * time.Millisecond)
	a := do(t, http.MethodPost, s.URL+"/oauth/token", tokenForm("cid", "csecret", "client_credentials"), "Content-Type", form)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(a.body), &tok)
	get := func(token string) answer {
		return do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer "+token)
	}
	if a := get(tok.AccessToken); a.status != 200 {
		t.Fatalf("fresh token: %d", a.status)
	}
	time.Sleep(60 * time.Millisecond)
	a = get(tok.AccessToken)
	if a.status != 401 || a.body != `{"message":"Authentication error"}` || a.header.Get("WWW-Authenticate") != `Bearer realm="Zuora"` {
		t.Errorf("expired token: %d %s %v", a.status, a.body, a.header)
	}
	if a := get("static"); a.status != 200 {
		t.Fatalf("static token: %d", a.status)
	}
	s.RevokeTokens()
	if a := get("static"); a.status != 401 {
		t.Errorf("revoked static token: %d", a.status)
	}
	for _, h := range [][]string{nil, {"Authorization", "Basic c3RhdGlj"}, {"Authorization", "Bearer"}} {
		if a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, h...); a.status != 401 {
			t.Errorf("auth %v: %d", h, a.status)
		}
	}
}

// A removed client is refused by the token endpoint, as a revoked one is by
// Zuora; the tokens it minted before live on until revoked.
func TestRemoveClient(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	mint := func() answer {
		return do(t, http.MethodPost, s.URL+"/oauth/token", tokenForm("cid", "csecret", "client_credentials"), "Content-Type", form)
	}
	a := mint()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(a.body), &tok); err != nil || a.status != 200 || tok.AccessToken == "" {
		t.Fatalf("before RemoveClient: %d %s", a.status, a.body)
	}
	s.RemoveClient("cid")
	s.RemoveClient("nobody") // not registered: nothing to do
	if a := mint(); a.status != 401 || !strings.Contains(a.body, `"invalid_client"`) {
		t.Errorf("removed client: %d %s, want 401 invalid_client", a.status, a.body)
	}
	if a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer "+tok.AccessToken); a.status != 200 {
		t.Errorf("a token minted before RemoveClient: %d, want 200", a.status)
	}
	if st := s.Stats(); st.TokenRequests != 2 || st.TokenMints != 1 {
		t.Errorf("stats %+v, want 2 token requests, 1 mint", st)
	}
	s.AddClient("cid", "csecret")
	if a := mint(); a.status != 200 {
		t.Errorf("added again: %d %s", a.status, a.body)
	}
}

func TestRunStatusScript(t *testing.T) {
	s := newSim(t)
	s.SetMeter(5, "0.0.1", zuoratest.Step{Status: 5}, zuoratest.Step{Status: 8})
	s.SetMeter(6, "0.0.1")
	get := func(path string) answer { return do(t, "GET", s.URL+path, nil, "Authorization", "Bearer static") }

	want := []string{
		`{"success":true,"data":{"runStatus":5,"runStatusDescription":"RUNNING"}}`,
		`{"success":true,"data":{"runStatus":8,"runStatusDescription":"FAILED"}}`,
		`{"success":true,"data":{"runStatus":8,"runStatusDescription":"FAILED"}}`,
	}
	for i, w := range want {
		if a := get("/meters/5/0.0.1/runStatus"); a.status != 200 || a.body != w {
			t.Errorf("call %d: %d %s, want %s", i, a.status, a.body, w)
		}
	}
	if a := get("/meters/6/0.0.1/runStatus"); !strings.Contains(a.body, `"NEVER_RUN"`) {
		t.Errorf("meter without steps: %s", a.body)
	}
	notFound := map[string]string{
		"/meters/99/0.0.1/runStatus": `{"success":false,"error":{"code":"70002103","message":"Meter does not exist."}}`,
		"/meters/5/0.0.2/runStatus":  `{"success":false,"error":{"code":"70002104","message":"Meter version does not exist."}}`,
	}
	for p, w := range notFound {
		if a := get(p); a.status != 404 || a.body != w {
			t.Errorf("%s: %d %s", p, a.status, a.body)
		}
	}
	for _, p := range []string{"/meters/5/0.0.1/run-status", "/v1/meters/5/0.0.1/runStatus", "/meters/5/runStatus", "/"} {
		if a := get(p); a.status != 404 || strings.Contains(a.body, "7000") {
			t.Errorf("%s: %d %s, want a route 404", p, a.status, a.body)
		}
	}
	if a := get("/meters/abc/0.0.1/runStatus"); a.status != 400 || !strings.Contains(a.body, `"errors":[`) {
		t.Errorf("bad meter id: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", s.URL+"/meters/5/0.0.1/runStatus", nil, "Authorization", "Bearer static"); a.status != 405 {
		t.Errorf("POST: %d", a.status)
	}
	if st := s.Stats(); st.RunStatusCalls != 8 || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A held step answers every call for its time, however many there are;
// then the script goes on.
func TestHeldSteps(t *testing.T) {
	s := newSim(t)
	s.SetMeter(5, "0.0.1", zuoratest.Step{Status: 5, Hold: 300 * time.Millisecond}, zuoratest.Step{Status: 7, Hold: 300 * time.Millisecond}, zuoratest.Step{Status: 6})
	status := func() string {
		a := do(t, "GET", s.URL+"/meters/5/0.0.1/runStatus", nil, "Authorization", "Bearer static")
		return a.body[strings.Index(a.body, "Description")+14 : len(a.body)-3]
	}
	var seen []string
	start := time.Now()
	for time.Since(start) < 800*time.Millisecond {
		if st := status(); len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Join(seen, ",") != "RUNNING,COMPLETED,PAUSED" {
		t.Errorf("statuses over 0.8 s: %v", seen)
	}
	var step zuoratest.Step
	if err := json.Unmarshal([]byte(`{"status": 5, "hold": "2s"}`), &step); err != nil || step.Hold != 2*time.Second {
		t.Errorf("a held step from JSON: %+v, %v", step, err)
	}
}

func TestStepAnswers(t *testing.T) {
	s := newSim(t)
	tests := []struct {
		step   zuoratest.Step
		status int
		body   string
		header map[string]string
	}{
		{zuoratest.Step{HTTPStatus: 400}, 400, `{"success":false,"errors":[{"code":"INVALID_VALUE","message":"Invalid request parameter"}]}`, nil},
		{zuoratest.Step{HTTPStatus: 400, ErrorCode: "X", ErrorMessage: "Y"}, 400, `{"success":false,"errors":[{"code":"X","message":"Y"}]}`, nil},
		{zuoratest.Step{HTTPStatus: 401}, 401, `{"message":"Authentication error"}`, map[string]string{"WWW-Authenticate": `Bearer realm="Zuora"`}},
		{zuoratest.Step{HTTPStatus: 403}, 403, `{"success":false,"error":{"code":"70002006","message":"You do not have permission to access this resource."}}`, nil},
		{zuoratest.Step{HTTPStatus: 404}, 404, `{"success":false,"error":{"code":"70002103","message":"Meter does not exist."}}`, nil},
		{zuoratest.Step{HTTPStatus: 429, RetryAfter: "3"}, 429, "", map[string]string{"Retry-After": "3", "RateLimit-Remaining": "0", "RateLimit-Reset": "3"}},
		{zuoratest.Step{HTTPStatus: 500}, 500, `{"reasons":[{"code":"SystemError","message":"internal server error"}]}`, nil},
		{zuoratest.Step{HTTPStatus: 502}, 502, `{"reasons":[{"code":"SystemError","message":"internal server error"}]}`, nil},
		// A 503 spends nothing of the quota: it reports the window (the 9th and 10th call of it).
		{zuoratest.Step{HTTPStatus: 503, RetryAfter: "1"}, 503, "", map[string]string{"Retry-After": "1", "RateLimit-Remaining": "49991"}},
		{zuoratest.Step{HTTPStatus: 503}, 503, "", map[string]string{"Retry-After": "", "RateLimit-Remaining": "49990"}},
		{zuoratest.Step{Body: "not json"}, 200, "not json", nil},
		{zuoratest.Step{Status: 42}, 200, `{"success":true,"data":{"runStatus":42,"runStatusDescription":""}}`, nil},
		{zuoratest.Step{Status: 7, Description: "DONE"}, 200, `{"success":true,"data":{"runStatus":7,"runStatusDescription":"DONE"}}`, nil},
	}
	for i, tt := range tests {
		s.SetMeter(1, "v", tt.step)
		a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer static", "Zuora-Track-Id", "trk")
		if a.status != tt.status || (tt.body != "" && a.body != tt.body) {
			t.Errorf("step %d: %d %s, want %d %s", i, a.status, a.body, tt.status, tt.body)
		}
		for k, v := range tt.header {
			if got := a.header.Get(k); got != v {
				t.Errorf("step %d: header %s = %q, want %q", i, k, got, v)
			}
		}
		if a.header.Get("Zuora-Track-Id") != "trk" || a.header.Get("Zuora-Request-Id") == "" || a.header.Get("RateLimit-Limit") == "" {
			t.Errorf("step %d: headers %v", i, a.header)
		}
	}
}

func TestRequestIDsUnique(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	seen := map[string]bool{}
	for range 20 {
		a := do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer static")
		id := a.header.Get("Zuora-Request-Id")
		if id == "" || seen[id] {
			t.Fatalf("request id %q repeated or missing", id)
		}
		seen[id] = true
		if a.header.Get("RateLimit-Remaining") == "" || a.header.Get("RateLimit-Reset") == "" {
			t.Errorf("rate limit headers missing: %v", a.header)
		}
	}
}

func TestGzipOverThreshold(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	get := func(h ...string) answer {
		return do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, append([]string{"Authorization", "Bearer static"}, h...)...)
	}
	if a := get("Accept-Encoding", "gzip"); a.header.Get("Content-Encoding") != "" {
		t.Error("small body gzipped")
	}
	s.SetPadding(1200)
	if a := get(); a.header.Get("Content-Encoding") != "" || len(a.body) < 1200 {
		t.Error("gzipped without Accept-Encoding")
	}
	a := get("Accept-Encoding", "gzip, deflate")
	if a.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("large body not gzipped: %v", a.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	var v struct {
		Success bool `json:"success"`
		Data    struct {
			RunStatus int `json:"runStatus"`
		} `json:"data"`
	}
	if err := json.Unmarshal(plain, &v); err != nil || !v.Success || v.Data.RunStatus != 7 || len(plain) <= 1000 {
		t.Errorf("gzipped body %q: %v", plain, err)
	}
	if !s.Requests()[2].Gzipped {
		t.Error("Gzipped not recorded")
	}
}

func TestLatencyAndConcurrency(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Status: 7})
	s.SetLatency(30 * time.Millisecond)

	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Go(func() { do(t, "GET", s.URL+"/meters/1/v/runStatus", nil, "Authorization", "Bearer static") })
	}
	wg.Wait()
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Errorf("answers came after %v, want ≥ 30ms", el)
	}
	st := s.Stats()
	if st.RunStatusCalls != 8 || st.MaxConcurrent < 2 || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}

	// A client that gives up frees the handler at once.
	s.SetLatency(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/meters/1/v/runStatus", nil)
	req.Header.Set("Authorization", "Bearer static")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request did not time out")
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().InFlight != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.Stats().InFlight; n != 0 {
		t.Errorf("%d calls still in flight after the client left", n)
	}

	s.ResetStats()
	if st := s.Stats(); st != (zuoratest.Stats{}) || len(s.Requests()) != 0 {
		t.Errorf("after reset: %+v, %d requests", st, len(s.Requests()))
	}
}

func TestDropStep(t *testing.T) {
	s := newSim(t)
	s.SetMeter(1, "v", zuoratest.Step{Drop: true})
	req, _ := http.NewRequest("GET", s.URL+"/meters/1/v/runStatus", nil)
	req.Header.Set("Authorization", "Bearer static")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want a broken connection", resp.StatusCode)
	}
}

func TestConfig(t *testing.T) {
	cfg, err := zuoratest.ParseConfig([]byte(`{"clients":[{"clientId":"a","clientSecret":"b"}],"tokens":["t"],
		"tokenTTL":"2m","latency":"1ms","meters":[{"meterId":1,"version":"v","steps":[{"status":5,"latency":"3ms"},{"status":7}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Meters) != 1 || cfg.Meters[0].Steps[0].Latency != 3*time.Millisecond {
		t.Errorf("parsed %+v", cfg)
	}
	s := zuoratest.NewUnstartedHandler()
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if s.URL != "" {
		t.Error("an unstarted handler has a URL")
	}
	s.Close() // harmless

	for _, bad := range []string{
		`{"meterz":[]}`,
		`{"meters":[{"meterId":1,"version":"v","steps":[{"status":"7"}]}]}`,
		`{"clients":[]} {}`,
	} {
		if _, err := zuoratest.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) accepted", bad)
		}
	}
	for _, bad := range []zuoratest.Config{
		{TokenTTL: "forever"},
		{TokenTTL: "0s"},
		{Latency: "-1s"},
		{Clients: []zuoratest.ClientConfig{{ClientID: "a"}}},
		{Meters: []zuoratest.Meter{{MeterID: 1}}},
	} {
		if err := zuoratest.NewUnstartedHandler().Apply(bad); err == nil {
			t.Errorf("Apply(%+v) accepted", bad)
		}
	}

	step := zuoratest.Step{Status: 5, Latency: 7 * time.Millisecond, RetryAfter: "2"}
	b, err := json.Marshal(step)
	if err != nil {
		t.Fatal(err)
	}
	var back zuoratest.Step
	if err := json.Unmarshal(b, &back); err != nil || back != step {
		t.Errorf("round trip %s → %+v (%v)", b, back, err)
	}
	if !bytes.Contains(b, []byte(`"latency":"7ms"`)) {
		t.Errorf("step JSON %s", b)
	}
}

func TestStatusName(t *testing.T) {
	if zuoratest.StatusName(7) != "COMPLETED" || zuoratest.StatusName(13) != "CONSUME_COMPLETED" ||
		zuoratest.StatusName(0) != "" || zuoratest.StatusName(14) != "" {
		t.Error("StatusName")
	}
}
