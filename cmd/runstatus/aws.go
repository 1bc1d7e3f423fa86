package main

import (
	"context"

	"github.com/example/zuora-runstatus/cmd/runstatus/awsapi"
	"github.com/example/zuora-runstatus/handler"
)

// snsPublisher adapts awsapi's SNS Publish to handler.Publisher.
// (*awsapi.Client already is a handler.SecretReader.)
type snsPublisher struct{ c *awsapi.Client }

func (p snsPublisher) Publish(ctx context.Context, a handler.Alert) (string, error) {
	in := awsapi.PublishInput{
		TopicARN:        a.TopicARN,
		Subject:         a.Subject,
		Message:         a.Message,
		GroupID:         a.GroupID,
		DeduplicationID: a.DeduplicationID,
	}
	for _, at := range a.Attributes {
		in.Attributes = append(in.Attributes, awsapi.MessageAttribute(at))
	}
	return p.c.Publish(ctx, in)
}
