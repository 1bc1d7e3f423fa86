package handler

import (
	"context"
	"errors"
	"time"
)

// Store is the function's memory: the watch list and, for each meter version
// it has checked, the last status and the messages it owes. The handler owns
// the rules (memory.go); a Store only keeps state, and writes it only if
// nobody else has written it since it was read. The bootstrap wires a
// DynamoDB table; without one the handler has no Store and no memory.
type Store interface {
	// States returns the stored state of each of meters that has one.
	States(ctx context.Context, meters []Meter) (map[Meter]MeterState, error)
	// AllStates returns every stored meter version, watched or not, ordered
	// by meterId then version, read in pages.
	AllStates(ctx context.Context) ([]MeterState, error)
	// Save stores s's check state (not its Watched flag) if the stored
	// revision is still s.Rev (0: no check state stored yet), and returns
	// the new revision; ErrStateConflict if another writer came first. A
	// write refused because its own earlier attempt went through (the SDK
	// retried a write whose answer was lost) is a success: the stored
	// revision s.Rev+1 written by s.Writer is this write. A meter version
	// that is not watched expires some weeks after its last Save.
	Save(ctx context.Context, s MeterState) (rev int64, err error)
	// SetWatched adds m to the watch list or removes it; either is
	// idempotent. An unwatched meter version expires as after a Save.
	SetWatched(ctx context.Context, m Meter, watched bool) error
	// Watched returns up to limit watched meter versions after the given
	// one (nil: from the start), ordered by meterId then version, and the
	// last one returned if more may follow.
	Watched(ctx context.Context, after *Meter, limit int) (page []MeterState, next *Meter, err error)
	// WatchedVersions returns the watched versions of one meter, with
	// their state, read as States reads it.
	WatchedVersions(ctx context.Context, meterID int64) ([]MeterState, error)

	// ClaimNotification starts handling a callout notification for owner:
	// owner holds it until leaseUntil (NotificationNew), unless it was
	// handled before (NotificationDone) or another delivery holds it now
	// (NotificationBusy). A claim owner already holds is owner's again.
	ClaimNotification(ctx context.Context, id, owner string, now, leaseUntil time.Time) (NotificationClaim, error)
	// FinishNotification records a notification owner claimed as handled,
	// kept until expires, or gives it up for Zuora's retry to handle;
	// ErrStateConflict if owner no longer holds it.
	FinishNotification(ctx context.Context, id, owner string, handled bool, expires time.Time) error
}

// NotificationClaim is what ClaimNotification found.
type NotificationClaim int

const (
	NotificationNew  NotificationClaim = iota // handle it
	NotificationDone                          // handled before: a retry of Zuora's
	NotificationBusy                          // another delivery is handling it
)

// ErrStateConflict: the state changed since it was read; read it again.
var ErrStateConflict = errors.New("state changed since it was read")

// MaxOutbox bounds the messages one meter version can owe. Rule 6 keeps
// every alert owed; reminders give way to newer news.
const MaxOutbox = 8

// MeterState is what the function remembers of one meter version.
type MeterState struct {
	Meter
	Watched bool

	Status     string    // the last known status; "" before the first check
	StatusCode int       // its raw code
	Session    string    // the callout session the status came with, if any
	CheckedAt  time.Time // the last check that was written
	// ChangedAt is when Status (or its session) last changed: a check's
	// time, or the time a callout says the session changed.
	ChangedAt time.Time

	AlertStatus string    // the status of the open alert; "" when none is open
	AlertSince  time.Time // when the open alert was raised
	NotifiedAt  time.Time // the last alert or reminder for the open alert

	// Outbox holds the messages owed to the topic, oldest first: each
	// stays until a check confirms it published, so a failed publish, a
	// crash or a lost answer leaves it for the next check to send.
	Outbox []PendingAlert
	// Lease says which check is publishing the outbox, and until when;
	// the zero Lease: none, any check may.
	Lease Lease

	Writer string // the owner token of the check that wrote this revision
	Rev    int64  // the stored revision of the check state; 0 before the first
}

// Lease is a check's claim on a meter version's outbox.
type Lease struct {
	Owner string
	Until time.Time
}

// free reports whether owner may take the outbox at now: nobody holds it,
// its holder's time is up, or owner holds it already.
func (l Lease) free(owner string, now time.Time) bool {
	return l.Owner == "" || l.Owner == owner || !now.Before(l.Until)
}

// PendingAlert is a message owed to the topic.
type PendingAlert struct {
	Event string // EventAlert, EventReminder or EventResolved
	// ID names the transition: the same for every attempt to publish it, so
	// it is the FIFO deduplication id.
	ID string
	// Result is the observation the message reports, as it was when the
	// transition happened: a later check that sends the message owed sends
	// this, not what it saw itself.
	Result Result
	// Resolves is what a resolution closes: the alert's status and since.
	ResolvesStatus string
	ResolvesSince  time.Time
}

// The events of the alert attribute and the output's alert.event.
const (
	EventAlert    = "alert"
	EventReminder = "reminder"
	EventResolved = "resolved"
)
