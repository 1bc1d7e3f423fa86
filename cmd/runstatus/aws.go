package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/example/zuora-runstatus/handler"
)

// secretReader adapts Secrets Manager to handler.SecretReader.
type secretReader struct{ c *secretsmanager.Client }

func (r secretReader) SecretString(ctx context.Context, id string) (string, error) {
	out, err := r.c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", err
	}
	if out.SecretString == nil {
		return "", errors.New("the secret has no SecretString (binary secrets are not supported)")
	}
	return *out.SecretString, nil
}

// snsPublisher adapts SNS to handler.Publisher.
type snsPublisher struct{ c *sns.Client }

func (p snsPublisher) Publish(ctx context.Context, a handler.Alert) (string, error) {
	attrs := make(map[string]snstypes.MessageAttributeValue, len(a.Attributes))
	for _, at := range a.Attributes {
		attrs[at.Name] = snstypes.MessageAttributeValue{DataType: aws.String(at.DataType), StringValue: aws.String(at.Value)}
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(a.TopicARN),
		Subject:           aws.String(a.Subject),
		Message:           aws.String(a.Message),
		MessageAttributes: attrs,
	}
	if a.GroupID != "" {
		in.MessageGroupId = aws.String(a.GroupID)
		in.MessageDeduplicationId = aws.String(a.DeduplicationID)
	}
	out, err := p.c.Publish(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
