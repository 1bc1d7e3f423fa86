package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Names of what the stack creates in moto. moto's account is 123456789012,
// so the ARNs are predictable, but use the Stack's fields rather than
// building ARNs by hand.
const (
	SecretName    = "zuora/local"
	TopicName     = "zuora-runstatus-alerts"
	FIFOTopicName = "zuora-runstatus-alerts.fifo"
	Region        = "us-east-1"

	// DefaultSecretString is what the secret holds after start-up: the
	// simulator's OAuth client (see testdata/meters.json).
	DefaultSecretString = `{"client_id":"local-client","client_secret":"local-secret"}`

	// DefaultDrainWait is how long DrainAlerts keeps looking at an empty
	// queue. moto delivers SNS→SQS inside Publish, so an alert is in the
	// queue by the time the invocation returns; the wait only absorbs
	// scheduling jitter.
	DefaultDrainWait = 500 * time.Millisecond
)

// Clients are AWS SDK clients pointed at the stack's moto, for tests that
// need more than the Stack's helpers (deleting the topic, say).
type Clients struct {
	Secrets *secretsmanager.Client
	SNS     *sns.Client
	SQS     *sqs.Client
}

// newClients builds the clients from an explicit aws.Config rather than
// config.LoadDefaultConfig, so the developer's AWS_PROFILE, shared config
// files or real credentials can never steer the harness to a real account.
func newClients(endpoint string) Clients {
	cfg := aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return Clients{
		Secrets: secretsmanager.NewFromConfig(cfg),
		SNS:     sns.NewFromConfig(cfg),
		SQS:     sqs.NewFromConfig(cfg),
	}
}

// setupAWS creates the secret, both topics and a queue subscribed to each.
func (s *Stack) setupAWS(ctx context.Context) error {
	c := s.AWS
	if _, err := c.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(SecretName),
		SecretString: aws.String(DefaultSecretString),
	}); err != nil {
		return fmt.Errorf("create secret: %w", err)
	}
	s.SecretID = SecretName

	var err error
	if s.TopicARN, s.QueueURL, err = s.topicWithQueue(ctx, TopicName, false); err != nil {
		return err
	}
	if s.FIFOTopicARN, s.FIFOQueueURL, err = s.topicWithQueue(ctx, FIFOTopicName, true); err != nil {
		return err
	}
	return nil
}

// topicWithQueue creates a topic and a queue of the same name subscribed to
// it. Delivery is not raw: the queue receives the SNS envelope, which is the
// only place the Subject and MessageAttributes survive. moto does not check
// queue policies, so none is set; real SQS would need one allowing the topic
// to SendMessage.
func (s *Stack) topicWithQueue(ctx context.Context, name string, fifo bool) (topicARN, queueURL string, err error) {
	c := s.AWS
	topicAttrs := map[string]string{}
	queueAttrs := map[string]string{}
	if fifo {
		// No content-based deduplication: the function must send its own
		// MessageDeduplicationId, and tests can see whether it does.
		topicAttrs["FifoTopic"] = "true"
		topicAttrs["ContentBasedDeduplication"] = "false"
		queueAttrs["FifoQueue"] = "true"
	}
	t, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: topicAttrs})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", name, err)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: queueAttrs})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	qa, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("queue %s arn: %w", name, err)
	}
	if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   t.TopicArn,
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(qa.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
		Attributes: map[string]string{"RawMessageDelivery": "false"},
	}); err != nil {
		return "", "", fmt.Errorf("subscribe %s: %w", name, err)
	}
	return aws.ToString(t.TopicArn), aws.ToString(q.QueueUrl), nil
}

// PutSecret stores value as the new current version of the stack's secret
// (zuora/local), e.g. to rotate the bearer token or break the credentials.
func (s *Stack) PutSecret(ctx context.Context, value string) error {
	_, err := s.AWS.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(s.SecretID),
		SecretString: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("put secret %s: %w", s.SecretID, err)
	}
	return nil
}

// CreateSecret creates another secret (a bearer-token form, say) and returns
// its ARN; point the function at it with ZUORA_SECRET_ID.
func (s *Stack) CreateSecret(ctx context.Context, name, value string) (string, error) {
	out, err := s.AWS.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// Alert is one SNS notification as it reached a subscribed queue.
type Alert struct {
	Subject    string
	Message    string // the published message, verbatim (the function sends JSON)
	Attributes map[string]AlertAttribute
	TopicARN   string
	MessageID  string // SNS's message id (what the function reports as alert.messageId)

	// Set for the FIFO topic only, from the SQS message's system attributes.
	MessageGroupID         string
	MessageDeduplicationID string
}

// AlertAttribute is an SNS message attribute as the envelope shows it:
// Type is "String", "Number" or "Binary"; Value is always text.
type AlertAttribute struct {
	Type  string
	Value string
}

// DecodeMessage unmarshals the alert's Message into v.
func (a Alert) DecodeMessage(v any) error {
	return json.Unmarshal([]byte(a.Message), v)
}

// snsEnvelope is the JSON body SNS puts on the queue when delivery is not raw.
type snsEnvelope struct {
	Type              string
	MessageID         string `json:"MessageId"`
	TopicArn          string
	Subject           string
	Message           string
	MessageAttributes map[string]AlertAttribute
}

// DrainAlerts empties the standard topic's queue (see DrainQueue).
func (s *Stack) DrainAlerts(ctx context.Context) ([]Alert, error) {
	return s.DrainQueue(ctx, s.QueueURL, DefaultDrainWait)
}

// DrainFIFOAlerts empties the FIFO topic's queue (see DrainQueue).
func (s *Stack) DrainFIFOAlerts(ctx context.Context) ([]Alert, error) {
	return s.DrainQueue(ctx, s.FIFOQueueURL, DefaultDrainWait)
}

// DrainQueue receives and deletes every message on queueURL and returns them
// as Alerts, oldest first. It stops at the first empty receive after wait
// has passed, so a call takes at least wait, and an empty result means no
// message arrived in that time.
func (s *Stack) DrainQueue(ctx context.Context, queueURL string, wait time.Duration) ([]Alert, error) {
	deadline := time.Now().Add(wait)
	alerts := []Alert{}
	for {
		out, err := s.AWS.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(queueURL),
			MaxNumberOfMessages:         10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			VisibilityTimeout:           30,
		})
		if err != nil {
			return alerts, fmt.Errorf("receive from %s: %w", queueURL, err)
		}
		for _, m := range out.Messages {
			a, err := parseAlert(m)
			if err != nil {
				return alerts, err
			}
			alerts = append(alerts, a)
			if _, err := s.AWS.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{
				QueueUrl:      aws.String(queueURL),
				ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				return alerts, fmt.Errorf("delete from %s: %w", queueURL, err)
			}
		}
		if len(out.Messages) > 0 {
			continue
		}
		if time.Now().After(deadline) {
			return alerts, nil
		}
		select {
		case <-ctx.Done():
			return alerts, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func parseAlert(m sqstypes.Message) (Alert, error) {
	var env snsEnvelope
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
		return Alert{}, fmt.Errorf("queue message %s is not an SNS envelope: %w", aws.ToString(m.MessageId), err)
	}
	if env.Type != "Notification" {
		return Alert{}, fmt.Errorf("queue message %s: SNS envelope of type %q, want Notification", aws.ToString(m.MessageId), env.Type)
	}
	a := Alert{
		Subject:                env.Subject,
		Message:                env.Message,
		Attributes:             env.MessageAttributes,
		TopicARN:               env.TopicArn,
		MessageID:              env.MessageID,
		MessageGroupID:         m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)],
		MessageDeduplicationID: m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageDeduplicationId)],
	}
	if a.Attributes == nil {
		a.Attributes = map[string]AlertAttribute{}
	}
	return a, nil
}
