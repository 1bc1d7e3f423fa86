package zuora

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	// renewBefore: a minted token is replaced this long before it expires,
	// so a call never starts with a token that dies on the way (Zuora asks
	// clients to renew a few minutes early).
	renewBefore = 5 * time.Minute
	// refreshTimeout bounds one load-and-mint. The refresh runs detached from
	// the caller that started it, so its cancellation cannot fail the other
	// callers waiting on the same refresh.
	refreshTimeout = 30 * time.Second
)

// StaticToken returns a TokenSource that always gives token. Invalidate does
// nothing: there is nothing to renew.
func StaticToken(token string) TokenSource { return staticToken(token) }

type staticToken string

func (s staticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", &Error{Class: ErrAuthFailed, Message: "the static token is empty"}
	}
	return string(s), nil
}

func (staticToken) Invalidate(string) {}

// NewCredentialsSource returns a TokenSource backed by load, which is called
// on first use and again after a token is rejected (so a rotated secret is
// picked up without a restart).
//
// Credentials holding an AccessToken are used as they are, until rejected.
// Credentials holding ClientID and ClientSecret mint tokens with the OAuth
// client-credentials grant at {baseURL}/oauth/token (form-encoded, no
// Authorization header, as Zuora documents); a token is reused until five
// minutes before it expires (if that early renewal fails, the token is used
// until it really expires). Concurrent callers share one refresh, which is
// not cut short when the caller that started it gives up.
//
// baseURL follows the Client's rules (https://, or http:// to loopback only);
// a bad one makes every Token call fail with ErrInvalidArgument. httpClient
// nil uses the shared NewHTTPClient(); redirects are not followed whatever
// its CheckRedirect says. Errors are *Error: ErrAuthFailed when
// the token endpoint refuses the client (400/401), ErrThrottled on its 429,
// ErrCredentials when load fails or gives nothing usable, else
// ErrUnavailable (Timeout set when time ran out).
func NewCredentialsSource(baseURL string, httpClient *http.Client, load CredentialsFunc) TokenSource {
	s := &credentialsSource{client: httpClient, load: load, now: time.Now}
	base, err := ValidateBaseURL(baseURL)
	if err != nil {
		s.setupErr = err
	}
	s.tokenURL = base + "/oauth/token"
	if load == nil {
		s.setupErr = invalidArgument("a CredentialsFunc is required")
	}
	if s.client == nil {
		s.client = sharedHTTPClient()
	}
	// A copy that does not follow redirects: a 307 or 308 would post the
	// form, client secret included, to wherever it points.
	own := *s.client
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &own
	return s
}

type credentialsSource struct {
	tokenURL string
	setupErr error
	client   *http.Client
	load     CredentialsFunc
	now      func() time.Time // a seam for expiry tests

	mu      sync.Mutex
	creds   *Credentials // nil: (re)load before the next mint
	token   string       // current token, "" when none
	renewAt time.Time    // zero: no known expiry, keep until rejected
	expiry  time.Time    // when the current token dies (zero with renewAt)
	flight  *refresh     // the refresh in progress, shared by all waiters
}

// refresh is one load-and-mint; done is closed when token/err are set.
type refresh struct {
	done  chan struct{}
	token string
	err   error
}

func (s *credentialsSource) Token(ctx context.Context) (string, error) {
	if s.setupErr != nil {
		return "", s.setupErr
	}
	s.mu.Lock()
	if s.token != "" && (s.renewAt.IsZero() || s.now().Before(s.renewAt)) {
		t := s.token
		s.mu.Unlock()
		return t, nil
	}
	f := s.flight
	if f == nil {
		f = &refresh{done: make(chan struct{})}
		s.flight = f
		go s.refresh(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()

	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", &Error{
			Class:   ErrUnavailable,
			Message: "gave up waiting for a token",
			Timeout: errors.Is(ctx.Err(), context.DeadlineExceeded),
			Err:     ctx.Err(),
		}
	}
}

// Invalidate drops rejected if it is still the current token, and marks the
// credentials stale so the next Token reloads them: a 401 often means the
// secret was rotated. A token already replaced is left alone, so a burst of
// 401s for one token causes one refresh, not many.
func (s *credentialsSource) Invalidate(rejected string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rejected != "" && rejected == s.token {
		s.token = ""
		s.renewAt, s.expiry = time.Time{}, time.Time{}
		s.creds = nil
	}
}

func (s *credentialsSource) refresh(ctx context.Context, f *refresh) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()

	s.mu.Lock()
	creds := s.creds
	s.mu.Unlock()

	loaded := false
	var err error
	if creds == nil {
		creds, err = s.loadCredentials(ctx)
		loaded = err == nil
	}
	var token string
	var renewAt time.Time
	if err == nil {
		token, renewAt, err = s.mint(ctx, creds)
	}

	s.mu.Lock()
	if loaded {
		s.creds = creds
	}
	switch {
	case err == nil:
		s.token, s.renewAt = token, renewAt
		s.expiry = time.Time{}
		if !renewAt.IsZero() {
			s.expiry = renewAt.Add(renewBefore)
		}
	case s.token != "" && s.now().Before(s.expiry):
		// An early renewal failed but the current token still has minutes
		// to live: use it rather than fail the call. The next call tries
		// to renew again.
		token, err = s.token, nil
	case errors.Is(err, ErrAuthFailed):
		// Refused credentials are not reused: the next call reloads them.
		s.creds = nil
	}
	s.flight = nil
	s.mu.Unlock()

	f.token, f.err = token, err
	close(f.done)
}

func (s *credentialsSource) loadCredentials(ctx context.Context) (*Credentials, error) {
	c, err := s.load(ctx)
	if err != nil {
		return nil, &Error{
			Class:   ErrCredentials,
			Message: "cannot load the credentials",
			Timeout: errors.Is(err, context.DeadlineExceeded),
			Err:     err,
		}
	}
	if c.AccessToken == "" && (c.ClientID == "" || c.ClientSecret == "") {
		return nil, &Error{
			Class:   ErrCredentials,
			Message: "the credentials hold neither an access token nor a client id and secret",
		}
	}
	return &c, nil
}

// mint returns the token to use and when to renew it.
func (s *credentialsSource) mint(ctx context.Context, c *Credentials) (string, time.Time, error) {
	if c.AccessToken != "" {
		return c.AccessToken, time.Time{}, nil
	}
	cfg := clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     s.tokenURL,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	start := s.now()
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.client))
	if err != nil {
		return "", time.Time{}, mintFailure(ctx, err)
	}
	if tok.Expiry.IsZero() {
		return tok.AccessToken, time.Time{}, nil
	}
	// oauth2 dates the expiry from when the answer arrived; dating it from
	// when the request left (on s.now's clock) errs on the early side.
	lifetime := time.Until(tok.Expiry)
	return tok.AccessToken, start.Add(lifetime - renewBefore), nil
}

// mintFailure classifies a token endpoint failure without its raw body or
// the request form (which holds the client secret).
func mintFailure(ctx context.Context, err error) *Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		e := &Error{Class: ErrUnavailable, Code: clip(re.ErrorCode, 64)}
		if re.Response != nil {
			e.HTTPStatus = re.Response.StatusCode
			e.RequestID = re.Response.Header.Get("Zuora-Request-Id")
		}
		switch e.HTTPStatus {
		case http.StatusBadRequest, http.StatusUnauthorized:
			e.Class = ErrAuthFailed
		case http.StatusTooManyRequests:
			e.Class = ErrThrottled
			if re.Response != nil {
				e.RetryAfter = retryHint(http.StatusTooManyRequests, re.Response.Header, time.Now())
			}
		}
		e.Message = "the token endpoint refused the request"
		if d := clip(re.ErrorDescription, maxMessageLen); d != "" {
			e.Message += ": " + d
		}
		return e
	}
	e := &Error{Class: ErrUnavailable, Message: "cannot get a token", Err: err}
	var ne net.Error
	e.Timeout = errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
	return e
}

// ParseCredentials reads credentials in the forms a secret store holds
// them: {"client_id": "...", "client_secret": "..."} (an OAuth client),
// {"access_token": "..."}, or the bare token as the whole string. Its
// errors say what is wrong, never quote the value, and read on after
// "the secret", e.g. "is not valid JSON".
func ParseCredentials(s string) (Credentials, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Credentials{}, errors.New("is empty")
	}
	if !strings.HasPrefix(s, "{") {
		if strings.ContainsAny(s, " \t\r\n\"") {
			return Credentials{}, errors.New("is neither JSON nor a bare token")
		}
		return Credentials{AccessToken: s}, nil
	}
	var v struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		AccessToken  string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return Credentials{}, errors.New("is not valid JSON")
	}
	switch {
	case v.ClientID != "" && v.ClientSecret != "":
		return Credentials{ClientID: v.ClientID, ClientSecret: v.ClientSecret}, nil
	case v.AccessToken != "":
		return Credentials{AccessToken: v.AccessToken}, nil
	}
	return Credentials{}, errors.New(`has neither "client_id" and "client_secret" nor "access_token"`)
}
