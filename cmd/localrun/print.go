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
	default:
		fmt.Fprintln(w, pretty(string(r.Body)))
	}
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

// pretty indents JSON, and returns anything else as it is.
func pretty(s string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(strings.TrimSpace(s)), "", "  "); err != nil {
		return s
	}
	return out.String()
}
