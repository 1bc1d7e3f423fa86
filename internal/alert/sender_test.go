package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
)

// refusingTopic answers each publish with the next of errs (nil: taken)
// and keeps what it was given.
type refusingTopic struct {
	errs []error
	got  []Message
}

func (r *refusingTopic) Publish(_ context.Context, m Message) (string, error) {
	r.got = append(r.got, m)
	if len(r.errs) == 0 {
		return fmt.Sprintf("msg-%d", len(r.got)), nil
	}
	err := r.errs[0]
	r.errs = r.errs[1:]
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("msg-%d", len(r.got)), nil
}

// A message the topic refuses as it is goes again plain; refused plain
// too, it is memory.ErrUndeliverable, which the memory gives up. Any other
// failure is the topic's, not the message's: no plain attempt, and it
// stays owed.
func TestSendRefused(t *testing.T) {
	refused := fmt.Errorf("sns: InvalidParameter: %w", ErrRefused)
	down := errors.New("sns: service unavailable")
	msg := memory.Message{Event: memory.EventAlert, ID: "a1", Report: failedReport("")}
	tests := []struct {
		name              string
		errs              []error
		publishes         int
		id                string
		undeliverable, ok bool
	}{
		{"taken as it is", nil, 1, "msg-1", false, true},
		{"refused, taken plain", []error{refused, nil}, 2, "msg-2", false, true},
		{"refused in both forms", []error{refused, refused}, 2, "", true, false},
		{"the topic down", []error{down}, 1, "", false, false},
		{"refused, then the topic down", []error{refused, down}, 2, "", false, false},
	}
	for _, tt := range tests {
		tp := &refusingTopic{errs: tt.errs}
		s := &Sender{Topic: tp, TopicARN: topic, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		_, id, err := s.Send(context.Background(), msg, Scope{})
		if len(tp.got) != tt.publishes || id != tt.id || (err == nil) != tt.ok || errors.Is(err, memory.ErrUndeliverable) != tt.undeliverable {
			t.Errorf("%s: %d publishes, id %q, err %v; want %d, %q, undeliverable %v", tt.name, len(tp.got), id, err, tt.publishes, tt.id, tt.undeliverable)
			continue
		}
		if first := tp.got[0]; first.Email == "" || first.SMS == "" {
			t.Errorf("%s: the first attempt was not the whole message: %+v", tt.name, first)
		}
		if len(tp.got) == 2 {
			plain := tp.got[1]
			if plain.Email != "" || plain.SMS != "" || plain.Subject != tp.got[0].Subject || !strings.Contains(plain.JSON, `"status":"FAILED"`) ||
				fmt.Sprint(plain.Attributes) != fmt.Sprint(tp.got[0].Attributes) {
				t.Errorf("%s: the second attempt is not the plain form: %+v", tt.name, plain)
			}
		}
	}
}

// The plain form drops the texts and the details, in the JSON's own
// order, and says the details could not go out only where there were
// some: resolutions, late pages and alerts without details never have
// any.
func TestPlain(t *testing.T) {
	explained := Explaining(failedReport(""), details, "ZuoraThrottled")
	late := berlin(winterDue, 2*time.Hour, lastRun, true)
	tests := []struct {
		name string
		msg  memory.Message
		json string // the plain form's; "" for the message's own
	}{
		{"an alert with details", memory.Message{Event: memory.EventAlert, Report: explained},
			strings.TrimSuffix(string(failedReport("")), "}") + `,"link":"https://z.example/m/102","detailsError":"AlertPublishFailed"}`},
		{"an alert without details", memory.Message{Event: memory.EventAlert, Report: failedReport("")}, ""},
		{"a resolution", memory.Message{Event: memory.EventResolved, Report: json.RawMessage(`{"meterId":102,"version":"0.0.1","status":"COMPLETED","statusCode":7}`),
			Resolves: &memory.Resolution{Status: "FAILED", Since: checkedAt}}, ""},
		{"a late page", memory.Message{Event: memory.EventLate, Report: lateReport("0.0.1"), Late: late}, ""},
	}
	for _, tt := range tests {
		m, err := Build(topic, "https://z.example/m/{meterId}", tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		p := Plain(m)
		want := cmp.Or(tt.json, m.JSON)
		if p.JSON != want || p.Email != "" || p.SMS != "" || p.Subject != m.Subject || fmt.Sprint(p.Attributes) != fmt.Sprint(m.Attributes) {
			t.Errorf("%s: plain JSON\n%s\nwant\n%s\n(e-mail %q, SMS %q, subject %q)", tt.name, p.JSON, want, p.Email, p.SMS, p.Subject)
		}
	}
}
