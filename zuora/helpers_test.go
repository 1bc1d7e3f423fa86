package zuora

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const testToken = "test-static-token"

// newSim starts a simulator that accepts testToken.
func newSim(t testing.TB) *zuoratest.Server {
	return zuoratest.NewTestServer(t, zuoratest.Config{Tokens: []string{testToken}})
}

// skipClock is the real clock plus an offset that a test moves forward, so
// the Client's limiter sees time pass that nobody waited for (a cool-down,
// a recorded backoff).
type skipClock struct{ offset atomic.Int64 }

func (k *skipClock) now() time.Time       { return time.Now().Add(time.Duration(k.offset.Load())) }
func (k *skipClock) skip(d time.Duration) { k.offset.Add(int64(d)) }

// waitRecorder replaces the Client's sleep: it records each wait and returns
// at once, so retry tests take no wall time. The wait passes on its clock,
// which is the Client's limiter's: the pause a 429 set is over once the
// backoff that honours it has been recorded.
type waitRecorder struct {
	clock skipClock
	mu    sync.Mutex
	waits []time.Duration
}

func (r *waitRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	r.clock.skip(d)
	return ctx.Err()
}

func (r *waitRecorder) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// newTestClient builds a Client on the simulator with short delays and the
// recorder as its sleep. mods adjust the Config first.
func newTestClient(t testing.TB, baseURL string, tokens TokenSource, mods ...func(*Config)) (*Client, *waitRecorder) {
	t.Helper()
	if tokens == nil {
		tokens = StaticToken(testToken)
	}
	cfg := Config{
		BaseURL:        baseURL,
		Tokens:         tokens,
		BaseDelay:      time.Millisecond,
		MaxDelay:       4 * time.Millisecond,
		AttemptTimeout: 2 * time.Second,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &waitRecorder{}
	c.sleep = rec.sleep
	c.limits.now = rec.clock.now
	return c, rec
}

// asError checks err is an *Error of class want and returns it.
func asError(t testing.TB, err error, want error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	var ze *Error
	if !errors.As(err, &ze) {
		t.Fatalf("got %T (%v), want *Error", err, err)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got class %v (%v), want %v", ze.Class, err, want)
	}
	return ze
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// countingLoader is a CredentialsFunc that counts its calls.
type countingLoader struct {
	mu    sync.Mutex
	calls int
	creds Credentials
	err   error
}

func (l *countingLoader) load(context.Context) (Credentials, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.creds, l.err
}

func (l *countingLoader) set(c Credentials) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creds = c
}

func (l *countingLoader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// httptestServer serves h on loopback for the test's duration.
func httptestServer(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
