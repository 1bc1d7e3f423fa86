package awsapi

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// PublishInput is what Publish sends: the fields of SNS's Publish the
// function uses.
type PublishInput struct {
	TopicARN   string
	Subject    string
	Message    string
	Attributes []MessageAttribute

	// GroupID and DeduplicationID are for FIFO topics; empty otherwise.
	GroupID         string
	DeduplicationID string
}

// MessageAttribute is one message attribute with a string value
// (DataType "String", "Number" or "String.Array").
type MessageAttribute struct {
	Name, DataType, Value string
}

// Publish sends a message to a topic (SNS Publish) and returns its message id.
func (c *Client) Publish(ctx context.Context, in PublishInput) (string, error) {
	form := url.Values{
		"Action":   {"Publish"},
		"Version":  {"2010-03-31"},
		"TopicArn": {in.TopicARN},
		"Message":  {in.Message},
	}
	if in.Subject != "" {
		form.Set("Subject", in.Subject)
	}
	if in.GroupID != "" {
		form.Set("MessageGroupId", in.GroupID)
	}
	if in.DeduplicationID != "" {
		form.Set("MessageDeduplicationId", in.DeduplicationID)
	}
	// Entries numbered in name order, as the SDK serialises its map.
	attrs := slices.SortedFunc(slices.Values(in.Attributes), func(a, b MessageAttribute) int { return strings.Compare(a.Name, b.Name) })
	for i, a := range attrs {
		p := "MessageAttributes.entry." + strconv.Itoa(i+1) + "."
		form.Set(p+"Name", a.Name)
		form.Set(p+"Value.DataType", a.DataType)
		form.Set(p+"Value.StringValue", a.Value)
	}

	body, err := c.call(ctx, request{
		service:     snsService,
		operation:   "Publish",
		endpoint:    c.cfg.SNSEndpoint,
		header:      map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		body:        []byte(form.Encode()),
		decodeError: decodeQueryError,
	})
	if err != nil {
		return "", err
	}
	var out struct {
		MessageID string `xml:"PublishResult>MessageId"`
	}
	if err := xml.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("sns Publish: the answer is not XML: %w", err)
	}
	if out.MessageID == "" {
		return "", errors.New("sns Publish: the answer has no MessageId")
	}
	return out.MessageID, nil
}
