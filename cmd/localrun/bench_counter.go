package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// benchCounter is a reverse proxy on loopback between the function's
// AWS_ENDPOINT_URL and moto that counts the AWS operations passing through:
// what the function really calls, not what its code seems to.
type benchCounter struct {
	URL string

	srv  *http.Server
	mu   sync.Mutex
	ops  map[string]int           // "service:Operation" → requests
	time map[string]time.Duration // "service:Operation" → time spent in moto, proxy included
}

func startBenchCounter(target string) (*benchCounter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &benchCounter{URL: "http://" + ln.Addr().String(), ops: map[string]int{}, time: map[string]time.Duration{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	c.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		op := awsOperation(r, body)
		start := time.Now()
		proxy.ServeHTTP(w, r)
		c.mu.Lock()
		c.ops[op]++
		c.time[op] += time.Since(start)
		c.mu.Unlock()
	})}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// count returns how many requests for service's operation went through.
func (c *benchCounter) count(service, operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[service+":"+operation]
}

// spent returns the time requests for service's operation took.
func (c *benchCounter) spent(service, operation string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.time[service+":"+operation]
}

func (c *benchCounter) Close() error { return c.srv.Close() }

// awsOperation names a signed AWS request "service:Operation": the service from
// the SigV4 credential scope (Credential=AKID/DATE/REGION/SERVICE/aws4_request),
// the operation from X-Amz-Target (JSON protocols, e.g. Secrets Manager) or
// the Action form field (the query protocol, e.g. SNS).
func awsOperation(r *http.Request, body []byte) string {
	service := "unknown"
	if _, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred, _, _ = strings.Cut(cred, ",")
		if parts := strings.Split(cred, "/"); len(parts) == 5 {
			service = parts[3]
		}
	}
	op := ""
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, op, _ = strings.Cut(t, ".")
	} else if form, err := url.ParseQuery(string(body)); err == nil {
		op = form.Get("Action")
	}
	if op == "" {
		op = r.Method + " " + r.URL.Path
	}
	return service + ":" + op
}
