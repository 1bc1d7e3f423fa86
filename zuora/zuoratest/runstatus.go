package zuoratest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type runStatusData struct {
	RunStatus   int    `json:"runStatus"`
	Description string `json:"runStatusDescription"`
}

type runStatusResponse struct {
	Success bool          `json:"success"`
	Data    runStatusData `json:"data"`
}

type mediationError struct {
	Success bool      `json:"success"`
	Error   errorItem `json:"error"`
}

type proxyBadRequest struct {
	Success bool        `json:"success"`
	Errors  []errorItem `json:"errors"`
}

type systemError struct {
	Reasons []errorItem `json:"reasons"`
}

// serveRunStatus is GET /meters/{meterId}/{version}/runStatus.
func (s *Server) serveRunStatus(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	s.stats.RunStatusCalls++
	s.stats.InFlight++
	s.stats.MaxConcurrent = max(s.stats.MaxConcurrent, s.stats.InFlight)
	latency := s.latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.InFlight--
		s.mu.Unlock()
	}()

	if !sleepCtx(r.Context(), latency) {
		return // the client went away
	}
	if r.Method != http.MethodGet {
		writeJSON(w, r, http.StatusMethodNotAllowed, []byte(`{"message":"Method Not Allowed"}`))
		return
	}
	if !s.authorized(r) {
		writeUnauthorized(w, r)
		return
	}
	// The tenant is known: the call counts against its limit, and an outage
	// or the exceeded limit answers instead of the meter's script.
	u, imposed := s.countCall()
	if imposed != nil {
		s.writeStep(w, r, *imposed, 0, u)
		return
	}
	step, padding, missing := s.nextStep(path)
	if missing != nil {
		setRateLimitHeaders(w.Header(), u, missing.status, "")
		writeJSON(w, r, missing.status, missing.body)
		return
	}
	if !sleepCtx(r.Context(), step.Latency) {
		return
	}
	if step.Drop {
		// Aborts the connection without an answer; net/http does not log it.
		panic(http.ErrAbortHandler)
	}
	s.writeStep(w, r, step, padding, u)
}

// answer is a ready error answer.
type answer struct {
	status int
	body   []byte
}

// nextStep takes the next step of the meter version the path names, or
// returns Zuora's answer for a bad id or a meter or version it does not know.
func (s *Server) nextStep(path string) (step Step, padding int, missing *answer) {
	parts := strings.Split(path, "/")
	meterID, err := strconv.ParseInt(parts[2], 10, 64)
	version, verr := url.PathUnescape(parts[3])
	if err != nil || verr != nil || meterID <= 0 {
		return Step{}, 0, &answer{http.StatusBadRequest, mustJSON(proxyBadRequest{Errors: []errorItem{{
			Code: "INVALID_VALUE", Message: "meterId must be a positive integer",
		}}})}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	versions, meterKnown := s.meters[meterID]
	sc := versions[version]
	switch {
	case !meterKnown:
		return Step{}, 0, &answer{http.StatusNotFound, mustJSON(mediationError{Error: errorItem{CodeMeterNotFound, "Meter does not exist."}})}
	case sc == nil:
		return Step{}, 0, &answer{http.StatusNotFound, mustJSON(mediationError{Error: errorItem{CodeVersionNotFound, "Meter version does not exist."}})}
	}
	return sc.take(time.Now()), s.padding, nil
}

// authorized checks the bearer token: known, not revoked, not expired.
func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	expiry, known := s.tokens[token]
	return known && (expiry.IsZero() || time.Now().Before(expiry))
}

func writeUnauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Zuora"`)
	writeJSON(w, r, http.StatusUnauthorized, []byte(`{"message":"Authentication error"}`))
}

// writeStep sends a step's answer with Zuora's body for its status, and u,
// the call's window, in the RateLimit-* headers.
func (s *Server) writeStep(w http.ResponseWriter, r *http.Request, st Step, padding int, u usage) {
	status := st.HTTPStatus
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	if st.RetryAfter != "" {
		h.Set("Retry-After", st.RetryAfter)
	}
	setRateLimitHeaders(h, u, status, st.RetryAfter)

	item := func(code, msg string) errorItem {
		return errorItem{Code: or(st.ErrorCode, code), Message: or(st.ErrorMessage, msg)}
	}
	var body []byte
	switch {
	case st.Body != "":
		body = []byte(st.Body)
	case status == http.StatusOK:
		desc := or(st.Description, StatusName(st.Status))
		body = mustJSON(runStatusResponse{Success: true, Data: runStatusData{st.Status, desc}})
		if padding > 0 {
			// Whitespace before the closing brace keeps the documented shape.
			body = append(body[:len(body)-1], append([]byte(strings.Repeat(" ", padding)), '}')...)
		}
	case status == http.StatusBadRequest:
		body = mustJSON(proxyBadRequest{Errors: []errorItem{item("INVALID_VALUE", "Invalid request parameter")}})
	case status == http.StatusUnauthorized:
		writeUnauthorized(w, r)
		return
	case status == http.StatusForbidden:
		body = mustJSON(mediationError{Error: item("70002006", "You do not have permission to access this resource.")})
	case status == http.StatusNotFound:
		body = mustJSON(mediationError{Error: item(CodeMeterNotFound, "Meter does not exist.")})
	case status == http.StatusTooManyRequests:
		body = mustJSON(proxyBadRequest{Errors: []errorItem{item("TOO_MANY_REQUESTS", "Too many requests, try again later.")}})
	case status >= 500:
		body = mustJSON(systemError{Reasons: []errorItem{item("SystemError", "internal server error")}})
	default:
		body = []byte(fmt.Sprintf(`{"message":%q}`, http.StatusText(status)))
	}
	writeJSON(w, r, status, body)
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
