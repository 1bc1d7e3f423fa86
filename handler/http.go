package handler

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// httpReply encodes an HTTP answer. API Gateway's payload formats 1.0 and
// 2.0 and function URLs all read the keys of events.APIGatewayProxyResponse.
func httpReply(status int, body any, retryAfter time.Duration) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	if status == 503 {
		// Retry-After is whole seconds; without Zuora's hint, one second.
		headers["Retry-After"] = strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds()))))
	}
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: string(b)})
}
