package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// gateway stands in for the HTTP API in front of the function: it turns a
// request into the payload 2.0 event API Gateway would send (header names
// lowercased, a body that is not UTF-8 Base64-encoded), invokes the Stack's
// function, and answers with the response the function returns. Zuora's
// callouts reach the function through it, as they would in AWS.
type gateway struct {
	srv *http.Server
	url string
}

// maxGatewayBody is HTTP API's payload limit.
const maxGatewayBody = 10 << 20

func (s *Stack) startGateway() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	g := &gateway{url: "http://" + ln.Addr().String()}
	g.srv = &http.Server{Handler: http.HandlerFunc(s.serveGateway), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }() // ends with Close
	s.gw, s.APIURL = g, g.url
	return nil
}

func (s *Stack) serveGateway(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGatewayBody))
	if err != nil {
		http.Error(w, `{"message":"Request Entity Too Large"}`, http.StatusRequestEntityTooLarge)
		return
	}
	payload, err := json.Marshal(httpAPIEvent(r, body))
	if err == nil {
		var reply Reply
		if reply, err = s.invokeAny(r.Context(), payload); err == nil {
			writeReply(w, reply)
			return
		}
	}
	http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
}

// invokeAny sends payload to a container that is free, the Stack's own
// when none is, as Lambda spreads an API's requests over its containers.
func (s *Stack) invokeAny(ctx context.Context, payload []byte) (Reply, error) {
	s.mu.Lock()
	others := slices.Clone(s.others)
	s.mu.Unlock()
	for _, f := range others {
		if f.turn.TryLock() {
			defer f.turn.Unlock()
			return invoke(ctx, f.url, payload)
		}
	}
	return s.Invoke(ctx, payload)
}

// httpAPIEvent is what API Gateway's HTTP API sends for r.
func httpAPIEvent(r *http.Request, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: r.Method + " " + r.URL.Path, RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery,
		Headers: headers, QueryStringParameters: query, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "local-" + time.Now().UTC().Format("150405.000000"), TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, SourceIP: r.RemoteAddr},
		},
	}
	if !utf8.Valid(body) {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev
}

// writeReply answers with the function's HTTP response, or 502 as API
// Gateway does when the function failed or answered something else.
func writeReply(w http.ResponseWriter, reply Reply) {
	resp, ok := reply.HTTP()
	if !ok {
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusBadGateway)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body) // the caller may have gone; nothing to do then
}
