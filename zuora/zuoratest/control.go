package zuoratest

import (
	"io"
	"net/http"
	"time"
)

// serveControl is the /_sim/ control API, for tests that run the simulator
// out of process (Zuora has no /_sim/ paths, so nothing real is shadowed):
//
//	GET  /_sim/stats          Stats as JSON
//	GET  /_sim/requests       recorded requests as JSON
//	POST /_sim/reset          ResetStats
//	POST /_sim/revoke-tokens  RevokeTokens
//	PUT  /_sim/meters         SetMeter for each meter in the body (config shape)
//	PUT  /_sim/latency?d=50ms SetLatency
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	switch route {
	case "GET /_sim/stats":
		writeJSON(w, r, http.StatusOK, mustJSON(s.Stats()))
	case "GET /_sim/requests":
		writeJSON(w, r, http.StatusOK, mustJSON(s.Requests()))
	case "POST /_sim/reset":
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case "POST /_sim/revoke-tokens":
		s.RevokeTokens()
		w.WriteHeader(http.StatusNoContent)
	case "PUT /_sim/meters":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			controlError(w, r, http.StatusBadRequest, "cannot read the body")
			return
		}
		meters, err := ParseMeters(body)
		if err != nil {
			controlError(w, r, http.StatusBadRequest, err.Error())
			return
		}
		for _, m := range meters {
			s.SetMeter(m.MeterID, m.Version, m.Steps...)
		}
		w.WriteHeader(http.StatusNoContent)
	case "PUT /_sim/latency":
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			controlError(w, r, http.StatusBadRequest, "d must be a duration such as 50ms")
			return
		}
		s.SetLatency(d)
		w.WriteHeader(http.StatusNoContent)
	default:
		controlError(w, r, http.StatusNotFound, "unknown control route "+route)
	}
}

func controlError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, r, status, mustJSON(map[string]string{"error": msg}))
}
