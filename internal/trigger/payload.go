package trigger

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The payloads that are not HTTP: a direct check, a batch, and an
// EventBridge event (a rule's, or Scheduler's).

// parseCheck validates one direct payload (or batch item, or EventBridge
// detail).
func parseCheck(p probe) (Check, error) {
	if p.MeterID == nil {
		return Check{}, invalid("meterId is required")
	}
	if p.Version == nil {
		return Check{}, invalid("version is required")
	}
	id, err := meterIDFromJSON(p.MeterID)
	if err != nil {
		return Check{}, err
	}
	version, err := stringField(p.Version, "version")
	if err != nil {
		return Check{}, err
	}
	m, err := meter(id, version)
	if err != nil {
		return Check{}, err
	}
	c := Check{Meter: m}
	if c.TrackID, err = stringField(p.TrackID, "trackId"); err != nil {
		return Check{}, err
	}
	if c.EntityIDs, err = stringField(p.EntityIDs, "entityIds"); err != nil {
		return Check{}, err
	}
	if c.OrgIDs, err = stringField(p.OrgIDs, "orgIds"); err != nil {
		return Check{}, err
	}
	return c, c.Validate()
}

// meterIDFromJSON accepts a positive integer as a JSON number or as a
// string of digits (ParseMeter checks the digits).
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

func parseBatch(raw json.RawMessage, top probe) ([]Check, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, invalid("meters must be an array of {\"meterId\", \"version\"} objects")
	}
	if len(items) == 0 || len(items) > MaxBatch {
		return nil, invalid("meters has %d items; it must have 1 to %d", len(items), MaxBatch)
	}
	checks := make([]Check, len(items))
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

func parseEventBridge(p probe) (Request, error) {
	detailType, err := stringField(p.DetailType, "detail-type")
	if err != nil {
		return Request{}, err
	}
	source, err := stringField(p.Source, "source")
	if err != nil {
		return Request{}, err
	}
	if p.DetailType == nil || p.Source == nil || p.Detail == nil {
		return Request{}, invalid("an EventBridge event needs detail-type, source and detail")
	}
	d, err := parseDetail(p.Detail)
	if err != nil {
		return Request{}, err
	}
	switch {
	case d.Meters != nil:
		checks, err := parseBatch(d.Meters, d)
		return Request{Reply: ReplyBatch, Source: "eventbridge", Checks: checks}, err
	case d.MeterID != nil || d.Version != nil:
		c, err := parseCheck(d)
		return Request{Reply: ReplySingle, Source: "eventbridge", Checks: []Check{c}}, err
	}
	scheduled := detailType == "Scheduled Event" && (source == "aws.events" || source == "aws.scheduler")
	if !scheduled {
		return Request{}, invalid("the EventBridge event (source %q, detail-type %q) names no meter in its detail", source, detailType)
	}
	return Request{Reply: ReplyBatch, Source: "scheduled", Scheduled: true}, nil
}

// parseDetail reads an EventBridge detail: an object, or the string
// EventBridge Scheduler sends without Input ("{}").
func parseDetail(detail json.RawMessage) (probe, error) {
	if s := bytes.TrimSpace(detail); len(s) > 0 && s[0] == '"' {
		var inner string
		if err := json.Unmarshal(s, &inner); err != nil {
			return probe{}, invalid("detail is not valid JSON")
		}
		detail = json.RawMessage(inner)
	}
	var d probe
	err := decodeObject(detail, &d, "detail")
	return d, err
}
