// Package zuora asks Zuora Mediation for the run status of a meter version:
// GET {base}/meters/{meterId}/{version}/runStatus.
//
// It knows nothing of where it runs. A Client validates the request, gets a
// bearer token from a TokenSource (StaticToken, or NewCredentialsSource for
// OAuth client credentials or a rotated access token), retries what is worth
// retrying (429, 5xx, timeouts, network failures; a 401 once with a fresh
// token) with full-jitter backoff inside the caller's deadline, and reads the
// answer into a RunStatus whose Name is one of the status constants or
// Unknown. Every failure is an *Error whose Class is one of the Err* values,
// so callers map outcomes to their own vocabulary in one place.
//
// Zuora's rate limits are per tenant and shared with the customer's own
// integrations, so a Client's calls also share what they learn: a 429's
// Retry-After pauses all of them, RateLimit-Remaining down to the calls in
// flight holds new ones until the window resets, and a circuit breaker stops
// calling a Zuora that keeps failing or throttling, for a cool-down, failing
// calls at once instead (see Config and Client.RunStatus).
//
// Package zuoratest is a simulator of the endpoints for tests; cmd/zuora-sim
// serves it as a process.
package zuora
