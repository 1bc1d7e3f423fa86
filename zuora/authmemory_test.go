package zuora

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// wantRemembered checks err is the refusal of a call that a remembered
// refusal of the credentials failed at once: nothing sent, the cause kept.
func wantRemembered(t *testing.T, err error, what string) *Error {
	t.Helper()
	e := asError(t, err, ErrAuthFailed)
	var cause *Error
	if e.Attempts != 0 || e.HTTPStatus != 0 || !strings.Contains(e.Message, "credentials were refused at ") ||
		!errors.As(e.Err, &cause) || !errors.Is(cause, ErrAuthFailed) {
		t.Errorf("%s: %+v, want a refusal remembered: nothing sent, the cause wrapped", what, e)
	}
	return e
}

// TestRefusedClientCredentialsRemembered: the token endpoint refuses the
// client; for the hold every call fails at once, reading no secret and
// asking for no token, whatever the endpoint. Then one call tries again.
func TestRefusedClientCredentialsRemembered(t *testing.T) {
	sim := newOAuthSim(t)
	loader := &countingLoader{creds: Credentials{ClientID: testClientID, ClientSecret: "revoked-secret"}}
	c, rec := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
	ctx := context.Background()

	_, err := c.RunStatus(ctx, req1)
	if e := asError(t, err, ErrAuthFailed); e.HTTPStatus != 401 || e.Attempts != 0 {
		t.Fatalf("first call: %+v, want the token endpoint's 401", e)
	}
	for i := range 3 {
		_, err := c.RunStatus(ctx, req1)
		e := wantRemembered(t, err, "a later call")
		if i == 0 && (!strings.Contains(e.Message, "not trying again until ") ||
			e.RetryAfter <= 0 || e.RetryAfter > CredentialsRefusalHold) {
			t.Errorf("the refusal does not say when it tries again: %+v", e)
		}
	}
	_, err = c.Summary(ctx, summaryReq())
	wantRemembered(t, err, "Summary")
	_, err = c.AuditErrors(ctx, auditReq())
	wantRemembered(t, err, "AuditErrors")
	_, errs := concurrently(c, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "v", 5*time.Second)
	for _, err := range errs {
		wantRemembered(t, err, "a concurrent call")
	}
	st := sim.Stats()
	if st.TokenRequests != 1 || loader.count() != 1 || st.RunStatusCalls+st.SummaryCalls+st.AuditCalls != 0 {
		t.Fatalf("%d token requests, %d loads, %+v; want 1 token request and 1 load for 22 calls", st.TokenRequests, loader.count(), st)
	}
	if n := c.Limits().AuthRefusals; n != 21 {
		t.Errorf("Limits().AuthRefusals = %d, want the 21 calls failed at once", n)
	}

	// After the hold, one call tries again: still refused, and remembered
	// again.
	rec.clock.skip(CredentialsRefusalHold)
	_, err = c.RunStatus(ctx, req1)
	if e := asError(t, err, ErrAuthFailed); e.HTTPStatus != 401 {
		t.Errorf("after the hold: %+v, want the token endpoint asked again", e)
	}
	_, err = c.RunStatus(ctx, req1)
	wantRemembered(t, err, "after the second refusal")
	if n := sim.Stats().TokenRequests; n != 2 || loader.count() != 2 {
		t.Fatalf("after the hold: %d token requests, %d loads; want 2 and 2", n, loader.count())
	}

	// The secret is fixed: the next try after the hold succeeds, and calls
	// go on as usual, on the token it minted.
	loader.set(Credentials{ClientID: testClientID, ClientSecret: testClientSecret})
	rec.clock.skip(CredentialsRefusalHold)
	for i := range 3 {
		if _, err := c.RunStatus(ctx, req1); err != nil {
			t.Fatalf("call %d after the secret was fixed: %v", i, err)
		}
	}
	if st := sim.Stats(); st.TokenRequests != 3 || st.TokenMints != 1 || loader.count() != 3 || st.RunStatusCalls != 3 {
		t.Errorf("after the fix: %+v, %d loads; want 1 more token request and load, 3 calls", st, loader.count())
	}
}

// TestRevokedTokenRemembered: a bearer token refused again after one fresh
// read of the secret is remembered; later calls neither read the secret nor
// call Zuora.
func TestRevokedTokenRemembered(t *testing.T) {
	sim := newOAuthSim(t)
	sim.AddToken("static-token")
	loader := &countingLoader{creds: Credentials{AccessToken: "static-token"}}
	c, rec := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
	ctx := context.Background()
	if _, err := c.RunStatus(ctx, req1); err != nil {
		t.Fatal(err)
	}

	sim.RevokeTokens()
	_, err := c.RunStatus(ctx, req1)
	if e := asError(t, err, ErrAuthFailed); e.Attempts != 2 || e.HTTPStatus != 401 || loader.count() != 2 {
		t.Fatalf("the call that finds it revoked: %+v, %d loads; want 401, reload, 401", e, loader.count())
	}
	for range 5 {
		_, err := c.RunStatus(ctx, req1)
		wantRemembered(t, err, "a later call")
	}
	_, errs := concurrently(c, []int64{123, 123, 123, 123, 123, 123, 123, 123}, "0.0.1", 5*time.Second)
	for _, err := range errs {
		wantRemembered(t, err, "a concurrent call")
	}
	if st := sim.Stats(); st.RunStatusCalls != 3 || loader.count() != 2 || st.TokenRequests != 0 {
		t.Fatalf("%+v, %d loads; want the 3 calls and 2 loads of before", st, loader.count())
	}

	// After the hold, one call tries again, with the token it holds and
	// then one more read of the secret.
	rec.clock.skip(CredentialsRefusalHold)
	_, err = c.RunStatus(ctx, req1)
	if e := asError(t, err, ErrAuthFailed); e.Attempts != 2 || loader.count() != 3 {
		t.Errorf("after the hold: %+v, %d loads; want 2 attempts and 1 more load", e, loader.count())
	}
	_, err = c.RunStatus(ctx, req1)
	wantRemembered(t, err, "after the second refusal")
}

// TestRotatedTokenNotRemembered: a 401 whose fresh token works is a
// rotation, not a refusal.
func TestRotatedTokenNotRemembered(t *testing.T) {
	sim := newOAuthSim(t)
	sim.AddToken("old-token")
	loader := &countingLoader{creds: Credentials{AccessToken: "old-token"}}
	c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
	ctx := context.Background()
	if _, err := c.RunStatus(ctx, req1); err != nil {
		t.Fatal(err)
	}
	sim.RevokeTokens()
	sim.AddToken("new-token")
	loader.set(Credentials{AccessToken: "new-token"})
	if rs, err := c.RunStatus(ctx, req1); err != nil || rs.Attempts != 2 {
		t.Fatalf("the call that finds it rotated: %+v, %v; want success in 2 attempts", rs, err)
	}
	for i := range 3 {
		if rs, err := c.RunStatus(ctx, req1); err != nil || rs.Attempts != 1 {
			t.Fatalf("call %d after the rotation: %+v, %v", i, rs, err)
		}
	}
	if n := sim.Stats().RunStatusCalls; n != 6 || loader.count() != 2 {
		t.Errorf("%d calls, %d loads; want 6 and 2", n, loader.count())
	}
}

// TestNotARefusalOfTheCredentials: failures that do not say Zuora refuses
// the credentials are not remembered: every later call asks again.
func TestNotARefusalOfTheCredentials(t *testing.T) {
	tokenEndpoint := func(t *testing.T, status int) (url string, requests *atomic.Int32) {
		requests = &atomic.Int32{}
		url = httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable"}`))
		})
		return url, requests
	}
	tests := []struct {
		name string
		want error
		// setup returns the Client, and a count of what a remembered
		// refusal would spare: Zuora calls, token requests or secret reads.
		setup func(t *testing.T, sim *zuoratest.Server) (*Client, func() int)
	}{
		{"403 from Zuora", ErrAuthFailed, func(t *testing.T, sim *zuoratest.Server) (*Client, func() int) {
			sim.SetMeter(123, "0.0.1", zuoratest.Step{HTTPStatus: 403})
			c, _ := newTestClient(t, sim.URL, nil)
			return c, func() int { return sim.Stats().RunStatusCalls }
		}},
		{"401 without the attempt for a fresh token", ErrAuthFailed, func(t *testing.T, sim *zuoratest.Server) (*Client, func() int) {
			sim.SetMeter(123, "0.0.1", zuoratest.Step{HTTPStatus: 401})
			c, _ := newTestClient(t, sim.URL, nil, func(cfg *Config) { cfg.MaxAttempts = 1 })
			return c, func() int { return sim.Stats().RunStatusCalls }
		}},
		{"token endpoint 429", ErrThrottled, func(t *testing.T, sim *zuoratest.Server) (*Client, func() int) {
			url, requests := tokenEndpoint(t, http.StatusTooManyRequests)
			c, _ := newTestClient(t, sim.URL, NewCredentialsSource(url, nil, clientCreds().load))
			return c, func() int { return int(requests.Load()) }
		}},
		{"token endpoint 503", ErrUnavailable, func(t *testing.T, sim *zuoratest.Server) (*Client, func() int) {
			url, requests := tokenEndpoint(t, http.StatusServiceUnavailable)
			c, _ := newTestClient(t, sim.URL, NewCredentialsSource(url, nil, clientCreds().load))
			return c, func() int { return int(requests.Load()) }
		}},
		{"secret unreadable", ErrCredentials, func(t *testing.T, sim *zuoratest.Server) (*Client, func() int) {
			loader := &countingLoader{err: errors.New("secret store down")}
			c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
			return c, loader.count
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, asked := tt.setup(t, newOAuthSim(t))
			for i := range 4 {
				before := asked()
				_, err := c.RunStatus(context.Background(), req1)
				asError(t, err, tt.want)
				if asked() == before {
					t.Fatalf("call %d asked nothing: %v", i+1, err)
				}
			}
		})
	}
}

// TestRefusalProbe: after the hold one call tries the credentials again;
// the others fail at once until it knows. It succeeds: the refusal is
// forgotten.
func TestRefusalProbe(t *testing.T) {
	sim := newOAuthSim(t)
	loader := &countingLoader{creds: Credentials{ClientID: testClientID, ClientSecret: "revoked-secret"}}
	var block atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // a probe left blocked if the test fails early
	load := func(ctx context.Context) (Credentials, error) {
		if block.Load() {
			entered <- struct{}{}
			<-release
		}
		return loader.load(ctx)
	}
	c, rec := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, load))
	ctx := context.Background()
	_, err := c.RunStatus(ctx, req1)
	asError(t, err, ErrAuthFailed)

	rec.clock.skip(CredentialsRefusalHold)
	block.Store(true)
	probed := make(chan error, 1)
	go func() {
		_, err := c.RunStatus(ctx, req1)
		probed <- err
	}()
	<-entered // the probe is reading the secret
	for range 3 {
		// A deadline only so that a client that waits for the probe fails
		// instead of hanging: none should wait.
		_, err := c.RunStatus(ctxTimeout(t, 5*time.Second), req1)
		if e := wantRemembered(t, err, "while the probe is out"); !strings.Contains(e.Message, "another call is trying them again") {
			t.Errorf("message %q, want it to say a call is trying again", e.Message)
		}
	}
	if loader.count() != 1 {
		t.Errorf("%d loads while the probe was out, want the first call's only", loader.count())
	}
	loader.set(Credentials{ClientID: testClientID, ClientSecret: testClientSecret})
	free()
	if err := <-probed; err != nil {
		t.Fatalf("the probe: %v", err)
	}
	for i := range 3 {
		if _, err := c.RunStatus(ctx, req1); err != nil {
			t.Fatalf("call %d after the probe succeeded: %v", i, err)
		}
	}
	// Forgotten, not only past: calls at once all go, none waits for or is
	// failed because of another's answer.
	sim.SetLatency(20 * time.Millisecond)
	_, errs := concurrently(c, []int64{123, 123, 123, 123, 123, 123, 123, 123}, "0.0.1", 5*time.Second)
	if err := errors.Join(errs...); err != nil {
		t.Errorf("concurrent calls after the probe succeeded: %v", err)
	}
	if st := sim.Stats(); st.TokenRequests != 2 || st.RunStatusCalls != 12 || loader.count() != 2 {
		t.Errorf("%+v, %d loads; want 2 token requests, 12 calls, 2 loads", st, loader.count())
	}
}
