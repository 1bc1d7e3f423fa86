package handler

import (
	"context"

	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
)

// Store is the function's memory as the handler uses it: each meter
// version's check state (internal/memory keeps the rules), the watch list,
// and the callout notifications already handled. internal/statestore has
// it on DynamoDB; without STATE_TABLE the handler has no Store.
type Store interface {
	memory.Store
	WatchList
	callout.Notifications
}

// WatchList is the meter versions a scheduled run checks.
type WatchList interface {
	// SetWatch adds m to the watch list with w's expectation (nil: none),
	// or removes it and its expectation; either is idempotent, and neither
	// races a check's Save. An unwatched meter version expires some weeks
	// after its last write; removing one that was never stored is a no-op.
	SetWatch(ctx context.Context, m memory.Meter, w memory.Watch) error
	// SetMute mutes m (a watched or unwatched meter version, stored or
	// not) or lifts its mute (nil), without racing a check's Save. A mute
	// never makes a watched meter version expire; an unwatched one expires
	// some weeks after the mute ends.
	SetMute(ctx context.Context, m memory.Meter, mute *memory.Mute) error
	// Watched returns up to limit watched meter versions after the given
	// one (nil: from the start), ordered by meterId then version, and the
	// last one returned if more may follow.
	Watched(ctx context.Context, after *memory.Meter, limit int) (page []memory.State, next *memory.Meter, err error)
	// WatchedVersions returns the watched versions of one meter, with
	// their state, read as States reads it.
	WatchedVersions(ctx context.Context, meterID int64) ([]memory.State, error)
	// Schedule returns what the last scheduled run left for the next (the
	// zero Schedule before the first); SaveSchedule keeps it.
	Schedule(ctx context.Context) (memory.Schedule, error)
	SaveSchedule(ctx context.Context, s memory.Schedule) error
}
