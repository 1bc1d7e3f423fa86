package localstack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type clients struct {
	secrets  *secretsmanager.Client
	sns      *sns.Client
	sqs      *sqs.Client
	dynamodb *dynamodb.Client
}

// newClients builds the stack's own clients (see awsConfig).
func newClients(cfg aws.Config) clients {
	return clients{secretsmanager.NewFromConfig(cfg), sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)}
}

// createResources creates the secrets, the state table, both topics and a
// queue on each.
func (s *Stack) createResources(ctx context.Context) error {
	if err := s.createStateTable(ctx); err != nil {
		return err
	}
	if _, err := s.aws.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(CalloutSecretName),
		SecretString: aws.String(DefaultCalloutSecretString),
	}); err != nil {
		return fmt.Errorf("create secret: %w", err)
	}
	if _, err := s.aws.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(SecretName),
		SecretString: aws.String(DefaultSecretString),
	}); err != nil {
		return fmt.Errorf("create secret: %w", err)
	}
	var err error
	if s.TopicARN, s.queueURL, err = s.topicWithQueue(ctx, TopicName, nil); err != nil {
		return err
	}
	// No content-based deduplication: the function must send its own
	// MessageDeduplicationId, and the tests see whether it does.
	fifo := map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "false"}
	s.FIFOTopicARN, s.fifoURL, err = s.topicWithQueue(ctx, FIFOTopicName, fifo)
	return err
}

// topicWithQueue creates a topic and a queue of the same name subscribed to
// it. Delivery is not raw: the queue gets the SNS envelope, the only place
// where the Subject and MessageAttributes survive. (moto does not check
// queue policies; real SQS would need one letting the topic send.)
func (s *Stack) topicWithQueue(ctx context.Context, name string, topicAttrs map[string]string) (topicARN, queueURL string, err error) {
	t, err := s.aws.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: topicAttrs})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", name, err)
	}
	var queueAttrs map[string]string
	if topicAttrs["FifoTopic"] == "true" {
		queueAttrs = map[string]string{"FifoQueue": "true"}
	}
	q, err := s.aws.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: queueAttrs})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	arnName := sqstypes.QueueAttributeNameQueueArn
	qa, err := s.aws.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{arnName},
	})
	if err != nil {
		return "", "", fmt.Errorf("queue %s: %w", name, err)
	}
	if _, err := s.aws.sns.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   t.TopicArn,
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(qa.Attributes[string(arnName)]),
		Attributes: map[string]string{"RawMessageDelivery": "false"},
	}); err != nil {
		return "", "", fmt.Errorf("subscribe %s: %w", name, err)
	}
	return aws.ToString(t.TopicArn), aws.ToString(q.QueueUrl), nil
}

// PutSecret stores value as the current version of the secret zuora/local,
// to switch the credentials' form, rotate a token or break it.
func (s *Stack) PutSecret(ctx context.Context, value string) error {
	return s.putSecret(ctx, SecretName, value)
}

// PutCalloutSecret stores value as the current version of the callout
// secret, to rotate its key or change what it requires.
func (s *Stack) PutCalloutSecret(ctx context.Context, value string) error {
	return s.putSecret(ctx, CalloutSecretName, value)
}

func (s *Stack) putSecret(ctx context.Context, name, value string) error {
	_, err := s.aws.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		return fmt.Errorf("put secret %s: %w", name, err)
	}
	return nil
}

// Alert is one SNS notification as it reached a subscribed queue: the
// envelope of non-raw delivery, and the FIFO queue's system attributes.
type Alert struct {
	Subject, Message       string
	Attributes             map[string]AlertAttribute `json:"MessageAttributes"`
	TopicARN               string                    `json:"TopicArn"`
	MessageID              string                    `json:"MessageId"` // what the function reports as alert.messageId
	MessageGroupID         string                    `json:"-"`         // FIFO only, like the next
	MessageDeduplicationID string                    `json:"-"`
}

// AlertAttribute is an SNS message attribute as the envelope shows it: Type
// "String", "Number" or "Binary", and the value as text.
type AlertAttribute struct{ Type, Value string }

// DrainAlerts receives and deletes the messages on the standard topic's
// queue, oldest first. moto delivers to the queue inside SNS Publish, so
// whatever the function published before it replied is there.
func (s *Stack) DrainAlerts(ctx context.Context) ([]Alert, error) {
	return s.drain(ctx, s.queueURL)
}

// DrainFIFOAlerts is DrainAlerts for the FIFO topic.
func (s *Stack) DrainFIFOAlerts(ctx context.Context) ([]Alert, error) {
	return s.drain(ctx, s.fifoURL)
}

func (s *Stack) drain(ctx context.Context, queueURL string) ([]Alert, error) {
	alerts := []Alert{}
	for {
		out, err := s.aws.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(queueURL),
			MaxNumberOfMessages:         10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return alerts, fmt.Errorf("receive: %w", err)
		}
		if len(out.Messages) == 0 {
			return alerts, nil
		}
		for _, m := range out.Messages {
			a, err := parseAlert(m)
			if err != nil {
				return alerts, err
			}
			alerts = append(alerts, a)
			if _, err := s.aws.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return alerts, fmt.Errorf("delete: %w", err)
			}
		}
	}
}

// parseAlert reads the SNS envelope that non-raw delivery puts on the queue.
func parseAlert(m sqstypes.Message) (Alert, error) {
	var env struct {
		Alert
		Type string
	}
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil || env.Type != "Notification" {
		return Alert{}, fmt.Errorf("queue message %s is not an SNS notification (%v): %s", aws.ToString(m.MessageId), err, aws.ToString(m.Body))
	}
	env.MessageGroupID = m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]
	env.MessageDeduplicationID = m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageDeduplicationId)]
	return env.Alert, nil
}

// AWSConfig is an SDK configuration for the stack's account in moto, for
// what a test reads or writes there itself (the function's requests go
// through the fault proxy instead).
func (s *Stack) AWSConfig() aws.Config { return awsConfig(s.MotoURL, s.Account, Region) }

// AWSCall is one request the function made, as the fault proxy saw it.
type AWSCall struct {
	Op string // e.g. DynamoDB.Query, SNS.Publish, SecretsManager.GetSecretValue
}

// DynamoDBCalls counts the DynamoDB read and write operations among calls.
func DynamoDBCalls(calls []AWSCall) (reads, writes int) {
	for _, c := range calls {
		switch {
		case !isDynamoDB(c.Op):
		case isDynamoDBWrite(c.Op):
			writes++
		default:
			reads++
		}
	}
	return reads, writes
}

// RecordAWSCalls counts the requests the function makes to AWS from now on,
// and returns a function that stops and returns them: the count of what the
// function really asked AWS for, not what its code seems to ask.
func (s *Stack) RecordAWSCalls(context.Context) (stop func(context.Context) ([]AWSCall, error), err error) {
	s.proxy.record()
	return func(context.Context) ([]AWSCall, error) { return s.proxy.recorded(), nil }, nil
}
