package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/handler"
)

// field is one attribute of a state item; a nil value is an absent one.
type field struct {
	name  string
	value types.AttributeValue
}

// checkStateFields encodes the check state of s (everything Save writes
// except the identity, the revision and the expiry). Times are RFC 3339
// strings, which sort and read in the console; empty values are absent
// attributes.
func checkStateFields(s handler.MeterState) []field {
	return []field{
		{"status", str(s.Status)},
		{"statusCode", &types.AttributeValueMemberN{Value: strconv.Itoa(s.StatusCode)}},
		{"session", str(s.Session)},
		{"checkedAt", timeAttr(s.CheckedAt)},
		{"changedAt", timeAttr(s.ChangedAt)},
		{"alertStatus", str(s.AlertStatus)},
		{"alertSince", timeAttr(s.AlertSince)},
		{"notifiedAt", timeAttr(s.NotifiedAt)},
		{"outbox", outboxAttr(s.Outbox)},
		{"leaseOwner", str(s.Lease.Owner)},
		{"leaseUntil", timeAttr(s.Lease.Until)},
		{"writer", str(s.Writer)},
	}
}

func str(v string) types.AttributeValue {
	if v == "" {
		return nil
	}
	return &types.AttributeValueMemberS{Value: v}
}

func timeAttr(t time.Time) types.AttributeValue {
	if t.IsZero() {
		return nil
	}
	return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339Nano)}
}

// outboxAttr keeps each owed message's result as its JSON, the way it goes
// on the topic.
func outboxAttr(outbox []handler.PendingAlert) types.AttributeValue {
	if len(outbox) == 0 {
		return nil
	}
	list := make([]types.AttributeValue, len(outbox))
	for i, p := range outbox {
		result, err := json.Marshal(p.Result)
		if err != nil { // a Result always marshals; keep the rest if it ever did not
			result = []byte("{}")
		}
		m := map[string]types.AttributeValue{
			"event":  str(p.Event),
			"id":     str(p.ID),
			"result": &types.AttributeValueMemberS{Value: string(result)},
		}
		for name, v := range map[string]types.AttributeValue{"resolvesStatus": str(p.ResolvesStatus), "resolvesSince": timeAttr(p.ResolvesSince)} {
			if v != nil {
				m[name] = v
			}
		}
		list[i] = &types.AttributeValueMemberM{Value: m}
	}
	return &types.AttributeValueMemberL{Value: list}
}

// itemReader reads the attributes of one item, keeping the first error.
type itemReader struct {
	item map[string]types.AttributeValue
	err  error
}

func (r *itemReader) str(name string) string {
	if v, ok := r.item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (r *itemReader) num(name string) int64 {
	v, ok := r.item[name].(*types.AttributeValueMemberN)
	if !ok || r.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
	return n
}

func (r *itemReader) time(name string) time.Time {
	s := r.str(name)
	if s == "" || r.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
	}
	return t
}

// decodeState reads a state item; an item written wrongly is an error, not
// a guess.
func decodeState(item map[string]types.AttributeValue) (handler.MeterState, error) {
	r := &itemReader{item: item}
	watched, _ := item["watched"].(*types.AttributeValueMemberBOOL)
	s := handler.MeterState{
		Meter:       handler.Meter{MeterID: r.num("meterId"), Version: r.str("version")},
		Watched:     watched != nil && watched.Value,
		Status:      r.str("status"),
		StatusCode:  int(r.num("statusCode")),
		Session:     r.str("session"),
		CheckedAt:   r.time("checkedAt"),
		ChangedAt:   r.time("changedAt"),
		AlertStatus: r.str("alertStatus"),
		AlertSince:  r.time("alertSince"),
		NotifiedAt:  r.time("notifiedAt"),
		Outbox:      decodeOutbox(r),
		Lease:       handler.Lease{Owner: r.str("leaseOwner"), Until: r.time("leaseUntil")},
		Writer:      r.str("writer"),
		Rev:         r.num("rev"),
	}
	if r.err != nil {
		return s, fmt.Errorf("state item %s: %w", r.str("sk"), r.err)
	}
	return s, nil
}

func decodeOutbox(parent *itemReader) []handler.PendingAlert {
	l, ok := parent.item["outbox"].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]handler.PendingAlert, 0, len(l.Value))
	for _, v := range l.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			parent.fail(errors.New("outbox: an item that is not a map"))
			continue
		}
		r := &itemReader{item: m.Value}
		p := handler.PendingAlert{Event: r.str("event"), ID: r.str("id"), ResolvesStatus: r.str("resolvesStatus"),
			ResolvesSince: r.time("resolvesSince")}
		if err := json.Unmarshal([]byte(r.str("result")), &p.Result); err != nil {
			r.fail(fmt.Errorf("result: %w", err))
		}
		if r.err != nil {
			parent.fail(fmt.Errorf("outbox: %w", r.err))
		}
		out = append(out, p)
	}
	return out
}

func (r *itemReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
