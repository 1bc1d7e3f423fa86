package zuora

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// The summary and audit-trail answers are only partly published: which
// fields are always there, and whether codes are numbers or strings, is not.
// These types read such fields without ever failing, so one odd field cannot
// cost a whole answer, and without keeping a JSON object or array: a record's
// payload, wherever it turns up, is never held.

// Bounds on what is kept of those answers.
const (
	maxIDLen        = 128 // codes, ids and dimension values
	maxDimensionKey = 64  // a dimension's name
	maxDimensions   = 16  // dimensions kept per group
)

// text is a JSON value read as text: a string as it is, a number or a
// boolean as written; null, an object or an array as "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0, b[0] == '{', b[0] == '[', string(b) == "null":
	case b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*t = text(s)
		}
	default:
		*t = text(b)
	}
	return nil
}

// count is a JSON count: an integer, a number or a string of one. Anything
// else, a negative or an absurd value, reads as 0.
type count int64

func (c *count) UnmarshalJSON(b []byte) error {
	var t text
	_ = t.UnmarshalJSON(b)
	s := strings.TrimSpace(string(t))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*c = count(max(n, 0))
		return nil
	}
	// NaN fails both comparisons; ±Inf the second.
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < math.MaxInt64 {
		*c = count(f)
	}
	return nil
}

// addSat adds two counts, saturating instead of wrapping around.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

var errNotList = errors.New("not a JSON array")

// eachElement decodes the JSON array raw one element at a time into a fresh
// T and gives it to fn until fn returns false, so a long list is never held
// whole. Absent or null is an empty list.
func eachElement[T any](raw json.RawMessage, fn func(T) bool) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errNotList
	}
	for dec.More() {
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if !fn(v) {
			return nil
		}
	}
	return nil
}

// Zuora's time form for these endpoints' parameters: "2025-11-17T23:59:59+0000".
const zuoraTimeLayout = "2006-01-02T15:04:05-0700"

// formatZuoraTime writes t in UTC in Zuora's parameter form.
func formatZuoraTime(t time.Time) string { return t.UTC().Format(zuoraTimeLayout) }

// maxMillis is the end of year 9999, past which a time cannot be written.
var maxMillis = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// parseEventTime reads an audit record's errorTime: epoch milliseconds (as
// Zuora documents it, a string, or a number), else RFC 3339 or Zuora's
// +0000 form. Anything else, or a time outside 1970–9999, is the zero time.
func parseEventTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return fromMillis(ms)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < float64(maxMillis) {
		return fromMillis(int64(f))
	}
	for _, layout := range [...]string{time.RFC3339, zuoraTimeLayout} {
		// Parsing accepts a fraction of a second after the seconds in both.
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func fromMillis(ms int64) time.Time {
	if ms <= 0 || ms >= maxMillis {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// shapeError is the error of a 200 whose body is not the documented shape.
// Unlike malformed it keeps no cause: a JSON decoding error can quote a
// piece of the body, and these bodies carry customers' records.
func shapeError(msg string) *Error {
	return &Error{Class: ErrUnavailable, HTTPStatus: 200, Message: msg}
}

// envelope is what the summary and the audit-trail answers share.
type envelope struct {
	Success  *bool           `json:"success"`
	Data     json.RawMessage `json:"data"`
	NextPage json.RawMessage `json:"nextPage"`
}

// readEnvelope reads a 200 body of these endpoints: one JSON object whose
// success is true. success false, or absent, is a failure with Zuora's
// code and message if it gave them in either of its error shapes.
func readEnvelope(body []byte) (envelope, *Error) {
	var env envelope
	if json.Unmarshal(body, &env) != nil {
		return envelope{}, shapeError("response is not one JSON object of Zuora's shape")
	}
	if env.Success == nil || !*env.Success {
		e := shapeError("Zuora did not answer success: true")
		if code, msg := errorDetails(body); code != "" || msg != "" {
			e.Code, e.Message = code, msg
		}
		return envelope{}, e
	}
	return env, nil
}

// nextPage reads a page token: a string, else "" (null, absent or odd).
func nextPage(raw json.RawMessage) string {
	var t text
	if len(raw) == 0 || raw[0] != '"' || t.UnmarshalJSON(raw) != nil {
		return ""
	}
	return string(t)
}
