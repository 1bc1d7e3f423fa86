package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora/zuoratest"
)

// chaosRule is the fault proxy's script for TestFaultInjectionEndToEnd:
// a share of DynamoDB calls refused as DynamoDB refuses them (HTTP 500,
// throttling, provisioned throughput), a few held past the time the
// function gives a write, a share of writes that succeed with their answer
// lost, and a share of SNS publishes refused.
func chaosRule(seed uint64) localstack.FaultRule {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(op string, _ int) localstack.Fault {
		mu.Lock()
		p := rng.Float64()
		mu.Unlock()
		switch {
		case op == "SNS.Publish" && p < 0.05:
			return localstack.Fault{Status: http.StatusInternalServerError, Code: "InternalError"}
		case op == "SNS.Publish" || !isDynamoDB(op):
			return localstack.Fault{}
		case p < 0.015:
			return localstack.Fault{Status: http.StatusInternalServerError, Code: "InternalServerError"}
		case p < 0.03:
			return localstack.Fault{Status: http.StatusBadRequest, Code: "ThrottlingException"}
		case p < 0.045:
			return localstack.Fault{Status: http.StatusBadRequest, Code: "ProvisionedThroughputExceededException"}
		case p < 0.05:
			return localstack.Fault{Delay: 2500 * time.Millisecond}
		case p < 0.08 && op == "DynamoDB.UpdateItem":
			return localstack.Fault{DropAnswer: true}
		}
		return localstack.Fault{}
	}
}

func isDynamoDB(op string) bool { return len(op) > 9 && op[:9] == "DynamoDB." }

// chaosPlan is each meter's status in each phase: a walk over RUNNING,
// FAILED and COMPLETED that never stays put, so every FAILED phase is a
// new failure that must page.
func chaosPlan(seed uint64, meters, phases int) [][]int {
	rng := rand.New(rand.NewPCG(seed, 1))
	codes := []int{5, 8, 7}
	plan := make([][]int, meters)
	for m := range plan {
		plan[m] = make([]int, phases)
		last := -1
		for p := range plan[m] {
			i := rng.IntN(3)
			for i == last {
				i = rng.IntN(3)
			}
			plan[m][p], last = codes[i], i
		}
	}
	return plan
}

// The promise under faults: 30 meters whose runs flip between RUNNING,
// FAILED and COMPLETED, observed over four phases by polls from four
// containers and by Zuora's callouts, while the fault proxy refuses,
// delays and loses DynamoDB calls and refuses SNS publishes. Every FAILED
// phase is paged at least once; a phase paged twice must be explained by
// a state error the function logged (rule: a duplicate page beats a missed
// failure); no meter, of the phases or of the sequences, gets a message of
// a type it was not owed; the table ends with each meter's last status and
// nothing owed.
func TestFaultInjectionEndToEnd(t *testing.T) {
	t.Parallel()
	const meters, phases, seed = 30, 4, 20261203
	// No WATCH_METERS: the scheduled runs check the test's meters only, so
	// that every message is one of theirs.
	env := map[string]string{"AWS_LAMBDA_FUNCTION_TIMEOUT": "5", "STUCK_AFTER": "1h", "WATCH_METERS": ""}
	s := localstack.ForTest(t, env)
	containers := []e2eInvoker{s}
	for range 3 {
		f, err := s.AddFunction(t.Context(), env)
		e2eMust(t, err)
		containers = append(containers, f)
	}
	plan := chaosPlan(seed, meters, phases)
	meterID := func(m int) int64 { return int64(810001 + m) }
	s.SetFaults(chaosRule(seed))
	windows := make([][2]time.Time, phases)
	for p := range phases {
		windows[p][0] = time.Now().UTC().Truncate(time.Second)
		for m := range meters {
			s.Sim.SetMeter(meterID(m), "0.0.1", zuoratest.Step{Status: plan[m][p]})
		}
		chaosPhase(t, s, containers, meters, func(m int) (int64, int, string) {
			return meterID(m), plan[m][p], fmt.Sprintf("R-%d", p+1)
		}, windows[p][0])
		windows[p][1] = time.Now().UTC().Truncate(time.Second)
		t.Logf("phase %d took %s", p+1, time.Since(windows[p][0]))
		time.Sleep(1100 * time.Millisecond) // phases apart by their whole-second times
	}
	seqs := chaosSequences(t, s, containers)
	calls, injected := s.FaultCounts()
	s.SetFaults(nil)
	// A due time a faulty tick could not judge is judged at the next.
	if r := e2eInvoke(t, s, e2eTick); r.Failed() {
		t.Errorf("the tick after the faults: %s: %s", r.ErrorType, r.ErrorMessage)
	}
	chaosFlush(t, s, meters, meterID)

	alerts, err := s.DrainAlerts(t.Context())
	e2eMust(t, err)
	logs := s.FunctionLog()
	for _, c := range containers[1:] {
		logs += c.(*localstack.Function).FunctionLog()
	}
	messages := chaosMessages(t, alerts)
	phased := chaosPhased{plan: plan, windows: windows, first: meterID(0)}
	failures, lost, duplicates, misplaced := phased.account(messages)
	missing, extra, unowed := seqs.account(messages, phased.owns)
	lost, duplicates, misplaced = lost+len(missing), duplicates+extra, append(misplaced, unowed...)
	stateErrors := e2eMetricSum(logs, "StateUnavailable")
	resolutions := 0
	for _, msg := range messages {
		if msg.event == "resolved" {
			resolutions++
		}
	}
	t.Logf("seed %d: %d FAILED runs, %d pages, %d lost, %d paged twice (state errors logged: %v), %d misplaced; %d resolutions",
		seed, failures, len(alerts)-resolutions, lost, duplicates, stateErrors, len(misplaced), resolutions)
	t.Logf("sequences: %d reruns, %d slow checks, %d stuck runs, %d late runs; missing %v, %d messages more than owed",
		len(seqs.rerun), len(seqs.slow), len(seqs.stuck), len(seqs.late), missing, extra)
	t.Logf("calls the function made: %v; faults injected: %v; conflicts: %v", calls, injected, e2eMetricSum(logs, "StateConflicts"))
	if lost > 0 || len(misplaced) > 0 || float64(duplicates) > stateErrors {
		t.Errorf("%d FAILED runs never paged, %d messages no meter was owed %v, %d pages twice with %v state errors to explain them", lost, len(misplaced), misplaced, duplicates, stateErrors)
	}
	chaosCheckTable(t, s, meters, meterID, func(m int) int { return plan[m][phases-1] })
}

// chaosMessage is what the accounting reads of a message on the topic.
type chaosMessage struct {
	MeterID   int64     `json:"meterId"`
	SessionID string    `json:"sessionId"`
	CheckedAt time.Time `json:"checkedAt"`
	Resolves  *struct{ Stuck bool }
	event     string
}

func chaosMessages(t *testing.T, alerts []localstack.Alert) []chaosMessage {
	t.Helper()
	msgs := make([]chaosMessage, len(alerts))
	for i, a := range alerts {
		e2eMust(t, json.Unmarshal([]byte(a.Message), &msgs[i]))
		msgs[i].event = a.Attributes["event"].Value
	}
	return msgs
}

// what names a message for the accounting: its event, with a rerun's page
// (session R-b) and a resolution of anything but a stuck run told apart.
func (m chaosMessage) what() string {
	switch {
	case m.event == "alert" && m.SessionID == "R-b":
		return "rerun"
	case m.event == "resolved" && (m.Resolves == nil || !m.Resolves.Stuck):
		return "resolved, not stuck"
	}
	return m.event
}

func (m chaosMessage) String() string {
	return fmt.Sprintf("%d %s at %s", m.MeterID, m.what(), m.CheckedAt.Format(time.TimeOnly))
}

// chaosPhased are the meters of the phases: meter first+m has status
// plan[m][p] during windows[p].
type chaosPhased struct {
	plan    [][]int
	windows [][2]time.Time
	first   int64
}

func (c chaosPhased) owns(id int64) bool { return id >= c.first && id < c.first+int64(len(c.plan)) }

// phaseOf is the phase whose window holds at, or -1. After the last
// window, the simulator still answers the last phase's statuses, so a check
// made then (one that flushed what a meter owed) sees that phase.
func (c chaosPhased) phaseOf(at time.Time) int {
	for p, w := range c.windows {
		if !at.Before(w[0]) && !at.After(w[1]) {
			return p
		}
	}
	if last := len(c.windows) - 1; at.After(c.windows[last][1]) {
		return last
	}
	return -1
}

// owed says whether meter m was owed a message like msg: a page in a FAILED
// phase, or the resolution of a failure in a COMPLETED phase after one.
func (c chaosPhased) owed(m int, msg chaosMessage) bool {
	p := c.phaseOf(msg.CheckedAt)
	switch {
	case p < 0:
		return false
	case msg.what() == "alert":
		return c.plan[m][p] == 8
	case msg.what() == "resolved, not stuck":
		return c.plan[m][p] == 7 && slices.Contains(c.plan[m][:p], 8)
	}
	return false
}

// account counts the phases' FAILED runs, those never paged and the pages
// beyond one per run, and lists the messages the phases' meters were not
// owed.
func (c chaosPhased) account(msgs []chaosMessage) (failures, lost, duplicates int, misplaced []string) {
	paged := map[[2]int]int{} // (meter, phase) → pages
	for _, msg := range msgs {
		m := int(msg.MeterID - c.first)
		switch {
		case !c.owns(msg.MeterID):
		case !c.owed(m, msg):
			misplaced = append(misplaced, msg.String())
		case msg.event == "alert":
			paged[[2]int{m, c.phaseOf(msg.CheckedAt)}]++
		}
	}
	for m := range c.plan {
		for p, code := range c.plan[m] {
			switch n := paged[[2]int{m, p}]; {
			case code == 8 && n == 0:
				failures, lost = failures+1, lost+1
			case code == 8:
				failures, duplicates = failures+1, duplicates+n-1
			}
		}
	}
	return failures, lost, duplicates, misplaced
}

// chaosPhase observes every meter twice by a poll, from two containers at
// once, and once by a callout of the phase's session, all at once: rivals
// meet.
func chaosPhase(t *testing.T, s *localstack.Stack, containers []e2eInvoker, meters int, meter func(int) (int64, int, string), start time.Time) {
	t.Helper()
	jobs := make(chan string)
	var wg sync.WaitGroup
	for _, c := range containers {
		wg.Go(func() {
			for payload := range jobs {
				if _, err := c.Invoke(t.Context(), []byte(payload)); err != nil {
					t.Errorf("invoke: %v", err)
				}
			}
		})
	}
	n := s.CalloutNotifier()
	wg.Go(func() {
		for m := range meters {
			id, code, session := meter(m)
			body := e2eCallout(id, session, zuoratest.StatusName(code), "", start.Format(time.RFC3339))
			if _, err := n.Deliver(t.Context(), fmt.Sprintf("chaos-%d-%s", id, session), []byte(body)); err != nil {
				t.Errorf("callout: %v", err)
			}
		}
	})
	for m := range meters {
		id, _, _ := meter(m)
		for range 2 {
			jobs <- fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, id)
		}
	}
	close(jobs)
	wg.Wait()
}

// chaosFlush checks, with the faults gone, every meter that still owes a
// message, until none does: a lease a lost write left behind runs out
// within the function's timeout and a second.
func chaosFlush(t *testing.T, s *localstack.Stack, meters int, meterID func(int) int64) {
	t.Helper()
	table := statestore.New(dynamodb.NewFromConfig(s.AWSConfig()), localstack.StateTableName)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		all, err := table.AllStates(t.Context())
		e2eMust(t, err)
		owing := 0
		for _, st := range all {
			if len(st.Outbox) > 0 {
				owing++
				e2eInvoke(t, s, fmt.Sprintf(`{"meterId": %d, "version": "0.0.1"}`, st.MeterID))
			}
		}
		if owing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d meters still owe messages", owing)
		}
	}
}

// chaosCheckTable wants each meter's last status stored, nothing owed.
func chaosCheckTable(t *testing.T, s *localstack.Stack, meters int, meterID func(int) int64, last func(int) int) {
	t.Helper()
	table := statestore.New(dynamodb.NewFromConfig(s.AWSConfig()), localstack.StateTableName)
	states, err := table.AllStates(t.Context())
	e2eMust(t, err)
	byID := map[int64]int{}
	for _, st := range states {
		byID[st.MeterID] = st.StatusCode
		if len(st.Outbox) > 0 {
			t.Errorf("meter %d still owes %d messages", st.MeterID, len(st.Outbox))
		}
	}
	for m := range meters {
		if got := byID[meterID(m)]; got != last(m) {
			t.Errorf("meter %d: stored status %d, last observed %d", meterID(m), got, last(m))
		}
	}
}

// chaosSeqs are the meters of four sequences, each a way a page can be lost
// or misplaced, run under the same faults after the phases, five meters each:
//   - rerun: a poll pages a failure; that run's callout comes late
//     (stale); the rerun's FAILED callout, dated after the poll, must page.
//   - slow: a check that takes 3 of the function's 5 s, whose failure
//     Zuora cannot explain in time: the page must still go out.
//   - stuck: a callout-only run, started 2 h ago (STUCK_AFTER 1h), is
//     paged stuck; another session's COMPLETED callout without startTime
//     must resolve it.
//   - late: watched meters whose run due 7 minutes ago (grace 5m) never
//     came, judged by a scheduled run: each must page late.
type chaosSeqs struct{ rerun, slow, stuck, late []int64 }

func chaosSequences(t *testing.T, s *localstack.Stack, containers []e2eInvoker) chaosSeqs {
	t.Helper()
	var seqs chaosSeqs
	for i := range int64(5) {
		seqs.rerun, seqs.slow, seqs.stuck = append(seqs.rerun, 830001+i), append(seqs.slow, 830011+i), append(seqs.stuck, 830021+i)
		s.Sim.SetMeter(830001+i, "0.0.1", zuoratest.Step{Status: 8})
		s.Sim.SetMeter(830011+i, "0.0.1", zuoratest.Step{Status: 8, Latency: 3 * time.Second})
		s.Sim.SetMeter(830021+i, "0.0.1", zuoratest.Step{Status: 7})
	}
	for i := range int64(5) {
		seqs.late = append(seqs.late, 830031+i)
		s.Sim.SetMeter(830031+i, "0.0.1", zuoratest.Step{Status: 7})
	}
	daily, _ := e2eDaily(t, 7*time.Minute, "5m")
	e2eExpecting(t, s, seqs.late, daily, "COMPLETED", 7, nil)
	if _, err := containers[0].Invoke(t.Context(), []byte(e2eTick)); err != nil { // before the summaries slow down
		t.Errorf("the scheduled run: %v", err)
	}
	s.Sim.SetSummaryFault(zuoratest.Fault{Latency: 10 * time.Second})
	defer s.Sim.SetSummaryFault()
	zuoraTime := func(d time.Duration) string { return time.Now().Add(d).UTC().Format("2006-01-02T15:04:05-0700") }
	n := s.CalloutNotifier()
	// The notifier's attempts come 10 ms apart, Zuora's 30 minutes: an
	// attempt whose invocation timed out still holds the notification's
	// one-minute lease when the next comes, which is then refused as busy.
	// A delivery refused to the end is delivered again once the lease has
	// run out, as Zuora's later attempts would be; never answered 200 in
	// two minutes is an error.
	deliver := func(id string, body string) {
		for waited := time.Duration(0); ; waited += 15 * time.Second {
			d, err := n.Deliver(t.Context(), id, []byte(body))
			switch {
			case err != nil:
				t.Errorf("callout %s: %v", id, err)
				return
			case d.Statuses[len(d.Statuses)-1] == http.StatusOK:
				return
			case waited >= 2*time.Minute:
				t.Errorf("callout %s: answered %v to the end, %s", id, d.Statuses, d.Body)
				return
			}
			t.Logf("callout %s: answered %v, %s; delivered again in 15 s", id, d.Statuses, d.Body)
			time.Sleep(15 * time.Second)
		}
	}
	// A direct check that fails (a timeout on a loaded machine) is retried,
	// as the state machine's Retry does: the page is owed to the check that
	// succeeds.
	poll := func(c e2eInvoker, id int64) {
		for attempt := 1; attempt <= 3; attempt++ {
			r, err := c.Invoke(t.Context(), fmt.Appendf(nil, `{"meterId": %d, "version": "0.0.1"}`, id))
			if err != nil {
				t.Errorf("invoke: %v", err)
				return
			}
			if !r.Failed() {
				return
			}
			t.Logf("meter %d, attempt %d: %s: %s; retried", id, attempt, r.ErrorType, r.ErrorMessage)
		}
	}
	var wg sync.WaitGroup
	for i := range 5 {
		c := containers[i%len(containers)]
		wg.Go(func() {
			id := seqs.rerun[i]
			poll(c, id)
			deliver(fmt.Sprintf("seq-%d-a", id), e2eCallout(id, "R-a", "FAILED", zuoraTime(-30*time.Minute), zuoraTime(-10*time.Minute)))
			time.Sleep(1100 * time.Millisecond) // the rerun ends in a later second than the poll's
			deliver(fmt.Sprintf("seq-%d-b", id), e2eCallout(id, "R-b", "FAILED", zuoraTime(0), zuoraTime(0)))
		})
		wg.Go(func() { poll(c, seqs.slow[i]) })
		wg.Go(func() {
			id := seqs.stuck[i]
			deliver(fmt.Sprintf("seq-%d-1", id), e2eCallout(id, "R-1", "RUNNING", zuoraTime(-2*time.Hour), ""))
			deliver(fmt.Sprintf("seq-%d-2", id), e2eCallout(id, "R-2", "COMPLETED", "", zuoraTime(0)))
		})
	}
	wg.Wait()
	return seqs
}

// account reads the sequences' messages: what each meter was owed and did
// not get, how many messages came beyond what was owed (duplicates, which
// state errors must explain), and the messages no meter of the test was
// owed, of a type its sequence does not call for or for a meter that is
// neither the sequences' nor the phases'.
func (seqs chaosSeqs) account(msgs []chaosMessage, phased func(int64) bool) (missing []string, extra int, misplaced []string) {
	owed := map[string][]int64{"alert": append(append([]int64(nil), seqs.rerun...), seqs.slow...), "rerun": seqs.rerun,
		"stuck": seqs.stuck, "resolved": seqs.stuck, "late": seqs.late}
	got := map[string]int{} // "meter what" → messages
	for what, ids := range owed {
		for _, id := range ids {
			got[fmt.Sprintf("%d %s", id, what)] = 0
		}
	}
	for _, msg := range msgs {
		key := fmt.Sprintf("%d %s", msg.MeterID, msg.what())
		if n, ok := got[key]; ok {
			got[key] = n + 1
		} else if !phased(msg.MeterID) {
			misplaced = append(misplaced, msg.String())
		}
	}
	for key, n := range got {
		if n == 0 {
			missing = append(missing, key)
		}
		extra += max(n-1, 0)
	}
	slices.Sort(missing)
	return missing, extra, misplaced
}
