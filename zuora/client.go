package zuora

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxAttempts    = 3
	DefaultBaseDelay      = 100 * time.Millisecond
	DefaultMaxDelay       = 2 * time.Second
	DefaultAttemptTimeout = 30 * time.Second

	// The breaker's thresholds sit above what one check and one retry of it
	// by its caller (a state machine's Retry, an HTTP client's) can fail
	// with at the default MaxAttempts, so those two make all their attempts
	// and the third failing check in a row is refused. A batch, with its
	// calls in flight together, passes them in its first round.
	DefaultBreakerFailures = 7 // two checks of 3 attempts, plus one
	// Only a 429 after a wait counts, and the first check's first attempt
	// had no 429 to wait for.
	DefaultBreakerThrottles = 6 // two checks of 3 attempts less that one, plus one
	// DefaultBreakerCooldown: long enough that a failing batch stops
	// calling and a warm container probes a few times a minute at most;
	// short enough that a caller's retry a few seconds later finds Zuora
	// back. MaxBreakerCooldown bounds it so the next scheduled invocation
	// is served normally.
	DefaultBreakerCooldown = 10 * time.Second
	MaxBreakerCooldown     = 30 * time.Second
)

// Config configures a Client. Only BaseURL and Tokens are required.
type Config struct {
	// BaseURL is Zuora's REST base, e.g. https://rest.zuora.com. It must be
	// https://; http:// is accepted only for a loopback host (a simulator).
	BaseURL string
	// Tokens supplies bearer tokens; see StaticToken and NewCredentialsSource.
	Tokens TokenSource
	// HTTPClient makes the requests; nil uses a shared NewHTTPClient().
	// Redirects are not followed whatever its CheckRedirect says.
	HTTPClient *http.Client
	// MaxAttempts bounds the HTTP attempts of one call, the 401 retry
	// included; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the full-jitter exponential backoff
	// between attempts; 0 means DefaultBaseDelay / DefaultMaxDelay.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// AttemptTimeout bounds one HTTP attempt (the context's deadline always
	// bounds the whole call); 0 means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// BreakerFailures is how many consecutive failures that say Zuora is
	// down (5xx, network failures, attempt timeouts, bodies not in its
	// documented shape) open the circuit breaker; 0 means
	// DefaultBreakerFailures. Every attempt counts, a call's retries too.
	BreakerFailures int
	// BreakerThrottles is how many consecutive 429s that persist after the
	// Client waited what Zuora asked open the breaker; 0 means
	// DefaultBreakerThrottles.
	BreakerThrottles int
	// BreakerCooldown is how long the open breaker fails every call at
	// once, before one call probes Zuora again; 0 means
	// DefaultBreakerCooldown. At most MaxBreakerCooldown.
	BreakerCooldown time.Duration
}

// Client asks Zuora for the run status of meter versions, and for a meter's
// summary and records in error. It is safe for concurrent use; build one and
// reuse it, so connections and tokens are too, and so are its gate, breaker
// and memory of refused credentials: what one call learns of Zuora's limits
// and health, or of the credentials, holds back all of them, whatever the
// endpoint.
type Client struct {
	base           string
	tokens         TokenSource
	http           *http.Client
	maxAttempts    int
	baseDelay      time.Duration
	maxDelay       time.Duration
	attemptTimeout time.Duration
	limits         *limiter    // the gate and the breaker
	auth           *authMemory // a refusal of the credentials, on the limiter's clock

	// Seams for tests: the backoff's random draw and the wait itself.
	jitter func(limit time.Duration) time.Duration
	sleep  func(ctx context.Context, d time.Duration) error
}

// New checks cfg and returns a Client. Errors are *Error of class
// ErrInvalidArgument.
func New(cfg Config) (*Client, error) {
	base, err := ValidateBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Tokens == nil {
		return nil, invalidArgument("a TokenSource is required")
	}
	if cfg.MaxAttempts < 0 || cfg.BaseDelay < 0 || cfg.MaxDelay < 0 || cfg.AttemptTimeout < 0 ||
		cfg.BreakerFailures < 0 || cfg.BreakerThrottles < 0 || cfg.BreakerCooldown < 0 {
		return nil, invalidArgument("no Config number may be negative")
	}
	if cfg.BreakerCooldown > MaxBreakerCooldown {
		return nil, invalidArgument("BreakerCooldown %v is longer than %v", cfg.BreakerCooldown, MaxBreakerCooldown)
	}
	limits := newLimiter(orDefault(cfg.BreakerFailures, DefaultBreakerFailures),
		orDefault(cfg.BreakerThrottles, DefaultBreakerThrottles), orDefault(cfg.BreakerCooldown, DefaultBreakerCooldown))
	c := &Client{
		base:           base,
		tokens:         cfg.Tokens,
		maxAttempts:    orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		baseDelay:      orDefault(cfg.BaseDelay, DefaultBaseDelay),
		maxDelay:       orDefault(cfg.MaxDelay, DefaultMaxDelay),
		attemptTimeout: orDefault(cfg.AttemptTimeout, DefaultAttemptTimeout),
		limits:         limits,
		auth:           &authMemory{hold: CredentialsRefusalHold},
		jitter:         fullJitter,
		sleep:          sleepCtx,
	}
	if c.maxDelay < c.baseDelay {
		return nil, invalidArgument("MaxDelay (%v) is shorter than BaseDelay (%v)", c.maxDelay, c.baseDelay)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = sharedHTTPClient()
	}
	// A copy, so the caller's client keeps its own redirect policy. Zuora does
	// not redirect this call; following one could carry the bearer token to
	// another place, so a 3xx is reported as it is.
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &own
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// RunStatus asks Zuora for the run status of one meter version.
//
// It retries 429, 5xx, timeouts and network failures with jittered backoff
// (waiting at least what Retry-After says), and a 401 once with a fresh token,
// all within MaxAttempts and never past ctx's deadline: when the next wait
// would end after it, the call stops at once with the last error.
//
// Before each attempt it passes the Client's gate and breaker, shared by all
// its calls. After a 429 every call waits out its Retry-After (or
// RateLimit-Reset), then one goes first and the others wait for its answer;
// when RateLimit-Remaining is down to the calls in flight, calls wait for the
// window to reset. A call whose deadline comes before the gate opens fails at
// once with ErrThrottled and a RetryAfter, sending nothing. While the breaker
// is open, calls fail at once with the class of the failure that opened it,
// Attempts 0 and RetryAfter until a probe may go.
//
// When Zuora refuses the credentials (the TokenSource fails with
// ErrAuthFailed, as when the token endpoint answers 401, or a 401 persists
// after one fresh token), the Client remembers it for
// CredentialsRefusalHold: calls meanwhile fail at once with ErrAuthFailed,
// Attempts 0, the refusal as Err and RetryAfter until a call tries again,
// without asking the TokenSource for a token. A 403 is not remembered.
// Every error is an *Error whose Class is one of the Err* values.
func (c *Client) RunStatus(ctx context.Context, req Request) (RunStatus, error) {
	start := time.Now()
	if err := ValidateRequest(req); err != nil {
		return RunStatus{}, err
	}
	var rs RunStatus
	x := &exchange{
		method: http.MethodGet,
		endpoint: c.base + "/meters/" + strconv.FormatInt(req.MeterID, 10) + "/" +
			url.PathEscape(req.Version) + "/runStatus",
		scope:       scope{req.TrackID, req.EntityIDs, req.OrgIDs},
		maxAttempts: c.maxAttempts,
		read: func(body []byte) *Error {
			code, desc, err := decodeRunStatus(body)
			if err != nil {
				return err
			}
			info := lookupStatus(code, desc)
			rs = RunStatus{Code: code, Description: desc, Name: info.name, Terminal: info.terminal, Failed: info.failed}
			return nil
		},
	}
	got, err := c.do(ctx, x)
	if err != nil {
		return RunStatus{}, err
	}
	rs.RequestID, rs.Attempts, rs.Latency = got.requestID, got.attempts, time.Since(start)
	return rs, nil
}

// exchange is one call to Zuora: the request each of its attempts sends, and
// how its 200 answer is read. Every endpoint goes through Client.do, so each
// has the same token handling, limits, retries and error classes.
type exchange struct {
	method      string
	endpoint    string // the absolute URL, query included
	body        []byte // a JSON body; nil sends none
	scope       scope
	maxAttempts int // the call's bound on HTTP attempts, the 401 retry included
	// read decodes a 200 body into the caller's result. Its *Error, a body
	// not in Zuora's documented shape, ends the call: a 200 is not retried.
	read func(body []byte) *Error
}

// scope is a call's optional Zuora headers, validated by the caller.
type scope struct{ trackID, entityIDs, orgIDs string }

// answered is what a successful exchange reports besides its result.
type answered struct {
	requestID string // Zuora-Request-Id of the answer
	attempts  int
}

// attemptsFor is the bound on a call's attempts: the caller's, when it asks
// for fewer than the Client allows (a best-effort call on a tight budget).
func (c *Client) attemptsFor(n int) int {
	if n <= 0 || n > c.maxAttempts {
		return c.maxAttempts
	}
	return n
}

// do makes x's attempts: past refused credentials, through the gate and
// breaker, with a token, and with the retries RunStatus describes, all
// within x.maxAttempts and ctx.
func (c *Client) do(ctx context.Context, x *exchange) (answered, error) {
	r := retryState{max: x.maxAttempts}
	defer func() { c.auth.done(c.limits.now(), r.authProbe, r.credentials, r.refusal) }()
	for {
		// Refused credentials come first: the gate would only hold a call
		// that fails anyway.
		if err := c.admitCredentials(&r); err != nil {
			return answered{}, err
		}
		// The gate and the breaker come before the token: a call they stop
		// must not ask Zuora's token endpoint for one either.
		t, err := c.enter(ctx, &r)
		if err != nil {
			return answered{}, err
		}
		token, err := c.token(ctx, &r)
		if err != nil {
			c.limits.done(t, outcome{})
			return answered{}, err
		}
		r.attempts++
		requestID, fail, q := c.attempt(ctx, x, token)
		if fail != nil {
			fail.err.Attempts = r.attempts
		}
		c.limits.done(t, newOutcome(fail, q))
		r.heard(fail)
		if fail == nil {
			return answered{requestID: requestID, attempts: r.attempts}, nil
		}
		r.last = fail.err
		if fail.unauthorized && !r.reauthed && r.attempts < r.max {
			// Zuora's guidance: on 401 get a new token and retry once, at once.
			c.tokens.Invalidate(token)
			r.reauthed = true
			continue
		}
		if err := c.wait(ctx, fail, &r); err != nil {
			return answered{}, err
		}
	}
}

// retryState is where one call stands in its attempts.
type retryState struct {
	max      int    // HTTP attempts allowed
	attempts int    // HTTP attempts made
	waits    int    // backoff waits so far: the exponent of the next one
	reauthed bool   // the one 401 retry has been used
	last     *Error // the previous attempt's failure

	authProbe   uint64          // the probe of refused credentials this call holds (authMemory); 0: none
	credentials credentialsWord // what the call learned of them
	refusal     *Error          // why they were refused, if they were
}

// heard notes what an attempt's answer says of the credentials: a 401 after
// the fresh token is a refusal, any other answer from Zuora accepts them.
func (r *retryState) heard(f *failure) {
	switch {
	case f != nil && f.unauthorized && r.reauthed:
		r.credentials, r.refusal = credentialsRefused, f.err
	case f == nil || !f.unauthorized && f.err.HTTPStatus != 0:
		r.credentials = credentialsAccepted
	}
}

// admitCredentials lets the call's next attempt ask for a token, unless
// Zuora refused the credentials recently: then the call fails at once (a
// retry, with its last failure), reading no secret and asking no token.
func (c *Client) admitCredentials(r *retryState) error {
	probe, refusal := c.auth.admit(c.limits.now(), r.authProbe)
	if refusal != nil {
		if r.last == nil { // a retry refused is not a call failed at once
			c.auth.countRefused()
		}
		return refused(r.last, refusal)
	}
	r.authProbe = probe
	return nil
}

// token gets the bearer token for the next attempt, or the error the call
// ends with.
func (c *Client) token(ctx context.Context, r *retryState) (string, error) {
	if err := expired(ctx); err != nil {
		return "", stopped(r.last, err, r.attempts)
	}
	token, err := c.tokens.Token(ctx)
	if err != nil {
		e := tokenFailure(ctx, err, r.attempts)
		if errors.Is(e.Class, ErrAuthFailed) {
			// The token endpoint refused the credentials (a source of
			// this package), or the caller's source says they are refused.
			r.credentials, r.refusal = credentialsRefused, e
		}
		return "", e
	}
	if token == "" {
		return "", &Error{Class: ErrAuthFailed, Message: "the token source gave an empty token", Attempts: r.attempts}
	}
	// Getting the token may have used up the time left.
	if err := expired(ctx); err != nil {
		return "", stopped(r.last, err, r.attempts)
	}
	return token, nil
}

// wait sleeps before the next attempt, or returns the error the call ends
// with: the failure is final, the attempts are used up, the breaker is open,
// or the wait would end past the deadline (or absurdly late), so no attempt
// could follow.
func (c *Client) wait(ctx context.Context, f *failure, r *retryState) error {
	if !f.retry || r.attempts >= r.max {
		return c.final(f.err, r.waits)
	}
	if refusal := c.limits.refusal(); refusal != nil {
		return refused(f.err, refusal) // no backoff only to be refused after it
	}
	d := c.nextWait(r.waits, f.err.RetryAfter)
	if d > maxServerWait || !fitsBefore(ctx, d) {
		return c.final(f.err, r.waits)
	}
	r.waits++
	if err := c.sleep(ctx, d); err != nil {
		return stopped(f.err, err, r.attempts)
	}
	return nil
}

// expired is ctx.Err(), but also true once the deadline has passed and
// before the context's own timer has fired (a backoff timer that wakes late
// can land there): no attempt may start after the deadline.
func expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// fitsBefore reports whether a wait of d ends before ctx's deadline.
func fitsBefore(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Now().Add(d).Before(deadline)
}

// final completes the error a call ends with. A throttled caller needs to know
// when to come back: without a server hint, that is the backoff this package
// would have waited next.
func (c *Client) final(e *Error, waits int) *Error {
	if errors.Is(e.Class, ErrThrottled) && e.RetryAfter <= 0 {
		e.RetryAfter = backoffCap(c.baseDelay, c.maxDelay, waits)
	}
	return e
}

// stopped is the error of a call whose context ended: the last attempt's
// failure if there was one (a 429 stays throttled), else ErrUnavailable.
func stopped(last *Error, ctxErr error, attempts int) *Error {
	timeout := errors.Is(ctxErr, context.DeadlineExceeded)
	if last == nil {
		return &Error{
			Class:    ErrUnavailable,
			Message:  "the call ended before Zuora answered",
			Timeout:  timeout,
			Attempts: attempts,
			Err:      ctxErr,
		}
	}
	e := *last
	e.Timeout = e.Timeout || timeout
	e.Err = errors.Join(last.Err, ctxErr)
	return &e
}

// tokenFailure turns a TokenSource error into the call's error. Sources from
// this package already return an *Error with the right class; for others, a
// context error keeps its timeout meaning and anything else is ErrUnavailable.
func tokenFailure(ctx context.Context, err error, attempts int) *Error {
	var ze *Error
	if errors.As(err, &ze) {
		e := *ze
		e.Attempts = attempts
		if e.Class == nil {
			e.Class = ErrUnavailable
		}
		return &e
	}
	e := &Error{Class: ErrUnavailable, Message: "getting a token", Attempts: attempts, Err: err}
	e.Timeout = errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
	return e
}

// failure is one attempt's outcome when it did not produce a RunStatus.
type failure struct {
	err          *Error
	retry        bool // 429, 5xx, timeout or network failure
	unauthorized bool // 401: worth one retry with a fresh token
	callerEnded  bool // the caller's context ended: it says nothing about Zuora
}

// attempt makes one HTTP request, bounded by AttemptTimeout, and reads its
// answer. It returns the answer's Zuora-Request-Id on success, and the
// rate-limit window the answer reported.
func (c *Client) attempt(ctx context.Context, x *exchange, token string) (string, *failure, quota) {
	actx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	var body io.Reader
	if x.body != nil {
		body = bytes.NewReader(x.body) // a fresh reader for each attempt
	}
	hreq, err := http.NewRequestWithContext(actx, x.method, x.endpoint, body)
	if err != nil {
		return "", &failure{err: &Error{Class: ErrInvalidArgument, Message: "cannot build the request", Err: err}}, quota{}
	}
	setHeaders(hreq.Header, token, x.scope)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return "", transportFailure(ctx, err, 0, ""), quota{}
	}
	defer resp.Body.Close()
	fail := readAnswer(ctx, resp, x.read)
	return resp.Header.Get("Zuora-Request-Id"), fail, readQuota(resp.Header)
}

func setHeaders(h http.Header, token string, sc scope) {
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json") // required by Zuora's spec, body or not
	h.Set("Accept", "application/json")
	// No Accept-Encoding: Go's transport then asks for gzip and decodes it.
	for _, kv := range [...][2]string{
		{"Zuora-Track-Id", sc.trackID}, {"Zuora-Entity-Ids", sc.entityIDs}, {"Zuora-Org-Ids", sc.orgIDs},
	} {
		if kv[1] != "" {
			h.Set(kv[0], kv[1])
		}
	}
}

// readAnswer reads one response: a 200 goes to read, anything else becomes
// the attempt's failure. Error messages never quote the body: only Zuora's
// error code and message are taken from it.
func readAnswer(ctx context.Context, resp *http.Response, read func([]byte) *Error) *failure {
	status := resp.StatusCode
	requestID := resp.Header.Get("Zuora-Request-Id")
	body, err := readBody(resp)
	if err != nil {
		var de *decodeError
		if errors.Is(err, errBodyTooLarge) || errors.As(err, &de) {
			return &failure{
				err:   &Error{Class: ErrUnavailable, HTTPStatus: status, RequestID: requestID, Message: "unreadable response body", Err: err},
				retry: status == http.StatusTooManyRequests || status >= 500,
			}
		}
		return transportFailure(ctx, err, status, requestID)
	}
	if status != http.StatusOK {
		return statusFailure(resp, body)
	}
	if derr := read(body); derr != nil {
		derr.RequestID = requestID
		return &failure{err: derr}
	}
	return nil
}

// statusFailure classifies an answer other than 200 by its status, with
// Zuora's code and message from the body.
func statusFailure(resp *http.Response, body []byte) *failure {
	status := resp.StatusCode
	e := &Error{HTTPStatus: status, RequestID: resp.Header.Get("Zuora-Request-Id")}
	e.Code, e.Message = errorDetails(body)
	f := &failure{err: e}
	switch {
	case status == http.StatusUnauthorized:
		e.Class, f.unauthorized = ErrAuthFailed, true
	case status == http.StatusForbidden:
		e.Class = ErrAuthFailed
	case status == http.StatusBadRequest:
		e.Class = ErrInvalidArgument
	case status == http.StatusNotFound:
		// 70002103 (meter) and 70002104 (version) are the documented codes;
		// any other 404 also means there is nothing at that path.
		e.Class = ErrNotFound
	case status == http.StatusTooManyRequests:
		e.Class, f.retry = ErrThrottled, true
		e.RetryAfter = retryHint(status, resp.Header, time.Now())
	case status >= 500:
		e.Class, f.retry = ErrUnavailable, true
		if status == http.StatusServiceUnavailable {
			e.RetryAfter = retryHint(status, resp.Header, time.Now())
		}
	default:
		e.Class = ErrUnavailable
		if e.Message == "" {
			e.Message = fmt.Sprintf("unexpected HTTP status %d", status)
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return f
}

// transportFailure classifies an error from sending the request or reading
// its body. If the caller's context ended, the call is over; otherwise a
// timeout of this attempt or a network failure is worth another attempt.
func transportFailure(ctx context.Context, err error, status int, requestID string) *failure {
	e := &Error{Class: ErrUnavailable, HTTPStatus: status, RequestID: requestID, Err: err}
	if cerr := ctx.Err(); cerr != nil {
		e.Timeout = errors.Is(cerr, context.DeadlineExceeded)
		e.Message = "the call ended before Zuora answered"
		return &failure{err: e, callerEnded: true} // nothing more to try
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		e.Timeout = true
		e.Message = "the attempt timed out"
	} else {
		e.Message = "network error"
	}
	return &failure{err: e, retry: true}
}
