package localstack

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"
)

// StateTableName is the name the state table gets in moto; the function's
// STATE_TABLE. (In AWS, CloudFormation names it.)
const StateTableName = "zuora-runstatus-state"

// tableDecl is what the stack reads of template.yaml's AWS::DynamoDB::Table:
// enough to create the same table, so a changed key schema in the template
// changes the table the tests run against.
type tableDecl struct {
	Type       string `yaml:"Type"`
	Properties struct {
		AttributeDefinitions []struct {
			AttributeName string `yaml:"AttributeName"`
			AttributeType string `yaml:"AttributeType"`
		} `yaml:"AttributeDefinitions"`
		KeySchema []struct {
			AttributeName string `yaml:"AttributeName"`
			KeyType       string `yaml:"KeyType"`
		} `yaml:"KeySchema"`
		BillingMode             string `yaml:"BillingMode"`
		TimeToLiveSpecification struct {
			AttributeName string `yaml:"AttributeName"`
			Enabled       bool   `yaml:"Enabled"`
		} `yaml:"TimeToLiveSpecification"`
	} `yaml:"Properties"`
}

// stateTable reads the template's one DynamoDB table. The rest of the
// template (CloudFormation's !Ref and friends included) stays undecoded.
func stateTable(template string) (tableDecl, error) {
	b, err := os.ReadFile(template)
	if err != nil {
		return tableDecl{}, err
	}
	var doc struct {
		Resources map[string]yaml.Node `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return tableDecl{}, fmt.Errorf("%s: %w", template, err)
	}
	var found []tableDecl
	for name, node := range doc.Resources {
		var t tableDecl
		if err := node.Decode(&t); err != nil && t.Type == "AWS::DynamoDB::Table" {
			return tableDecl{}, fmt.Errorf("%s: %s: %w", template, name, err)
		}
		if t.Type == "AWS::DynamoDB::Table" {
			found = append(found, t)
		}
	}
	if len(found) != 1 {
		return tableDecl{}, fmt.Errorf("%s declares %d DynamoDB tables; the stack knows how to make one", template, len(found))
	}
	return found[0], nil
}

// createStateTable creates the template's table in moto, with its TTL.
func (s *Stack) createStateTable(ctx context.Context) error {
	decl, err := stateTable(s.opts.Template)
	if err != nil {
		return err
	}
	p := decl.Properties
	in := &dynamodb.CreateTableInput{TableName: aws.String(StateTableName), BillingMode: dbtypes.BillingMode(p.BillingMode)}
	for _, a := range p.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, dbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: dbtypes.ScalarAttributeType(a.AttributeType)})
	}
	for _, k := range p.KeySchema {
		in.KeySchema = append(in.KeySchema, dbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: dbtypes.KeyType(k.KeyType)})
	}
	if _, err := s.aws.dynamodb.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	if ttl := p.TimeToLiveSpecification; ttl.Enabled {
		_, err = s.aws.dynamodb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(StateTableName),
			TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{AttributeName: aws.String(ttl.AttributeName), Enabled: aws.Bool(true)}})
	}
	return err
}
