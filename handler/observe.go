package handler

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/metrics"
)

// memo is what one invocation knows of the memory before its checks
// decide. It is read while the Zuora calls are in flight: a check waits for
// it only once Zuora has answered, so the read costs no time of its own.
type memo struct {
	done   chan struct{}                 // closed once states and err are set
	states map[memory.Meter]memory.State // a meter without an entry has no state
	err    error                         // reading failed: the checks go without memory
}

// recallAsync starts reading the memory of meters (nil without a Store).
func (h *Handler) recallAsync(ctx context.Context, meters []memory.Meter) *memo {
	if h.store == nil {
		return nil
	}
	mo := &memo{done: make(chan struct{})}
	go func() {
		defer close(mo.done)
		mo.states, mo.err = h.store.States(ctx, meters)
	}()
	return mo
}

// known is a memo of states already read.
func known(states map[memory.Meter]memory.State, err error) *memo {
	mo := &memo{done: make(chan struct{}), states: states, err: err}
	close(mo.done)
	return mo
}

// wait blocks until the memory has been read; nil waits for nothing.
func (mo *memo) wait() {
	if mo != nil {
		<-mo.done
	}
}

func (mo *memo) state(m memory.Meter) memory.State {
	if s, ok := mo.states[m]; ok {
		return s
	}
	return memory.State{Meter: m}
}

// calloutNews is what a callout knows that a poll does not: its session,
// when it says the news happened, and when the session began (zero for a
// poll).
type calloutNews struct {
	session   string
	at, start time.Time
}

// errStale: a callout older than what the memory knows; nothing was done.
var errStale = errors.New("stale callout")

// observe records res in the memory (internal/memory keeps the rules) and
// publishes what they call for; errStale for a callout the memory already
// knows better. When the memory cannot be read or written, it alerts as a
// function without memory does, and logs why: a duplicate page beats a
// missed one.
func (h *Handler) observe(ctx context.Context, res *Result, news calloutNews, mo *memo, sc scope) error {
	mo.wait()
	if mo.err != nil {
		return h.alertWithoutMemory(ctx, res, mo.err, sc)
	}
	report, err := json.Marshal(res)
	if err != nil {
		return err
	}
	m := memory.Meter{MeterID: res.MeterID, Version: res.Version}
	obs := memory.Observation{Meter: m, Status: res.Status, StatusCode: res.StatusCode, Terminal: res.Terminal,
		Session: news.session, At: news.at, Start: news.start, Callout: res.Source == sourceCallout, Report: report}
	out, err := h.memory.Record(ctx, mo.state(m), obs, nextOwner(ctx), func(ctx context.Context, msg memory.Message) (memory.Message, error) {
		return h.publish(ctx, res, msg, sc)
	})
	switch {
	case errors.Is(err, memory.ErrUnavailable):
		return h.alertWithoutMemory(ctx, res, err, sc)
	case out.Stale:
		return errStale
	case !out.OpenSince.IsZero() && res.Alert == nil:
		since := out.OpenSince.UTC()
		res.AlertOpenSince = &since
	}
	return err
}

// stateUnavailable counts and logs a read or write of the memory that
// failed; attrs say what it was for and what the function does instead.
func (h *Handler) stateUnavailable(ctx context.Context, err error, attrs ...any) {
	metrics.From(ctx).Count(metrics.StateUnavailable)
	h.log.WarnContext(ctx, "state unavailable", append(attrs, "errorType", TypeStateUnavailable, "error", err.Error())...)
}

// alertWithoutMemory is the check of a function without STATE_TABLE: every
// status in ALERT_ON alerts.
func (h *Handler) alertWithoutMemory(ctx context.Context, res *Result, cause error, sc scope) error {
	if cause != nil {
		h.stateUnavailable(ctx, cause, "meterId", res.MeterID, "version", res.Version, "alerting", h.cfg.alertsOn(res.Status))
	}
	if !h.cfg.alertsOn(res.Status) {
		return nil
	}
	report, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = h.publish(ctx, res, memory.Message{Event: memory.EventAlert, ID: deduplicationID(*res), Report: report}, sc)
	return err
}

// owner names the invocation in the claims it writes (rule 8): the Lambda
// request id, which Lambda keeps when it retries an invocation, so a retry
// takes back what the failed attempt held at once. next numbers the
// invocation's checks, so that two checks of one batch are rivals.
type owner struct {
	id   string
	next atomic.Int64
}

type ownerKey struct{}

func withOwner(ctx context.Context) context.Context {
	id := requestID(ctx)
	if id == "" { // outside Lambda
		id = "local-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	return context.WithValue(ctx, ownerKey{}, &owner{id: id})
}

// invocationOwner is the owner token of the invocation's own claims.
func invocationOwner(ctx context.Context) string {
	if o, ok := ctx.Value(ownerKey{}).(*owner); ok {
		return o.id
	}
	return "unnamed"
}

// nextOwner is the owner token of one check of the invocation.
func nextOwner(ctx context.Context) string {
	if o, ok := ctx.Value(ownerKey{}).(*owner); ok {
		return o.id + "#" + strconv.FormatInt(o.next.Add(1), 10)
	}
	return "unnamed#" + strconv.FormatUint(rand.Uint64(), 36)
}
