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
// Package zuoratest is a simulator of the endpoints for tests; cmd/zuora-sim
// serves it as a process.
package zuora
