package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/example/zuora-runstatus/internal/memory"

	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/zuora"
)

// replyShape is how the answer goes back: a plain result, the batch shape, or
// an HTTP response in one of API Gateway's payload formats.
type replyShape int

const (
	replySingle replyShape = iota
	replyBatch
	replyHTTP // REST API payload 1.0, HTTP API payload 2.0 and function URLs share the response keys
)

// invocation is a raw event understood: what to do and how to answer.
type invocation struct {
	shape  replyShape
	source string // for logs: direct, batch, eventbridge, scheduled, apigw-rest, apigw-http, function-url
	route  route
	checks []checkRequest // routeCheck: what to check; routeWatch, routeUnwatch: the meter
	// scheduled: a scheduled event without meters, which checks the watch
	// list and WATCH_METERS (checks is empty until the watch list is read).
	scheduled bool
	page      pageRequest     // routeList
	callout   callout.Request // routeCallout
}

// route is what an invocation asks for.
type route int

const (
	routeCheck   route = iota // check meters (every shape)
	routeWatch                // PUT /meters/{meterId}/{version}/watch
	routeUnwatch              // DELETE /meters/{meterId}/{version}/watch
	routeList                 // GET /meters
	routeCallout              // POST /callouts/meter-session
)

// pageRequest is GET /meters' ?limit= and ?nextToken=.
type pageRequest struct {
	limit int
	after *memory.Meter
}

// checkRequest is one validated meter version to ask Zuora about, with the scoping
// headers that apply to it. Empty header fields fall back to the configuration.
type checkRequest struct {
	memory.Meter
	TrackID   string
	EntityIDs string
	OrgIDs    string
}

// probe holds the top-level fields that tell the event shapes apart. One
// decode reads them all; the full HTTP event is decoded only when it is one.
type probe struct {
	MeterID        json.RawMessage `json:"meterId"`
	Version        json.RawMessage `json:"version"`
	TrackID        json.RawMessage `json:"trackId"`
	EntityIDs      json.RawMessage `json:"entityIds"`
	OrgIDs         json.RawMessage `json:"orgIds"`
	Meters         json.RawMessage `json:"meters"`
	DetailType     json.RawMessage `json:"detail-type"`
	Source         json.RawMessage `json:"source"`
	Detail         json.RawMessage `json:"detail"`
	RequestContext json.RawMessage `json:"requestContext"`
	HTTPMethod     json.RawMessage `json:"httpMethod"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// parseEvent decides what a raw event is and validates it. Every failure wraps
// ErrInvalidRequest; nothing here calls out.
func parseEvent(payload []byte) (invocation, error) {
	var p probe
	if err := decodeObject(payload, &p, "event"); err != nil {
		return invocation{}, err
	}
	switch {
	case p.RequestContext != nil:
		return parseHTTP(payload, p)
	case p.DetailType != nil || p.Detail != nil:
		return parseEventBridge(p)
	case p.Meters != nil:
		checks, err := parseBatch(p.Meters, p)
		return invocation{shape: replyBatch, source: "batch", checks: checks}, err
	case p.MeterID != nil:
		c, err := parseCheck(p)
		return invocation{shape: replySingle, source: "direct", checks: []checkRequest{c}}, err
	}
	return invocation{}, invalid(`the event is not a known shape: expected {"meterId", "version"}, {"meters": [...]}, an EventBridge event or an API Gateway / function URL request`)
}

// decodeObject insists on one JSON object, so that arrays, strings and null
// get a clear message instead of an empty match.
func decodeObject(data []byte, v any, what string) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("the %s must be a JSON object", what)
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid("%s field %q has the wrong type (%s)", what, te.Field, te.Value)
		}
		return invalid("the %s is not valid JSON: %v", what, err)
	}
	return nil
}

// parseCheck validates one direct payload (or batch item, or EventBridge detail).
func parseCheck(p probe) (checkRequest, error) {
	if p.MeterID == nil {
		return checkRequest{}, invalid("meterId is required")
	}
	if p.Version == nil {
		return checkRequest{}, invalid("version is required")
	}
	id, err := meterIDFromJSON(p.MeterID)
	if err != nil {
		return checkRequest{}, err
	}
	version, err := stringField(p.Version, "version")
	if err != nil {
		return checkRequest{}, err
	}
	m, err := newMeter(id, version)
	if err != nil {
		return checkRequest{}, err
	}
	c := checkRequest{Meter: m}
	if c.TrackID, err = stringField(p.TrackID, "trackId"); err != nil {
		return checkRequest{}, err
	}
	if c.EntityIDs, err = stringField(p.EntityIDs, "entityIds"); err != nil {
		return checkRequest{}, err
	}
	if c.OrgIDs, err = stringField(p.OrgIDs, "orgIds"); err != nil {
		return checkRequest{}, err
	}
	return c, c.validate()
}

// validate applies Zuora's own header rules (the client owns them) so a bad
// value is refused here, as InvalidRequest, before anything is sent.
func (c checkRequest) validate() error {
	err := zuora.ValidateRequest(zuora.Request{MeterID: c.MeterID, Version: c.Version,
		TrackID: c.TrackID, EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return nil
}

func parseBatch(raw json.RawMessage, top probe) ([]checkRequest, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, invalid("meters must be an array of {\"meterId\", \"version\"} objects")
	}
	if len(items) == 0 || len(items) > MaxBatch {
		return nil, invalid("meters has %d items; it must have 1 to %d", len(items), MaxBatch)
	}
	checks := make([]checkRequest, len(items))
	for i, item := range items {
		var p probe
		if err := decodeObject(item, &p, fmt.Sprintf("meters[%d]", i)); err != nil {
			return nil, err
		}
		// Batch-level trackId, entityIds and orgIds apply to items that set none.
		for _, f := range []struct{ item, top *json.RawMessage }{
			{&p.TrackID, &top.TrackID}, {&p.EntityIDs, &top.EntityIDs}, {&p.OrgIDs, &top.OrgIDs},
		} {
			if *f.item == nil {
				*f.item = *f.top
			}
		}
		c, err := parseCheck(p)
		if err != nil {
			return nil, fmt.Errorf("meters[%d]: %w", i, err)
		}
		checks[i] = c
	}
	return checks, nil
}

func parseEventBridge(p probe) (invocation, error) {
	detailType, err := stringField(p.DetailType, "detail-type")
	if err != nil {
		return invocation{}, err
	}
	source, err := stringField(p.Source, "source")
	if err != nil {
		return invocation{}, err
	}
	if p.DetailType == nil || p.Source == nil || p.Detail == nil {
		return invocation{}, invalid("an EventBridge event needs detail-type, source and detail")
	}
	detail := p.Detail
	// EventBridge Scheduler without Input sends detail as the string "{}".
	if s := bytes.TrimSpace(detail); len(s) > 0 && s[0] == '"' {
		var inner string
		if err := json.Unmarshal(s, &inner); err != nil {
			return invocation{}, invalid("detail is not valid JSON")
		}
		detail = json.RawMessage(inner)
	}
	var d probe
	if err := decodeObject(detail, &d, "detail"); err != nil {
		return invocation{}, err
	}
	switch {
	case d.Meters != nil:
		checks, err := parseBatch(d.Meters, d)
		return invocation{shape: replyBatch, source: "eventbridge", checks: checks}, err
	case d.MeterID != nil || d.Version != nil:
		c, err := parseCheck(d)
		return invocation{shape: replySingle, source: "eventbridge", checks: []checkRequest{c}}, err
	}
	scheduled := detailType == "Scheduled Event" && (source == "aws.events" || source == "aws.scheduler")
	if !scheduled {
		return invocation{}, invalid("the EventBridge event (source %q, detail-type %q) names no meter in its detail", source, detailType)
	}
	return invocation{shape: replyBatch, source: "scheduled", scheduled: true}, nil
}

// meterIDFromJSON accepts a positive integer as a JSON number or as a string of digits.
func meterIDFromJSON(raw json.RawMessage) (string, error) {
	s := bytes.TrimSpace(raw)
	if len(s) > 0 && s[0] == '"' {
		var v string
		if err := json.Unmarshal(s, &v); err != nil {
			return "", invalid("meterId is not a valid string")
		}
		return v, nil
	}
	if len(s) == 0 || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return "", invalid("meterId must be a positive integer (a JSON number or a string of digits)")
	}
	return string(s), nil
}

// newMeter is ParseMeter for input from an event: its errors are InvalidRequest.
func newMeter(id, version string) (memory.Meter, error) {
	m, err := ParseMeter(id, version)
	if err != nil {
		return memory.Meter{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return m, nil
}

// stringField reads an optional JSON string; an absent or null field is "".
func stringField(raw json.RawMessage, name string) (string, error) {
	if raw == nil || string(bytes.TrimSpace(raw)) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid("%s must be a string", name)
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
