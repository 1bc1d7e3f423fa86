package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type memoryRig struct {
	h     *Handler
	zuora *fakeZuora
	sns   *fakeSNS
	store *statestore.Memory
	clock *testClock
}

// newMemoryRig is a handler with memory: the in-memory Store and a clock
// at fixedNow.
func newMemoryRig(t *testing.T, cfg Config) *memoryRig {
	t.Helper()
	r := &memoryRig{zuora: newFakeZuora(), sns: &fakeSNS{}, store: statestore.NewMemory(), clock: &testClock{now: fixedNow}}
	h, err := New(withDefaults(cfg), Deps{Zuora: r.zuora, Alerts: r.sns, Store: r.store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.now = r.clock.Now
	r.h = h
	return r
}

func (r *memoryRig) setStatus(code int) {
	name := zuora.StatusNames()[code-1]
	terminal := map[int]bool{3: true, 4: true, 7: true, 8: true, 9: true}[code]
	r.zuora.set(102, "0.0.1", code, name, terminal, code == 8 || code == 3)
}

// check invokes one direct check of meter 102 and returns its result.
func (r *memoryRig) check(t *testing.T) (reply.Result, error) {
	t.Helper()
	out, err := invoke(r.h, `{"meterId": 102, "version": "0.0.1"}`)
	if err != nil {
		return reply.Result{}, err
	}
	return decode[reply.Result](t, out), nil
}

func (r *memoryRig) events() []string {
	var evs []string
	for _, a := range r.sns.published() {
		evs = append(evs, a.Attributes[4].Value+" "+a.Subject)
	}
	return evs
}

const (
	failed    = 8
	running   = 5
	completed = 7
)

// The contract's memory rules, one sequence of checks each.
func TestMemoryTransitions(t *testing.T) {
	resolving := Config{NotifyResolved: true} // the bootstrap's default
	tests := []struct {
		name     string
		cfg      Config
		statuses []int
		step     time.Duration // the clock's advance between checks
		want     []string
	}{
		{"FAILED across 5 checks pages once", resolving, []int{failed, failed, failed, failed, failed}, time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED"}},
		{"FAILED, RUNNING, FAILED pages twice", resolving, []int{failed, running, failed}, time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED", "alert Zuora meter 102 version 0.0.1: FAILED"}},
		{"FAILED then COMPLETED resolves", resolving, []int{failed, completed, completed}, time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED", "resolved Zuora meter 102 version 0.0.1: resolved (COMPLETED)"}},
		{"no resolution without NOTIFY_RESOLVED", Config{NotifyResolved: false}, []int{failed, completed}, time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED"}},
		{"RUNNING does not resolve", resolving, []int{failed, running}, time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED"}},
		{"COMPLETED first is quiet", resolving, []int{completed, completed}, time.Minute, nil},
		{"reminders after ALERT_REPEAT_AFTER", Config{NotifyResolved: true, RepeatAfter: time.Hour}, []int{failed, failed, failed, failed, failed}, 40 * time.Minute,
			[]string{"alert Zuora meter 102 version 0.0.1: FAILED", "reminder Zuora meter 102 version 0.0.1: still FAILED",
				"reminder Zuora meter 102 version 0.0.1: still FAILED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMemoryRig(t, tt.cfg)
			for i, code := range tt.statuses {
				r.setStatus(code)
				if _, err := r.check(t); err != nil {
					t.Fatalf("check %d: %v", i+1, err)
				}
				r.clock.advance(tt.step)
			}
			if got := r.events(); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("published\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

// A check that finds its alert open publishes nothing and says since when;
// it writes nothing either, until checkedAt is due a refresh.
func TestOpenAlertIsQuietAndWritesNothing(t *testing.T) {
	r := newMemoryRig(t, Config{})
	r.setStatus(failed)
	first, err := r.check(t)
	if err != nil || first.Alert == nil || !first.Alert.Published || first.Alert.Event != memory.EventAlert || first.AlertOpenSince != nil {
		t.Fatalf("first check: %+v, %v", first, err)
	}
	_, writes := r.store.Counts()
	r.clock.advance(5 * time.Minute)
	second, err := r.check(t)
	if err != nil || second.Alert != nil || second.AlertOpenSince == nil || !second.AlertOpenSince.Equal(fixedNow) {
		t.Errorf("second check: %+v, %v", second, err)
	}
	if _, w := r.store.Counts(); w != writes {
		t.Errorf("an unchanged check wrote %d times", w-writes)
	}
	r.clock.advance(time.Hour) // the memory refreshes checkedAt within the hour
	if _, err := r.check(t); err != nil {
		t.Fatal(err)
	}
	if s := r.store.Get(memory.Meter{MeterID: 102, Version: "0.0.1"}); !s.CheckedAt.Equal(r.clock.Now()) || !s.ChangedAt.Equal(fixedNow) {
		t.Errorf("after an hour: checkedAt %v changedAt %v, want checkedAt refreshed", s.CheckedAt, s.ChangedAt)
	}
}

// An alert SNS refused stays owed: the next check publishes it once, with
// the observation it was about, even though the status has moved on.
func TestOwedAlertGoesOutWithTheNextCheck(t *testing.T) {
	r := newMemoryRig(t, Config{})
	r.setStatus(failed)
	r.sns.setErr(errSNSDown)
	_, err := r.check(t)
	if errorType(t, err) != TypeAlertPublishFailed {
		t.Fatalf("refused alert: %v", err)
	}
	r.sns.setErr(nil)
	r.setStatus(running)
	res, err := r.check(t)
	if err != nil || res.Alert == nil || !res.Alert.Published || res.Alert.Event != memory.EventAlert || res.Status != "RUNNING" {
		t.Fatalf("next check: %+v, %v", res, err)
	}
	for range 3 {
		if _, err := r.check(t); err != nil {
			t.Fatal(err)
		}
	}
	alerts := r.sns.published()
	if len(alerts) != 1 || alerts[0].Subject != "Zuora meter 102 version 0.0.1: FAILED" || !strings.Contains(alerts[0].JSON, `"status":"FAILED"`) {
		t.Errorf("published %+v, want the owed FAILED alert once", alerts)
	}
}

// Checks of one meter version at the same time page once between them.
func TestConcurrentChecksPageOnce(t *testing.T) {
	r := newMemoryRig(t, Config{})
	r.setStatus(failed)
	// Every check reads the memory before its Zuora call; the delay makes
	// them all decide on the same empty state, so all but one must lose.
	r.zuora.delay = 20 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			_, err := invokeAs(r.h, fmt.Sprintf("req-%d", i), `{"meterId": 102, "version": "0.0.1"}`)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(r.sns.published()); n != 1 {
		t.Errorf("%d pages from 12 concurrent checks, want 1", n)
	}
	if r.store.Conflicts() == 0 {
		t.Error("no check lost a conditional write: the test did not test concurrency")
	}
}

// A memory that cannot be read or written still alerts, on every check.
func TestStateUnavailableStillAlerts(t *testing.T) {
	r := newMemoryRig(t, Config{})
	r.store.SetErr(errors.New("dynamodb: ProvisionedThroughputExceededException"))
	r.setStatus(failed)
	for range 2 {
		if _, err := r.check(t); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.sns.published()); n != 2 {
		t.Errorf("%d alerts without memory, want one per check", n)
	}
}

// A scheduled event checks the watch list and WATCH_METERS, each meter once,
// reading the memory in one pass and writing only what changed.
func TestScheduledRunChecksTheWatchList(t *testing.T) {
	r := newMemoryRig(t, Config{WatchMeters: []memory.Meter{{MeterID: 104, Version: "2.0.0"}, {MeterID: 101, Version: "0.0.1"}}})
	for _, m := range []memory.Meter{{MeterID: 101, Version: "0.0.1"}, {MeterID: 102, Version: "0.0.1"}, {MeterID: 103, Version: "1.2.0"}} {
		r.zuora.set(m.MeterID, m.Version, 7, zuora.Completed, true, false)
		if err := r.store.SetWatch(context.Background(), m, memory.Watch{Watched: true}); err != nil {
			t.Fatal(err)
		}
	}
	r.zuora.set(104, "2.0.0", 7, zuora.Completed, true, false)
	const scheduled = `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`
	for tick := range 2 {
		reads, writes := r.store.Counts()
		calls := len(r.zuora.calls())
		out, err := invoke(r.h, scheduled)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, req := range r.zuora.calls()[calls:] {
			got = append(got, fmt.Sprintf("%d:%s", req.MeterID, req.Version))
		}
		slices.Sort(got)
		if strings.Join(got, ",") != "101:0.0.1,102:0.0.1,103:1.2.0,104:2.0.0" {
			t.Errorf("tick %d checked %v", tick, got)
		}
		// Nothing notable: the reply lists nothing and counts everything.
		if b := decode[reply.Batch](t, out); len(b.Results) != 0 || b.Summary.Total != 4 || b.Summary.ByStatus["COMPLETED"] != 4 {
			t.Errorf("tick %d: %s", tick, out)
		}
		// Two reads, the watch list with its memory and the schedule's mark;
		// the first check of each meter, and the mark, written.
		r2, w2 := r.store.Counts()
		wantWrites := []int{4 + 1, 0 + 1}[tick]
		if r2-reads != 2 || w2-writes != wantWrites {
			t.Errorf("tick %d: %d reads, %d writes; want 2 and %d", tick, r2-reads, w2-writes, wantWrites)
		}
		r.clock.advance(5 * time.Minute)
	}
}

// Without STATE_TABLE a scheduled event needs WATCH_METERS.
func TestScheduledRunWithoutMemoryNeedsWatchMeters(t *testing.T) {
	h, _, _ := newTestHandler(t, Config{})
	_, err := invoke(h, `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`)
	if errorType(t, err) != TypeInvalidRequest || !strings.Contains(err.Error(), "WATCH_METERS is empty") {
		t.Errorf("err = %v", err)
	}
}

func httpEvent(method, path, query string) string {
	return fmt.Sprintf(`{"version": "2.0", "rawPath": %q, "rawQueryString": "", "queryStringParameters": {%s}, "requestContext": {"http": {"method": %q}}}`,
		path, query, method)
}

func invokeHTTP(t *testing.T, h *Handler, event string) events.APIGatewayProxyResponse {
	t.Helper()
	out, err := invoke(h, event)
	if err != nil {
		t.Fatal(err)
	}
	return decode[events.APIGatewayProxyResponse](t, out)
}

// The watch list over HTTP: idempotent PUT and DELETE, GET in pages.
func TestWatchListRoutes(t *testing.T) {
	r := newMemoryRig(t, Config{})
	for _, p := range []string{"/meters/3/0.0.1/watch", "/meters/1/0.0.2/watch", "/meters/1/0.0.1/watch", "/meters/2/0.0.1/watch", "/meters/2/0.0.1/watch"} {
		if resp := invokeHTTP(t, r.h, httpEvent("PUT", p, "")); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"watched":true`) {
			t.Fatalf("PUT %s: %d %s", p, resp.StatusCode, resp.Body)
		}
	}
	for range 2 {
		if resp := invokeHTTP(t, r.h, httpEvent("DELETE", "/meters/3/0.0.1/watch", "")); resp.Body != `{"meterId":3,"version":"0.0.1","watched":false}` {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, resp.Body)
		}
	}
	r.zuora.set(1, "0.0.1", 8, zuora.Failed, true, true)
	if _, err := invoke(r.h, `{"meterId": 1, "version": "0.0.1"}`); err != nil {
		t.Fatal(err)
	}

	var pages []string
	token := ""
	for range 5 {
		query := `"limit": "2"`
		if token != "" {
			query += `, "nextToken": "` + token + `"`
		}
		resp := invokeHTTP(t, r.h, httpEvent("GET", "/meters", query))
		page := decode[reply.WatchPage](t, []byte(resp.Body))
		pages = append(pages, resp.Body)
		if token = page.NextToken; token == "" {
			break
		}
	}
	want := []string{
		`{"meters":[{"meterId":1,"version":"0.0.1","watched":true,"status":"FAILED","statusCode":8,"checkedAt":"2026-11-28T11:00:00Z","changedAt":"2026-11-28T11:00:00Z","alertOpenSince":"2026-11-28T11:00:00Z"},` +
			`{"meterId":1,"version":"0.0.2","watched":true}],"nextToken":"` + trigger.NextToken(memory.Meter{MeterID: 1, Version: "0.0.2"}) + `"}`,
		`{"meters":[{"meterId":2,"version":"0.0.1","watched":true}]}`,
	}
	if strings.Join(pages, "\n") != strings.Join(want, "\n") {
		t.Errorf("pages\n%s\nwant\n%s", strings.Join(pages, "\n"), strings.Join(want, "\n"))
	}
}

func TestWatchListErrors(t *testing.T) {
	h, _, _ := newTestHandler(t, Config{})
	resp := invokeHTTP(t, h, httpEvent("PUT", "/meters/1/0.0.1/watch", ""))
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, "STATE_TABLE") {
		t.Errorf("without STATE_TABLE: %d %s", resp.StatusCode, resp.Body)
	}
	r := newMemoryRig(t, Config{})
	r.store.SetErr(errors.New("dynamodb: AccessDeniedException"))
	for _, ev := range []string{httpEvent("PUT", "/meters/1/0.0.1/watch", ""), httpEvent("GET", "/meters", "")} {
		resp := invokeHTTP(t, r.h, ev)
		if resp.StatusCode != 503 || !strings.Contains(resp.Body, `"type":"StateUnavailable"`) {
			t.Errorf("store down: %d %s", resp.StatusCode, resp.Body)
		}
	}
}

// A scheduled run's reply stays under 256 KB whatever the watch list holds:
// 20,000 watched meters, every one newly FAILED, page 20,000 times and
// reply with the first results that fit, truncated.
func TestScheduledReplyStaysSmall(t *testing.T) {
	const n = 20000
	r := newMemoryRig(t, Config{BatchConcurrency: 64})
	for id := int64(1); id <= n; id++ {
		m := memory.Meter{MeterID: id, Version: "0.0." + strings.Repeat("9", 60)}
		r.zuora.set(m.MeterID, m.Version, 8, zuora.Failed, true, true)
		if err := r.store.SetWatch(context.Background(), m, memory.Watch{Watched: true}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // time for all of them, even with -race on a busy machine
	defer cancel()
	out, err := r.h.Invoke(ctx, []byte(`{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := decode[struct {
		Results   []json.RawMessage
		Truncated bool
		Summary   reply.Summary
	}](t, out)
	if len(out) >= 256<<10 || len(b.Results) == 0 || len(b.Results) > 1000 || !b.Truncated ||
		b.Summary.Total != n || b.Summary.ByStatus[zuora.Failed] != n || len(r.sns.published()) != n {
		t.Errorf("reply of %d bytes, %d results, truncated %v, summary %+v, %d pages", len(out), len(b.Results), b.Truncated, b.Summary, len(r.sns.published()))
	}
}

// A scheduled run that cannot check everything before its deadline stops
// starting checks in time, replies with what it did not reach, and the
// next run starts with those.
func TestScheduledRunStopsBeforeTheDeadline(t *testing.T) {
	r := newMemoryRig(t, Config{BatchConcurrency: 2})
	r.zuora.delay = 100 * time.Millisecond
	for id := int64(1); id <= 100; id++ {
		r.zuora.set(id, "1", 7, zuora.Completed, true, false)
		if err := r.store.SetWatch(context.Background(), memory.Meter{MeterID: id, Version: "1"}, memory.Watch{Watched: true}); err != nil {
			t.Fatal(err)
		}
	}
	const scheduled = `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`
	seen := map[int64]int{}
	for run := range 2 {
		calls := len(r.zuora.calls())
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		out, err := r.h.Invoke(ctx, []byte(scheduled))
		cancel()
		if err != nil || time.Since(start) > 2*time.Second {
			t.Fatalf("run %d: %v after %s", run, err, time.Since(start))
		}
		sum := decode[reply.Batch](t, out).Summary
		checked := r.zuora.calls()[calls:]
		if sum.Total != 100 || sum.Unchecked == 0 || sum.Unchecked+len(checked) != 100 {
			t.Errorf("run %d: summary %+v with %d checked", run, sum, len(checked))
		}
		for _, req := range checked {
			if seen[req.MeterID]++; seen[req.MeterID] > 1 {
				t.Errorf("run %d checked meter %d again before the others", run, req.MeterID)
			}
		}
		r.clock.advance(time.Minute)
	}
}

// An alert of a failed run says why, once: the details are asked of Zuora
// when it is first built, and an alert owed after SNS refused it goes out
// later with those same details, without asking again. Reminders and
// resolutions ask nothing.
func TestOwedAlertKeepsItsDetails(t *testing.T) {
	sim := zuoratest.NewServer()
	defer sim.Close()
	sim.AddToken("tok")
	sim.SetRuns(102, zuoratest.Run{SessionID: "R-1", Start: fixedNow.Add(-time.Hour), End: fixedNow, Output: 10,
		Errors: []zuoratest.ErrorGroup{{Code: "1000002", Message: "no account", OperatorID: "op", OperatorName: "Rating", Count: 7}}})
	explainer, err := zuora.New(zuora.Config{BaseURL: sim.URL, Tokens: zuora.StaticToken("tok")})
	if err != nil {
		t.Fatal(err)
	}
	r := newMemoryRig(t, Config{})
	r.h.sender.Explainer, r.h.cfg.AlertDetails, r.h.cfg.RepeatAfter = explainer, true, time.Hour
	r.h.memory.Rules.RepeatAfter = time.Hour
	r.setStatus(failed)
	r.sns.setErr(errSNSDown)
	if _, err := r.check(t); err == nil {
		t.Fatal("the refused page did not fail the check")
	}
	r.sns.setErr(nil)
	r.clock.advance(time.Minute)
	res, err := r.check(t)
	if err != nil || res.Alert == nil || res.Alert.Details == nil || res.Alert.Details.Records.Errors != 7 {
		t.Fatalf("the owed alert: %+v, %v", res.Alert, err)
	}
	if st := sim.Stats(); st.SummaryCalls != 1 || st.AuditCalls != 1 {
		t.Errorf("%d summary and %d audit calls for one alert sent twice, want 1 and 1", st.SummaryCalls, st.AuditCalls)
	}
	r.clock.advance(2 * time.Hour) // a reminder
	if res, err := r.check(t); err != nil || res.Alert == nil || res.Alert.Event != memory.EventReminder || res.Alert.Details != nil {
		t.Errorf("the reminder: %+v, %v", res.Alert, err)
	}
	if st := sim.Stats(); st.SummaryCalls != 1 {
		t.Errorf("a reminder asked Zuora why (%d summary calls)", st.SummaryCalls)
	}
	sent := r.sns.published()
	if len(sent) != 2 || !strings.Contains(sent[0].JSON, `"errors":7`) || strings.Contains(sent[1].JSON, `"details"`) {
		t.Errorf("messages: %v", sent)
	}
}

// httpBody is an HTTP API event with a body.
func httpBody(method, path, body string) string {
	ev, _ := json.Marshal(map[string]any{"version": "2.0", "rawPath": path, "body": body,
		"requestContext": map[string]any{"http": map[string]any{"method": method}}})
	return string(ev)
}

// The watch route takes an expectation, echoed with its defaults
// and the next due time; a bad one is 400 naming the field, and nothing is
// stored. The mute route: until in the future and at most 30 days ahead.
// The watch list shows both.
func TestExpectAndMuteRoutes(t *testing.T) {
	r := newMemoryRig(t, Config{})
	put := func(path, body string) events.APIGatewayProxyResponse {
		return invokeHTTP(t, r.h, httpBody("PUT", path, body))
	}
	resp := put("/meters/5/0.0.1/watch", `{"expect": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"}}`)
	if want := `{"meterId":5,"version":"0.0.1","watched":true,"expect":{"cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"1h"},"nextDueAt":"2026-11-29T02:00:00+01:00"}`; resp.Body != want {
		t.Errorf("PUT with expect: %d %s\nwant %s", resp.StatusCode, resp.Body, want)
	}
	for body, field := range map[string]string{
		`{"expect": {"cron": "0 2 * *"}}`:                            "expect.cron",
		`{"expect": {"cron": "@daily", "timezone": "Mars/Olympus"}}`: "expect.timezone",
		`{"expect": {"cron": "@hourly", "grace": "2h"}}`:             "expect.grace",
	} {
		resp := put("/meters/6/0.0.1/watch", body)
		if resp.StatusCode != 400 || !strings.Contains(resp.Body, field) {
			t.Errorf("%s: %d %s, want 400 naming %s", body, resp.StatusCode, resp.Body, field)
		}
	}
	if st := r.store.Get(memory.Meter{MeterID: 6, Version: "0.0.1"}); st.Watched || st.Expect != nil {
		t.Errorf("a refused expectation stored %+v", st)
	}
	for until, status := range map[string]int{"2026-11-28T12:00:00Z": 200, "2026-11-28T10:00:00Z": 400, "2027-01-28T10:00:00Z": 400} {
		if resp := put("/meters/5/0.0.1/mute", `{"until": "`+until+`", "reason": "maintenance"}`); resp.StatusCode != status {
			t.Errorf("mute until %s: %d %s, want %d", until, resp.StatusCode, resp.Body, status)
		}
	}
	list := invokeHTTP(t, r.h, httpEvent("GET", "/meters", "")).Body
	if !strings.Contains(list, `"expect":{"cron":"0 2 * * *","timezone":"Europe/Berlin","grace":"1h"},"nextDueAt":"2026-11-29T02:00:00+01:00","muted":{"until":"2026-11-28T12:00:00Z","reason":"maintenance"}`) {
		t.Errorf("GET /meters: %s", list)
	}
	if resp := invokeHTTP(t, r.h, httpBody("DELETE", "/meters/5/0.0.1/mute", "")); resp.Body != `{"meterId":5,"version":"0.0.1","muted":null}` {
		t.Errorf("DELETE mute: %s", resp.Body)
	}
	if resp := put("/meters/5/0.0.1/watch", ""); resp.Body != `{"meterId":5,"version":"0.0.1","watched":true}` {
		t.Errorf("PUT without a body keeps no expectation: %s", resp.Body)
	}
}

// saveFails is the in-memory Store whose check-state writes fail; reads,
// the watch list and the schedule's mark still work.
type saveFails struct{ *statestore.Memory }

func (saveFails) Save(context.Context, memory.State) (int64, error) {
	return 0, errors.New("dynamodb: ProvisionedThroughputExceededException")
}

// allStatesFail is the in-memory Store whose watch list cannot be read.
type allStatesFail struct{ *statestore.Memory }

func (allStatesFail) AllStates(context.Context) ([]memory.State, error) {
	return nil, errors.New("dynamodb: RequestLimitExceeded")
}

// withStore rebuilds r's handler around store.
func (r *memoryRig) withStore(t *testing.T, cfg Config, store Store) {
	t.Helper()
	h, err := New(withDefaults(cfg), Deps{Zuora: r.zuora, Alerts: r.sns, Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.now = r.clock.Now
	r.h = h
}

// A muted meter's failure whose state cannot be written is still the
// check's answer, muted: the mute read holds, nothing pages, and the
// check does not fail for a write Zuora had no part in.
func TestMutedCheckWhoseSaveFails(t *testing.T) {
	r := newMemoryRig(t, Config{})
	r.withStore(t, Config{}, saveFails{r.store})
	m := memory.Meter{MeterID: 102, Version: "0.0.1"}
	if err := r.store.SetMute(context.Background(), m, &memory.Mute{Until: fixedNow.Add(time.Hour), Reason: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	r.setStatus(failed)
	res, err := r.check(t)
	if err != nil {
		t.Fatalf("a muted check whose write failed: %v", err)
	}
	if res.Status != zuora.Failed || res.Muted == nil || res.Muted.Reason != "maintenance" {
		t.Errorf("result %+v, muted %+v; want FAILED, muted for maintenance", res, res.Muted)
	}
	if got := r.sns.published(); len(got) != 0 {
		t.Errorf("a muted meter paged: %v", r.events())
	}
}

// A scheduled run that cannot read the watch list checks WATCH_METERS
// alone and leaves the mark where the last full run left it: the meters
// past it are next, whatever this run checked.
func TestScheduledRunWithoutTheWatchListKeepsTheMark(t *testing.T) {
	watch := []memory.Meter{{MeterID: 7, Version: "1"}}
	r := newMemoryRig(t, Config{})
	r.withStore(t, Config{WatchMeters: watch}, allStatesFail{r.store})
	r.zuora.set(7, "1", completed, zuora.Completed, true, false)
	mark := memory.Schedule{LastRun: fixedNow.Add(-5 * time.Minute), Reached: &memory.Meter{MeterID: 50, Version: "1"}}
	if err := r.store.SaveSchedule(context.Background(), mark); err != nil {
		t.Fatal(err)
	}
	out, err := invoke(r.h, `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`)
	if err != nil {
		t.Fatal(err)
	}
	if b := decode[reply.Batch](t, out); b.Summary.Total != 1 || b.Summary.StateUnavailable == 0 {
		t.Errorf("summary %+v; want WATCH_METERS' one meter checked and the table's failure counted", b.Summary)
	}
	got, err := r.store.Schedule(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastRun.Equal(mark.LastRun) || got.Reached == nil || *got.Reached != *mark.Reached {
		t.Errorf("mark after a run without the watch list: %+v reached %v; want it left at %v", got, got.Reached, *mark.Reached)
	}
}
