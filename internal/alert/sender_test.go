package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

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
