package statestore

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/expect"
	"github.com/example/zuora-runstatus/internal/memory"
)

// item is one meter version's item: its key, the watch flag and the
// expectation (SetWatch's), the mute (SetMute's), the check state (Save's),
// the revision and the expiry. Each writer sets only its own attributes, so
// none of them races another. Times are RFC 3339 strings, which sort and
// read in the console (a due time keeps its zone's offset); empty values
// are absent attributes.
type item struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	MeterID int64  `dynamodbav:"meterId"`
	Version string `dynamodbav:"version"`
	Watched bool   `dynamodbav:"watched"`
	watchState
	muteState
	checkState
	Rev       int64     `dynamodbav:"rev"`
	ExpiresAt time.Time `dynamodbav:"expiresAt,omitempty,unixtime"` // the table's TTL attribute
	// Pending is the single owed message of items written before the
	// outbox; read into the outbox, removed by the next Save.
	Pending *message `dynamodbav:"pending,omitempty"`
}

// watchState is what SetWatch writes besides the flag: the expectation, as
// the strings Expectation.Strings gives (expect.New rebuilds it from them),
// and since when it counts.
type watchState struct {
	ExpectCron     string    `dynamodbav:"expectCron,omitempty"`
	ExpectTimezone string    `dynamodbav:"expectTimezone,omitempty"`
	ExpectGrace    string    `dynamodbav:"expectGrace,omitempty"`
	ExpectSince    time.Time `dynamodbav:"expectSince,omitempty"`
}

// muteState is what SetMute writes.
type muteState struct {
	MuteUntil  time.Time `dynamodbav:"muteUntil,omitempty"`
	MuteReason string    `dynamodbav:"muteReason,omitempty"`
}

// checkState is what Save writes of memory.State.
type checkState struct {
	Status      string    `dynamodbav:"status,omitempty"`
	StatusCode  int       `dynamodbav:"statusCode"`
	Session     string    `dynamodbav:"session,omitempty"`
	CheckedAt   time.Time `dynamodbav:"checkedAt,omitempty"`
	ChangedAt   time.Time `dynamodbav:"changedAt,omitempty"`
	AlertStatus string    `dynamodbav:"alertStatus,omitempty"`
	AlertSince  time.Time `dynamodbav:"alertSince,omitempty"`
	NotifiedAt  time.Time `dynamodbav:"notifiedAt,omitempty"`
	AlertHeld   bool      `dynamodbav:"alertHeld,omitempty"`
	Outbox      []message `dynamodbav:"outbox,omitempty"`
	LeaseOwner  string    `dynamodbav:"leaseOwner,omitempty"`
	LeaseUntil  time.Time `dynamodbav:"leaseUntil,omitempty"`
	Writer      string    `dynamodbav:"writer,omitempty"`
	// The run going on, the last completed runs (nanoseconds), the stuck alert.
	RunStart        time.Time       `dynamodbav:"runStart,omitempty"`
	RunDurations    []time.Duration `dynamodbav:"runDurations,omitempty"`
	StuckStatus     string          `dynamodbav:"stuckStatus,omitempty"`
	StuckNotifiedAt time.Time       `dynamodbav:"stuckNotifiedAt,omitempty"`
	StuckHeld       bool            `dynamodbav:"stuckHeld,omitempty"`
	// Late runs: the runs known to have gone, the last due time judged, the
	// late alert (its due time with the expectation zone's offset).
	Runs           []span    `dynamodbav:"runs,omitempty"`
	DueJudged      time.Time `dynamodbav:"dueJudged,omitempty"`
	LateDue        time.Time `dynamodbav:"lateDue,omitempty"`
	LateVerified   bool      `dynamodbav:"lateVerified,omitempty"`
	LateNotifiedAt time.Time `dynamodbav:"lateNotifiedAt,omitempty"`
	LateHeld       bool      `dynamodbav:"lateHeld,omitempty"`
}

// span is a memory.Span.
type span struct {
	From time.Time `dynamodbav:"from,omitempty"`
	To   time.Time `dynamodbav:"to,omitempty"`
}

// message is an owed message; its report is kept as the JSON it is.
type message struct {
	Event          string    `dynamodbav:"event"`
	ID             string    `dynamodbav:"id"`
	Report         string    `dynamodbav:"result"`
	ResolvesStatus string    `dynamodbav:"resolvesStatus,omitempty"`
	ResolvesSince  time.Time `dynamodbav:"resolvesSince,omitempty"`
	ResolvesStuck  bool      `dynamodbav:"resolvesStuck,omitempty"`
	ResolvesLate   bool      `dynamodbav:"resolvesLate,omitempty"`
	ResolvesDue    time.Time `dynamodbav:"resolvesDue,omitempty"`
	LastSeen       time.Time `dynamodbav:"lastSeen,omitempty"`
	AfterMute      bool      `dynamodbav:"afterMute,omitempty"`
	// A stuck run's page: since when, for how long, usually, the threshold.
	StuckSince     time.Time     `dynamodbav:"stuckSince,omitempty"`
	StuckFor       time.Duration `dynamodbav:"stuckFor,omitempty"`
	StuckUsual     time.Duration `dynamodbav:"stuckUsual,omitempty"`
	StuckThreshold time.Duration `dynamodbav:"stuckThreshold,omitempty"`
	// A late page: the due time (with its zone's offset), the expectation
	// as it was then (grace in nanoseconds), the last run seen, whether
	// Zuora confirmed the miss.
	LateDue       time.Time     `dynamodbav:"lateDue,omitempty"`
	LateCron      string        `dynamodbav:"lateCron,omitempty"`
	LateTimezone  string        `dynamodbav:"lateTimezone,omitempty"`
	LateGrace     time.Duration `dynamodbav:"lateGrace,omitempty"`
	LateLastRunAt time.Time     `dynamodbav:"lateLastRunAt,omitempty"`
	LateVerified  bool          `dynamodbav:"lateVerified,omitempty"`
}

// attributeNames are the attributes of T, one of the parts of the item a
// writer owns: it removes those its values leave empty.
func attributeNames[T any]() []string {
	t := reflect.TypeFor[T]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("dynamodbav"), ",")
	}
	return names
}

var (
	checkStateNames = sync.OnceValue(attributeNames[checkState]) // Save's
	watchStateNames = sync.OnceValue(attributeNames[watchState]) // SetWatch's
	muteStateNames  = sync.OnceValue(attributeNames[muteState])  // SetMute's
)

func encoderOptions(o *attributevalue.EncoderOptions) { o.OmitEmptyTime = true }

// encodeCheckState is s's check state as attribute values.
func encodeCheckState(s memory.State) (map[string]types.AttributeValue, error) {
	cs := checkState{Status: s.Status, StatusCode: s.StatusCode, Session: s.Session, CheckedAt: s.CheckedAt,
		ChangedAt: s.ChangedAt, AlertStatus: s.AlertStatus, AlertSince: s.AlertSince, NotifiedAt: s.NotifiedAt,
		AlertHeld: s.AlertHeld, LeaseOwner: s.Lease.Owner, LeaseUntil: s.Lease.Until, Writer: s.Writer,
		RunStart: s.RunStart, RunDurations: s.RunDurations, DueJudged: s.DueJudged}
	if s.Stuck != nil {
		cs.StuckStatus, cs.StuckNotifiedAt, cs.StuckHeld = s.Stuck.Status, s.Stuck.NotifiedAt, s.Stuck.Held
	}
	if s.Late != nil {
		cs.LateDue, cs.LateVerified, cs.LateNotifiedAt, cs.LateHeld = s.Late.Due, s.Late.Verified, s.Late.NotifiedAt, s.Late.Held
	}
	for _, r := range s.Runs {
		cs.Runs = append(cs.Runs, span(r))
	}
	for _, m := range s.Outbox {
		cs.Outbox = append(cs.Outbox, encodeMessage(m))
	}
	return attributevalue.MarshalMapWithOptions(cs, encoderOptions)
}

// encodeWatch is w's expectation as attribute values: none while w is
// unwatched, as an unwatched meter version has no expectation.
func encodeWatch(w memory.Watch) (map[string]types.AttributeValue, error) {
	var ws watchState
	if w.Watched && w.Expect != nil {
		ws.ExpectCron, ws.ExpectTimezone, ws.ExpectGrace = w.Expect.Strings()
		ws.ExpectSince = w.Since
	}
	return attributevalue.MarshalMapWithOptions(ws, encoderOptions)
}

// encodeMute is a mute as attribute values (nil: none).
func encodeMute(mute *memory.Mute) (map[string]types.AttributeValue, error) {
	var ms muteState
	if mute != nil {
		ms = muteState{MuteUntil: mute.Until, MuteReason: mute.Reason}
	}
	return attributevalue.MarshalMapWithOptions(ms, encoderOptions)
}

// decodeState reads an item; an item written wrongly is an error, not a
// guess (but see decodeWatch).
func decodeState(av map[string]types.AttributeValue) (memory.State, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return memory.State{}, fmt.Errorf("state item %v: %w", av["sk"], err)
	}
	s := memory.State{
		Meter: memory.Meter{MeterID: it.MeterID, Version: it.Version}, Watched: it.Watched,
		Status: it.Status, StatusCode: it.StatusCode, Session: it.Session, CheckedAt: it.CheckedAt,
		ChangedAt: it.ChangedAt, AlertStatus: it.AlertStatus, AlertSince: it.AlertSince, NotifiedAt: it.NotifiedAt,
		AlertHeld: it.AlertHeld, Lease: memory.Lease{Owner: it.LeaseOwner, Until: it.LeaseUntil}, Writer: it.Writer, Rev: it.Rev,
	}
	if it.Pending != nil && len(it.Outbox) == 0 {
		it.Outbox = []message{*it.Pending}
	}
	s.RunStart, s.RunDurations = it.RunStart, it.RunDurations
	if it.StuckStatus != "" {
		s.Stuck = &memory.StuckAlert{Status: it.StuckStatus, NotifiedAt: it.StuckNotifiedAt, Held: it.StuckHeld}
	}
	for _, r := range it.Runs {
		s.Runs = append(s.Runs, memory.Span(r))
	}
	// Due times read back in a zone of their stored offset, not the named
	// zone: every page puts a due time on the expectation's clock itself,
	// so the offset (the instant, and what a machine reads) is what counts.
	s.DueJudged = it.DueJudged
	if !it.LateDue.IsZero() {
		s.Late = &memory.LateAlert{Due: it.LateDue, Verified: it.LateVerified, NotifiedAt: it.LateNotifiedAt, Held: it.LateHeld}
	}
	for _, m := range it.Outbox {
		s.Outbox = append(s.Outbox, decodeMessage(m))
	}
	s.Expect, s.ExpectSince = decodeWatch(it.watchState)
	if !it.MuteUntil.IsZero() {
		s.Mute = &memory.Mute{Until: it.MuteUntil, Reason: it.MuteReason}
	}
	return s, nil
}

// decodeWatch rebuilds the stored expectation and since when it counts
// (nil: none). An expectation that no longer builds — its zone left the
// zone database the binary carries, say — is read as none rather than as
// an error: one such item must not fail the read of the whole watch list
// (and with it every scheduled run). The meter version is then checked as
// one without an expectation until it is set again.
func decodeWatch(ws watchState) (*expect.Expectation, time.Time) {
	if ws.ExpectCron == "" {
		return nil, time.Time{}
	}
	e, err := expect.New(ws.ExpectCron, ws.ExpectTimezone, ws.ExpectGrace)
	if err != nil {
		return nil, time.Time{}
	}
	return &e, ws.ExpectSince
}

func encodeMessage(m memory.Message) message {
	msg := message{Event: m.Event, ID: m.ID, Report: string(m.Report), LastSeen: m.LastSeen, AfterMute: m.AfterMute}
	if r := m.Resolves; r != nil {
		msg.ResolvesStatus, msg.ResolvesSince, msg.ResolvesStuck = r.Status, r.Since, r.Stuck
		msg.ResolvesLate, msg.ResolvesDue = r.Late, r.Due
	}
	if m.Stuck != nil {
		msg.StuckSince, msg.StuckFor, msg.StuckUsual, msg.StuckThreshold = m.Stuck.Since, m.Stuck.For, m.Stuck.Usual, m.Stuck.Threshold
	}
	if l := m.Late; l != nil {
		msg.LateDue, msg.LateCron, msg.LateTimezone, msg.LateGrace = l.Due, l.Cron, l.Timezone, l.Grace
		msg.LateLastRunAt, msg.LateVerified = l.LastRunAt, l.Verified
	}
	return msg
}

func decodeMessage(m message) memory.Message {
	msg := memory.Message{Event: m.Event, ID: m.ID, LastSeen: m.LastSeen, AfterMute: m.AfterMute}
	if m.Report != "" {
		msg.Report = json.RawMessage(m.Report)
	}
	if m.ResolvesStatus != "" || m.ResolvesLate { // a late alert's resolution has no status
		msg.Resolves = &memory.Resolution{Status: m.ResolvesStatus, Since: m.ResolvesSince, Stuck: m.ResolvesStuck,
			Late: m.ResolvesLate, Due: m.ResolvesDue}
	}
	if !m.StuckSince.IsZero() {
		msg.Stuck = &memory.Stuck{Since: m.StuckSince, For: m.StuckFor, Usual: m.StuckUsual, Threshold: m.StuckThreshold}
	}
	if !m.LateDue.IsZero() {
		msg.Late = &memory.Late{Due: m.LateDue, Cron: m.LateCron, Timezone: m.LateTimezone, Grace: m.LateGrace,
			LastRunAt: m.LateLastRunAt, Verified: m.LateVerified}
	}
	return msg
}

// Item is the whole item that SetWatch, SetMute and Save together leave
// for s, at s.Rev: for writing many states at once (a test's watch list of
// thousands, with expectations set hours before).
func Item(s memory.State) (map[string]types.AttributeValue, error) {
	av := map[string]types.AttributeValue{}
	if s.Rev > 0 { // else only the watch list (or a mute) has written it
		var err error
		if av, err = encodeCheckState(s); err != nil {
			return nil, err
		}
		av["rev"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Rev, 10)}
	}
	watch, err := encodeWatch(memory.Watch{Watched: s.Watched, Expect: s.Expect, Since: s.ExpectSince})
	if err != nil {
		return nil, err
	}
	mute, err := encodeMute(s.Mute)
	if err != nil {
		return nil, err
	}
	maps.Copy(av, watch)
	maps.Copy(av, mute)
	maps.Copy(av, Key(s.Meter))
	av["meterId"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.MeterID, 10)}
	av["version"] = &types.AttributeValueMemberS{Value: s.Version}
	av["watched"] = &types.AttributeValueMemberBOOL{Value: s.Watched}
	return av, nil
}
