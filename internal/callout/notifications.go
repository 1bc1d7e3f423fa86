package callout

import (
	"context"
	"time"
)

// Notifications deduplicates callouts on Zuora-Notification-Id, the same on
// each of Zuora's retries of one notification.
type Notifications interface {
	// ClaimNotification starts handling a notification for owner: owner
	// holds it until leaseUntil (ClaimNew), unless it was handled before
	// (ClaimDone) or another delivery holds it now (ClaimBusy). A claim
	// owner already holds is owner's again (its own earlier attempt,
	// whose answer was lost).
	ClaimNotification(ctx context.Context, id, owner string, now, leaseUntil time.Time) (Claim, error)
	// FinishNotification records a notification owner claimed as handled,
	// kept until expires, or gives it up for Zuora's retry to handle; an
	// error wrapping ErrNotHeld if owner no longer holds it.
	FinishNotification(ctx context.Context, id, owner string, handled bool, expires time.Time) error
}

// Claim is what ClaimNotification found.
type Claim int

const (
	ClaimNew  Claim = iota // handle it
	ClaimDone              // handled before: a retry of Zuora's
	ClaimBusy              // another delivery is handling it
)
