// Package zuora asks Zuora Mediation about meters: the run status of a meter
// version (GET {base}/meters/{meterId}/{version}/runStatus), and, for why a
// run failed, a meter's summary (POST {base}/meters/{meterId}/summary) and
// its records in error (GET {base}/meters/{meterId}/auditTrail/entries).
//
// It knows nothing of where it runs. A Client validates the request, gets a
// bearer token from a TokenSource (StaticToken, or NewCredentialsSource for
// OAuth client credentials or a rotated access token), retries what is worth
// retrying (429, 5xx, timeouts, network failures; a 401 once with a fresh
// token) with full-jitter backoff inside the caller's deadline, and reads the
// answer. RunStatus gives a RunStatus whose Name is one of the status
// constants or Unknown. Every failure is an *Error whose Class is one of the
// Err* values, so callers map outcomes to their own vocabulary in one place.
//
// Summary and AuditErrors go through the same machinery, each call bounded
// by its own MaxAttempts if the caller asks for fewer (a best-effort call on
// a tight budget makes exactly one attempt with 1). Their answers are only
// partly published, so they are read defensively: unknown dimension keys are
// kept, codes are text whether Zuora sends numbers or strings, missing fields
// are empty, an unreadable errorTime is the zero time, and groups, entries
// and strings are bounded. An audit entry's payload is the customer's own
// usage record: it is never decoded, so it cannot reach a returned value, an
// error or a log, and no error of this package quotes a response body.
//
// Zuora's rate limits are per tenant and shared with the customer's own
// integrations, so a Client's calls, of every endpoint, also share what they
// learn: a 429's Retry-After pauses all of them, RateLimit-Remaining down to
// the calls in flight holds new ones until the window resets, and a circuit
// breaker stops calling a Zuora that keeps failing or throttling, for a
// cool-down, failing calls at once instead (see Config and Client.RunStatus).
// Refused credentials are shared news too: once the token endpoint answers
// 401, or a 401 persists after a fresh token, calls fail at once with
// ErrAuthFailed for CredentialsRefusalHold, without asking the TokenSource
// (no secret read, no token request), and then one call tries again. A 403
// is not a refusal of the credentials and is not remembered.
//
// Package zuoratest is a simulator of the endpoints for tests; cmd/zuora-sim
// serves it as a process.
package zuora
