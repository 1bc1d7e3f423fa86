package zuoratest

import (
	"crypto/rand"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxFormBytes bounds a token request body.
const maxFormBytes = 64 << 10

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	JTI         string `json:"jti"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken is POST /oauth/token with the client-credentials grant, as Zuora
// documents it: form-encoded client_id, client_secret and grant_type, no
// Authorization header.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, rec *RecordedRequest) {
	s.mu.Lock()
	delay := s.tokenLatency
	s.stats.TokenRequests++
	s.mu.Unlock()
	if !sleepCtx(r.Context(), delay) {
		return
	}
	form, problem := s.readTokenForm(w, r, rec)
	if problem != "" {
		writeOAuthError(w, r, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		writeOAuthError(w, r, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+clipString(gt, 40))
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	s.mu.Lock()
	want, known := s.clients[id]
	s.mu.Unlock()
	if id == "" || secret == "" || !known || want != secret {
		desc := "Bad client credentials"
		if id == "" && r.Header.Get("Authorization") != "" {
			desc = "client credentials must be sent in the form, not in an Authorization header"
		}
		writeOAuthError(w, r, http.StatusUnauthorized, "invalid_client", desc)
		return
	}

	token := randomHex(16)
	s.mu.Lock()
	ttl := s.tokenTTL
	s.tokens[token] = time.Now().Add(ttl)
	s.stats.TokenMints++
	s.mu.Unlock()
	writeJSON(w, r, http.StatusOK, mustJSON(tokenResponse{
		AccessToken: token,
		TokenType:   "bearer",
		ExpiresIn:   int64(ttl / time.Second),
		Scope:       "entity.1a2b3c4d platform.write service.mediation.read tenant.9999999 user.00000000",
		JTI:         randomHex(8),
	}))
}

// readTokenForm reads the token request's form and records it with the
// client secret redacted; problem says what is wrong with the request.
func (s *Server) readTokenForm(w http.ResponseWriter, r *http.Request, rec *RecordedRequest) (form url.Values, problem string) {
	if r.Method != http.MethodPost {
		return nil, "the token endpoint takes POST"
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, "Content-Type must be application/x-www-form-urlencoded"
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, "the form cannot be read"
	}
	recorded := cloneValues(r.PostForm)
	if recorded.Has("client_secret") {
		recorded.Set("client_secret", "<redacted>")
	}
	s.mu.Lock()
	rec.Form = recorded
	s.mu.Unlock()
	return r.PostForm, ""
}

func writeOAuthError(w http.ResponseWriter, r *http.Request, status int, code, desc string) {
	writeJSON(w, r, status, mustJSON(oauthError{Error: code, Description: desc}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func clipString(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}
