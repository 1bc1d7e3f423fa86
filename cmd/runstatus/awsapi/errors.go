package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an AWS service's refusal: an HTTP status and the service's
// error code. ErrorCode and HTTPStatusCode are what the SDK's retry policy
// reads to decide on a retry.
type APIError struct {
	Service    string // "secretsmanager", "sns"
	Operation  string // "GetSecretValue", "Publish"
	StatusCode int
	Code       string // ResourceNotFoundException, NotFound, Throttling, ...
	Message    string
	RequestID  string
	Attempts   int
}

func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("%s %s: HTTP %d %s", e.Service, e.Operation, e.StatusCode, code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}

// ErrorCode returns the service's error code.
func (e *APIError) ErrorCode() string { return e.Code }

// HTTPStatusCode returns the answer's HTTP status.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// RequestError is a call that got no answer: the connection failed, timed out
// or was cancelled, or the answer could not be read.
type RequestError struct {
	Service   string
	Operation string
	Attempts  int
	Err       error
}

func (e *RequestError) Error() string {
	s := fmt.Sprintf("%s %s: %v", e.Service, e.Operation, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return s
}

func (e *RequestError) Unwrap() error { return e.Err }

// decodeJSONError reads an awsJson1_1 error (Secrets Manager): the code from
// the X-Amzn-ErrorType header or the body's "__type" or "code", trimmed as
// the SDK trims it ("aws.protocol#Code:http://..." is "Code").
func decodeJSONError(h http.Header, body []byte) *APIError {
	var b struct {
		Type         string `json:"__type"`
		Code         string `json:"code"`
		Message      string `json:"message"`
		MessageUpper string `json:"Message"`
	}
	_ = json.Unmarshal(body, &b) // a body that is not JSON leaves the status to speak
	code := h.Get("X-Amzn-Errortype")
	if code == "" {
		code = b.Type
	}
	if code == "" {
		code = b.Code
	}
	msg := b.Message
	if msg == "" {
		msg = b.MessageUpper
	}
	return &APIError{Code: sanitizeErrorCode(code), Message: msg}
}

func sanitizeErrorCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return code
}

// decodeQueryError reads an awsQuery error (SNS):
//
//	<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>
//	<Message>Topic does not exist</Message></Error><RequestId>…</RequestId></ErrorResponse>
func decodeQueryError(_ http.Header, body []byte) *APIError {
	var b struct {
		Error struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	_ = xml.Unmarshal(body, &b) // a body that is not XML leaves the status to speak
	return &APIError{Code: b.Error.Code, Message: b.Error.Message, RequestID: b.RequestID}
}
