package zuora

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const (
	testClientID     = "client-1"
	testClientSecret = "s3cr3t-value"
)

// newOAuthSim starts a simulator with one OAuth client and meter 123 COMPLETED.
func newOAuthSim(t testing.TB) *zuoratest.Server {
	t.Helper()
	sim := newSim(t)
	sim.AddClient(testClientID, testClientSecret)
	sim.SetMeter(123, "0.0.1", zuoratest.Step{Status: 7})
	return sim
}

func clientCreds() *countingLoader {
	return &countingLoader{creds: Credentials{ClientID: testClientID, ClientSecret: testClientSecret}}
}

func TestStaticToken(t *testing.T) {
	ts := StaticToken("abc")
	ts.Invalidate("abc")
	if tok, err := ts.Token(context.Background()); tok != "abc" || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}
	if _, err := StaticToken("").Token(context.Background()); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("empty static token: %v", err)
	}
}

func TestTokenRequestShape(t *testing.T) {
	sim := newOAuthSim(t)
	c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, clientCreds().load))
	if _, err := c.RunStatus(context.Background(), req1); err != nil {
		t.Fatal(err)
	}
	reqs := sim.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/oauth/token" {
		t.Fatalf("requests %+v", reqs)
	}
	tr := reqs[0]
	if tr.Method != http.MethodPost || tr.Header.Get("Authorization") != "" ||
		!strings.HasPrefix(tr.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Errorf("token request %s, Authorization %q, Content-Type %q", tr.Method, tr.Header.Get("Authorization"), tr.Header.Get("Content-Type"))
	}
	if tr.Form.Get("client_id") != testClientID || tr.Form.Get("client_secret") != "<redacted>" || tr.Form.Get("grant_type") != "client_credentials" {
		t.Errorf("token form %v", tr.Form)
	}
}

// A 307 or 308 would have the token request posted again, client secret
// and all, to wherever it points: it is not followed.
func TestTokenRequestRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		sim := newOAuthSim(t)
		redirector := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, sim.URL+r.URL.Path, status)
		})
		_, err := NewCredentialsSource(redirector, nil, clientCreds().load).Token(context.Background())
		if err == nil || strings.Contains(err.Error(), testClientSecret) {
			t.Errorf("%d: Token error %v", status, err)
		}
		if n := len(sim.Requests()); n != 0 {
			t.Errorf("%d: the token request was sent on to the redirect's target (%d requests)", status, n)
		}
	}
}

func TestTokenReuse(t *testing.T) {
	sim := newOAuthSim(t)
	loader := clientCreds()
	c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
	for i := range 100 {
		if _, err := c.RunStatus(context.Background(), req1); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if st := sim.Stats(); st.TokenMints != 1 || st.RunStatusCalls != 100 {
		t.Errorf("stats %+v, want 1 mint for 100 calls", st)
	}
	if loader.count() != 1 {
		t.Errorf("credentials loaded %d times, want 1", loader.count())
	}
}

func TestTokenSharedRefresh(t *testing.T) {
	sim := newOAuthSim(t)
	sim.SetTokenLatency(30 * time.Millisecond) // the refresh is in flight while all arrive
	loader := clientCreds()
	c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))

	const n = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			_, err := c.RunStatus(context.Background(), req1)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := sim.Stats(); st.TokenMints != 1 || st.RunStatusCalls != n {
		t.Errorf("stats %+v, want 1 mint for %d concurrent calls", st, n)
	}
	if loader.count() != 1 {
		t.Errorf("credentials loaded %d times, want 1", loader.count())
	}
}

func TestTokenCancelledWaiterDoesNotFailOthers(t *testing.T) {
	sim := newOAuthSim(t)
	sim.SetTokenLatency(50 * time.Millisecond)
	src := NewCredentialsSource(sim.URL, nil, clientCreds().load)

	impatient, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	_, err := src.Token(impatient)
	if e := asError(t, err, ErrUnavailable); !e.Timeout {
		t.Errorf("impatient caller: %+v", e)
	}
	tok, err := src.Token(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("patient caller: %q, %v", tok, err)
	}
	if n := sim.Stats().TokenMints; n != 1 {
		t.Errorf("%d mints, want the one refresh shared", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	t.Run("TTL under five minutes mints every time", func(t *testing.T) {
		sim := newOAuthSim(t)
		sim.SetTokenTTL(4 * time.Minute)
		c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, clientCreds().load))
		for range 3 {
			if _, err := c.RunStatus(context.Background(), req1); err != nil {
				t.Fatal(err)
			}
		}
		if n := sim.Stats().TokenMints; n != 3 {
			t.Errorf("%d mints for 3 calls, want 3", n)
		}
	})
	t.Run("clock", func(t *testing.T) {
		sim := newOAuthSim(t)
		sim.SetTokenTTL(time.Hour)
		src := NewCredentialsSource(sim.URL, nil, clientCreds().load).(*credentialsSource)
		advance := fakeClock(src)

		first, err := src.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		advance(54 * time.Minute)
		if tok, _ := src.Token(context.Background()); tok != first {
			t.Error("token renewed 6 minutes before expiry, want reuse")
		}
		advance(time.Minute + time.Second) // 4m59s before expiry
		second, err := src.Token(context.Background())
		if err != nil || second == first {
			t.Errorf("token not renewed within 5 minutes of expiry (%v)", err)
		}
		if n := sim.Stats().TokenMints; n != 2 {
			t.Errorf("%d mints, want 2", n)
		}
	})
}

func TestInvalidateReloadsCredentials(t *testing.T) {
	sim := newOAuthSim(t)
	loader := clientCreds()
	src := NewCredentialsSource(sim.URL, nil, loader.load)
	ctx := context.Background()

	t1, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Invalidate("some-older-token") // not current: ignored
	if tok, _ := src.Token(ctx); tok != t1 || loader.count() != 1 {
		t.Fatalf("a stale Invalidate dropped the current token (loads %d)", loader.count())
	}

	// The secret rotates; Zuora rejects the old client.
	sim.AddClient("client-2", "rotated")
	loader.set(Credentials{ClientID: "client-2", ClientSecret: "rotated"})
	src.Invalidate(t1)
	t2, err := src.Token(ctx)
	if err != nil || t2 == t1 {
		t.Fatalf("after Invalidate: %q, %v", t2, err)
	}
	if loader.count() != 2 {
		t.Errorf("credentials loaded %d times, want 2", loader.count())
	}
	if reqs := sim.Requests(); reqs[len(reqs)-1].Form.Get("client_id") != "client-2" {
		t.Error("the new token was not minted with the reloaded credentials")
	}
}

func TestUnauthorizedRetriesWithFreshToken(t *testing.T) {
	t.Run("minted token revoked", func(t *testing.T) {
		sim := newOAuthSim(t)
		loader := clientCreds()
		c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
		if _, err := c.RunStatus(context.Background(), req1); err != nil {
			t.Fatal(err)
		}
		sim.RevokeTokens()
		rs, err := c.RunStatus(context.Background(), req1)
		if err != nil || rs.Attempts != 2 {
			t.Fatalf("got %+v, %v; want success after 2 attempts", rs, err)
		}
		if st := sim.Stats(); st.TokenMints != 2 || st.RunStatusCalls != 3 {
			t.Errorf("stats %+v, want 2 mints, 3 calls", st)
		}
		if loader.count() != 2 {
			t.Errorf("credentials loaded %d times, want 2", loader.count())
		}
	})
	t.Run("rotated access token", func(t *testing.T) {
		sim := newOAuthSim(t)
		sim.AddToken("old-token")
		loader := &countingLoader{creds: Credentials{AccessToken: "old-token"}}
		c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
		if _, err := c.RunStatus(context.Background(), req1); err != nil {
			t.Fatal(err)
		}
		// A rotation function replaces the token and the secret.
		sim.RevokeTokens()
		sim.AddToken("new-token")
		loader.set(Credentials{AccessToken: "new-token"})
		rs, err := c.RunStatus(context.Background(), req1)
		if err != nil || rs.Attempts != 2 || loader.count() != 2 || sim.Stats().TokenMints != 0 {
			t.Fatalf("got %+v, %v, loads %d", rs, err, loader.count())
		}
	})
	t.Run("still refused", func(t *testing.T) {
		sim := newOAuthSim(t)
		loader := &countingLoader{creds: Credentials{AccessToken: "never-valid"}}
		c, _ := newTestClient(t, sim.URL, NewCredentialsSource(sim.URL, nil, loader.load))
		_, err := c.RunStatus(context.Background(), req1)
		e := asError(t, err, ErrAuthFailed)
		if e.Attempts != 2 || e.HTTPStatus != 401 || loader.count() != 2 || sim.Stats().RunStatusCalls != 2 {
			t.Errorf("got %+v, loads %d", e, loader.count())
		}
		if strings.Contains(err.Error(), "never-valid") {
			t.Errorf("error leaks the token: %v", err)
		}
	})
}

func TestTokenSourceErrors(t *testing.T) {
	sim := newOAuthSim(t)
	closed := zuoratest.NewServer()
	closed.Close()
	loadErr := errors.New("secret store down")

	tests := []struct {
		name    string
		base    string
		loader  *countingLoader
		want    error
		status  int
		timeout bool
		wrapped error
	}{
		{name: "wrong secret", base: sim.URL, loader: &countingLoader{creds: Credentials{ClientID: testClientID, ClientSecret: "wrong-secret"}}, want: ErrAuthFailed, status: 401},
		{name: "unknown client", base: sim.URL, loader: &countingLoader{creds: Credentials{ClientID: "nobody", ClientSecret: "x"}}, want: ErrAuthFailed, status: 401},
		{name: "loader fails", base: sim.URL, loader: &countingLoader{err: loadErr}, want: ErrCredentials, wrapped: loadErr},
		{name: "loader times out", base: sim.URL, loader: &countingLoader{err: context.DeadlineExceeded}, want: ErrCredentials, timeout: true},
		{name: "empty credentials", base: sim.URL, loader: &countingLoader{}, want: ErrCredentials},
		{name: "client id without secret", base: sim.URL, loader: &countingLoader{creds: Credentials{ClientID: "a"}}, want: ErrCredentials},
		{name: "token endpoint down", base: closed.URL, loader: clientCreds(), want: ErrUnavailable},
		{name: "plain http to a remote host", base: "http://rest.zuora.com", loader: clientCreds(), want: ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, sim.URL, NewCredentialsSource(tt.base, nil, tt.loader.load))
			_, err := c.RunStatus(context.Background(), req1)
			e := asError(t, err, tt.want)
			if e.HTTPStatus != tt.status || e.Timeout != tt.timeout || e.Attempts != 0 {
				t.Errorf("got %+v", e)
			}
			if tt.wrapped != nil && !errors.Is(err, tt.wrapped) {
				t.Errorf("cause not wrapped: %v", err)
			}
			for _, secret := range []string{testClientSecret, "wrong-secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the client secret: %v", err)
				}
			}
		})
	}
	if n := sim.Stats().RunStatusCalls; n != 0 {
		t.Errorf("%d run status calls without a token", n)
	}
}

func TestRefusedCredentialsAreReloaded(t *testing.T) {
	sim := newOAuthSim(t)
	loader := &countingLoader{creds: Credentials{ClientID: testClientID, ClientSecret: "old-secret"}}
	src := NewCredentialsSource(sim.URL, nil, loader.load)
	if _, err := src.Token(context.Background()); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("old secret: %v", err)
	}
	loader.set(Credentials{ClientID: testClientID, ClientSecret: testClientSecret})
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if loader.count() != 2 {
		t.Errorf("credentials loaded %d times, want 2", loader.count())
	}
}

// A caller's own TokenSource may return any error.
type failingSource struct{ err error }

func (f failingSource) Token(context.Context) (string, error) { return "", f.err }
func (failingSource) Invalidate(string)                       {}

func TestForeignTokenSourceErrors(t *testing.T) {
	sim := newSim(t)
	for _, tt := range []struct {
		err     error
		want    error
		timeout bool
	}{
		{errors.New("boom"), ErrUnavailable, false},
		{context.DeadlineExceeded, ErrUnavailable, true},
		{&Error{Class: ErrAuthFailed, Message: "nope"}, ErrAuthFailed, false},
	} {
		c, _ := newTestClient(t, sim.URL, failingSource{tt.err})
		_, err := c.RunStatus(context.Background(), req1)
		if e := asError(t, err, tt.want); e.Timeout != tt.timeout {
			t.Errorf("%v: Timeout = %v", tt.err, e.Timeout)
		}
	}
	c, _ := newTestClient(t, sim.URL, failingSource{})
	_, err := c.RunStatus(context.Background(), req1)
	asError(t, err, ErrAuthFailed) // an empty token with no error
}

func TestFailedEarlyRenewalKeepsLiveToken(t *testing.T) {
	sim := newOAuthSim(t)
	src := NewCredentialsSource(sim.URL, nil, clientCreds().load).(*credentialsSource)
	advance := fakeClock(src)

	first, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sim.Close() // the token endpoint is gone from now on
	advance(57 * time.Minute)
	if tok, err := src.Token(context.Background()); tok != first || err != nil {
		t.Errorf("within 5 minutes of expiry with renewal failing: %q, %v; want the live token", tok, err)
	}
	advance(3 * time.Minute) // expired
	if _, err := src.Token(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("expired with renewal failing: %v, want ErrUnavailable", err)
	}
}

// fakeClock gives src a clock that stands still until the returned function
// moves it on.
func fakeClock(src *credentialsSource) (advance func(time.Duration)) {
	var mu sync.Mutex
	now := time.Now()
	src.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	return func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		secret string
		want   Credentials
		bad    bool
	}{
		{`{"client_id": "id", "client_secret": "s3cr3t"}`, Credentials{ClientID: "id", ClientSecret: "s3cr3t"}, false},
		{`{"access_token": "tok"}`, Credentials{AccessToken: "tok"}, false},
		{`{"client_id": "id", "client_secret": "s", "access_token": "tok"}`, Credentials{ClientID: "id", ClientSecret: "s"}, false},
		{"  bare-token-123 \n", Credentials{AccessToken: "bare-token-123"}, false},
		{``, Credentials{}, true},
		{`{"client_id": "id"}`, Credentials{}, true},
		{`{"token": "s3cr3t"}`, Credentials{}, true},
		{`{"client_id": "id", "client_secret": `, Credentials{}, true},
		{`two words s3cr3t`, Credentials{}, true},
	}
	for _, tt := range tests {
		got, err := ParseCredentials(tt.secret)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseCredentials(%q) = %+v, %v", tt.secret, got, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error message quotes the secret: %v", err)
		}
	}
}
