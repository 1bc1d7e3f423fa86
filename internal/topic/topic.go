// Package topic publishes the function's alerts to its SNS topic: the
// message internal/alert builds, as one body per kind of subscriber, with
// the retries a page deserves.
package topic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/example/zuora-runstatus/internal/alert"
)

// NewClient is the SNS client with one change to the SDK's standard
// retries: SNS's Throttled (HTTP 429) is retried too. The SDK gives up on it
// at once, and a dropped alert is what this function exists to prevent.
func NewClient(cfg aws.Config) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		o.Retryer = retry.AddWithErrorCodes(o.Retryer, "Throttled")
	})
}

// API is the SNS call the function makes (*sns.Client has it).
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publisher publishes alerts to SNS (an alert.Publisher). The message
// goes with MessageStructure json: SQS, Lambda, HTTPS and email-json
// subscribers get the JSON, e-mail subscribers the text, SMS subscribers
// the line.
type Publisher struct{ API API }

// Publish publishes m and returns SNS's message id.
func (p Publisher) Publish(ctx context.Context, m alert.Message) (string, error) {
	attrs := make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
	for _, at := range m.Attributes {
		attrs[at.Name] = snstypes.MessageAttributeValue{DataType: aws.String(at.DataType), StringValue: aws.String(at.Value)}
	}
	bodies := map[string]string{"default": m.JSON}
	for protocol, text := range map[string]string{"email": m.Email, "sms": m.SMS} {
		if text != "" { // a plain message (alert.Plain) has the default body only
			bodies[protocol] = text
		}
	}
	body, err := json.Marshal(bodies)
	if err != nil {
		return "", err
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(m.TopicARN),
		Subject:           aws.String(m.Subject),
		Message:           aws.String(string(body)),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	}
	if m.GroupID != "" {
		in.MessageGroupId = aws.String(m.GroupID)
		in.MessageDeduplicationId = aws.String(m.DeduplicationID)
	}
	out, err := p.API.Publish(ctx, in)
	if err != nil {
		return "", refusal(err)
	}
	return aws.ToString(out.MessageId), nil
}

// refusal marks an error that says SNS will never take this message as it
// is (alert.ErrRefused), unlike a throttle, an outage, or a topic or key
// the function may not use, which are the topic's and pass.
func refusal(err error) error {
	var param *snstypes.InvalidParameterException
	var value *snstypes.InvalidParameterValueException
	if errors.As(err, &param) || errors.As(err, &value) {
		return fmt.Errorf("%w: %w", alert.ErrRefused, err)
	}
	return err
}
