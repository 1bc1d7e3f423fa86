package topic

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)

// IsARN reports whether s is an SNS topic ARN,
// arn:aws…:sns:{region}:{12-digit account}:{name}[.fifo], with a name of 1 to
// 256 letters, digits, "_" and "-". (A regexp with the name's counted
// repetition compiles into 256 copies of its class, at every cold start.)
func IsARN(s string) bool {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "sns" || !strings.HasPrefix(a.Partition, "aws") {
		return false
	}
	name := strings.TrimSuffix(a.Resource, ".fifo")
	return madeOf(a.Partition[3:], lower+"-") &&
		a.Region != "" && madeOf(a.Region, lower+digits+"-") &&
		len(a.AccountID) == 12 && madeOf(a.AccountID, digits) &&
		name != "" && len(name) <= 256 && madeOf(name, lower+upper+digits+"_-")
}

// madeOf reports whether every byte of s is one of set's.
func madeOf(s, set string) bool { return strings.Trim(s, set) == "" }
