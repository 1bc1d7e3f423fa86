package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/zuora"
)

// widgetEvent is the project's sample widget call, with a button's params
// laid beside it when action is set.
func widgetEvent(t *testing.T, action string) string {
	t.Helper()
	raw, err := os.ReadFile("../events/cloudwatch-widget.json")
	if err != nil {
		t.Fatal(err)
	}
	if action == "" {
		return string(raw)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev["widgetAction"], ev["meterId"], ev["version"] = action, 102, "0.0.1"
	out, _ := json.Marshal(ev)
	return string(out)
}

// invokeWidget invokes h as the console would, from the function's ARN,
// and returns the HTML.
func invokeWidget(t *testing.T, h *Handler, event string) (string, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-w",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:zuora-runstatus-run-status"})
	out, err := h.Invoke(ctx, []byte(event))
	if err != nil {
		return "", err
	}
	var html string
	if err := json.Unmarshal(out, &html); err != nil {
		t.Fatalf("the widget's answer is not a JSON string: %.200s", out)
	}
	return html, nil
}

// The widget: the watch list as HTML; its buttons only with WIDGET_ACTIONS,
// calling the function's own ARN; a check from it is a check like any other
// (its page), a mute holds; a table it cannot read is a message in it.
func TestWidget(t *testing.T) {
	off := newMemoryRig(t, Config{})
	if err := off.store.SetWatch(context.Background(), memory.Meter{MeterID: 102, Version: "0.0.1"}, memory.Watch{Watched: true}); err != nil {
		t.Fatal(err)
	}
	html, err := invokeWidget(t, off.h, widgetEvent(t, ""))
	if err != nil || !strings.Contains(html, "<b>1</b> watched") || strings.Contains(html, "cwdb-action") {
		t.Errorf("actions off: %v\n%.400s", err, html)
	}
	if _, err := invokeWidget(t, off.h, widgetEvent(t, "mute")); errorType(t, err) != TypeInvalidRequest || off.store.Get(memory.Meter{MeterID: 102, Version: "0.0.1"}).Mute != nil {
		t.Errorf("a button with actions off: %v", err)
	}

	on := newMemoryRig(t, Config{WidgetActions: true})
	on.zuora.set(102, "0.0.1", 8, zuora.Failed, true, true)
	if err := on.store.SetWatch(context.Background(), memory.Meter{MeterID: 102, Version: "0.0.1"}, memory.Watch{Watched: true}); err != nil {
		t.Fatal(err)
	}
	html, err = invokeWidget(t, on.h, widgetEvent(t, "check"))
	if err != nil || !strings.Contains(html, "Checked meter 102 version 0.0.1: FAILED; alert published.") || len(on.sns.published()) != 1 {
		t.Errorf("Check now: %v, %d published\n%.600s", err, len(on.sns.published()), html)
	}
	if !strings.Contains(html, `endpoint="arn:aws:lambda:us-east-1:123456789012:function:zuora-runstatus-run-status"`) {
		t.Errorf("the buttons do not call the function's ARN:\n%.2000s", html)
	}
	html, _ = invokeWidget(t, on.h, widgetEvent(t, "mute"))
	st := on.store.Get(memory.Meter{MeterID: 102, Version: "0.0.1"})
	if st.Mute == nil || !st.Mute.Until.Equal(fixedNow.Add(4*time.Hour)) || !strings.Contains(html, "Muted meter 102") {
		t.Errorf("Mute 4h: %+v\n%.600s", st.Mute, html)
	}
	html, _ = invokeWidget(t, on.h, widgetEvent(t, "unmute"))
	if on.store.Get(memory.Meter{MeterID: 102, Version: "0.0.1"}).Mute != nil || !strings.Contains(html, "Unmuted meter 102") {
		t.Errorf("Unmute:\n%.600s", html)
	}

	on.store.SetErr(errors.New("dynamodb: AccessDeniedException: arn:aws:iam::123456789012:role/x"))
	html, err = invokeWidget(t, on.h, widgetEvent(t, ""))
	if err != nil || !strings.Contains(html, "could not be read") || strings.Contains(html, "arn:aws:iam") {
		t.Errorf("the table unreadable: %v\n%.600s", err, html)
	}
}

// A check from the widget whose page SNS refused fails the invocation with
// AlertPublishFailed, as a direct check does, and the page stays owed: the
// next check sends it.
func TestWidgetCheckPublishFailed(t *testing.T) {
	r := newMemoryRig(t, Config{WidgetActions: true})
	r.setStatus(failed)
	m := memory.Meter{MeterID: 102, Version: "0.0.1"}
	if err := r.store.SetWatch(context.Background(), m, memory.Watch{Watched: true}); err != nil {
		t.Fatal(err)
	}
	r.sns.setErr(errSNSDown)
	html, err := invokeWidget(t, r.h, widgetEvent(t, "check"))
	if err == nil || errorType(t, err) != TypeAlertPublishFailed {
		t.Fatalf("Check now with SNS refusing: %v, want AlertPublishFailed\n%.600s", err, html)
	}
	if owed := len(r.store.Get(m).Outbox); owed != 1 {
		t.Errorf("%d pages owed after the refused page, want 1", owed)
	}
	r.sns.setErr(nil)
	if _, err := r.check(t); err != nil || len(r.sns.published()) != 1 {
		t.Errorf("the next check: %v, %d published, want the owed page", err, len(r.sns.published()))
	}

	// A page SNS refuses even in its plain form is given up, not owed: Check
	// now fails as a direct check does, in words that do not call it owed.
	r.clock.advance(time.Minute)
	r.setStatus(running)
	if _, err := r.check(t); err != nil {
		t.Fatal(err)
	}
	r.setStatus(failed)
	r.sns.setErr(fmt.Errorf("sns: InvalidParameter: %w", alert.ErrRefused))
	html, err = invokeWidget(t, r.h, widgetEvent(t, "check"))
	if errorType(t, err) != TypeAlertPublishFailed || !strings.Contains(err.Error(), "given up") || strings.Contains(html, "owed") {
		t.Errorf("Check now with the page refused as plain text: %v\n%.600s", err, html)
	}
}

// markDown is a table whose scheduled runs' mark cannot be read.
type markDown struct{ *statestore.Memory }

func (markDown) Schedule(context.Context) (memory.Schedule, error) {
	return memory.Schedule{}, errors.New("dynamodb: ProvisionedThroughputExceededException")
}

// The widget reads the watch list as a scheduled run does: a mark it
// cannot read is counted as StateUnavailable, not dropped, and a
// WATCH_METERS meter version never checked is a row with its ALERT_LINK
// like the others.
func TestWidgetReadsTheWatchListAsARunDoes(t *testing.T) {
	var out bytes.Buffer
	store := statestore.NewMemory()
	watched, configured := memory.Meter{MeterID: 102, Version: "0.0.1"}, memory.Meter{MeterID: 7, Version: "2.0"}
	if err := store.SetWatch(context.Background(), watched, memory.Watch{Watched: true}); err != nil {
		t.Fatal(err)
	}
	cfg := withDefaults(Config{WatchMeters: []memory.Meter{configured, watched}, AlertLink: "https://runbook.example.com/{meterId}/{version}"})
	h, err := New(cfg, Deps{Zuora: newFakeZuora(), Alerts: &fakeSNS{}, Store: markDown{store}, Metrics: &out,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	html, err := invokeWidget(t, h, widgetEvent(t, ""))
	if err != nil || !strings.Contains(html, "<b>2</b> watched") {
		t.Fatalf("the widget: %v\n%.600s", err, html)
	}
	for _, link := range []string{"https://runbook.example.com/102/0.0.1", "https://runbook.example.com/7/2.0"} {
		if !strings.Contains(html, link) {
			t.Errorf("no link %s in the widget", link)
		}
	}
	if strings.Contains(html, "Last scheduled check: never") || !strings.Contains(html, "Last scheduled check: unknown") {
		t.Errorf("an unread mark is not shown as unknown:\n%.800s", html)
	}
	if n := sums(emfLines(t, &out), "StateUnavailable", "")[""]; n != 1 {
		t.Errorf("StateUnavailable %v, want 1 for the mark the widget could not read", n)
	}
}
