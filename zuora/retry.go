package zuora

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxServerWait is the longest wait a server hint may impose. A call with no
// deadline would otherwise sleep for whatever Retry-After says; beyond this
// the caller is better served by the error (with RetryAfter) and its own
// retry policy, e.g. a Step Functions Retry.
const maxServerWait = time.Minute

// backoffCap is the upper bound of the n-th backoff (n from 0):
// min(maxDelay, baseDelay·2ⁿ), computed without overflow.
func backoffCap(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// nextWait is full-jitter exponential backoff (uniform in [0, cap]), raised to
// the server's hint when it gave one: waiting less than Retry-After only
// earns another 429, and failed requests still count against the limits.
func (c *Client) nextWait(n int, hint time.Duration) time.Duration {
	return max(c.jitter(backoffCap(c.baseDelay, c.maxDelay, n)), hint)
}

// fullJitter returns a uniformly random duration in [0, limit].
func fullJitter(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(limit) + 1))
}

// sleepCtx waits d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	return waitFor(ctx, nil, d)
}

// retryHint reads the server's wait hint on a 429 or 503: Retry-After as
// delta-seconds or an HTTP date, else, on a 429 only, RateLimit-Reset
// (seconds until the quota window resets). Zuora sends RateLimit-Reset on
// every answer; on a 503 it speaks of the quota, not of the outage, so it is
// not a reason to wait there. It returns 0 when there is no usable hint.
func retryHint(status int, h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if d, ok := parseSeconds(v); ok {
			return d
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" && status == http.StatusTooManyRequests {
		if d, ok := parseSeconds(v); ok {
			return d
		}
	}
	return 0
}

// parseSeconds reads a non-negative integer number of seconds, capped well
// above anything a caller waits for so the conversion cannot overflow.
func parseSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false
	}
	const ceiling = 24 * 60 * 60
	return time.Duration(min(n, ceiling)) * time.Second, true
}
