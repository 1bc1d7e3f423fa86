package handler

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/reply"
)

// A message SNS refuses even in its plain form is given up: logged whole
// and counted, it leaves the outbox, and it fails no scheduled run (rule
// 9: Lambda would repeat every check for a message no retry can send) nor
// batch. A single check still says its page did not go out, in words that
// do not call it owed.
func TestUndeliverableFailsNoRun(t *testing.T) {
	var logs, emf bytes.Buffer
	r := newMemoryRig(t, Config{})
	h, err := New(withDefaults(Config{}), Deps{Zuora: r.zuora, Alerts: r.sns, Store: r.store, Metrics: &emf,
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.now = r.clock.Now
	m102 := memory.Meter{MeterID: 102, Version: "0.0.1"}
	if err := r.store.SetWatch(context.Background(), m102, memory.Watch{Watched: true}); err != nil {
		t.Fatal(err)
	}
	r.setStatus(failed)
	r.sns.setErr(fmt.Errorf("sns: InvalidParameter: %w", alert.ErrRefused))

	out, err := invoke(h, `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`)
	if err != nil {
		t.Fatalf("the scheduled run failed for a message given up: %v", err)
	}
	b := decode[batchResults](t, out)
	if len(b.Results) != 1 || b.Results[0].Alert == nil || b.Results[0].Alert.Published {
		t.Errorf("the run's reply: %s, want the item with its alert not published", out)
	}
	if st := r.store.Get(m102); len(st.Outbox) != 0 || st.Lease != (memory.Lease{}) || st.AlertStatus != "FAILED" {
		t.Errorf("after: outbox %+v, lease %+v, alert %q; want the alert open and nothing owed", st.Outbox, st.Lease, st.AlertStatus)
	}
	if !strings.Contains(logs.String(), `"msg":"message undeliverable, given up"`) || !strings.Contains(logs.String(), `\"status\":\"FAILED\"`) {
		t.Errorf("the message given up was not logged whole:\n%s", logs.String())
	}
	if got := sums(emfLines(t, &emf), "AlertPublishFailures", "")[""]; got != 1 {
		t.Errorf("AlertPublishFailures = %v, want 1", got)
	}

	r.clock.advance(time.Minute) // a rerun fails: a batch does not fail either
	r.setStatus(running)
	if _, err := invoke(h, `{"meters": [{"meterId": 102, "version": "0.0.1"}]}`); err != nil {
		t.Fatal(err)
	}
	r.setStatus(failed)
	if out, err := invoke(h, `{"meters": [{"meterId": 102, "version": "0.0.1"}]}`); err != nil {
		t.Errorf("a batch failed for a message given up: %v", err)
	} else if b := decode[batchResults](t, out); len(b.Results) != 1 || b.Results[0].Alert == nil || b.Results[0].Alert.Published {
		t.Errorf("the batch's reply: %s", out)
	}

	r.setStatus(running)
	if _, err := invoke(h, `{"meterId": 102, "version": "0.0.1"}`); err != nil {
		t.Fatal(err)
	}
	r.setStatus(failed)
	_, err = invoke(h, `{"meterId": 102, "version": "0.0.1"}`)
	if errorType(t, err) != TypeAlertPublishFailed || !strings.Contains(err.Error(), "given up") || strings.Contains(err.Error(), "stays owed") {
		t.Errorf("a single check whose page was given up: %v", err)
	}
	if st := r.store.Get(m102); len(st.Outbox) != 0 {
		t.Errorf("the single check left %+v owed", st.Outbox)
	}
}

// batchResults reads a batch's reply, whose items are results here.
type batchResults struct {
	Results []reply.Result `json:"results"`
}
