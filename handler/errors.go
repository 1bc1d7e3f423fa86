package handler

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// The contract's error names. Step Functions matches Retry and Catch on these
// exact strings, so they never change.
const (
	TypeInvalidRequest     = "InvalidRequest"
	TypeMeterNotFound      = "MeterNotFound"
	TypeZuoraAuthFailed    = "ZuoraAuthFailed"
	TypeZuoraThrottled     = "ZuoraThrottled"
	TypeZuoraUnavailable   = "ZuoraUnavailable"
	TypeSecretUnavailable  = "SecretUnavailable"
	TypeAlertPublishFailed = "AlertPublishFailed"
)

// Errors that start in this package. Zuora's own classes come from package zuora.
var (
	// ErrInvalidRequest: the event is not one of the contract's shapes, or a field is out of range.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrSecretUnavailable: the secret cannot be read or has none of the documented forms.
	ErrSecretUnavailable = errors.New("secret unavailable")
	// ErrAlertPublishFailed: the status called for an alert and SNS did not take it.
	ErrAlertPublishFailed = errors.New("alert not published")
)

// errorKind is an error's place in the contract: its name and HTTP status.
type errorKind struct {
	Type       string
	HTTPStatus int
	RetryAfter time.Duration // only for ZuoraThrottled
	RequestID  string        // Zuora-Request-Id, when Zuora answered
}

// classify maps any error this package produces onto the contract. It is the
// one place where error values become names and HTTP statuses.
func classify(err error) errorKind {
	var k errorKind
	var ze *zuora.Error
	if errors.As(err, &ze) {
		k.RequestID = ze.RequestID
	}
	switch {
	case errors.Is(err, ErrInvalidRequest), errors.Is(err, zuora.ErrInvalidArgument):
		k.Type, k.HTTPStatus = TypeInvalidRequest, http.StatusBadRequest
	case errors.Is(err, ErrSecretUnavailable):
		// Checked before Zuora's classes: a secret that cannot be read reaches
		// us wrapped inside the Zuora client's token error.
		k.Type, k.HTTPStatus = TypeSecretUnavailable, http.StatusInternalServerError
	case errors.Is(err, ErrAlertPublishFailed):
		k.Type, k.HTTPStatus = TypeAlertPublishFailed, http.StatusServiceUnavailable
	case errors.Is(err, zuora.ErrNotFound):
		k.Type, k.HTTPStatus = TypeMeterNotFound, http.StatusNotFound
	case errors.Is(err, zuora.ErrAuthFailed):
		k.Type, k.HTTPStatus = TypeZuoraAuthFailed, http.StatusBadGateway
	case errors.Is(err, zuora.ErrThrottled):
		k.Type, k.HTTPStatus = TypeZuoraThrottled, http.StatusServiceUnavailable
		if ze != nil {
			k.RetryAfter = ze.RetryAfter
		}
	default:
		// zuora.ErrUnavailable, and anything unforeseen: both are worth a retry.
		k.Type, k.HTTPStatus = TypeZuoraUnavailable, http.StatusBadGateway
		if (ze != nil && ze.Timeout) || errors.Is(err, context.DeadlineExceeded) {
			k.HTTPStatus = http.StatusGatewayTimeout
		}
	}
	return k
}
