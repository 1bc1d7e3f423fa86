package zuora

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error classes. Every error the Client returns matches exactly one of these
// with errors.Is, so callers map them to their own vocabulary in one place.
var (
	// ErrInvalidArgument: the request was refused before anything was sent.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotFound: Zuora says the meter (70002103) or the version (70002104) does not exist.
	ErrNotFound = errors.New("meter not found")
	// ErrAuthFailed: Zuora refused the credentials, also after a fresh token.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrThrottled: Zuora kept answering 429 within the time there was.
	ErrThrottled = errors.New("throttled")
	// ErrUnavailable: 5xx, network failure, timeout, or a body that is not the documented shape.
	ErrUnavailable = errors.New("unavailable")
	// ErrCredentials: the CredentialsFunc failed, or gave neither an access
	// token nor a client id and secret. Err holds what it returned.
	ErrCredentials = errors.New("credentials unavailable")
)

// messageTime formats the times an error message names (until when the
// breaker is open, when the credentials were refused): UTC, to the
// millisecond.
const messageTime = "2006-01-02T15:04:05.000Z07:00"

// Error is what the Client returns for a failed call: a class (one of the Err*
// values above) and whatever Zuora said about it.
type Error struct {
	Class      error  // one of ErrInvalidArgument, ErrNotFound, ErrAuthFailed, ErrThrottled, ErrUnavailable, ErrCredentials
	HTTPStatus int    // 0 when no response arrived
	Code       string // Zuora's error code, e.g. "70002103"
	Message    string // Zuora's (or this package's) message
	RequestID  string // Zuora-Request-Id of the last response
	// RetryAfter says when to come back: the server's hint on 429/503, 0 if
	// none (a final ErrThrottled without a hint carries the next backoff
	// instead); for a call the Client's gate or breaker stopped, the time
	// until they would let it through; for a call failed at once because
	// the credentials were refused recently, the time until a call tries
	// them again.
	RetryAfter time.Duration
	Timeout    bool  // the call ran out of time (deadline or transport timeout)
	Attempts   int   // HTTP attempts made
	Err        error // the underlying cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zuora: ")
	if e.Class != nil {
		b.WriteString(e.Class.Error())
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Class}
	}
	return []error{e.Class, e.Err}
}
