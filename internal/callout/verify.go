// Package callout reads Zuora's Meter Session Status Change callouts: it
// verifies them against the callout secret (an HMAC-SHA256 signature of
// the raw body, HTTP Basic credentials, or both) and parses the body the
// user's callout template builds. It knows nothing of where the secret
// lives or what the function does with a callout.
package callout

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// RereadAfter is how often a failed verification may re-read the secret,
// so that a flood of forged callouts is not a flood of secret reads, while
// a rotated key still works within a minute.
const RereadAfter = time.Minute

// Keys verify callouts: with an HMACKey, the request must carry
// X-Zuora-Callout-Signature, the Base64 HMAC-SHA256 of its body; with a
// Username, matching HTTP Basic credentials. Whatever is set is required.
type Keys struct {
	HMACKey            []byte
	Username, Password string
}

// KeySource reads the callout secret. A Verifier caches what it returns.
type KeySource interface {
	CalloutKeys(ctx context.Context) (Keys, error)
}

// ErrUnauthorized: a callout without the signature or credentials the
// secret requires. ErrSecretUnavailable: the callout secret cannot be read
// or holds no key.
// ErrNotHeld: a delivery finishing a notification another one holds.
var (
	ErrUnauthorized      = errors.New("callout unauthorized")
	ErrSecretUnavailable = errors.New("secret unavailable")
	ErrNotHeld           = errors.New("the notification is held by another delivery")
)

// ParseKeys reads a callout secret's value: {"hmacKey": "..."},
// {"username": "...", "password": "..."}, or both. Errors never quote it.
func ParseKeys(secret string) (Keys, error) {
	var v struct {
		HMACKey  string `json:"hmacKey"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if json.Unmarshal([]byte(secret), &v) != nil {
		return Keys{}, errors.New("is not a JSON object")
	}
	if (v.Username == "") != (v.Password == "") {
		return Keys{}, errors.New(`has one of "username" and "password" without the other`)
	}
	keys := Keys{Username: v.Username, Password: v.Password}
	if v.HMACKey != "" {
		keys.HMACKey = []byte(v.HMACKey)
	}
	return keys, nil
}

// Request is what a callout brought: its raw body (Base64 decoded) and its
// headers, looked up by name in any case.
type Request struct {
	Body   []byte
	Header func(name string) string
}

// Verifier checks callouts against keys it reads once and re-reads when a
// callout does not match them. It reads at most once a RereadAfter,
// whether the read succeeds or not: callouts come from the internet. Safe
// for concurrent use.
type Verifier struct {
	source KeySource
	now    func() time.Time

	mu      sync.Mutex
	keys    *Keys
	readAt  time.Time
	readErr error // the last read's, while there are no keys
}

// NewVerifier returns a Verifier reading source, on now's clock (nil:
// time.Now).
func NewVerifier(source KeySource, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{source: source, now: now}
}

// Verify returns nil for a callout the keys accept, ErrUnauthorized for one
// they do not, and ErrSecretUnavailable when the keys cannot be read.
func (v *Verifier) Verify(ctx context.Context, req Request) error {
	keys, _, err := v.current(ctx, false)
	if err != nil {
		return err
	}
	if keys.Accept(req) {
		return nil
	}
	keys, reread, err := v.current(ctx, true)
	if err != nil {
		return err
	}
	if reread && keys.Accept(req) {
		return nil
	}
	return fmt.Errorf("%w: the signature or credentials do not match the callout secret", ErrUnauthorized)
}

// current returns the keys, reading them if there are none yet, or if
// stale is set and the last read is old enough.
func (v *Verifier) current(ctx context.Context, stale bool) (Keys, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	recent := !v.readAt.IsZero() && v.now().Sub(v.readAt) < RereadAfter
	switch {
	case v.keys != nil && (!stale || recent):
		return *v.keys, false, nil
	case v.keys == nil && recent:
		return Keys{}, false, v.readErr
	}
	v.readAt = v.now()
	keys, err := v.source.CalloutKeys(ctx)
	if err == nil && len(keys.HMACKey) == 0 && keys.Username == "" {
		err = errors.New(`it has neither "hmacKey" nor "username"`)
	}
	if err != nil {
		err = fmt.Errorf("%w: the callout secret: %w", ErrSecretUnavailable, err)
		if v.keys == nil {
			v.readErr = err
		}
		return Keys{}, false, err
	}
	v.keys, v.readErr = &keys, nil
	return keys, true, nil
}

// Accept compares in constant time whatever the keys require.
func (k Keys) Accept(req Request) bool {
	ok := true
	if len(k.HMACKey) > 0 {
		mac := hmac.New(sha256.New, k.HMACKey)
		mac.Write(req.Body)
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		ok = subtle.ConstantTimeCompare([]byte(req.Header("X-Zuora-Callout-Signature")), []byte(want)) == 1
	}
	if k.Username != "" {
		user, pass, found := basicAuth(req.Header("Authorization"))
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(k.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(k.Password)) == 1
		ok = ok && found && userOK && passOK
	}
	return ok
}

// basicAuth parses an Authorization header as net/http does.
func basicAuth(header string) (user, pass string, ok bool) {
	r := http.Request{Header: http.Header{"Authorization": {header}}}
	return r.BasicAuth()
}
