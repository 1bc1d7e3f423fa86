package main

import (
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
)

// TestAuthRefusalEndToEnd: Zuora revokes the function's OAuth client while a
// warm container holds a token from it. A batch of 500 meters then reads the
// secret and asks for a token once or twice, not once for every round of
// concurrent checks: the container remembers the refusal, and every item
// fails as ZuoraAuthFailed. The next batch, within the 30 s, asks nothing at
// all. (Without STATE_TABLE: this is about Zuora and the secret.)
func TestAuthRefusalEndToEnd(t *testing.T) {
	t.Parallel()
	s := localstack.ForTest(t, localstack.NoMemory(nil))
	const n = 500
	batch := e2eCompletedBatch(t, s, 710001, n)
	e2eWantOK(t, s, "warming") // the token, before the revocation

	// The client of localstack.DefaultSecretString, revoked, and the token
	// it minted with it.
	s.Sim.RemoveClient("local-client")
	s.Sim.RevokeTokens()
	for _, round := range []struct {
		name                string
		maxTokens, maxReads int
	}{
		{"the batch that finds the client revoked", 2, 2},
		{"the next batch, within the 30 s", 0, 0},
	} {
		s.Sim.ResetStats()
		stop, err := s.RecordAWSCalls(t.Context())
		e2eMust(t, err)
		start := time.Now()
		b := e2eDecode[e2eBatch](t, e2eInvoke(t, s, string(batch)).Body)
		calls, err := stop(t.Context())
		e2eMust(t, err)
		reads := 0
		for _, c := range calls {
			if c.Op == "SecretsManager.GetSecretValue" {
				reads++
			}
		}
		st := s.Sim.Stats()
		t.Logf("%s: %d of %d ZuoraAuthFailed, %d token requests, %d secret reads, %d run status calls, %s",
			round.name, e2eCount(b, "!ZuoraAuthFailed"), n, st.TokenRequests, reads, st.RunStatusCalls, time.Since(start).Round(time.Millisecond))
		if got := e2eCount(b, "!ZuoraAuthFailed"); got != n {
			t.Errorf("%s: %d of %d items ZuoraAuthFailed, want all", round.name, got, n)
		}
		if st.TokenRequests > round.maxTokens || reads > round.maxReads {
			t.Errorf("%s: %d token requests and %d secret reads, want at most %d and %d",
				round.name, st.TokenRequests, reads, round.maxTokens, round.maxReads)
		}
		if round.maxTokens == 0 && st.RunStatusCalls != 0 {
			t.Errorf("%s: %d run status calls with credentials known to be refused", round.name, st.RunStatusCalls)
		}
	}
	if !e2eLogHas(s, "ZuoraAuthFailed", "the credentials were refused at ", "not trying again until ") {
		t.Errorf("no ZuoraAuthFailed log line says the refusal is remembered:\n%s", s.FunctionLog())
	}

	// The client restored, a new container is served at once.
	s.Sim.AddClient("local-client", "local-secret")
	e2eMust(t, s.Restart(t.Context(), localstack.NoMemory(nil)))
	e2eWantOK(t, s, "a new container after the client was restored")
}
