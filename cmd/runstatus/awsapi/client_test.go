package awsapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// scriptServer gives the scripted answers in turn, the last one again and
// again, and counts requests.
type scriptServer struct {
	*httptest.Server
	mu       sync.Mutex
	answers  []answer
	requests int
}

type answer struct {
	status int
	body   string
}

func newScriptServer(t *testing.T, answers ...answer) *scriptServer {
	s := &scriptServer{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := s.answers[min(s.requests, len(s.answers)-1)]
		s.requests++
		s.mu.Unlock()
		w.Header().Set("X-Amzn-Requestid", "req-1")
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// noWait is the SDK's standard policy without its backoff delays, so the
// retry decisions are the SDK's and the tests do not sleep.
func noWait() *retry.Standard {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

func clientFor(endpoint string, r *retry.Standard) *Client {
	return New(Config{Region: testRegion, Credentials: credentials.StaticCredentialsProvider{Value: testCreds}, SecretsManagerEndpoint: endpoint, SNSEndpoint: endpoint, Retryer: r})
}

const (
	secretOK        = `{"Name":"s","SecretString":"{\"access_token\":\"t\"}"}`
	publishOK       = `<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>`
	smThrottled     = `{"__type":"ThrottlingException","message":"Rate exceeded"}`
	smNotFound      = `{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`
	smAccessDenied  = `{"__type":"AccessDeniedException","Message":"not authorized"}`
	smInternal      = `{"__type":"InternalServiceError","Message":"An error occurred on the server side."}`
	snsThrottled    = `<ErrorResponse><Error><Type>Sender</Type><Code>Throttled</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`
	snsNotFound     = `<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error></ErrorResponse>`
	snsAuthError    = `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized</Message></Error></ErrorResponse>`
	snsKMSThrottled = `<ErrorResponse><Error><Type>Sender</Type><Code>KMSThrottling</Code><Message>KMS throttled</Message></Error></ErrorResponse>`
)

// Only what can succeed on a retry is retried, at most 3 attempts in all.
func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		call     func(*Client) error
		answers  []answer
		attempts int
		wantCode string // "" = success
	}{
		{"secret: 500 then ok", getSecret, []answer{{500, smInternal}, {200, secretOK}}, 2, ""},
		{"secret: throttled throughout", getSecret, []answer{{400, smThrottled}}, 3, "ThrottlingException"},
		{"secret: 503 twice then ok", getSecret, []answer{{503, ""}, {503, ""}, {200, secretOK}}, 3, ""},
		{"secret: not found, once", getSecret, []answer{{400, smNotFound}}, 1, "ResourceNotFoundException"},
		{"secret: access denied, once", getSecret, []answer{{400, smAccessDenied}}, 1, "AccessDeniedException"},
		{"publish: 429 Throttled then ok", publish, []answer{{429, snsThrottled}, {200, publishOK}}, 2, ""},
		{"publish: 502 throughout", publish, []answer{{502, "<html>bad gateway</html>"}}, 3, ""},
		{"publish: topic not found, once", publish, []answer{{404, snsNotFound}}, 1, "NotFound"},
		{"publish: not authorized, once", publish, []answer{{403, snsAuthError}}, 1, "AuthorizationError"},
		{"publish: KMS throttling (400), once", publish, []answer{{400, snsKMSThrottled}}, 1, "KMSThrottling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.answers...)
			err := tt.call(clientFor(srv.URL, noWait()))
			if got := srv.count(); got != tt.attempts {
				t.Errorf("%d requests, want %d", got, tt.attempts)
			}
			last := tt.answers[len(tt.answers)-1]
			if last.status == 200 {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tt.wantCode || ae.StatusCode != last.status || ae.Attempts != tt.attempts || ae.RequestID != "req-1" {
				t.Fatalf("err = %#v, want code %q status %d after %d attempts", err, tt.wantCode, last.status, tt.attempts)
			}
			if tt.attempts > 1 && !strings.Contains(err.Error(), "after 3 attempts") {
				t.Errorf("message %q does not say how many attempts", err)
			}
		})
	}
}

func getSecret(c *Client) error {
	s, err := c.SecretString(context.Background(), "s")
	if err == nil && s != `{"access_token":"t"}` {
		return errors.New("wrong secret " + s)
	}
	return err
}

func publish(c *Client) error {
	id, err := c.Publish(context.Background(), PublishInput{TopicARN: "arn:aws:sns:us-east-1:123456789012:t", Message: "m"})
	if err == nil && id != "m-1" {
		return errors.New("wrong message id " + id)
	}
	return err
}

// A refused connection is retried, then reported as a RequestError.
func TestConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = getSecret(clientFor("http://"+addr, noWait()))
	var re *RequestError
	if !errors.As(err, &re) || re.Attempts != 3 || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want a RequestError after 3 attempts", err)
	}
}

// A retry whose wait would end after the deadline is not waited for: the call
// returns the error it saw, at once.
func TestNoWaitPastTheDeadline(t *testing.T) {
	srv := newScriptServer(t, answer{503, ""})
	long := retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := clientFor(srv.URL, long).SecretString(ctx, "s")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Attempts != 1 || srv.count() != 1 {
		t.Fatalf("err = %v after %d requests, want the 503 after 1", err, srv.count())
	}
	if ctx.Err() != nil {
		t.Fatal("the call waited until the deadline")
	}
}

// Cancelling the context ends a wait between attempts with the error seen.
func TestCancelDuringBackoff(t *testing.T) {
	srv := newScriptServer(t, answer{500, smInternal})
	waiting := make(chan struct{}, 1) // the client asked for its backoff: it has the answer
	long := retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			waiting <- struct{}{}
			return time.Hour, nil
		})
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := clientFor(srv.URL, long).SecretString(ctx, "s")
		done <- err
	}()
	<-waiting
	cancel()
	err := <-done
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "InternalServiceError" || srv.count() != 1 {
		t.Fatalf("err = %v after %d requests, want the InternalServiceError after 1", err, srv.count())
	}
}

func TestOversizedAnswer(t *testing.T) {
	srv := newScriptServer(t, answer{200, `{"SecretString":"` + strings.Repeat("x", maxResponseBytes) + `"}`})
	err := getSecret(clientFor(srv.URL, noWait()))
	var re *RequestError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v, want a RequestError about the answer's length", err)
	}
}

func TestMalformedSuccess(t *testing.T) {
	for _, tt := range []struct {
		name string
		call func(*Client) error
		body string
	}{
		{"secret not JSON", getSecret, "<html>"},
		{"publish not XML", publish, "{}"},
		{"publish without MessageId", publish, "<PublishResponse><PublishResult/></PublishResponse>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, answer{200, tt.body})
			if err := tt.call(clientFor(srv.URL, noWait())); err == nil {
				t.Fatal("no error")
			}
			if srv.count() != 1 {
				t.Errorf("%d requests, want 1", srv.count())
			}
		})
	}
}
