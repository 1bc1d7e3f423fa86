package zuoratest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// gzipThreshold: Zuora compresses JSON answers over 1,000 bytes when asked to.
const gzipThreshold = 1000

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	rec := s.record(r)
	rw := &recordingWriter{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		rec.Status, rec.Gzipped = rw.status, rw.gzipped
		s.mu.Unlock()
	}()

	// Every Zuora answer carries its own request id and echoes the caller's.
	h := w.Header()
	h.Set("Zuora-Request-Id", newID())
	if id := r.Header.Get("Zuora-Track-Id"); id != "" {
		h.Set("Zuora-Track-Id", id)
	}

	switch {
	case path == "/oauth/token":
		s.serveToken(rw, r, rec)
	case isRunStatusPath(path):
		s.serveRunStatus(rw, r, path)
	case isSummaryPath(path):
		s.serveSummary(rw, r, path)
	case isAuditPath(path):
		s.serveAudit(rw, r, path)
	default:
		// Unknown routes, the documentation's old /run-status path among them.
		writeJSON(rw, r, http.StatusNotFound, []byte(`{"message":"no route matched the request"}`))
	}
}

// record stores the request with secrets redacted and returns the entry, whose
// Status is filled in when the answer has been written.
func (s *Server) record(r *http.Request) *RecordedRequest {
	rec := &RecordedRequest{
		Time:   time.Now(),
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Query:  r.URL.RawQuery,
		Header: r.Header.Clone(),
	}
	if auth := rec.Header.Get("Authorization"); auth != "" {
		scheme, _, _ := strings.Cut(auth, " ")
		rec.Header.Set("Authorization", scheme+" <redacted>")
	}
	s.mu.Lock()
	if len(s.requests) >= maxRecorded {
		s.requests = append(s.requests[:0], s.requests[maxRecorded/2:]...)
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	return rec
}

func isRunStatusPath(path string) bool {
	parts := strings.Split(path, "/")
	return len(parts) == 5 && parts[0] == "" && parts[1] == "meters" && parts[4] == "runStatus"
}

// isSummaryPath: /meters/{meterId}/summary.
func isSummaryPath(path string) bool {
	parts := strings.Split(path, "/")
	return len(parts) == 4 && parts[0] == "" && parts[1] == "meters" && parts[3] == "summary"
}

// isAuditPath: /meters/{meterId}/auditTrail/entries.
func isAuditPath(path string) bool {
	parts := strings.Split(path, "/")
	return len(parts) == 5 && parts[0] == "" && parts[1] == "meters" && parts[3] == "auditTrail" && parts[4] == "entries"
}

// recordingWriter notes the status and encoding of the answer for Requests.
type recordingWriter struct {
	http.ResponseWriter
	status  int
	gzipped bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.gzipped = w.Header().Get("Content-Encoding") == "gzip"
	}
	w.ResponseWriter.WriteHeader(code)
}

// writeJSON sends body as JSON, gzipped when the client accepts gzip and the
// body is over Zuora's threshold.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if len(body) > gzipThreshold && acceptsGzip(r) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(coding), "gzip") &&
				strings.ReplaceAll(params, " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only this package's own types are marshalled here.
		return []byte(`{"message":"simulator encoding error"}`)
	}
	return b
}

// errorItem is an entry of Zuora's errors[] or reasons[], or its error{}.
type errorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// newID returns a random id shaped like Zuora's request ids (a UUID).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// sleepCtx waits d unless the request's context ends first (the client went
// away); it reports whether the full wait happened.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
