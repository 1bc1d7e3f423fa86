package statestore

import (
	"strings"
	"testing"
)

// STATE_TABLE is a table name or a table's ARN.
func TestIsTableName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"zuora-state", true},
		{"Zuora_State.v2", true},
		{"abc", true},
		{strings.Repeat("a", 255), true},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/zuora-state", true},
		{"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/x_y", true},
		{"ab", false},
		{strings.Repeat("a", 256), false},
		{"a b", false},
		{"zuora/state", false},
		{"", false},
		{"arn:aws:sns:us-east-1:123456789012:table/x", false},
		{"arn:aws:dynamodb:us-east-1:123456789012:zuora-state", false},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/a b", false},
	} {
		if got := IsTableName(tt.name); got != tt.ok {
			t.Errorf("IsTableName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}
