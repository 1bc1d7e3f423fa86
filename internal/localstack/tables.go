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

// functionDecl is what the stack reads of the template's function: the
// limits the emulator enforces as Lambda would.
type functionDecl struct {
	Type       string `yaml:"Type"`
	Properties struct {
		MemorySize int `yaml:"MemorySize"`
		Timeout    int `yaml:"Timeout"`
	} `yaml:"Properties"`
}

// templateResource decodes the template's one resource of type typ. The rest of the template
// (CloudFormation's !Ref and friends included) stays undecoded.
func templateResource[T interface{ resourceType() string }](template, typ string) (T, error) {
	var zero T
	b, err := os.ReadFile(template)
	if err != nil {
		return zero, err
	}
	var doc struct {
		Resources map[string]yaml.Node `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return zero, fmt.Errorf("%s: %w", template, err)
	}
	var found []T
	for name, node := range doc.Resources {
		var r T
		err := node.Decode(&r)
		if r.resourceType() != typ {
			continue
		}
		if err != nil {
			return zero, fmt.Errorf("%s: %s: %w", template, name, err)
		}
		found = append(found, r)
	}
	if len(found) != 1 {
		return zero, fmt.Errorf("%s declares %d resources of type %s; the stack knows one", template, len(found), typ)
	}
	return found[0], nil
}

func (t tableDecl) resourceType() string    { return t.Type }
func (f functionDecl) resourceType() string { return f.Type }

// createStateTable creates the template's table in moto, with its TTL.
func (s *Stack) createStateTable(ctx context.Context) error {
	return createStateTable(ctx, s.aws.dynamodb, s.opts.Template)
}

// StateTableTTL is the TTL attribute of template's state table.
func StateTableTTL(template string) (string, error) {
	decl, err := templateResource[tableDecl](template, "AWS::DynamoDB::Table")
	return decl.Properties.TimeToLiveSpecification.AttributeName, err
}

func createStateTable(ctx context.Context, db *dynamodb.Client, template string) error {
	decl, err := templateResource[tableDecl](template, "AWS::DynamoDB::Table")
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
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	if ttl := p.TimeToLiveSpecification; ttl.Enabled {
		_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(StateTableName),
			TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{AttributeName: aws.String(ttl.AttributeName), Enabled: aws.Bool(true)}})
	}
	return err
}
