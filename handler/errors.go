package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// The contract's error names. Step Functions matches Retry and Catch on these
// exact strings, so they never change.
const (
	TypeInvalidRequest      = "InvalidRequest"
	TypeMeterNotFound       = "MeterNotFound"
	TypeZuoraAuthFailed     = "ZuoraAuthFailed"
	TypeZuoraThrottled      = "ZuoraThrottled"
	TypeZuoraUnavailable    = "ZuoraUnavailable"
	TypeSecretUnavailable   = "SecretUnavailable"
	TypeAlertPublishFailed  = "AlertPublishFailed"
	TypeStateUnavailable    = "StateUnavailable"
	TypeCalloutUnauthorized = "CalloutUnauthorized"
)

// Errors that start in this package. Zuora's own classes come from package zuora.
var (
	// ErrInvalidRequest: the event is not one of the contract's shapes, or
	// a field is out of range: internal/trigger's, or a route this
	// function's configuration cannot serve.
	ErrInvalidRequest = trigger.ErrInvalid
	// ErrAlertPublishFailed: the status called for an alert and SNS did not take it.
	ErrAlertPublishFailed = errors.New("alert not published")
	// ErrStateUnavailable: the watch list could not be read or written.
	ErrStateUnavailable = errors.New("state unavailable")
)

// fail turns an error into the caller's failure: an HTTP error response, or a
// Lambda error named after the contract.
func (h *Handler) fail(req trigger.Request, err error, partial *reply.Result) ([]byte, error) {
	k := kindOf(err)
	if req.Reply == trigger.ReplyHTTP {
		body := struct {
			Error  reply.ErrorBody `json:"error"`
			Result *reply.Result   `json:"result,omitempty"`
		}{reply.ErrorBody{Type: k.Type, Message: callerMessage(err, k), ZuoraRequestID: k.RequestID}, partial}
		return trigger.HTTPResponse(k.HTTPStatus, body, k.RetryAfter)
	}
	return nil, messages.InvokeResponse_Error{Type: k.Type, Message: callerMessage(err, k)}
}

// errorKind is an error's place in the contract: its name and HTTP status.
type errorKind struct {
	Type       string
	HTTPStatus int
	RetryAfter time.Duration // only for ZuoraThrottled
	RequestID  string        // Zuora-Request-Id, when Zuora answered
}

// kindOf maps any error this package produces onto the contract. It is the
// one place where error values become names and HTTP statuses. This
// package's own errors are the outer layer and decide first; below them, a
// Zuora error has exactly one class.
func kindOf(err error) errorKind {
	switch {
	case errors.Is(err, ErrInvalidRequest):
		return errorKind{Type: TypeInvalidRequest, HTTPStatus: http.StatusBadRequest}
	case errors.Is(err, ErrAlertPublishFailed):
		return errorKind{Type: TypeAlertPublishFailed, HTTPStatus: http.StatusServiceUnavailable}
	case errors.Is(err, ErrStateUnavailable), errors.Is(err, memory.ErrUnavailable):
		return errorKind{Type: TypeStateUnavailable, HTTPStatus: http.StatusServiceUnavailable}
	case errors.Is(err, callout.ErrUnauthorized):
		return errorKind{Type: TypeCalloutUnauthorized, HTTPStatus: http.StatusUnauthorized}
	case errors.Is(err, callout.ErrSecretUnavailable):
		return errorKind{Type: TypeSecretUnavailable, HTTPStatus: http.StatusInternalServerError}
	}
	var ze *zuora.Error
	if !errors.As(err, &ze) {
		// Nothing unforeseen should get here; it is worth a retry if it does.
		ze = &zuora.Error{Class: zuora.ErrUnavailable}
	}
	k := errorKind{RequestID: ze.RequestID}
	switch ze.Class {
	case zuora.ErrInvalidArgument:
		k.Type, k.HTTPStatus = TypeInvalidRequest, http.StatusBadRequest
	case zuora.ErrCredentials:
		k.Type, k.HTTPStatus = TypeSecretUnavailable, http.StatusInternalServerError
	case zuora.ErrNotFound:
		k.Type, k.HTTPStatus = TypeMeterNotFound, http.StatusNotFound
	case zuora.ErrAuthFailed:
		k.Type, k.HTTPStatus = TypeZuoraAuthFailed, http.StatusBadGateway
	case zuora.ErrThrottled:
		k.Type, k.HTTPStatus, k.RetryAfter = TypeZuoraThrottled, http.StatusServiceUnavailable, ze.RetryAfter
	default: // zuora.ErrUnavailable
		k.Type, k.HTTPStatus = TypeZuoraUnavailable, http.StatusBadGateway
		if ze.Timeout || errors.Is(err, context.DeadlineExceeded) {
			k.HTTPStatus = http.StatusGatewayTimeout
		}
	}
	return k
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// causedError is an error in this function's own words whose cause is
// another service's: Error gives both, for the log; a caller gets only the
// words (callerMessage).
type causedError struct {
	class error  // one of this package's Err* values
	words string // plain words for the caller
	cause error
}

// causedBy names an error of class in plain words, with its cause.
func causedBy(class, cause error, format string, args ...any) error {
	return &causedError{class: class, words: fmt.Sprintf(format, args...), cause: cause}
}

func (e *causedError) Error() string {
	return e.class.Error() + ": " + e.words + ": " + e.cause.Error()
}

func (e *causedError) Unwrap() []error { return []error{e.class, e.cause} }

// callerMessage is what a caller reads of err: plain words of this
// function's own. Never another service's error text (AWS's or Zuora's),
// an ARN, an account id or another service's request id: those go to the
// function's log with the request id, and Zuora's request id goes to the
// caller in a field of its own.
func callerMessage(err error, k errorKind) string {
	var caused *causedError
	var ze *zuora.Error
	switch {
	case errors.As(err, &caused):
		return caused.class.Error() + ": " + caused.words
	case k.Type == TypeInvalidRequest && !errors.As(err, &ze), k.Type == TypeCalloutUnauthorized:
		return err.Error() // this function's own checks of the input
	case errors.Is(err, callout.ErrSecretUnavailable):
		return "the callout secret could not be read; the function's log says why"
	case k.Type == TypeStateUnavailable:
		return "the function's memory (STATE_TABLE) could not be read or written; try again; the function's log says why"
	case k.Type == TypeAlertPublishFailed:
		return "an alert could not be published to the SNS topic; it stays owed; the function's log says why"
	case errors.As(err, &ze):
		return ze.Describe()
	}
	return "the function failed; its log says why"
}
