package zuora

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// NewHTTPClient returns an *http.Client tuned for talking to Zuora: pooled
// keep-alive connections (a warm Lambda reuses its TLS session instead of
// paying a handshake per check), bounded dial and handshake times, and the
// proxy taken from the environment.
//
// Build it once and share it; a Client given no HTTPClient uses a shared one.
// The client has no overall Timeout on purpose: each call is bounded by its
// context and by Config.AttemptTimeout, which are more precise.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport}
}

// sharedHTTPClient is used by every Client and token source that was not given
// an *http.Client, so they all draw on one connection pool.
var sharedHTTPClient = sync.OnceValue(NewHTTPClient)
