package zuoratest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// What RateLimit-* report when no limit is set: Zuora's production tenant,
// 50,000 calls a minute. It is reported, never enforced.
const (
	defaultLimit  = 50000
	defaultWindow = time.Minute
)

// quota is the tenant's rate limit: limit calls per window, counted in fixed
// windows that each start with the first call after the previous one ended.
// Every authorized call of the Mediation endpoints (run status, summary,
// audit trail) counts, whatever its answer: Zuora counts failed requests
// too, and its limits are per tenant, not per endpoint.
type quota struct {
	limit    int
	window   time.Duration
	enforced bool
	start    time.Time // of the current window; zero before the first call
	calls    int       // in the current window
}

func defaultQuota() quota { return quota{limit: defaultLimit, window: defaultWindow} }

// usage is what one call's answer reports about its window.
type usage struct {
	limit     int
	remaining int
	reset     time.Duration // until the window ends
	over      bool          // the call is past an enforced limit
}

// count counts one call made at now.
func (q *quota) count(now time.Time) usage {
	if q.start.IsZero() || now.Sub(q.start) >= q.window {
		q.start, q.calls = now, 0
	}
	q.calls++
	return usage{
		limit:     q.limit,
		remaining: max(q.limit-q.calls, 0),
		reset:     q.start.Add(q.window).Sub(now),
		over:      q.enforced && q.calls > q.limit,
	}
}

// outage is an answer imposed on every call of the Mediation endpoints.
type outage struct {
	status     int // 0: none
	retryAfter string
}

// SetRateLimit enforces a tenant-wide limit of limit calls per window, as
// Zuora does per tenant: run status, summary and audit-trail calls count
// alike. Past it, calls answer 429 with
// Retry-After and RateLimit-Reset saying when the window ends (whole
// seconds, rounded up) and RateLimit-Remaining 0, until it does. Every
// answer reports the current window in RateLimit-Limit, -Remaining and
// -Reset. A window starts with the first call after the previous one ended;
// setting a limit starts a new one. limit or window ≤ 0 goes back to the
// default: 50,000 a minute, reported but not enforced.
func (s *Server) SetRateLimit(limit int, window time.Duration) {
	q := defaultQuota()
	if limit > 0 && window > 0 {
		q = quota{limit: limit, window: window, enforced: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = q
}

// SetOutage answers every run status, summary and audit-trail call with
// status, whatever the meter's script (or runs, or faults) say: 429 for a tenant that stays throttled, 503 (or another 5xx)
// for an outage. retryAfter, when set, is sent as Retry-After (and, on a
// 429, in seconds, as RateLimit-Reset). Calls still need a valid token and
// still count against the rate limit. Status 0 ends the outage; a status
// outside 400–599 panics.
func (s *Server) SetOutage(status int, retryAfter string) {
	if err := checkOutageStatus(status); err != nil {
		panic("zuoratest: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outage = outage{status: status, retryAfter: retryAfter}
}

func checkOutageStatus(status int) error {
	if status != 0 && (status < 400 || status > 599) {
		return fmt.Errorf("outage status %d is not an HTTP error status", status)
	}
	return nil
}

// countCall counts an authorized call in the tenant's window. It returns
// what the answer reports about the window and, when an outage or the
// exceeded limit decides the answer instead of the endpoint's script, the
// step to answer with.
func (s *Server) countCall() (usage, *Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.quota.count(time.Now())
	switch {
	case s.outage.status != 0:
		return u, &Step{HTTPStatus: s.outage.status, RetryAfter: s.outage.retryAfter}
	case u.over:
		return u, &Step{HTTPStatus: http.StatusTooManyRequests, RetryAfter: strconv.Itoa(ceilSeconds(u.reset))}
	}
	return u, nil
}

// setRateLimitHeaders reports the window. A 429 says the quota is spent:
// Remaining is 0 and Reset follows its Retry-After when that is in seconds
// (and is left out otherwise, so a scripted throttle without a hint does not
// make clients wait for the window).
func setRateLimitHeaders(h http.Header, u usage, status int, retryAfter string) {
	h.Set("RateLimit-Limit", strconv.Itoa(u.limit))
	if status == http.StatusTooManyRequests {
		h.Set("RateLimit-Remaining", "0")
		if _, err := strconv.Atoi(retryAfter); err == nil {
			h.Set("RateLimit-Reset", retryAfter)
		}
		return
	}
	h.Set("RateLimit-Remaining", strconv.Itoa(u.remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(u.reset)))
}

// ceilSeconds is d in whole seconds, rounded up, as RateLimit-Reset and
// Retry-After carry it.
func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
