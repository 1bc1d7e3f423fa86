package handler

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/zuora"
)

// What a caller reads of each kind of error: its type, and plain words of
// the function's own, never another service's text, ARN or request id.
func TestCallerMessage(t *testing.T) {
	aws := errors.New("operation error DynamoDB: UpdateItem, https response error StatusCode: 400, RequestID: R1, " +
		"api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/r/fn is not authorized")
	tests := []struct {
		name, wantType, want string
		err                  error
	}{
		{"the watch list", TypeStateUnavailable, "state unavailable: cannot update the watch list; try again",
			causedBy(ErrStateUnavailable, aws, "cannot update the watch list; try again")},
		{"a publish", TypeAlertPublishFailed, "alert not published: alert for meter 1 version 0.0.1 (FAILED) not published",
			causedBy(ErrAlertPublishFailed, fmt.Errorf("sns: %w", aws), "alert for meter 1 version 0.0.1 (FAILED) not published")},
		{"the secret", TypeSecretUnavailable, "the Zuora credentials could not be read",
			&zuora.Error{Class: zuora.ErrCredentials, Message: "cannot load the credentials", Err: aws}},
		{"the callout secret", TypeSecretUnavailable, "the callout secret could not be read",
			fmt.Errorf("%w: %w", callout.ErrSecretUnavailable, aws)},
		{"no such meter", TypeMeterNotFound, "Zuora says the meter does not exist (code 70002103)",
			&zuora.Error{Class: zuora.ErrNotFound, HTTPStatus: 404, Code: "70002103", Message: "Meter does not exist.", RequestID: "zr-1"}},
		{"no such version", TypeMeterNotFound, "Zuora says the meter version does not exist (code 70002104)",
			&zuora.Error{Class: zuora.ErrNotFound, HTTPStatus: 404, Code: "70002104", Message: "Meter version does not exist."}},
		{"Zuora down", TypeZuoraUnavailable, "Zuora answered HTTP 500 (code SystemError), 3 attempts",
			&zuora.Error{Class: zuora.ErrUnavailable, HTTPStatus: 500, Code: "SystemError", Message: "internal server error", Attempts: 3}},
		{"the breaker open", TypeZuoraUnavailable, "calls to Zuora are held back after repeated failures or refusals; try again after 8s",
			&zuora.Error{Class: zuora.ErrUnavailable, HTTPStatus: 500, Message: "internal server error", RetryAfter: 7600 * time.Millisecond}},
		{"a timeout", TypeZuoraUnavailable, "Zuora did not answer in time", &zuora.Error{Class: zuora.ErrUnavailable, Timeout: true, Attempts: 1}},
		{"our own check", TypeInvalidRequest, "invalid request: meterId is required", invalid("meterId is required")},
		{"Zuora's 400", TypeInvalidRequest, "Zuora answered HTTP 400",
			&zuora.Error{Class: zuora.ErrInvalidArgument, HTTPStatus: 400, Message: "Invalid field queryFromTime of tenant 42"}},
	}
	for _, tt := range tests {
		k := kindOf(tt.err)
		got := callerMessage(tt.err, k)
		if k.Type != tt.wantType || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %s %q, want %s %q…", tt.name, k.Type, got, tt.wantType, tt.want)
		}
		for _, internal := range []string{"arn:", "RequestID", "not authorized", "does not exist.", "internal server error", "tenant 42"} {
			if strings.Contains(got, internal) {
				t.Errorf("%s: %q carries %q", tt.name, got, internal)
			}
		}
	}
}
