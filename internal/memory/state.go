// Package memory is the function's memory of each meter version: what an
// observation (a poll's or a callout's) means given what is stored — an
// alert, a reminder, a resolution, or nothing; messages still owed; news
// older than what is known — and the protocol that claims, publishes and
// records each message once among checks that run at the same time.
//
// Rules.Decide is pure; Keeper runs it against a Store and a Publisher. The
// Store is DynamoDB in production (internal/statestore), and the package
// knows nothing of how it is built.
package memory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/example/zuora-runstatus/internal/expect"
)

// Meter names one meter version.
type Meter struct {
	MeterID int64  `json:"meterId"`
	Version string `json:"version"`
}

// Compare orders meter versions by meterId, then version.
func Compare(a, b Meter) int {
	return cmp.Or(cmp.Compare(a.MeterID, b.MeterID), cmp.Compare(a.Version, b.Version))
}

// Store keeps the check state of meter versions. It writes a state only if
// nobody else has written it since it was read.
type Store interface {
	// States returns the stored state of each of meters that has one.
	States(ctx context.Context, meters []Meter) (map[Meter]State, error)
	// AllStates returns every stored meter version, watched or not, ordered
	// by meterId then version, read in pages.
	AllStates(ctx context.Context) ([]State, error)
	// Save stores s's check state (not its Watched flag, its expectation
	// or its mute: the watch and mute routes' own) if the stored
	// revision is still s.Rev (0: no check state stored yet), and returns
	// the new revision; ErrConflict if another writer came first. A write
	// refused because its own earlier attempt went through (the SDK retried
	// a write whose answer was lost) is a success: the stored revision
	// s.Rev+1 written by s.Writer is this write. A meter version that is not
	// watched expires some weeks after its last Save.
	Save(ctx context.Context, s State) (rev int64, err error)
}

// ErrConflict: the state changed since it was read; read it again.
var ErrConflict = errors.New("state changed since it was read")

// MaxOutbox bounds the messages one meter version can owe. Rule 6 keeps
// every alert owed; reminders give way to newer news.
const MaxOutbox = 8

// State is what the function remembers of one meter version.
type State struct {
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

	// With stuck runs on (Rules.StuckAfter): the run going on, how long the
	// meter version's last completed runs took, and the stuck alert.
	RunStart     time.Time       // when the run going on began; zero: none
	RunDurations []time.Duration // of the last runs that COMPLETED, oldest first, at most MaxRunHistory
	Stuck        *StuckAlert     // the run going on was paged as stuck

	// Late runs. Expect is when the meter version's runs are due, set with
	// the watch (PUT …/watch, the watch list's, not Save's); ExpectSince
	// is when: only due times after it count. Runs are the last runs known
	// to have gone (at most MaxRuns, oldest first); DueJudged is the last
	// due time judged that Zuora was asked about or that paged; Late is
	// the open late alert.
	Expect      *expect.Expectation
	ExpectSince time.Time
	Runs        []Span
	DueJudged   time.Time
	Late        *LateAlert

	// Mute silences the meter version until its time (PUT …/mute, not
	// Save's). AlertHeld says the open alert's page was held back by a
	// mute: it goes out when the mute ends, if the alert is still open
	// (Stuck and Late say the same of theirs).
	Mute      *Mute
	AlertHeld bool

	// Outbox holds the messages owed to the topic, oldest first: each
	// stays until a check confirms it published, so a failed publish, a
	// crash or a lost answer leaves it for the next check to send.
	Outbox []Message
	// Lease says which check is publishing the outbox, and until when;
	// the zero Lease: none, any check may.
	Lease Lease

	Writer string // the owner token of the check that wrote this revision
	Rev    int64  // the stored revision of the check state; 0 before the first
}

// MaxRunHistory is how many completed runs' durations are kept.
const MaxRunHistory = 5

// StuckAlert is the page of a run that has gone on far longer than usual.
type StuckAlert struct {
	Status     string    // the status it was in when paged (RUNNING, PAUSED, ...)
	NotifiedAt time.Time // the page, or its last reminder
	Held       bool      // a mute held the page back
}

// MaxRuns is how many known runs a meter version keeps for judging due
// times: more than the runs of the widest window that can still be judged.
const MaxRuns = 8

// Span is when a run was known to be going: from its start, or the first
// check that saw it, to its end, or the last that did. A callout that
// dates only one of them is a span of an instant.
type Span struct {
	From, To time.Time
}

// LateAlert is the page of a due time no run came for.
type LateAlert struct {
	Due        time.Time // the first due time missed, in the expectation's zone
	Verified   bool      // Zuora's summary had no session for it
	NotifiedAt time.Time // the page, or its last reminder
	Held       bool      // a mute held the page back
}

// Watch is what the watch route sets of a meter version: whether it is on
// the watch list and, while it is, when its runs are due (nil: no
// expectation) and since when.
type Watch struct {
	Watched bool
	Expect  *expect.Expectation
	Since   time.Time
}

// Mute silences a meter version for planned maintenance.
type Mute struct {
	Until  time.Time
	Reason string
}

// Muted reports whether m silences at now.
func (m *Mute) Muted(now time.Time) bool { return m != nil && now.Before(m.Until) }

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

// Message is one message owed to the topic.
type Message struct {
	Event string // EventAlert, EventReminder or EventResolved
	// ID names the transition: the same for every attempt to publish it, so
	// it is the FIFO deduplication id.
	ID string
	// Report is what the message reports: the observation as it was when
	// the transition happened (a later check that sends the message owed
	// sends this, not what it saw itself), as the Observation gave it.
	Report json.RawMessage
	// Resolves is what a resolution closes.
	Resolves *Resolution
	// LastSeen is when a check last saw the meter version before this
	// transition (zero: never): for a failure, when it was last seen not
	// failed, where a look for what went wrong starts.
	LastSeen time.Time
	// Stuck says how long the run has gone on, for a stuck page and its
	// reminders.
	Stuck *Stuck
	// Late says what was due and how the miss was judged, for a late page
	// and its reminders.
	Late *Late
	// AfterMute: a condition still open when a mute ended, paged then.
	AfterMute bool
}

// Late is a due time that no run came for, as a late page says it.
type Late struct {
	Due            time.Time // in the expectation's zone
	Cron, Timezone string
	Grace          time.Duration
	LastRunAt      time.Time // when a run was last known going; zero: never
	Verified       bool      // Zuora's summary had no session; false: it could not be asked
}

// Resolution is the alert a resolution closes: its status, since when, and
// whether it was a stuck run's; or, for a late alert, the first due time
// missed.
type Resolution struct {
	Status string
	Since  time.Time
	Stuck  bool
	Late   bool
	Due    time.Time // Late's
}

// Stuck is how long a run has gone on against how long the meter
// version's runs usually take (zero Usual: no history yet).
type Stuck struct {
	Since     time.Time     // when the run began
	For       time.Duration // how long it has gone on
	Usual     time.Duration // the median of the last completed runs
	Threshold time.Duration // what counts as far longer
}

// The events of a message.
const (
	EventAlert    = "alert"
	EventReminder = "reminder"
	EventResolved = "resolved"
	EventStuck    = "stuck"
	EventLate     = "late"
)
