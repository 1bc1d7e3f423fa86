package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRun serves make run's scenario with a latency, answers a run-status
// call, logs it without the token, and stops when its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stdoutW := io.Pipe()
	var stderr strings.Builder // written by the server's goroutines, read after run returns
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-latency", "30ms"}, stdoutW, &stderr)
		stdoutW.Close()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "zuora-sim listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v", line, err)
	}
	req, err := http.NewRequest("GET", base+"/meters/104/2.0.0/runStatus", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer local-static-token")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"COMPLETED"`) || time.Since(start) < 30*time.Millisecond {
		t.Errorf("meter 104: %d %s (%v) after %s, want COMPLETED after 30ms or more", resp.StatusCode, body, err, time.Since(start))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if log := stderr.String(); !strings.Contains(log, `"path":"/meters/104/2.0.0/runStatus"`) || strings.Contains(log, "local-static-token") {
		t.Errorf("log %s: want the request, without the token", log)
	}
}
