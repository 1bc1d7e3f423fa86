package zuora

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxBodyBytes bounds every response body this package reads, compressed or
// not: a run status answer is under 100 bytes, so anything near this size is
// not Zuora's answer and must not be allowed to exhaust a small Lambda.
const maxBodyBytes = 1 << 20

// maxDescriptionLen bounds a runStatusDescription (Zuora's are short names).
const maxDescriptionLen = 256

// maxMessageLen bounds what of Zuora's error message is kept in an Error.
const maxMessageLen = 512

var errBodyTooLarge = fmt.Errorf("response body exceeds %d bytes", maxBodyBytes)

// readBody reads at most maxBodyBytes of resp.Body. Go's transport decodes gzip
// itself when it asked for it (and then drops Content-Encoding); a body that
// still says gzip arrived undecoded, e.g. through a transport with compression
// disabled, so it is decoded here.
func readBody(resp *http.Response) ([]byte, error) {
	raw, err := readLimited(resp.Body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") || len(raw) == 0 {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &decodeError{fmt.Errorf("gzip body: %w", err)}
	}
	defer zr.Close()
	body, err := readLimited(zr)
	if err != nil && !errors.Is(err, errBodyTooLarge) {
		return nil, &decodeError{fmt.Errorf("gzip body: %w", err)}
	}
	return body, err
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// decodeError marks a body that arrived whole but cannot be read as Zuora's
// documented shape (as opposed to a connection that broke mid-body).
type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// runStatusBody is Zuora's RunStatusResponse. Pointers tell a missing field
// from a zero one.
type runStatusBody struct {
	Success *bool `json:"success"`
	Data    *struct {
		RunStatus   json.RawMessage `json:"runStatus"`
		Description *string         `json:"runStatusDescription"`
	} `json:"data"`
}

// decodeRunStatus reads a 200 body. It fails, always with an *Error of class
// ErrUnavailable, when the body is not the documented shape: not JSON,
// "success": false, or no data.runStatus integer. An unknown code or
// description is not a failure: lookupStatus reports it as Unknown.
func decodeRunStatus(body []byte) (code int, description string, err *Error) {
	var b runStatusBody
	// json.Unmarshal also refuses data after the object.
	if derr := json.Unmarshal(body, &b); derr != nil {
		return 0, "", malformed("response is not one JSON object", derr)
	}
	if b.Success != nil && !*b.Success {
		// Zuora can answer 200 with "success": false and its usual error fields.
		e := malformed("Zuora answered success: false", nil)
		e.Code, e.Message = errorDetails(body)
		if e.Message == "" {
			e.Message = "Zuora answered success: false"
		}
		return 0, "", e
	}
	if b.Data == nil || len(b.Data.RunStatus) == 0 || string(b.Data.RunStatus) == "null" {
		return 0, "", malformed("response has no data.runStatus", nil)
	}
	// The schema says integer: a string, a fraction or an exponent there means
	// the shape changed, so they are refused rather than guessed at.
	n, perr := strconv.ParseInt(string(b.Data.RunStatus), 10, 32)
	if perr != nil {
		return 0, "", malformed("data.runStatus is not an integer", nil)
	}
	if b.Data.Description != nil {
		// Kept as sent, within reason: it travels on into results and alerts.
		description = clip(*b.Data.Description, maxDescriptionLen)
	}
	return int(n), description, nil
}

func malformed(msg string, cause error) *Error {
	return &Error{Class: ErrUnavailable, HTTPStatus: http.StatusOK, Message: msg, Err: cause}
}

// errorBody covers every error shape Zuora documents for this endpoint:
//
//	400 {"success": false, "errors": [{"code": "...", "message": "..."}]}
//	404 {"success": false, "error": {"code": "70002103", "message": "..."}}
//	500 {"reasons": [{"code": "SystemError", "message": "..."}]}
//	401 {"message": "Authentication error"}
//
// plus OAuth's {"error": "invalid_client", "error_description": "..."}.
// Codes arrive as strings or numbers depending on the service.
type errorBody struct {
	Message          string          `json:"message"`
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Errors           []errorItem     `json:"errors"`
	Reasons          []errorItem     `json:"reasons"`
}

type errorItem struct {
	Code    flexString `json:"code"`
	Message string     `json:"message"`
}

// flexString accepts a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// errorDetails extracts Zuora's code and message from an error body, best
// effort: a body that is not one of the shapes gives empty strings.
func errorDetails(body []byte) (code, message string) {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return "", ""
	}
	switch {
	case len(b.Error) > 0 && b.Error[0] == '{':
		var it errorItem
		if json.Unmarshal(b.Error, &it) == nil {
			code, message = string(it.Code), it.Message
		}
	case len(b.Error) > 0 && b.Error[0] == '"':
		var s string
		if json.Unmarshal(b.Error, &s) == nil {
			code, message = s, b.ErrorDescription
		}
	case len(b.Errors) > 0:
		code, message = string(b.Errors[0].Code), b.Errors[0].Message
	case len(b.Reasons) > 0:
		code, message = string(b.Reasons[0].Code), b.Reasons[0].Message
	}
	if message == "" {
		message = b.Message
	}
	return clip(code, 64), clip(message, maxMessageLen)
}

// clip shortens s to at most n bytes and drops control characters, so a
// hostile or broken body cannot forge log lines through an error message.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
