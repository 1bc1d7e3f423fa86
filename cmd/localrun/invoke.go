package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Reply is the outcome of one invocation through the RIE.
//
// The RIE does not say "function error" the way Lambda does: it sends no
// X-Amz-Function-Error header, answers a handled error (the handler returned
// an error) with 200 and {"errorType","errorMessage"}, a crash (panic, exit)
// with 502 and the same shape, an init failure with 502 and the error the
// runtime posted to /runtime/init/error — or an empty body if it posted none
// and simply exited — and a timeout with 200 and the text "Task timed out
// after N seconds". Invoke folds all of these into ErrorType/ErrorMessage.
type Reply struct {
	// StatusCode is the RIE's HTTP status: 200 for results and handled
	// errors, 502 for crashes and init failures.
	StatusCode int
	// Body is the raw payload the RIE returned.
	Body []byte
	// ErrorType and ErrorMessage are set when the invocation failed; empty
	// on success. ErrorType is the function's own type (e.g. MeterNotFound)
	// for handled errors; Runtime.ExitError when the runtime died (also
	// during init when it posted no error); Sandbox.Timedout on timeout.
	ErrorType    string
	ErrorMessage string
	// Unhandled is true for errors the handler did not return itself:
	// crashes, init failures and timeouts. Lambda marks these
	// X-Amz-Function-Error: Unhandled.
	Unhandled bool
	// Duration is the wall time of the invocation as the harness saw it.
	Duration time.Duration
}

// Failed reports whether the invocation ended in a function error.
func (r Reply) Failed() bool { return r.ErrorType != "" }

// Decode unmarshals a successful reply's body into v.
func (r Reply) Decode(v any) error {
	if r.Failed() {
		return fmt.Errorf("function failed: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	return json.Unmarshal(r.Body, v)
}

// HTTPResponse is a reply in the API Gateway / function URL proxy shape.
type HTTPResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// HTTP returns the reply as an API Gateway proxy response, and false if the
// invocation failed or the body is not an object with a numeric statusCode
// and a string body.
func (r Reply) HTTP() (HTTPResponse, bool) {
	if r.Failed() {
		return HTTPResponse{}, false
	}
	var probe struct {
		StatusCode *int    `json:"statusCode"`
		Body       *string `json:"body"`
	}
	if json.Unmarshal(r.Body, &probe) != nil || probe.StatusCode == nil || probe.Body == nil {
		return HTTPResponse{}, false
	}
	var h HTTPResponse
	if json.Unmarshal(r.Body, &h) != nil {
		return HTTPResponse{}, false
	}
	return h, true
}

// Invoke sends payload to the function through the RIE and waits for the
// reply. A function error is not a Go error: it is in the Reply. The error
// is for the harness failing to talk to the RIE (or ctx ending).
//
// Invocations are serialised: the RIE serves one at a time and crashes when
// a second arrives while one is running.
func (s *Stack) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	s.invokeMu.Lock()
	defer s.invokeMu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.InvokeURL, bytes.NewReader(payload))
	if err != nil {
		return Reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return Reply{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("invoke: read reply: %w", err)
	}
	r := Reply{StatusCode: resp.StatusCode, Body: body, Duration: time.Since(start)}
	classify(&r, resp.Header.Get("X-Amz-Function-Error"))
	return r, nil
}

// InvokeJSON marshals v and invokes the function with it.
func (s *Stack) InvokeJSON(ctx context.Context, v any) (Reply, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Reply{}, err
	}
	return s.Invoke(ctx, b)
}

// lambdaError is the error document both Lambda and the RIE use.
type lambdaError struct {
	ErrorType    string          `json:"errorType"`
	ErrorMessage string          `json:"errorMessage"`
	StackTrace   json.RawMessage `json:"stackTrace"`
}

// classify fills in the error fields of r from its status, body and the
// X-Amz-Function-Error header (which real Lambda sends and the RIE does not).
func classify(r *Reply, functionErrorHeader string) {
	trimmed := bytes.TrimSpace(r.Body)
	if le, ok := asLambdaError(trimmed); ok {
		// On 200 this is still a handled error, not a result: the
		// function's results never have only these keys.
		r.ErrorType, r.ErrorMessage = le.ErrorType, le.ErrorMessage
		r.Unhandled = r.StatusCode != http.StatusOK || functionErrorHeader == "Unhandled"
		if r.ErrorType == "" {
			r.ErrorType = "Unknown"
		}
		return
	}
	if r.StatusCode == http.StatusOK && bytes.HasPrefix(trimmed, []byte("Task timed out after")) {
		r.ErrorType, r.ErrorMessage, r.Unhandled = "Sandbox.Timedout", string(trimmed), true
		return
	}
	if r.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(trimmed))
		if msg == "" {
			msg = "the runtime exited without an error document (an exit during init); see the function log"
		}
		r.ErrorType, r.ErrorMessage, r.Unhandled = "Runtime.ExitError", msg, true
		return
	}
	if functionErrorHeader != "" {
		r.ErrorType, r.ErrorMessage, r.Unhandled = "Unknown", string(trimmed), functionErrorHeader == "Unhandled"
	}
}

// asLambdaError recognises an error document: a JSON object with errorType
// or errorMessage and no keys besides those and stackTrace.
func asLambdaError(b []byte) (lambdaError, bool) {
	if !bytes.HasPrefix(b, []byte("{")) {
		return lambdaError{}, false
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) != nil || len(keys) == 0 {
		return lambdaError{}, false
	}
	for k := range keys {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return lambdaError{}, false
		}
	}
	_, hasType := keys["errorType"]
	_, hasMsg := keys["errorMessage"]
	if !hasType && !hasMsg {
		return lambdaError{}, false
	}
	var le lambdaError
	if json.Unmarshal(b, &le) != nil {
		return lambdaError{}, false
	}
	return le, true
}
