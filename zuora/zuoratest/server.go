// Package zuoratest is an in-process fake of the Zuora endpoints this module
// uses — OAuth client credentials, the Mediation run status of a meter
// version, and a meter's summary and audit trail — shaped like
// net/http/httptest. It follows Zuora's published
// behaviour (paths, headers, error bodies, gzip over 1,000 bytes) and records
// what it was sent, so tests can assert on retries, tokens and headers.
//
// It deliberately does not import the client package: the client's own tests
// use it, and a simulator that shared the client's code could not catch the
// client's misreadings of Zuora.
package zuoratest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Zuora's documented error codes for a missing meter or meter version.
const (
	CodeMeterNotFound   = "70002103"
	CodeVersionNotFound = "70002104"
)

// DefaultTokenTTL is the expires_in Zuora gives its OAuth tokens.
const DefaultTokenTTL = 3599 * time.Second

// maxRecorded bounds the request log of a long-running simulator: past it,
// the oldest half is forgotten.
const maxRecorded = 10000

// Server is a fake Zuora. Configure it with the Set/Add methods at any time;
// all methods are safe for concurrent use.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port) of a server started by
	// NewServer; empty for one made by NewUnstartedHandler.
	URL string

	ts      *httptest.Server
	handler http.Handler

	mu            sync.Mutex
	clients       map[string]string    // client id → secret
	tokens        map[string]time.Time // token → expiry (zero: never)
	tokenTTL      time.Duration
	latency       time.Duration
	tokenLatency  time.Duration
	padding       int
	meters        map[int64]map[string]*script
	runs          map[int64][]Run
	summaryFaults faultScript
	auditFaults   faultScript
	requests      []*RecordedRequest
	stats         Stats
	quota         quota
	outage        outage
}

// Stats counts what the simulator served since it started or since ResetStats.
// The call counts count every request to the endpoint, refused ones too:
// TokenRequests every request to the token endpoint, TokenMints those that
// got a token. InFlight and MaxConcurrent count run status calls being served
// at once.
type Stats struct {
	TokenRequests  int `json:"tokenRequests"`
	TokenMints     int `json:"tokenMints"`
	RunStatusCalls int `json:"runStatusCalls"`
	SummaryCalls   int `json:"summaryCalls"`
	AuditCalls     int `json:"auditCalls"`
	InFlight       int `json:"inFlight"`
	MaxConcurrent  int `json:"maxConcurrent"`
}

// RecordedRequest is one request the simulator received. Secrets are
// redacted but their presence is kept:
// Authorization becomes "<scheme> <redacted>" and a client_secret form value
// "<redacted>".
type RecordedRequest struct {
	Time    time.Time   `json:"time"` // when it arrived
	Method  string      `json:"method"`
	Path    string      `json:"path"` // as sent, still escaped
	Query   string      `json:"query,omitempty"`
	Header  http.Header `json:"header"`
	Form    url.Values  `json:"form,omitempty"` // token requests only
	Status  int         `json:"status"`         // 0 if no answer was sent
	Gzipped bool        `json:"gzipped,omitempty"`
}

// NewUnstartedHandler returns a simulator that is not listening anywhere:
// serve its Handler yourself (cmd/zuora-sim does).
func NewUnstartedHandler() *Server {
	s := &Server{
		clients:  map[string]string{},
		tokens:   map[string]time.Time{},
		tokenTTL: DefaultTokenTTL,
		meters:   map[int64]map[string]*script{},
		runs:     map[int64][]Run{},
		quota:    defaultQuota(),
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	return s
}

// NewServer starts a simulator on a loopback port; its base URL is s.URL.
// Call Close when done.
func NewServer() *Server {
	s := NewUnstartedHandler()
	s.ts = httptest.NewServer(s.handler)
	s.URL = s.ts.URL
	return s
}

// Handler serves the Zuora endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops a server started by NewServer; it does nothing otherwise.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// CloseClientConnections drops every open connection of a started server, so
// a test can make the next request pay for a new connection.
func (s *Server) CloseClientConnections() {
	if s.ts != nil {
		s.ts.CloseClientConnections()
	}
}

// AddClient registers an OAuth client that may mint tokens.
func (s *Server) AddClient(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[id] = secret
}

// RemoveClient unregisters an OAuth client, as revoking it in Zuora does: the
// token endpoint refuses it from now on (401 invalid_client). Tokens it
// minted stay valid until RevokeTokens or their expiry.
func (s *Server) RemoveClient(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
}

// AddToken registers a bearer token that never expires (until RevokeTokens).
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = time.Time{}
}

// RevokeTokens invalidates every token, minted or added: the next run
// status, summary or audit-trail call with any of them gets 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// SetTokenTTL sets the lifetime of tokens minted from now on. expires_in is
// reported in whole seconds, rounded down.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = d
}

// SetLatency delays every run status answer by d (on top of a step's own
// Latency). The wait ends early if the client goes away. The summary and
// the audit trail take their latency from a Fault.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetTokenLatency delays every token answer by d, e.g. to make concurrent
// callers overlap while one refresh is in flight.
func (s *Server) SetTokenLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLatency = d
}

// SetPadding adds n bytes of JSON whitespace to every successful run status
// body, e.g. to push it over Zuora's 1,000-byte gzip threshold (or over a
// client's size limit). The body stays valid JSON of the documented shape.
func (s *Server) SetPadding(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.padding = max(n, 0)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters and forgets the recorded requests. Meters,
// runs, faults, clients and tokens stay; InFlight keeps counting calls still
// being served.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{InFlight: s.stats.InFlight, MaxConcurrent: s.stats.InFlight}
	s.requests = nil
}

// Requests returns a copy of the requests recorded so far, oldest first (at
// most the last 10,000).
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
		out[i].Header = r.Header.Clone()
		if r.Form != nil {
			out[i].Form = cloneValues(r.Form)
		}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
