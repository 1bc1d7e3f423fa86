package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// newAlert builds the contract's alert for a result. The message is the result
// without its alert field, which is not known yet when the alert is sent.
func newAlert(topicARN string, r Result) (Alert, error) {
	r.Alert = nil
	msg, err := json.Marshal(r)
	if err != nil {
		return Alert{}, err
	}
	a := Alert{
		TopicARN: topicARN,
		Subject:  alertSubject(r.MeterID, r.Version, r.Status),
		Message:  string(msg),
		Attributes: []MessageAttribute{
			{"meterId", "Number", strconv.FormatInt(r.MeterID, 10)},
			{"version", "String", r.Version},
			{"status", "String", r.Status},
			{"statusCode", "Number", strconv.Itoa(r.StatusCode)},
		},
	}
	if strings.HasSuffix(topicARN, ".fifo") {
		a.GroupID = fmt.Sprintf("%d:%s", r.MeterID, r.Version)
		a.DeduplicationID = deduplicationID(r)
	}
	return a, nil
}

// alertSubject is "Zuora meter 123 version 0.0.1: FAILED", with the version
// shortened when a long one would pass SNS's 100-character limit.
func alertSubject(meterID int64, version, status string) string {
	s := fmt.Sprintf("Zuora meter %d version %s: %s", meterID, version, status)
	if len(s) <= maxSubject {
		return s
	}
	over := len(s) - maxSubject + len("...")
	return fmt.Sprintf("Zuora meter %d version %s...: %s", meterID, version[:len(version)-over], status)
}

// deduplicationID names the observation, not the attempt: the same meter,
// version and status seen under the same track id. Lambda keeps the request
// id (our default track id) across its own retries of an event, and callers
// that retry themselves pass the same trackId, so SNS drops the repeat within
// its five-minute window. checkedAt and Zuora's request id differ per attempt
// and are left out on purpose.
func deduplicationID(r Result) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%d\x00%s", r.MeterID, r.Version, r.StatusCode, r.TrackID))
	return hex.EncodeToString(sum[:])
}
