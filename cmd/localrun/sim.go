package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// SimStats are the simulator's counters (GET /_sim/stats): the simulator's
// own type, read over its control API.
type SimStats = zuoratest.Stats

// SimStats reads the simulator's counters.
func (s *Stack) SimStats(ctx context.Context) (SimStats, error) {
	var st SimStats
	body, err := s.simCall(ctx, http.MethodGet, "/_sim/stats", nil)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("sim stats: %w", err)
	}
	return st, nil
}

// SimReset zeroes the simulator's counters and forgets the recorded
// requests. Meters (and where each is in its steps), clients and tokens stay.
func (s *Stack) SimReset(ctx context.Context) error {
	_, err := s.simCall(ctx, http.MethodPost, "/_sim/reset", nil)
	return err
}

// SimRequest is one request the simulator received, with secrets redacted by
// the simulator (Authorization "<scheme> <redacted>", client_secret "<redacted>").
type SimRequest = zuoratest.RecordedRequest

// SimRequests returns the requests the simulator recorded since it started
// or since SimReset, oldest first: what the function sent to "Zuora".
func (s *Stack) SimRequests(ctx context.Context) ([]SimRequest, error) {
	body, err := s.simCall(ctx, http.MethodGet, "/_sim/requests", nil)
	if err != nil {
		return nil, err
	}
	var reqs []SimRequest
	if err := json.Unmarshal(body, &reqs); err != nil {
		return nil, fmt.Errorf("sim requests: %w", err)
	}
	return reqs, nil
}

// SimSetMeters replaces or adds meters, in the config file's shape: a JSON
// array of {"meterId", "version", "steps"} objects. A replaced meter starts
// again at its first step.
func (s *Stack) SimSetMeters(ctx context.Context, metersJSON []byte) error {
	_, err := s.simCall(ctx, http.MethodPut, "/_sim/meters", metersJSON)
	return err
}

// SimRevokeTokens makes the simulator forget every token it minted, so the
// function's cached token earns a 401.
func (s *Stack) SimRevokeTokens(ctx context.Context) error {
	_, err := s.simCall(ctx, http.MethodPost, "/_sim/revoke-tokens", nil)
	return err
}

// SimSetLatency makes every simulator answer take d.
func (s *Stack) SimSetLatency(ctx context.Context, d time.Duration) error {
	_, err := s.simCall(ctx, http.MethodPut, "/_sim/latency?d="+url.QueryEscape(d.String()), nil)
	return err
}

func (s *Stack) simCall(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.SimURL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sim %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	// The request log can hold 10,000 entries: allow for it.
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("sim %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("sim %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}
