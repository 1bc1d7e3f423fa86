package handler

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/example/zuora-runstatus/zuora"
)

// Zuora's Meter Session Status Change callouts (POST /callouts/meter-session).

const (
	// maxCalloutBody caps a callout's body: Zuora's is a few hundred bytes.
	maxCalloutBody = 64 << 10
	// calloutRereadAfter is how often a failed verification may re-read the
	// secret, so that a flood of forged callouts is not a flood of Secrets
	// Manager calls, while a rotated key still works within a minute.
	calloutRereadAfter = time.Minute
	// notificationKept is how long a handled notification id is remembered:
	// Zuora retries at most 5 times, 30 minutes apart by default.
	notificationKept = 7 * 24 * time.Hour
	// defaultVersion is Zuora's first meter version, for a callout that names
	// none about a meter without a watched version.
	defaultVersion = "0.0.1"
	// maxNotificationID bounds Zuora-Notification-Id, which becomes a sort
	// key (DynamoDB allows 1 KB): Zuora's are UUIDs.
	maxNotificationID = 128
	// sourceCallout is Result.Source for a callout's observation.
	sourceCallout = "callout"
)

// CalloutKeys verify Zuora's callouts: with an HMACKey, the request must
// carry X-Zuora-Callout-Signature, the Base64 HMAC-SHA256 of its body; with
// a Username, matching HTTP Basic credentials. Whatever is set is required.
type CalloutKeys struct {
	HMACKey            []byte
	Username, Password string
}

// CalloutKeySource reads the callout secret (CALLOUT_SECRET_ID). The
// handler caches what it returns.
type CalloutKeySource interface {
	CalloutKeys(ctx context.Context) (CalloutKeys, error)
}

// ErrCalloutUnauthorized: a callout without the signature or credentials the
// secret requires. ErrSecretUnavailable: the callout secret cannot be read or
// holds no key.
var (
	ErrCalloutUnauthorized = errors.New("callout unauthorized")
	ErrSecretUnavailable   = errors.New("secret unavailable")
)

// calloutRequest is what a callout brought: its raw body (Base64 decoded)
// and its headers.
type calloutRequest struct {
	body   []byte
	header func(name string) string
}

// verifier checks callouts against keys it reads once and re-reads when a
// callout does not match them. It reads at most once a calloutRereadAfter,
// whether the read succeeds or not: callouts come from the internet.
type verifier struct {
	source CalloutKeySource
	now    func() time.Time

	mu      sync.Mutex
	keys    *CalloutKeys
	readAt  time.Time
	readErr error // the last read's, while there are no keys
}

func (v *verifier) verify(ctx context.Context, req calloutRequest) error {
	keys, _, err := v.current(ctx, false)
	if err != nil {
		return err
	}
	if keys.accept(req) {
		return nil
	}
	keys, reread, err := v.current(ctx, true)
	if err != nil {
		return err
	}
	if reread && keys.accept(req) {
		return nil
	}
	return fmt.Errorf("%w: the signature or credentials do not match the callout secret", ErrCalloutUnauthorized)
}

// current returns the keys, reading them if there are none yet, or if
// stale is set and the last read is old enough.
func (v *verifier) current(ctx context.Context, stale bool) (CalloutKeys, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	recent := !v.readAt.IsZero() && v.now().Sub(v.readAt) < calloutRereadAfter
	switch {
	case v.keys != nil && (!stale || recent):
		return *v.keys, false, nil
	case v.keys == nil && recent:
		return CalloutKeys{}, false, v.readErr
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
		return CalloutKeys{}, false, err
	}
	v.keys, v.readErr = &keys, nil
	return keys, true, nil
}

// accept compares in constant time whatever the keys require.
func (k CalloutKeys) accept(req calloutRequest) bool {
	ok := true
	if len(k.HMACKey) > 0 {
		mac := hmac.New(sha256.New, k.HMACKey)
		mac.Write(req.body)
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		ok = subtle.ConstantTimeCompare([]byte(req.header("X-Zuora-Callout-Signature")), []byte(want)) == 1
	}
	if k.Username != "" {
		user, pass, found := basicAuth(req.header("Authorization"))
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

// calloutBody is the JSON the callout template builds from Zuora's merge
// fields (the README shows it).
type calloutBody struct {
	MeterID        json.RawMessage `json:"meterId"`
	SessionID      string          `json:"sessionId"`
	Status         string          `json:"status"`
	PreviousStatus string          `json:"previousStatus"`
	RunType        string          `json:"runType"`
	MeterName      string          `json:"meterName"`
	Version        string          `json:"version"`
	StartTime      string          `json:"startTime"`
	EndTime        string          `json:"endTime"`
}

// sessionEvent is a callout body understood.
type sessionEvent struct {
	meterID                          int64
	version                          string // "" when the callout names none
	session, previousStatus, runType string
	status                           zuora.RunStatus
	start, end                       time.Time // the session's, when the template sends them
}

// at dates the news: the session's end, else its start; zero when the
// template sends neither (the callout is then dated by its arrival).
func (ev sessionEvent) at() time.Time {
	if !ev.end.IsZero() {
		return ev.end
	}
	return ev.start
}

// parseCallout reads a callout body; its errors are InvalidRequest, which
// Zuora does not retry.
func parseCallout(body []byte) (sessionEvent, error) {
	var b calloutBody
	if err := decodeObject(body, &b, "callout body"); err != nil {
		return sessionEvent{}, err
	}
	if b.MeterID == nil || b.SessionID == "" || b.Status == "" {
		return sessionEvent{}, invalid(`a callout needs "meterId", "sessionId" and "status"`)
	}
	id, err := meterIDFromJSON(b.MeterID)
	if err != nil {
		return sessionEvent{}, err
	}
	m, err := newMeter(id, cmp.Or(b.Version, defaultVersion))
	if err != nil {
		return sessionEvent{}, err
	}
	for name, v := range map[string]string{"sessionId": b.SessionID, "status": b.Status, "previousStatus": b.PreviousStatus, "runType": b.RunType} {
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return sessionEvent{}, invalid("%s must be at most 64 printable characters without spaces", name)
		}
	}
	ev := sessionEvent{meterID: m.MeterID, session: b.SessionID, previousStatus: b.PreviousStatus, runType: b.RunType,
		status: zuora.StatusNamed(strings.ToUpper(b.Status))}
	if b.Version != "" {
		ev.version = m.Version
	}
	if ev.start, err = parseSessionTime("startTime", b.StartTime); err != nil {
		return sessionEvent{}, err
	}
	if ev.end, err = parseSessionTime("endTime", b.EndTime); err != nil {
		return sessionEvent{}, err
	}
	return ev, nil
}

// sessionTimeLayouts are the forms a session time merge field arrives in:
// RFC 3339, and Zuora's own with a numeric zone without a colon.
var sessionTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999-0700"}

// parseSessionTime reads an optional session time; "" is the zero time.
func parseSessionTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range sessionTimeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalid("%s %q is not a time (RFC 3339, or 2026-11-28T10:00:00+0000)", field, truncate(v, 40))
}

// calloutReply is the 200 answer to a callout.
type calloutReply struct {
	Received  bool     `json:"received"`
	Duplicate bool     `json:"duplicate,omitempty"`
	Stale     bool     `json:"stale,omitempty"` // older news than the memory's: nothing done
	Results   []Result `json:"results,omitempty"`
}

// serveCallout answers a callout: verified, then deduplicated on
// Zuora-Notification-Id, then observed like a poll by the memory. Nothing
// is stored or published for a callout that fails verification. 5xx only
// for what Zuora's retry can fix.
func (h *Handler) serveCallout(ctx context.Context, inv invocation) ([]byte, error) {
	req, t := inv.callout, tallyOf(ctx)
	if h.callouts == nil {
		t.callout("refused")
		return h.fail(inv, fmt.Errorf("%w: callouts are not configured (CALLOUT_SECRET_ID)", ErrCalloutUnauthorized), nil)
	}
	if err := h.callouts.verify(ctx, req); err != nil {
		h.log.WarnContext(ctx, "callout refused", "errorType", kindOf(err).Type, "error", err.Error())
		if errors.Is(err, ErrCalloutUnauthorized) {
			t.callout("refused")
			return h.fail(inv, err, nil)
		}
		// The secret could not be read. The reply goes to whoever called
		// the open route: it names no secret and no AWS error.
		t.callout("failed")
		return h.fail(inv, fmt.Errorf("%w: the callout secret could not be read; the function's log says why", ErrSecretUnavailable), nil)
	}
	ev, err := parseCallout(req.body)
	if err != nil {
		t.callout("invalid")
		h.log.WarnContext(ctx, "invalid callout", "errorType", TypeInvalidRequest, "error", err.Error())
		return h.fail(inv, err, nil)
	}
	id := req.header("Zuora-Notification-Id")
	if len(id) > maxNotificationID {
		t.callout("invalid")
		return h.fail(inv, invalid("Zuora-Notification-Id has %d characters; at most %d", len(id), maxNotificationID), nil)
	}
	switch h.claim(ctx, id) {
	case NotificationDone:
		t.callout("duplicate")
		h.log.InfoContext(ctx, "callout", "notificationId", id, "duplicate", true)
		return httpReply(200, calloutReply{Received: true, Duplicate: true}, 0)
	case NotificationBusy:
		t.callout("failed")
		return h.fail(inv, fmt.Errorf("%w: another delivery of notification %q is being handled", ErrStateUnavailable, id), nil)
	}
	results, err := h.observeCallout(ctx, ev, req)
	h.finish(ctx, id, err == nil)
	switch {
	case err != nil:
		t.callout("failed")
		return h.fail(inv, err, nil)
	case len(results) == 0:
		t.callout("stale")
		return httpReply(200, calloutReply{Received: true, Stale: true}, 0)
	}
	t.callout("accepted")
	return httpReply(200, calloutReply{Received: true, Results: results}, 0)
}

// claim takes a notification for this delivery. Without an id or a
// memory there is nothing to deduplicate on; a memory that cannot be
// reached does not stop the callout (a duplicate page beats a missed one).
func (h *Handler) claim(ctx context.Context, id string) NotificationClaim {
	if id == "" || h.store == nil {
		return NotificationNew
	}
	now := h.now()
	c, err := h.store.ClaimNotification(ctx, id, invocationOwner(ctx), now, now.Add(leaseFor(ctx)))
	if err != nil {
		h.stateUnavailable(ctx, err, "notificationId", id)
		return NotificationNew
	}
	return c
}

// finish records a claimed notification as handled, or gives it up so that
// Zuora's retry handles it.
func (h *Handler) finish(ctx context.Context, id string, handled bool) {
	if id == "" || h.store == nil {
		return
	}
	if err := h.store.FinishNotification(ctx, id, invocationOwner(ctx), handled, h.now().Add(notificationKept)); err != nil {
		h.stateUnavailable(ctx, err, "notificationId", id)
	}
}

// observeCallout records the callout's status for each meter version it
// applies to, as a poll's, with its session and its date: no Zuora call.
// Versions for which it is stale news are left out of the results.
func (h *Handler) observeCallout(ctx context.Context, ev sessionEvent, req calloutRequest) ([]Result, error) {
	versions, mo, err := h.calloutTargets(ctx, ev)
	if err != nil {
		return nil, err
	}
	defer mo.wait()
	trackID := cmp.Or(req.header("Zuora-Notification-Id"), requestID(ctx))
	now := h.now()
	at := ev.at()
	if at.After(now) {
		at = now // a clock ahead of ours must not date the memory in the future
	}
	var results []Result
	var errs []error
	for _, m := range versions {
		res := newResult(checkRequest{Meter: m, TrackID: trackID}, ev.status, now)
		res.ZuoraRequestID = req.header("Zuora-Request-Id")
		res.Source, res.SessionID, res.PreviousStatus, res.RunType = sourceCallout, ev.session, ev.previousStatus, ev.runType
		countUnknown(ctx, res)
		var err error
		switch {
		case mo != nil:
			err = h.observe(ctx, &res, observation{res: res, session: ev.session, at: at.UTC().Truncate(time.Second)}, mo)
		case h.cfg.alertsOn(res.Status):
			err = h.publish(ctx, &res, PendingAlert{Event: EventAlert, ID: deduplicationID(res), Result: res})
		}
		h.log.InfoContext(ctx, "callout", "meterId", m.MeterID, "version", m.Version, "sessionId", ev.session,
			"status", res.Status, "notificationId", req.header("Zuora-Notification-Id"), "alert", alertLog(res.Alert),
			"stale", errors.Is(err, errStale))
		if errors.Is(err, errStale) {
			tallyOf(ctx).count("StaleCallouts")
			continue
		}
		results, errs = append(results, res), append(errs, err)
	}
	return results, errors.Join(errs...)
}

// calloutTargets is what a callout applies to, with its memory (nil
// without a Store): its version; else the meter's watched versions, whose
// states come with the read that finds them; else defaultVersion. When the
// watch list cannot be read, it is StateUnavailable (a 5xx Zuora retries),
// not defaultVersion: a page must not land on a version nobody watches.
func (h *Handler) calloutTargets(ctx context.Context, ev sessionEvent) ([]Meter, *memo, error) {
	if ev.version == "" && h.store != nil {
		watched, err := h.store.WatchedVersions(ctx, ev.meterID)
		if err != nil {
			h.stateUnavailable(ctx, err, "meterId", ev.meterID, "answering", 503)
			return nil, nil, fmt.Errorf("%w: the watched versions of meter %d could not be read", ErrStateUnavailable, ev.meterID)
		}
		if len(watched) > 0 {
			meters, states := make([]Meter, len(watched)), make(map[Meter]MeterState, len(watched))
			for i, s := range watched {
				meters[i], states[s.Meter] = s.Meter, s
			}
			return meters, known(states, nil), nil
		}
	}
	meters := []Meter{{MeterID: ev.meterID, Version: cmp.Or(ev.version, defaultVersion)}}
	return meters, h.recallAsync(ctx, meters), nil
}
