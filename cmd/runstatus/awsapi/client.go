package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// maxResponseBytes bounds what is read of an answer. A secret is at most
// 64 KiB; a Publish answer is a few hundred bytes.
const maxResponseBytes = 1 << 20

const userAgent = "zuora-runstatus (aws-sdk-go-v2 signer)"

// Client makes signed calls. It is safe for concurrent use; build one per
// container.
type Client struct {
	cfg     Config
	http    *http.Client
	signer  *v4.Signer
	retryer aws.Retryer
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, http: cfg.HTTPClient, signer: v4.NewSigner(), retryer: cfg.Retryer}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.retryer == nil {
		c.retryer = retry.NewStandard()
	}
	return c
}

// request is one operation's request, rebuilt for every attempt.
type request struct {
	service   string // signing name and endpoint prefix
	operation string
	endpoint  string
	header    map[string]string
	body      []byte

	// decodeError turns a non-2xx answer into an *APIError (Code, Message,
	// RequestID); the caller fills in the rest.
	decodeError func(h http.Header, body []byte) *APIError
}

// call sends r until it succeeds, fails for good, runs out of attempts or
// would outlive ctx, and returns the answer's body. The retryer decides what
// is retried and how long to wait; its retry quota (GetRetryToken), which
// guards a busy client against retry storms, is not drawn on: a container
// makes a handful of AWS calls in its life.
func (c *Client) call(ctx context.Context, r request) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		body, err := c.attempt(ctx, r)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil || attempt >= c.retryer.MaxAttempts() || !c.retryer.IsErrorRetryable(err) {
			return nil, withAttempts(err, attempt)
		}
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, withAttempts(err, attempt)
		}
		// A wait that would end after the deadline cannot help: fail now
		// with the error that was seen, not with the deadline's.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= delay {
			return nil, withAttempts(err, attempt)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, withAttempts(err, attempt)
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, r request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(r.body))
	if err != nil {
		return nil, &RequestError{Service: r.service, Operation: r.operation, Err: err}
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", userAgent)
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, &RequestError{Service: r.service, Operation: r.operation, Err: fmt.Errorf("credentials: %w", err)}
	}
	sum := sha256.Sum256(r.body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), r.service, c.cfg.Region, time.Now().UTC()); err != nil {
		return nil, &RequestError{Service: r.service, Operation: r.operation, Err: err}
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &RequestError{Service: r.service, Operation: r.operation, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err == nil && len(body) > maxResponseBytes {
		err = fmt.Errorf("answer longer than %d bytes", maxResponseBytes)
	}
	if err != nil {
		return nil, &RequestError{Service: r.service, Operation: r.operation, Err: fmt.Errorf("HTTP %d: reading the answer: %w", resp.StatusCode, err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return body, nil
	}
	e := r.decodeError(resp.Header, body)
	e.Service, e.Operation, e.StatusCode = r.service, r.operation, resp.StatusCode
	// The request id header first, as the SDK reads it.
	if id := resp.Header.Get("X-Amzn-Requestid"); id != "" {
		e.RequestID = id
	}
	return nil, e
}

func withAttempts(err error, attempts int) error {
	var ae *APIError
	var re *RequestError
	switch {
	case errors.As(err, &ae):
		ae.Attempts = attempts
	case errors.As(err, &re):
		re.Attempts = attempts
	}
	return err
}
