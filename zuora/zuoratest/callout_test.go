package zuoratest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// The notifier signs, authenticates, keeps the notification id across its
// retries and retries what Zuora retries, and nothing else.
func TestNotifier(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	answers := []int{503, 429, 200}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, string(b))
		w.WriteHeader(answers[min(len(got), len(answers))-1])
	}))
	defer srv.Close()
	n := &zuoratest.Notifier{URL: srv.URL, HMACKey: []byte("k"), Username: "zuora", Password: "pa55"}
	d, err := n.Send(context.Background(), zuoratest.SessionEvent{MeterID: 7, SessionID: "R-1", Status: "FAILED"})
	if err != nil || !d.Delivered() || len(d.Statuses) != 3 || len(got) != 3 {
		t.Fatalf("delivery %+v, %v after %d requests", d, err, len(got))
	}
	for i, r := range got {
		user, pass, ok := r.BasicAuth()
		if r.Header.Get("Zuora-Notification-Id") != d.NotificationID || !ok || user != "zuora" || pass != "pa55" ||
			r.Header.Get("X-Zuora-Callout-Signature") != zuoratest.Sign([]byte("k"), []byte(bodies[i])) ||
			i > 0 && r.Header.Get("Zuora-Request-Id") == got[i-1].Header.Get("Zuora-Request-Id") {
			t.Errorf("attempt %d: headers %v", i+1, r.Header)
		}
	}
	if bodies[0] != `{"meterId":7,"sessionId":"R-1","status":"FAILED"}` {
		t.Errorf("body %s", bodies[0])
	}
	// Base64 of HMAC-SHA256, as `openssl dgst -sha256 -hmac k -binary | base64` computes it.
	if sig := got[0].Header.Get("X-Zuora-Callout-Signature"); sig != "1KbQyTwFnw3wev5ZGFrvqboATiOr1bS40yYjwzRweLI=" {
		t.Errorf("signature %q, want the Base64 HMAC-SHA256 of the body with key k", sig)
	}

	got, answers = nil, []int{400}
	d, err = n.Send(context.Background(), zuoratest.SessionEvent{MeterID: 7, SessionID: "R-1", Status: "FAILED"})
	if err != nil || d.Delivered() || len(got) != 1 {
		t.Errorf("a 400 was retried or taken for a delivery: %+v, %v, %d requests", d, err, len(got))
	}
}
