package zuoratest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is the simulator's JSON configuration, as read by cmd/zuora-sim:
//
//	{"clients":[{"clientId":"local-client","clientSecret":"local-secret"}],
//	 "tokens":["local-static-token"], "tokenTTL":"1h", "latency":"0s",
//	 "meters":[{"meterId":101,"version":"0.0.1","steps":[{"status":5},{"status":7}]}],
//	 "rateLimit":{"limit":100,"window":"1s"}, "outage":{"status":429,"retryAfter":"1"},
//	 "meterRuns":[{"meterId":101,"runs":[{"sessionId":"R-00000042","runType":"NORMAL",
//	   "start":"-90m","end":"-30m","output":9760,"errors":[{"code":"1000002",
//	   "message":"Invalid field","operatorId":"op-1","operatorName":"Rating",
//	   "operatorType":"BILLING-RATING","count":240}]}]}],
//	 "summaryFaults":[{"httpStatus":500},{}], "auditFaults":[{"latency":"5s"}]}
//
// A run's start and end are RFC 3339 times, or Go durations relative to
// when the config is read ("-90m").
type Config struct {
	Clients  []ClientConfig `json:"clients,omitempty"`
	Tokens   []string       `json:"tokens,omitempty"`
	TokenTTL string         `json:"tokenTTL,omitempty"` // Go duration; empty keeps the default
	Latency  string         `json:"latency,omitempty"`  // Go duration
	Meters   []Meter        `json:"meters,omitempty"`
	// RateLimit, when set, enforces a tenant-wide limit (SetRateLimit).
	RateLimit *RateLimitConfig `json:"rateLimit,omitempty"`
	// Outage, when set, answers every run status, summary and audit-trail
	// call with one status (SetOutage), so a separate process can start
	// throttled or down.
	Outage *OutageConfig `json:"outage,omitempty"`
	// MeterRuns scripts meters' runs for the summary and the audit trail
	// (SetRuns).
	MeterRuns []MeterRuns `json:"meterRuns,omitempty"`
	// SummaryFaults and AuditFaults script those endpoints' answers
	// (SetSummaryFault, SetAuditFault).
	SummaryFaults []Fault `json:"summaryFaults,omitempty"`
	AuditFaults   []Fault `json:"auditFaults,omitempty"`
}

// RateLimitConfig is a tenant-wide limit: Limit calls per Window.
type RateLimitConfig struct {
	Limit  int    `json:"limit"`
	Window string `json:"window"` // Go duration, e.g. "1s"
}

// OutageConfig is the answer to every call of the Mediation endpoints:
// Status (429 or a 5xx) with an optional Retry-After.
type OutageConfig struct {
	Status     int    `json:"status"`
	RetryAfter string `json:"retryAfter,omitempty"`
}

// ClientConfig is an OAuth client the simulator accepts.
type ClientConfig struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// Meter is one scripted meter version (see SetMeter).
type Meter struct {
	MeterID int64  `json:"meterId"`
	Version string `json:"version"`
	Steps   []Step `json:"steps"`
}

// ParseConfig reads a Config, refusing unknown fields so a typo in a test
// fixture fails loudly instead of silently scripting nothing.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := strictUnmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("simulator config: %w", err)
	}
	return c, nil
}

func (m Meter) validate() error {
	if m.MeterID <= 0 {
		return fmt.Errorf("meter %d: meterId must be positive", m.MeterID)
	}
	if m.Version == "" {
		return fmt.Errorf("meter %d: version is required", m.MeterID)
	}
	return nil
}

// Apply adds the clients, tokens, meters and meters' runs of c and sets its
// TTL, latency, rate limit, outage and faults (those it names). It checks
// everything before changing anything.
func (s *Server) Apply(c Config) error {
	ttl, latency, window, err := c.durations()
	if err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}

	if ttl > 0 {
		s.SetTokenTTL(ttl)
	}
	if c.Latency != "" {
		s.SetLatency(latency)
	}
	if c.RateLimit != nil {
		s.SetRateLimit(c.RateLimit.Limit, window)
	}
	if c.Outage != nil {
		s.SetOutage(c.Outage.Status, c.Outage.RetryAfter)
	}
	for _, cl := range c.Clients {
		s.AddClient(cl.ClientID, cl.ClientSecret)
	}
	for _, t := range c.Tokens {
		s.AddToken(t)
	}
	for _, m := range c.Meters {
		s.SetMeter(m.MeterID, m.Version, m.Steps...)
	}
	for _, m := range c.MeterRuns {
		s.SetRuns(m.MeterID, m.Runs...)
	}
	if c.SummaryFaults != nil {
		s.SetSummaryFault(c.SummaryFaults...)
	}
	if c.AuditFaults != nil {
		s.SetAuditFault(c.AuditFaults...)
	}
	return nil
}

// durations parses the Go durations of c.
func (c Config) durations() (ttl, latency, window time.Duration, err error) {
	if c.TokenTTL != "" {
		if ttl, err = time.ParseDuration(c.TokenTTL); err != nil || ttl <= 0 {
			return 0, 0, 0, fmt.Errorf("tokenTTL %q is not a positive duration", c.TokenTTL)
		}
	}
	if c.Latency != "" {
		if latency, err = time.ParseDuration(c.Latency); err != nil || latency < 0 {
			return 0, 0, 0, fmt.Errorf("latency %q is not a duration", c.Latency)
		}
	}
	if c.RateLimit != nil {
		if window, err = time.ParseDuration(c.RateLimit.Window); err != nil || window <= 0 {
			return 0, 0, 0, fmt.Errorf("rateLimit window %q is not a positive duration", c.RateLimit.Window)
		}
	}
	return ttl, latency, window, nil
}

// check validates what c adds, other than durations.
func (c Config) check() error {
	for _, cl := range c.Clients {
		if cl.ClientID == "" || cl.ClientSecret == "" {
			return errors.New("a client needs clientId and clientSecret")
		}
	}
	for _, m := range c.Meters {
		if err := m.validate(); err != nil {
			return err
		}
	}
	for _, m := range c.MeterRuns {
		if err := m.validate(); err != nil {
			return err
		}
	}
	for _, f := range append(append([]Fault(nil), c.SummaryFaults...), c.AuditFaults...) {
		if err := f.validate(); err != nil {
			return err
		}
	}
	if c.RateLimit != nil && c.RateLimit.Limit <= 0 {
		return fmt.Errorf("rateLimit limit %d must be positive", c.RateLimit.Limit)
	}
	if c.Outage != nil {
		return checkOutageStatus(c.Outage.Status)
	}
	return nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
