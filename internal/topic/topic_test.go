package topic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/example/zuora-runstatus/internal/alert"
)

// SNS's answers on the wire (query protocol, XML).
const (
	snsThrottled = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>` +
		`<Code>Throttled</Code><Message>Rate exceeded</Message></Error><RequestId>6a1b2c3d</RequestId></ErrorResponse>`
	snsPublished = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>` +
		`<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>` +
		`<ResponseMetadata><RequestId>f187a3c1</RequestId></ResponseMetadata></PublishResponse>`
)

// fakeSNSEndpoint answers the first `throttles` requests with Throttled and
// the rest with a message id, and keeps each request's form.
type fakeSNSEndpoint struct {
	*httptest.Server
	mu        sync.Mutex
	throttles int
	forms     []url.Values
}

func newFakeSNSEndpoint(t *testing.T, throttles int) *fakeSNSEndpoint {
	f := &fakeSNSEndpoint{throttles: throttles}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		throttle := len(f.forms) <= f.throttles
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		if throttle {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(snsThrottled))
			return
		}
		_, _ = w.Write([]byte(snsPublished))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSNSEndpoint) requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// testAWSConfig points the SDK at endpoint, with the standard retryer
// waiting no time between attempts.
func testAWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = noBackoff{} })
		},
	}
}

type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

var fifoAlert = alert.Message{
	TopicARN: "arn:aws:sns:us-east-1:123456789012:alerts.fifo",
	Subject:  "Zuora meter 102 version 0.0.1: FAILED",
	JSON:     `{"meterId":102}`,
	Email:    "Zuora meter 102 version 0.0.1: FAILED\n",
	SMS:      "Zuora meter 102 v0.0.1 FAILED",
	Attributes: []alert.Attribute{
		{Name: "meterId", DataType: "Number", Value: "102"}, {Name: "status", DataType: "String", Value: "FAILED"},
	},
	GroupID:         "102:0.0.1",
	DeduplicationID: "d3",
}

// SNS's Throttled is retried by the function's client, within the SDK's
// standard three attempts; the SDK's own client gives up at once.
func TestSNSThrottledIsRetried(t *testing.T) {
	endpoint := newFakeSNSEndpoint(t, 2)
	id, err := Publisher{NewClient(testAWSConfig(endpoint.URL))}.Publish(context.Background(), fifoAlert)
	if err != nil || id != "94f20ce6-13c5-43a0-9a9e-ca52d816e90b" {
		t.Fatalf("Publish = %q, %v", id, err)
	}
	reqs := endpoint.requests()
	if n := len(reqs); n != 3 {
		t.Fatalf("%d requests, want 3: two Throttled, then the message", n)
	}
	// One message for each kind of subscriber, and the FIFO ids.
	var bodies map[string]string
	last := reqs[2]
	if err := json.Unmarshal([]byte(last.Get("Message")), &bodies); err != nil || last.Get("MessageStructure") != "json" ||
		bodies["default"] != fifoAlert.JSON || bodies["email"] != fifoAlert.Email || bodies["sms"] != fifoAlert.SMS ||
		last.Get("MessageGroupId") != "102:0.0.1" || last.Get("MessageDeduplicationId") != "d3" {
		t.Errorf("the Publish request: %v (%v)", last, err)
	}

	plain := newFakeSNSEndpoint(t, 2)
	if _, err := (Publisher{sns.NewFromConfig(testAWSConfig(plain.URL))}).Publish(context.Background(), fifoAlert); err == nil {
		t.Error("the SDK's default client took a Throttled answer for success")
	}
	if n := len(plain.requests()); n != 1 {
		t.Errorf("the SDK's default client made %d requests; this test no longer shows what the option adds", n)
	}

	giveUp := newFakeSNSEndpoint(t, 5)
	if _, err := (Publisher{NewClient(testAWSConfig(giveUp.URL))}).Publish(context.Background(), fifoAlert); err == nil {
		t.Error("persistent throttling ended in success")
	}
	if n := len(giveUp.requests()); n != 3 {
		t.Errorf("%d requests under persistent throttling, want the standard 3", n)
	}
}

// snsRefusing answers every Publish with SNS's error code, and keeps the
// last request's form (read it once Publish has returned).
func snsRefusing(t *testing.T, status int, code string) (*httptest.Server, func() url.Values) {
	var mu sync.Mutex
	var form url.Values
	last := func() url.Values {
		mu.Lock()
		defer mu.Unlock()
		return form
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		form = r.PostForm
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code>`+
			`<Message>nope</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code)
	}))
	t.Cleanup(srv.Close)
	return srv, last
}

// SNS refusing the message itself is alert.ErrRefused, which
// sending it again unchanged cannot mend; the topic's own troubles are not.
func TestRefusalOfTheMessage(t *testing.T) {
	for _, tt := range []struct {
		status  int
		code    string
		refused bool
	}{
		{400, "InvalidParameter", true},
		{400, "ParameterValueInvalid", true},
		{403, "AuthorizationError", false},
		{404, "NotFound", false},
		{400, "KMSDisabled", false},
		{500, "InternalError", false},
	} {
		srv, _ := snsRefusing(t, tt.status, tt.code)
		_, err := Publisher{NewClient(testAWSConfig(srv.URL))}.Publish(context.Background(), fifoAlert)
		if err == nil || errors.Is(err, alert.ErrRefused) != tt.refused {
			t.Errorf("%s: %v; refused %v, want %v", tt.code, err, errors.Is(err, alert.ErrRefused), tt.refused)
		}
	}
	// The plain form has the default body alone.
	srv, last := snsRefusing(t, 400, "InvalidParameter")
	_, _ = Publisher{NewClient(testAWSConfig(srv.URL))}.Publish(context.Background(), alert.Plain(fifoAlert))
	var bodies map[string]string
	if err := json.Unmarshal([]byte(last().Get("Message")), &bodies); err != nil || len(bodies) != 1 || bodies["default"] == "" {
		t.Errorf("the plain message's bodies: %v (%v)", bodies, err)
	}
}
