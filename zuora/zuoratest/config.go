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
//	 "meters":[{"meterId":101,"version":"0.0.1","steps":[{"status":5},{"status":7}]}]}
type Config struct {
	Clients  []ClientConfig `json:"clients,omitempty"`
	Tokens   []string       `json:"tokens,omitempty"`
	TokenTTL string         `json:"tokenTTL,omitempty"` // Go duration; empty keeps the default
	Latency  string         `json:"latency,omitempty"`  // Go duration
	Meters   []Meter        `json:"meters,omitempty"`
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

// Apply adds the clients, tokens and meters of c and sets its TTL and latency.
// It checks everything before changing anything.
func (s *Server) Apply(c Config) error {
	var ttl, latency time.Duration
	var err error
	if c.TokenTTL != "" {
		if ttl, err = time.ParseDuration(c.TokenTTL); err != nil || ttl <= 0 {
			return fmt.Errorf("tokenTTL %q is not a positive duration", c.TokenTTL)
		}
	}
	if c.Latency != "" {
		if latency, err = time.ParseDuration(c.Latency); err != nil || latency < 0 {
			return fmt.Errorf("latency %q is not a duration", c.Latency)
		}
	}
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

	if ttl > 0 {
		s.SetTokenTTL(ttl)
	}
	if c.Latency != "" {
		s.SetLatency(latency)
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
