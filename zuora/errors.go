package zuora

import (
	"errors"
	"fmt"
	"net/http"
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

// Describe says what went wrong in plain words for whoever made the call:
// from what the client knows of it (its class, status, code, attempts,
// timeout, the gate and breaker), never from what Zuora wrote, whose text
// may name the tenant or its data. Error gives everything, for a log.
func (e *Error) Describe() string {
	var what string
	switch {
	case errors.Is(e.Class, ErrInvalidArgument) && e.HTTPStatus == 0:
		return e.Error() // the client's own check of the request, before anything was sent
	case errors.Is(e.Class, ErrCredentials):
		return "the Zuora credentials could not be read, or hold none of the documented forms; the log says why"
	case errors.Is(e.Class, ErrNotFound) && e.Code == codeVersionNotFound:
		what = "Zuora says the meter version does not exist"
	case errors.Is(e.Class, ErrNotFound):
		what = "Zuora says the meter does not exist"
	case e.Attempts == 0 && e.RetryAfter > 0:
		what = "calls to Zuora are held back after repeated failures or refusals; try again after " + e.RetryAfter.Round(time.Second).String()
	case errors.Is(e.Class, ErrAuthFailed):
		what = "Zuora refused the function's credentials"
	case errors.Is(e.Class, ErrThrottled):
		what = "Zuora kept answering 429 Too Many Requests"
	case e.Timeout:
		what = "Zuora did not answer in time"
	case e.HTTPStatus == http.StatusOK:
		what = "Zuora's answer was not in its documented shape"
	case e.HTTPStatus != 0:
		what = fmt.Sprintf("Zuora answered HTTP %d", e.HTTPStatus)
	default:
		what = "Zuora could not be reached"
	}
	if e.Code != "" {
		what += " (code " + e.Code + ")"
	}
	if e.Attempts > 1 {
		what += fmt.Sprintf(", %d attempts", e.Attempts)
	}
	return what
}

// codeVersionNotFound is Zuora's code for a meter version that does not
// exist (70002103 is the meter's).
const codeVersionNotFound = "70002104"
