package zuora

import (
	"context"
	"time"
)

// Request names one meter version and the optional Zuora scoping headers.
type Request struct {
	MeterID   int64  // > 0
	Version   string // 1–64 characters of A-Z a-z 0-9 . _ -
	TrackID   string // Zuora-Track-Id: ≤ 64 US-ASCII printable characters, none of : ; " '
	EntityIDs string // Zuora-Entity-Ids, sent only when set
	OrgIDs    string // Zuora-Org-Ids (comma-separated), sent only when set
}

// RunStatus is Zuora's answer, normalised. It does not repeat the Request.
type RunStatus struct {
	Code        int    // Zuora's runStatus, kept raw
	Description string // Zuora's runStatusDescription, kept raw
	Name        string // canonical name (NEVER_RUN … CONSUME_COMPLETED) or Unknown
	Terminal    bool
	Failed      bool
	RequestID   string // Zuora-Request-Id of the answering response
	Attempts    int    // HTTP attempts this call took
	Latency     time.Duration
}

// TokenSource supplies bearer tokens to the Client.
//
// Invalidate is called with the token Zuora answered 401 to; the next Token
// call must not return that token again (it mints a new one, or reloads
// credentials). Implementations are safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(rejected string)
}

// Credentials are what a CredentialsFunc loads: either an OAuth client
// (ClientID and ClientSecret) or a ready bearer AccessToken kept fresh by
// someone else.
type Credentials struct {
	ClientID     string
	ClientSecret string
	AccessToken  string
}

// CredentialsFunc loads credentials, e.g. from a secret store. It is called on
// first use and again after Zuora rejects a token, so a rotated secret is
// picked up without a restart.
type CredentialsFunc func(ctx context.Context) (Credentials, error)
