package topic

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzTopicARN holds IsARN to the pattern it replaces, the name's
// length limit included. The seeds run in every go test.
func FuzzTopicARN(f *testing.F) {
	bounded := regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	const prefix = "arn:aws:sns:us-east-1:123456789012:"
	for _, arn := range []string{
		"arn:aws:sns:us-east-1:123456789012:alerts",
		prefix + "alerts.fifo",
		prefix + strings.Repeat("a", 256),
		prefix + strings.Repeat("a", 257),
		prefix + strings.Repeat("a", 256) + ".fifo",
		prefix + strings.Repeat("a", 257) + ".fifo",
		prefix,
		prefix + ".fifo",
		prefix + "a.b",
		prefix + "a:b",
		prefix + "alerts.fifo.fifo",
		prefix + "Alerts_2-x",
		"arn:aws-us-gov:sns:us-gov-west-1:123456789012:x_y-Z9",
		"arn:aws-cn:sns:cn-north-1:123456789012:alerts",
		"arn:awsx:sns:us-east-1:123456789012:alerts",
		"arn:AWS:sns:us-east-1:123456789012:alerts",
		"arn:aws:sns::123456789012:alerts",
		"arn:aws:sns:US-EAST-1:123456789012:alerts",
		"arn:aws:sns:us-east-1:12345678901:alerts",
		"arn:aws:sns:us-east-1:1234567890123:alerts",
		"arn:aws:sns:us-east-1:12345678901x:alerts",
		"arn:aws:sqs:us-east-1:123456789012:alerts",
		"arn:aws:sns:us-east-1:123456789012",
		"xarn:aws:sns:us-east-1:123456789012:alerts",
		" " + "arn:aws:sns:us-east-1:123456789012:alerts",
		"arn:aws:sns:us-east-1:123456789012:alerts\n",
		"",
	} {
		f.Add(arn)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		if got, want := IsARN(arn), bounded.MatchString(arn); got != want {
			t.Errorf("IsARN(%q) = %v, the {1,256} pattern says %v", arn, got, want)
		}
	})
}
