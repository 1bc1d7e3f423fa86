package zuora

import (
	"fmt"
	"sync"
	"time"
)

// CredentialsRefusalHold is how long a Client remembers that Zuora refused
// its credentials. Refused credentials stay refused until someone fixes the
// secret or the OAuth client, which takes minutes at best; asking again on
// every call would only read the secret and ask the token endpoint (100
// requests a minute per IP) once per call. 30 s is short enough that a
// caller checking every minute or so finds a fixed secret at its next run.
const CredentialsRefusalHold = 30 * time.Second

// authMemory remembers that Zuora refused a Client's credentials: the token
// endpoint answered 401 (or 400: a TokenSource error of class
// ErrAuthFailed), or a bearer token was refused again after one fresh token.
// For CredentialsRefusalHold every call then fails at once, before its
// TokenSource is asked (so no secret is read and no token requested) and
// before anything is sent. After the hold one call, the probe, tries again
// while the others keep failing at once: a refusal remembers the refusal
// anew; an answer from Zuora that is not a 401 forgets it; a probe that
// learned neither (its deadline, an unreadable secret, a token endpoint
// down) leaves the next call to probe.
//
// A 403 is not a refusal of the credentials (it can be per resource), nor
// are a throttled or failing token endpoint: those fail only their own call.
type authMemory struct {
	hold time.Duration

	mu       sync.Mutex
	cause    *Error    // the refusal remembered (a copy); nil: none
	at       time.Time // when it was refused
	until    time.Time // calls fail at once before then
	probe    uint64    // the call trying the credentials after the hold; 0: none
	probes   uint64    // probes handed out, so a late call cannot pass for the current probe
	refusals int       // calls failed at once, for LimitStats
}

// credentialsWord is what a call learned of its credentials.
type credentialsWord int

const (
	credentialsUnknown  credentialsWord = iota // no answer that tells
	credentialsAccepted                        // Zuora answered with something other than a 401
	credentialsRefused                         // a refusal, as authMemory describes it
)

// admit lets a call ask for a token, and returns the probe it holds (0 if
// none), or the error it fails with at once. probe is what an earlier admit
// of the same call returned: a probe's own retry after a 401 goes on.
func (m *authMemory) admit(now time.Time, probe uint64) (uint64, *Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.cause == nil, probe != 0 && probe == m.probe:
		return probe, nil
	case now.Before(m.until) || m.probe != 0:
		return 0, m.refusal(now)
	}
	m.probes++
	m.probe = m.probes
	return m.probe, nil
}

// countRefused counts a call failed at once.
func (m *authMemory) countRefused() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refusals++
}

// refusedCalls is how many calls it failed at once, for LimitStats.
func (m *authMemory) refusedCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refusals
}

// done takes in what a call learned of the credentials when it ends; cause
// is the refusal when word is credentialsRefused.
func (m *authMemory) done(now time.Time, probe uint64, word credentialsWord, cause *Error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	wasProbe := probe != 0 && probe == m.probe
	if wasProbe {
		m.probe = 0
	}
	switch {
	case word == credentialsRefused:
		// A call that went before the refusal was remembered may report
		// it again: the hold then counts from the latest.
		m.cause, m.at, m.until = copyError(cause), now, now.Add(m.hold)
	case word == credentialsAccepted && wasProbe:
		m.cause = nil
	}
	// Otherwise: a call that was on its way before the refusal proves
	// nothing of the credentials now, and a probe that learned nothing
	// leaves the next call to probe.
}

// refusal is the error of a call failed at once: ErrAuthFailed, nothing
// sent, the refusal as its cause, and when a call will try again.
func (m *authMemory) refusal(now time.Time) *Error {
	e := &Error{Class: ErrAuthFailed, Err: copyError(m.cause)}
	at := m.at.UTC().Format(messageTime)
	if now.Before(m.until) {
		e.Message = fmt.Sprintf("the credentials were refused at %s; not trying again until %s", at, m.until.UTC().Format(messageTime))
		e.RetryAfter = m.until.Sub(now)
	} else {
		e.Message = fmt.Sprintf("the credentials were refused at %s; another call is trying them again", at)
	}
	return e
}
