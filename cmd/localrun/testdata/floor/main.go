// Command floor is the smallest aws-lambda-go function: it echoes its event.
// `make bench` builds it the way the real function is built and measures it
// alongside, as the floor the function is held to.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		return event, nil
	})
}
