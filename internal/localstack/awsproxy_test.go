package localstack

import "testing"

func TestNamesPartition(t *testing.T) {
	for _, c := range []struct {
		body string
		want bool
	}{
		{`{"TableName": "t", "Key": {"pk": {"S": "schedule"}, "sk": {"S": "run"}}, "UpdateExpression": "SET a = :a"}`, true},
		{`{"TableName": "t", "Item": {"pk": {"S": "schedule"}, "sk": {"S": "run"}}}`, true},
		{`{"RequestItems": {"t": {"Keys": [{"pk": {"S": "m#1"}}, {"pk": {"S": "schedule"}, "sk": {"S": "run"}}], "ConsistentRead": true}}}`, true},
		{`{"RequestItems": {"t": {"Keys": [{"pk": {"S": "m#1"}, "sk": {"S": "0.0.1"}}]}}}`, false},
		{`{"TableName": "t", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "schedule"}}}`, false},
		{`{"TableName": "t", "Key": {"pk": {"S": "schedules"}}}`, false},
		{`not json`, false},
	} {
		if got := namesPartition([]byte(c.body), "schedule"); got != c.want {
			t.Errorf("namesPartition(%s) = %v, want %v", c.body, got, c.want)
		}
	}
}
