package callout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

const (
	// MaxBody caps a callout's body: Zuora's is a few hundred bytes.
	MaxBody = 64 << 10
	// MaxNotificationID bounds Zuora-Notification-Id, which becomes a sort
	// key (DynamoDB allows 1 KB): Zuora's are UUIDs.
	MaxNotificationID = 128
	// maxField bounds the body's ids and names.
	maxField = 64
)

// ErrInvalid: a body that is not the callout template's shape. Zuora does
// not retry the 400 it gets.
var ErrInvalid = errors.New("invalid callout")

// Event is a callout body understood: one meter session's status change.
type Event struct {
	MeterID                          int64
	Version                          string // "" when the template names none
	Session, PreviousStatus, RunType string
	MeterName                        string
	Status                           zuora.RunStatus
	Start, End                       time.Time // the session's, when the template sends them
}

// At dates the news: the session's end, else its start; zero when the
// template sends neither (the callout is then dated by its arrival).
func (e Event) At() time.Time {
	if !e.End.IsZero() {
		return e.End
	}
	return e.Start
}

// body is the JSON the callout template builds from Zuora's merge fields.
type body struct {
	MeterID        json.RawMessage `json:"meterId"`
	SessionID      string          `json:"sessionId"`
	Status         string          `json:"status"`
	PreviousStatus string          `json:"previousStatus"`
	RunType        string          `json:"runType"`
	MeterName      string          `json:"meterName"`
	Version        string          `json:"version"`
	StartTime      string          `json:"startTime"`
	EndTime        string          `json:"endTime"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ParseBody reads a callout body; its errors wrap ErrInvalid.
func ParseBody(raw []byte) (Event, error) {
	if len(raw) > MaxBody {
		return Event{}, invalid("the callout body has %d bytes; at most %d", len(raw), MaxBody)
	}
	var b body
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &b) != nil {
		return Event{}, invalid("the callout body must be a JSON object of the callout template's fields")
	}
	if b.MeterID == nil || b.SessionID == "" || b.Status == "" {
		return Event{}, invalid(`a callout needs "meterId", "sessionId" and "status"`)
	}
	id, err := meterID(b.MeterID)
	if err != nil {
		return Event{}, err
	}
	if b.Version != "" {
		if err := zuora.ValidateVersion(b.Version); err != nil {
			return Event{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	for name, v := range map[string]string{"sessionId": b.SessionID, "status": b.Status, "previousStatus": b.PreviousStatus, "runType": b.RunType} {
		if len(v) > maxField || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return Event{}, invalid("%s must be at most %d printable characters without spaces", name, maxField)
		}
	}
	// Zuora's names are upper case; a template may write them otherwise.
	ev := Event{MeterID: id, Version: b.Version, Session: b.SessionID, PreviousStatus: strings.ToUpper(b.PreviousStatus),
		RunType: strings.ToUpper(b.RunType), MeterName: clip(b.MeterName, 2*maxField), Status: zuora.StatusNamed(strings.ToUpper(b.Status))}
	if ev.Start, err = parseTime("startTime", b.StartTime); err != nil {
		return Event{}, err
	}
	if ev.End, err = parseTime("endTime", b.EndTime); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// meterID accepts a positive integer as a JSON number or a string of digits.
func meterID(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, invalid("meterId must be a positive integer (a JSON number or a string of digits)")
	}
	return n, nil
}

// timeLayouts are the forms a session time merge field arrives in: RFC
// 3339, and Zuora's own with a numeric zone without a colon.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999-0700"}

// parseTime reads an optional session time; "" is the zero time.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalid("%s %q is not a time (RFC 3339, or 2026-11-28T10:00:00+0000)", field, clip(v, 40))
}

// CheckNotificationID refuses a Zuora-Notification-Id too long to keep.
func CheckNotificationID(id string) error {
	if len(id) > MaxNotificationID {
		return invalid("Zuora-Notification-Id has %d characters; at most %d", len(id), MaxNotificationID)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
