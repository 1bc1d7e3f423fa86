package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// printReply writes a reply for a person: a function error as
// "errorType: message", an HTTP-shaped reply as its status and pretty body,
// anything else as pretty JSON.
func printReply(w io.Writer, r Reply) {
	switch h, isHTTP := r.HTTP(); {
	case r.Failed():
		kind := "function error"
		if r.Unhandled {
			kind = "function error (unhandled)"
		}
		fmt.Fprintf(w, "%s: %s: %s\n", kind, r.ErrorType, r.ErrorMessage)
	case isHTTP:
		fmt.Fprintf(w, "HTTP %d", h.StatusCode)
		if ct := headerValue(h, "Content-Type"); ct != "" {
			fmt.Fprintf(w, " (%s)", ct)
		}
		if ra := headerValue(h, "Retry-After"); ra != "" {
			fmt.Fprintf(w, " Retry-After: %s", ra)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, pretty([]byte(h.Body)))
	default:
		fmt.Fprintln(w, pretty(r.Body))
	}
}

// headerValue finds a header case-insensitively, in single- or multi-value
// form, as API Gateway accepts either.
func headerValue(h HTTPResponse, name string) string {
	for k, v := range h.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range h.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.Join(v, ", ")
		}
	}
	return ""
}

// printAlert writes one alert: its subject, attributes sorted by name, and
// the message as compact JSON.
func printAlert(w io.Writer, a Alert) {
	fmt.Fprintf(w, "- %s\n", a.Subject)
	names := make([]string, 0, len(a.Attributes))
	for n := range a.Attributes {
		names = append(names, n)
	}
	sort.Strings(names)
	attrs := make([]string, 0, len(names))
	for _, n := range names {
		attrs = append(attrs, fmt.Sprintf("%s=%s (%s)", n, a.Attributes[n].Value, a.Attributes[n].Type))
	}
	fmt.Fprintf(w, "  attributes: %s\n", strings.Join(attrs, ", "))
	if a.MessageGroupID != "" || a.MessageDeduplicationID != "" {
		fmt.Fprintf(w, "  group: %s  deduplication id: %s\n", a.MessageGroupID, a.MessageDeduplicationID)
	}
	fmt.Fprintf(w, "  message: %s\n", compact([]byte(a.Message)))
}

// pretty indents JSON, and returns anything else as it is.
func pretty(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(b), "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// compact removes insignificant space from JSON, and returns anything else
// as it is.
func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, bytes.TrimSpace(b)); err != nil {
		return string(b)
	}
	return out.String()
}
