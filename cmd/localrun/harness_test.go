package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestStackRestartFIFOAndInitFailure exercises the harness's own moving
// parts: restarting the function with another environment, the FIFO queue,
// secret updates, the simulator's control API, and how an init failure
// comes back.
func TestStackRestartFIFOAndInitFailure(t *testing.T) {
	s := newTestStack(t, nil)
	ctx := context.Background()

	if err := s.RestartFunction(ctx, map[string]string{"ALERT_TOPIC_ARN": s.FIFOTopicARN}); err != nil {
		t.Fatal(err)
	}
	if !containsLine(s.FunctionEnv(), "ALERT_TOPIC_ARN="+s.FIFOTopicARN) {
		t.Fatalf("function env %v lacks the FIFO topic", s.FunctionEnv())
	}
	if r := mustInvoke(t, s, `{"meterId": 102, "version": "0.0.1"}`); r.Failed() {
		t.Fatalf("meter 102 via FIFO: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	alerts, err := s.DrainFIFOAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].MessageGroupID == "" || alerts[0].MessageDeduplicationID == "" {
		t.Fatalf("FIFO alerts = %+v, want one with group and deduplication ids", alerts)
	}
	if std, _ := s.DrainAlerts(ctx); len(std) != 0 {
		t.Errorf("standard queue got %d alerts while the function published to FIFO", len(std))
	}

	st, err := s.SimStats(ctx)
	if err != nil || st.TokenMints != 1 || st.RunStatusCalls != 1 {
		t.Errorf("sim stats = %+v, %v; want one token minted and one run-status call", st, err)
	}
	reqs, err := s.SimRequests(ctx)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("sim requests = %+v, %v; want the token request and the run-status call", reqs, err)
	}
	if err := s.SimReset(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SimStats(ctx); err != nil || st != (SimStats{}) {
		t.Errorf("sim stats after reset = %+v, %v", st, err)
	}
	if err := s.SimSetLatency(ctx, 0); err != nil {
		t.Error(err)
	}
	if err := s.SimRevokeTokens(ctx); err != nil {
		t.Error(err)
	}
	if err := s.SimSetMeters(ctx, []byte(`[{"meterId": 110, "version": "0.0.1", "steps": [{"status": 7}]}]`)); err != nil {
		t.Error(err)
	}

	if err := s.PutSecret(ctx, `{"client_id":"local-client","client_secret":"wrong"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.RestartFunction(ctx, nil); err != nil { // cold: no cached token
		t.Fatal(err)
	}
	if r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`); r.ErrorType != "ZuoraAuthFailed" {
		t.Errorf("with a wrong client secret: reply %s %s, want ZuoraAuthFailed", r.ErrorType, r.Body)
	}

	if err := s.RestartFunction(ctx, map[string]string{"ZUORA_BASE_URL": ""}); err != nil {
		t.Fatal(err)
	}
	r := mustInvoke(t, s, `{"meterId": 104, "version": "2.0.0"}`)
	if !r.Failed() || !r.Unhandled {
		t.Fatalf("without ZUORA_BASE_URL: reply HTTP %d %q, want an unhandled init failure", r.StatusCode, r.Body)
	}
	named := false
	for _, rec := range s.FunctionLogRecords() {
		b, _ := json.Marshal(rec)
		named = named || strings.Contains(string(b), "ZUORA_BASE_URL")
	}
	if !named {
		t.Errorf("function log does not name ZUORA_BASE_URL:\n%s", s.FunctionLog())
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
