package zuoratest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Zuora's Meter Session Status Change callout, sent the way Zuora sends it
// (docs.zuora.com, Events & Notifications): a POST of the JSON body the
// callout template builds, signed with HMAC-SHA256 (BASE64, data
// {{Request.Body}}) in X-Zuora-Callout-Signature and/or with preemptive HTTP
// Basic, the same Zuora-Notification-Id on every retry and a new
// Zuora-Request-Id on each attempt, retried on 1xx, 403, 408, 429, 5xx and
// network errors (not on 400, 401, 404), within a total timeout per attempt.

// SessionEvent is one meter session's status change, as the callout
// template's merge fields fill it in. Version is no merge field of Zuora's
// (a notification names no meter version); a template may add it by hand.
type SessionEvent struct {
	MeterID        int64  `json:"meterId"`
	SessionID      string `json:"sessionId"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previousStatus,omitempty"`
	RunType        string `json:"runType,omitempty"`
	MeterName      string `json:"meterName,omitempty"`
	Version        string `json:"version,omitempty"`
	// StartTime and EndTime are the session's start and end time merge
	// fields, in Zuora's form (2026-11-28T10:00:00+0000); empty leaves them out.
	StartTime string `json:"startTime,omitempty"`
	EndTime   string `json:"endTime,omitempty"`
}

// Notifier sends callouts to one endpoint, as a configured Zuora callout
// notification does.
type Notifier struct {
	URL string
	// HMACKey, when set, signs every request; Username, when set, adds
	// preemptive Basic credentials with Password.
	HMACKey            []byte
	Username, Password string
	// Attempts is Zuora's retry count (default 3, at most 5); RetryDelay
	// the wait between attempts (Zuora's default is 30 minutes).
	Attempts   int
	RetryDelay time.Duration
	// Client sends the requests; nil uses one with Zuora's 25 s timeout,
	// which does not follow redirects (Zuora does not).
	Client *http.Client
}

// Delivery is what the endpoint answered to each attempt of one
// notification (0 for an attempt that got no answer), and the last body.
type Delivery struct {
	NotificationID string
	Statuses       []int
	Body           []byte
}

// Delivered reports whether the endpoint took the notification: Zuora's
// success is HTTP 200 only.
func (d Delivery) Delivered() bool {
	return len(d.Statuses) > 0 && d.Statuses[len(d.Statuses)-1] == http.StatusOK
}

// Send delivers ev as a new notification.
func (n *Notifier) Send(ctx context.Context, ev SessionEvent) (Delivery, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return Delivery{}, err
	}
	return n.Deliver(ctx, newID(), body)
}

// Deliver sends body as the notification id, with Zuora's retries.
func (n *Notifier) Deliver(ctx context.Context, id string, body []byte) (Delivery, error) {
	d := Delivery{NotificationID: id}
	attempts := min(max(n.Attempts, 1), 5)
	if n.Attempts == 0 {
		attempts = 3
	}
	for i := range attempts {
		if i > 0 {
			select {
			case <-time.After(n.RetryDelay):
			case <-ctx.Done():
				return d, ctx.Err()
			}
		}
		status, answer, err := n.attempt(ctx, id, body)
		if err != nil && ctx.Err() != nil {
			return d, err
		}
		d.Statuses, d.Body = append(d.Statuses, status), answer
		if !retried(status) {
			break
		}
	}
	return d, nil
}

// retried is Zuora's rule: 1xx, 403, 408, 429, 5xx and no answer (0).
func retried(status int) bool {
	return status < 200 || status == http.StatusForbidden || status == http.StatusRequestTimeout ||
		status == http.StatusTooManyRequests || status >= 500
}

func (n *Notifier) attempt(ctx context.Context, id string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Zuora-Notification-Id", id)
	req.Header.Set("Zuora-Request-Id", newID())
	if len(n.HMACKey) > 0 {
		req.Header.Set("X-Zuora-Callout-Signature", Sign(n.HMACKey, body))
	}
	if n.Username != "" {
		req.SetBasicAuth(n.Username, n.Password)
	}
	client := n.Client
	if client == nil {
		client = &http.Client{Timeout: 25 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("callout: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, answer, err
}

// Sign is the signature Zuora's HMAC option puts in the header: the Base64
// HMAC-SHA256 of the body with key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
