package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/example/zuora-runstatus/internal/memory"
)

// Alert is one SNS message, in plain types so this package needs no SDK.
type Alert struct {
	TopicARN        string
	Subject         string
	Message         string
	Attributes      []MessageAttribute
	GroupID         string // FIFO topics only
	DeduplicationID string // FIFO topics only
}

// MessageAttribute is an SNS message attribute (DataType "String" or "Number").
type MessageAttribute struct {
	Name, DataType, Value string
}

// Publisher sends an alert and returns SNS's message id. It stands for sns.Client.Publish.
type Publisher interface {
	Publish(ctx context.Context, a Alert) (messageID string, err error)
}

const maxSubject = 100 // SNS's limit

// alertMessage is the contract's message: the result the alert reports,
// and for a resolution what it resolves.
type alertMessage struct {
	Result
	Resolves *memory.Resolution `json:"resolves,omitempty"`
}

// newAlert builds the contract's message for msg, whose report is the
// result it is about, and returns that result's status. The message is the
// result without the fields that describe a check's own alert outcome.
func newAlert(topicARN string, msg memory.Message) (Alert, string, error) {
	var r Result
	if err := json.Unmarshal(msg.Report, &r); err != nil {
		return Alert{}, "", fmt.Errorf("the message's report: %w", err)
	}
	r.Alert, r.AlertOpenSince = nil, nil
	body := alertMessage{Result: r}
	tail := r.Status
	switch msg.Event {
	case memory.EventReminder:
		tail = "still " + r.Status
	case memory.EventResolved:
		tail = "resolved (" + r.Status + ")"
		if msg.Resolves != nil {
			res := *msg.Resolves
			res.Since = res.Since.UTC()
			body.Resolves = &res
		}
	}
	text, err := json.Marshal(body)
	if err != nil {
		return Alert{}, r.Status, err
	}
	a := Alert{
		TopicARN: topicARN,
		Subject:  alertSubject(r.MeterID, r.Version, tail),
		Message:  string(text),
		Attributes: []MessageAttribute{
			{"meterId", "Number", strconv.FormatInt(r.MeterID, 10)},
			{"version", "String", r.Version},
			{"status", "String", r.Status},
			{"statusCode", "Number", strconv.Itoa(r.StatusCode)},
			{"event", "String", msg.Event},
		},
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		a.GroupID = fmt.Sprintf("%d:%s", r.MeterID, r.Version)
		a.DeduplicationID = msg.ID
	}
	return a, r.Status, nil
}

// alertSubject is "Zuora meter 123 version 0.0.1: " and tail, with the
// version shortened when a long one would pass SNS's 100-character limit.
func alertSubject(meterID int64, version, tail string) string {
	s := fmt.Sprintf("Zuora meter %d version %s: %s", meterID, version, tail)
	if len(s) <= maxSubject {
		return s
	}
	over := min(len(s)-maxSubject+len("..."), len(version))
	return fmt.Sprintf("Zuora meter %d version %s...: %s", meterID, version[:len(version)-over], tail)
}

// deduplicationID names an observation when there is no memory to name the
// transition: the same meter, version and status seen under the same track
// id. Lambda keeps the request id (our default track id) across its own
// retries of an event, and callers that retry themselves pass the same
// trackId, so SNS drops the repeat within its five-minute window. checkedAt
// and Zuora's request id differ per attempt and are left out on purpose.
func deduplicationID(r Result) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%d\x00%s", r.MeterID, r.Version, r.StatusCode, r.TrackID))
	return hex.EncodeToString(sum[:])
}
