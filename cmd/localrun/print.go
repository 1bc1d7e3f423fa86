package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/example/zuora-runstatus/internal/localstack"
)

// printReply writes a reply for a person: a function error as "errorType:
// message", an HTTP-shaped reply as its status and pretty body, anything
// else as pretty JSON.
func printReply(w io.Writer, r localstack.Reply) {
	h, isHTTP := r.HTTP()
	switch {
	case r.Failed() && r.Unhandled:
		fmt.Fprintf(w, "function error (unhandled): %s: %s\n", r.ErrorType, r.ErrorMessage)
	case r.Failed():
		fmt.Fprintf(w, "function error: %s: %s\n", r.ErrorType, r.ErrorMessage)
	case isHTTP:
		fmt.Fprintf(w, "HTTP %d", h.StatusCode)
		for _, name := range []string{"Content-Type", "Retry-After"} {
			for k, v := range h.Headers {
				if strings.EqualFold(k, name) {
					fmt.Fprintf(w, " %s: %s", name, v)
				}
			}
		}
		fmt.Fprintf(w, "\n%s\n", pretty(h.Body))
	case isWidgetHTML(r.Body):
		fmt.Fprintf(w, "the dashboard widget's HTML, %d bytes, not shown (make run renders the widget again at its end, once its\n"+
			"scenarios have filled the watch list, and writes that rendering to files)\n", len(r.Body))
	default:
		fmt.Fprintln(w, pretty(string(r.Body)))
	}
}

// isWidgetHTML reports whether a reply is HTML as a JSON string: the
// dashboard widget's answer.
func isWidgetHTML(body []byte) bool {
	var s string
	return json.Unmarshal(body, &s) == nil && strings.HasPrefix(strings.TrimSpace(s), "<")
}

// printAlert writes an alert: its subject, attributes by name, and the
// message as compact JSON.
func printAlert(w io.Writer, a localstack.Alert) {
	var attrs []string
	for _, name := range slices.Sorted(maps.Keys(a.Attributes)) {
		attrs = append(attrs, fmt.Sprintf("%s=%s (%s)", name, a.Attributes[name].Value, a.Attributes[name].Type))
	}
	fmt.Fprintf(w, "- %s\n  attributes: %s\n", a.Subject, strings.Join(attrs, ", "))
	var msg bytes.Buffer
	if err := json.Compact(&msg, []byte(a.Message)); err != nil {
		msg.WriteString(a.Message)
	}
	fmt.Fprintf(w, "  message: %s\n", msg.String())
}

// printEmail writes the e-mail of the first alert that says why its run
// failed, and of the first late page, as the function sent them to SNS for
// e-mail subscribers (moto delivers no e-mail: the fault proxy kept what
// the function sent), and their SMS lines.
func printEmail(w io.Writer, sent []localstack.Sent) {
	for _, pick := range []func(localstack.Sent) bool{
		func(m localstack.Sent) bool {
			return m.Attributes["event"] == "alert" && strings.Contains(m.Default, `"details"`)
		},
		func(m localstack.Sent) bool { return m.Attributes["event"] == "late" },
	} {
		if i := slices.IndexFunc(sent, pick); i >= 0 {
			m := sent[i]
			fmt.Fprintf(w, "\n== the e-mail an AlertEmail subscriber reads for %q (%d bytes)\n%s\n", m.Subject, len(m.Email), indent(m.Email))
			fmt.Fprintf(w, "== its SMS (%d characters)\n  %s\n", len(m.SMS), m.SMS)
		}
	}
}

func indent(text string) string {
	return "  | " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n  | ")
}

// pretty indents JSON, and returns anything else as it is.
func pretty(s string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(strings.TrimSpace(s)), "", "  "); err != nil {
		return s
	}
	return out.String()
}
