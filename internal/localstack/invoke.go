package localstack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Reply is the outcome of one invocation through the RIE.
//
// The RIE sends no X-Amz-Function-Error header: it answers a handled error
// (the handler returned it) with 200 and {"errorType","errorMessage"}, a
// crash with 502 and the same, an init failure with 502 and the error the
// runtime posted (or nothing if it posted none and exited), and a timeout
// with 200 and "Task timed out after N seconds". Invoke folds all of these
// into ErrorType and ErrorMessage.
type Reply struct {
	StatusCode int    // the RIE's: 200 for results and handled errors, 502 for crashes and init failures
	Body       []byte // as the RIE returned it
	// ErrorType and ErrorMessage are empty on success. ErrorType is the
	// function's own for a handled error, Runtime.ExitError when the runtime
	// died without a word, Sandbox.Timedout on a timeout.
	ErrorType, ErrorMessage string
	Unhandled               bool          // crashes, init failures and timeouts: Lambda's X-Amz-Function-Error: Unhandled
	Duration                time.Duration // the round trip
}

// Failed reports whether the invocation ended in a function error.
func (r Reply) Failed() bool { return r.ErrorType != "" }

// HTTP returns the reply as an API Gateway proxy response, and false unless
// it is one: it has a statusCode and a body (a check result has a
// statusCode too, Zuora's, but no body).
func (r Reply) HTTP() (events.APIGatewayProxyResponse, bool) {
	var resp events.APIGatewayProxyResponse
	var probe struct{ Body *string }
	ok := !r.Failed() && json.Unmarshal(r.Body, &resp) == nil && json.Unmarshal(r.Body, &probe) == nil
	return resp, ok && resp.StatusCode != 0 && probe.Body != nil
}

// Invoke sends payload to the function and waits for the reply. A function
// error is in the Reply; the error is for failing to reach the RIE.
// Invocations take turns: the RIE serves one at a time.
func (s *Stack) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	s.turn.Lock()
	defer s.turn.Unlock()
	s.mu.Lock()
	url := s.invokeURL
	s.mu.Unlock()
	return invoke(ctx, url, payload)
}

func invoke(ctx context.Context, url string, payload []byte) (Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return Reply{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Reply{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Reply{}, fmt.Errorf("invoke: reading the reply: %w", err)
	}
	r := readReply(resp.StatusCode, body)
	r.Duration = time.Since(start)
	return r, nil
}

// readReply fills in a Reply's error fields from the RIE's status and body.
func readReply(status int, body []byte) Reply {
	r := Reply{StatusCode: status, Body: body}
	text := strings.TrimSpace(string(body))
	var doc struct{ ErrorType, ErrorMessage string }
	switch {
	case isErrorDocument(body) && json.Unmarshal(body, &doc) == nil: // on 200 too: no result has only these keys
		r.ErrorType, r.ErrorMessage, r.Unhandled = cmp.Or(doc.ErrorType, "Unknown"), doc.ErrorMessage, status != http.StatusOK
	case status == http.StatusOK && strings.HasPrefix(text, "Task timed out after"):
		r.ErrorType, r.ErrorMessage, r.Unhandled = "Sandbox.Timedout", text, true
	case status != http.StatusOK:
		msg := cmp.Or(text, "the runtime exited without an error document (an exit during init); see the function log")
		r.ErrorType, r.ErrorMessage, r.Unhandled = "Runtime.ExitError", msg, true
	}
	return r
}

// isErrorDocument recognises the error document of Lambda and the RIE: an
// object with errorType or errorMessage and nothing else but a stackTrace.
func isErrorDocument(body []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return false
	}
	for k := range keys {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return false
		}
	}
	return keys["errorType"] != nil || keys["errorMessage"] != nil
}
