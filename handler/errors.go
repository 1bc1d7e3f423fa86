package handler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/example/zuora-runstatus/internal/callout"
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
	// ErrInvalidRequest: the event is not one of the contract's shapes, or a field is out of range.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrAlertPublishFailed: the status called for an alert and SNS did not take it.
	ErrAlertPublishFailed = errors.New("alert not published")
	// ErrStateUnavailable: the watch list could not be read or written.
	ErrStateUnavailable = errors.New("state unavailable")
)

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
	case errors.Is(err, ErrStateUnavailable):
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
