package callout

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

const testHMACKey = "s3cr3t-hmac-key"

func sign(key string, body []byte) string { return zuoratest.Sign([]byte(key), body) }

// request is a callout with these headers, looked up in any case.
func request(body string, headers map[string]string) Request {
	return Request{Body: []byte(body), Header: func(name string) string {
		for k, v := range headers {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}}
}

// The signature is checked against an independent computation, once.
func TestSignatureKnownAnswer(t *testing.T) {
	// printf '%s' '{"meterId":1}' | openssl dgst -sha256 -hmac s3cr3t-hmac-key -binary | base64
	const want = "1flSkiWakxHKSWuliXnD5+aSIuMv8PKgs3UyiROX+AA="
	keys := Keys{HMACKey: []byte(testHMACKey)}
	if !keys.Accept(request(`{"meterId":1}`, map[string]string{"X-Zuora-Callout-Signature": want})) {
		t.Errorf("the openssl signature %s was refused (ours: %s)", want, sign(testHMACKey, []byte(`{"meterId":1}`)))
	}
}

// Whatever the keys hold is required, on the raw body and on headers in
// any case.
func TestAccept(t *testing.T) {
	body := `{"meterId": 102, "sessionId": "R-1", "status": "FAILED"}`
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("zuora:pa55"))
	both := Keys{HMACKey: []byte(testHMACKey), Username: "zuora", Password: "pa55"}
	tests := []struct {
		name    string
		keys    Keys
		headers map[string]string
		want    bool
	}{
		{"hmac", Keys{HMACKey: []byte(testHMACKey)}, map[string]string{"x-zuora-callout-signature": sign(testHMACKey, []byte(body))}, true},
		{"no signature", Keys{HMACKey: []byte(testHMACKey)}, nil, false},
		{"another key", Keys{HMACKey: []byte(testHMACKey)}, map[string]string{"X-Zuora-Callout-Signature": sign("other", []byte(body))}, false},
		{"basic", Keys{Username: "zuora", Password: "pa55"}, map[string]string{"authorization": basic}, true},
		{"wrong password", Keys{Username: "zuora", Password: "pa55"}, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("zuora:nope"))}, false},
		{"both required, basic missing", both, map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body))}, false},
		{"both", both, map[string]string{"X-Zuora-Callout-Signature": sign(testHMACKey, []byte(body)), "Authorization": basic}, true},
	}
	for _, tt := range tests {
		if got := tt.keys.Accept(request(body, tt.headers)); got != tt.want {
			t.Errorf("%s: Accept = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeSource is the callout secret: what it holds now, and how often it was read.
type fakeSource struct {
	mu    sync.Mutex
	keys  Keys
	err   error
	reads int
}

func (f *fakeSource) CalloutKeys(context.Context) (Keys, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.keys, f.err
}

// A rotated key works within a minute; forged callouts re-read the secret
// at most once a minute; an unreadable secret too.
func TestVerifierRereads(t *testing.T) {
	now := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	src := &fakeSource{keys: Keys{HMACKey: []byte("old-key")}}
	v := NewVerifier(src, func() time.Time { return now })
	body := `{"meterId": 1}`
	withOld := request(body, map[string]string{"X-Zuora-Callout-Signature": sign("old-key", []byte(body))})
	withNew := request(body, map[string]string{"X-Zuora-Callout-Signature": sign("new-key", []byte(body))})
	if err := v.Verify(context.Background(), withOld); err != nil {
		t.Fatal(err)
	}
	src.keys = Keys{HMACKey: []byte("new-key")}
	for range 50 {
		if err := v.Verify(context.Background(), withNew); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("within a minute of the last read: %v", err)
		}
	}
	if src.reads != 1 {
		t.Errorf("%d reads for one good and 50 refused callouts within a minute, want 1", src.reads)
	}
	now = now.Add(RereadAfter)
	if err := v.Verify(context.Background(), withNew); err != nil || src.reads != 2 {
		t.Errorf("a minute later: %v after %d reads", err, src.reads)
	}

	broken := &fakeSource{err: errors.New("AccessDeniedException")}
	v = NewVerifier(broken, func() time.Time { return now })
	for range 20 {
		if err := v.Verify(context.Background(), withNew); !errors.Is(err, ErrSecretUnavailable) {
			t.Errorf("unreadable secret: %v", err)
		}
	}
	if broken.reads != 1 {
		t.Errorf("20 callouts read an unreadable secret %d times, want 1", broken.reads)
	}
	broken.err = nil // readable, but holds no key
	now = now.Add(RereadAfter)
	if err := v.Verify(context.Background(), withNew); !errors.Is(err, ErrSecretUnavailable) || broken.reads != 2 {
		t.Errorf("a secret without a key: %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	good := map[string]Keys{
		`{"hmacKey": "k"}`:                                   {HMACKey: []byte("k")},
		`{"username": "u", "password": "p"}`:                 {Username: "u", Password: "p"},
		`{"hmacKey": "k", "username": "u", "password": "p"}`: {HMACKey: []byte("k"), Username: "u", Password: "p"},
	}
	for secret, want := range good {
		if got, err := ParseKeys(secret); err != nil || string(got.HMACKey) != string(want.HMACKey) || got.Username != want.Username || got.Password != want.Password {
			t.Errorf("ParseKeys(%s) = %+v, %v", secret, got, err)
		}
	}
	for _, bad := range []string{`k`, `{"username": "u"}`, `{"password": "p"}`} {
		if _, err := ParseKeys(bad); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("ParseKeys(%s): %v", bad, err)
		}
	}
}

func TestParseBody(t *testing.T) {
	ev, err := ParseBody([]byte(`{"meterId": "105", "sessionId": "R-42", "status": "failed", "previousStatus": "running", "runType": "normal",
		"version": "0.1.0", "startTime": "2026-11-28T10:12:00+0000", "endTime": "2026-11-28T10:58:41Z"}`))
	if err != nil || ev.MeterID != 105 || ev.Status.Name != zuoraFailed || ev.Version != "0.1.0" || ev.RunType != "NORMAL" || ev.PreviousStatus != "RUNNING" ||
		!ev.At().Equal(time.Date(2026, 11, 28, 10, 58, 41, 0, time.UTC)) || !ev.Start.Equal(time.Date(2026, 11, 28, 10, 12, 0, 0, time.UTC)) {
		t.Errorf("ParseBody = %+v, %v", ev, err)
	}
	for _, bad := range []string{
		``, `[]`, `{"meterId": 1, "sessionId": "R"}`, `{"meterId": 0, "sessionId": "R", "status": "FAILED"}`,
		`{"meterId": 1, "sessionId": "R 1", "status": "FAILED"}`, `{"meterId": 1, "sessionId": "R", "status": "FAILED", "version": "../x"}`,
		`{"meterId": "x", "sessionId": "R", "status": "FAILED"}`, `{"meterId": 1.5, "sessionId": "R", "status": "FAILED"}`,
		`{"meterId": 1, "sessionId": "R", "status": "FAILED", "endTime": "yesterday"}`, strings.Repeat(" ", MaxBody+1),
	} {
		if _, err := ParseBody([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseBody(%.40q) = %v, want ErrInvalid", bad, err)
		}
	}
	if CheckNotificationID(strings.Repeat("n", MaxNotificationID+1)) == nil || CheckNotificationID("2c92c0f97e1a") != nil {
		t.Error("CheckNotificationID")
	}
}

const zuoraFailed = "FAILED"

func FuzzParseBody(f *testing.F) {
	for _, s := range []string{`{"meterId":1,"sessionId":"R-1","status":"FAILED"}`, `{"meterId":9,"sessionId":"x","status":"STOPPING","version":"0.0.1","endTime":"2026-11-28T10:00:00+0000"}`,
		`{"meterId":"12","sessionId":"a","status":"failed"}`, `{}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseBody(body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if ev.MeterID <= 0 || ev.Session == "" || ev.Status.Description == "" {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}

func FuzzAccept(f *testing.F) {
	f.Add([]byte(`{"meterId":1}`), "sig", "Basic eDp5")
	f.Add([]byte(`{"meterId":1}`), sign(testHMACKey, []byte(`{"meterId":1}`)), "Basic eDp5") // both right: "x:y"
	f.Add([]byte(`{"meterId":1}`), sign(testHMACKey, []byte(`{"meterId":1}`)), "basic  eDp5")
	f.Fuzz(func(t *testing.T, body []byte, signature, authorization string) {
		keys := Keys{HMACKey: []byte(testHMACKey), Username: "x", Password: "y"}
		req := Request{Body: body, Header: func(name string) string {
			return map[string]string{"X-Zuora-Callout-Signature": signature, "Authorization": authorization}[name]
		}}
		// RFC 7617: "Basic" in any case, one space, then Base64 of user:password.
		scheme, rest := authorization[:min(6, len(authorization))], authorization[min(6, len(authorization)):]
		creds, err := base64.StdEncoding.DecodeString(rest)
		basic := strings.EqualFold(scheme, "basic ") && err == nil && string(creds) == "x:y"
		if got, want := keys.Accept(req), signature == sign(testHMACKey, body) && basic; got != want {
			t.Fatalf("Accept(%q, %q, %q) = %v, want %v", body, signature, authorization, got, want)
		}
	})
}
