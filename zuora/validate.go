package zuora

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Limits from Zuora's API reference, and bounds of our own on headers whose
// length Zuora does not publish: an entity id is a 32-character UUID, and
// a caller's input must not grow a request or a log line without bound.
const (
	maxVersionLen   = 64
	maxTrackIDLen   = 64
	maxEntityIDsLen = 64
	maxOrgIDsLen    = 1024
)

// ValidateRequest checks a Request the way the Client does before sending
// anything. It returns nil or an *Error of class ErrInvalidArgument, so callers
// that take requests from outside (an HTTP trigger, an event) can refuse bad
// input with the same rules and words as the Client.
func ValidateRequest(req Request) error {
	if req.MeterID <= 0 {
		return invalidArgument("meterId must be a positive integer, got %d", req.MeterID)
	}
	if err := ValidateVersion(req.Version); err != nil {
		return err
	}
	if err := ValidateTrackID(req.TrackID); err != nil {
		return err
	}
	if err := ValidateEntityIDs(req.EntityIDs); err != nil {
		return err
	}
	return ValidateOrgIDs(req.OrgIDs)
}

// ValidateVersion checks a meter version: 1–64 characters of A-Z a-z 0-9 . _ -.
// "." and ".." are refused too: they are dot segments that a proxy on the way
// could resolve, turning the request into one for another path.
func ValidateVersion(v string) error {
	if v == "" || len(v) > maxVersionLen {
		return invalidArgument("version must be 1 to %d characters, got %d", maxVersionLen, len(v))
	}
	for i := 0; i < len(v); i++ {
		if !isVersionChar(v[i]) {
			return invalidArgument("version %q: only A-Z a-z 0-9 . _ - are allowed", v)
		}
	}
	if v == "." || v == ".." {
		return invalidArgument("version %q is not a version", v)
	}
	return nil
}

// ValidateTrackID checks a Zuora-Track-Id value as Zuora defines it: at most 64
// printable US-ASCII characters, none of : ; " '. The empty string is valid
// (no header is sent).
func ValidateTrackID(id string) error {
	if len(id) > maxTrackIDLen {
		return invalidArgument("trackId must be at most %d characters, got %d", maxTrackIDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isPrintableASCII(c) {
			return invalidArgument("trackId must be printable US-ASCII (byte %d is 0x%02x)", i, c)
		}
		switch c {
		case ':', ';', '"', '\'':
			return invalidArgument("trackId must not contain %q", c)
		}
	}
	return nil
}

// ValidateEntityIDs checks a Zuora-Entity-Ids value: printable US-ASCII (so no
// CR or LF can split the header), not blank. The empty string is valid.
func ValidateEntityIDs(ids string) error {
	if ids == "" {
		return nil
	}
	if len(ids) > maxEntityIDsLen {
		return invalidArgument("entityIds must be at most %d characters, got %d", maxEntityIDsLen, len(ids))
	}
	if err := headerValue("entityIds", ids); err != nil {
		return err
	}
	if strings.TrimSpace(ids) == "" {
		return invalidArgument("entityIds must not be blank")
	}
	return nil
}

// ValidateOrgIDs checks a Zuora-Org-Ids value: comma-separated ids, each
// printable US-ASCII and not blank. The empty string is valid.
func ValidateOrgIDs(ids string) error {
	if ids == "" {
		return nil
	}
	if len(ids) > maxOrgIDsLen {
		return invalidArgument("orgIds must be at most %d characters, got %d", maxOrgIDsLen, len(ids))
	}
	if err := headerValue("orgIds", ids); err != nil {
		return err
	}
	for part := range strings.SplitSeq(ids, ",") {
		if strings.TrimSpace(part) == "" {
			return invalidArgument("orgIds must be a comma-separated list without empty items")
		}
	}
	return nil
}

func headerValue(field, v string) error {
	for i := 0; i < len(v); i++ {
		if !isPrintableASCII(v[i]) {
			return invalidArgument("%s must be printable US-ASCII (byte %d is 0x%02x)", field, i, v[i])
		}
	}
	return nil
}

// Run types: NORMAL for live runs, DEBUG for test runs.
const (
	RunTypeNormal = "NORMAL"
	RunTypeDebug  = "DEBUG"
)

// Bounds on the filters of the summary and audit-trail calls.
const (
	maxSessionIDLen  = 64
	maxOperatorIDLen = 128
	maxFilterIDs     = 100  // session or operator ids in one summary
	maxCursorLen     = 4096 // an audit-trail page token
)

func validateRunType(rt string) error {
	if rt != "" && rt != RunTypeNormal && rt != RunTypeDebug {
		return invalidArgument("runType must be %s or %s, got %q", RunTypeNormal, RunTypeDebug, clip(rt, 32))
	}
	return nil
}

// validateID checks one id of a filter: 1 to maxLen printable US-ASCII
// characters, so it travels safely in a query or a body and reads in a log.
func validateID(field, id string, maxLen int) error {
	if id == "" || len(id) > maxLen {
		return invalidArgument("%s must be 1 to %d characters, got %d", field, maxLen, len(id))
	}
	return headerValue(field, id)
}

// validateToken checks a page token: 1 to maxCursorLen printable US-ASCII
// characters without spaces, as Zuora's base64 tokens are.
func validateToken(field, tok string) error {
	if err := validateID(field, tok, maxCursorLen); err != nil {
		return err
	}
	if strings.ContainsRune(tok, ' ') {
		return invalidArgument("%s must not contain spaces", field)
	}
	return nil
}

func validateIDs(field string, ids []string, maxLen int) error {
	if len(ids) > maxFilterIDs {
		return invalidArgument("at most %d %s, got %d", maxFilterIDs, field, len(ids))
	}
	for _, id := range ids {
		if err := validateID(field, id, maxLen); err != nil {
			return err
		}
	}
	return nil
}

// validateScope checks a call's optional Zuora headers.
func validateScope(trackID, entityIDs, orgIDs string) error {
	if err := ValidateTrackID(trackID); err != nil {
		return err
	}
	if err := ValidateEntityIDs(entityIDs); err != nil {
		return err
	}
	return ValidateOrgIDs(orgIDs)
}

// validateWindow checks a query's time window: each end zero (when allowed)
// or writable in Zuora's form, and from not after to.
func validateWindow(from, to time.Time, required bool) error {
	for _, end := range [...]struct {
		name string
		t    time.Time
	}{{"from", from}, {"to", to}} {
		switch {
		case end.t.IsZero() && required:
			return invalidArgument("the %s time is required", end.name)
		case !end.t.IsZero() && (end.t.UTC().Year() < 1970 || end.t.UTC().Year() > 9999):
			return invalidArgument("the %s time %s is out of range", end.name, end.t.UTC().Format(time.RFC3339))
		}
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		return invalidArgument("the from time is after the to time")
	}
	return nil
}

func validateMaxAttempts(n int) error {
	if n < 0 {
		return invalidArgument("MaxAttempts must not be negative, got %d", n)
	}
	return nil
}

func isPrintableASCII(c byte) bool { return c >= 0x20 && c <= 0x7e }

func isVersionChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// ValidateBaseURL checks a Zuora base URL: https://, or plain http:// only to a
// loopback host (a local simulator), because the bearer token and the OAuth
// client secret travel in every request. It returns the URL without a trailing
// slash, or an *Error of class ErrInvalidArgument.
func ValidateBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the input; a mistyped URL may hold credentials.
		return "", invalidArgument("base URL is not a URL")
	}
	if u.User != nil {
		return "", invalidArgument("base URL must not carry user info")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", invalidArgument("base URL must not have a query or fragment")
	}
	if u.Hostname() == "" {
		return "", invalidArgument("base URL %q has no host", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", invalidArgument("base URL %q: http:// is allowed only for a loopback host; use https://", raw)
		}
	default:
		return "", invalidArgument("base URL %q must start with https://", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func invalidArgument(format string, args ...any) *Error {
	return &Error{Class: ErrInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
