// Package trigger turns any payload the function is invoked with into a
// typed Request: what to do, for which meter versions, and the shape of the
// answer the caller reads. Every trigger of the contract comes through
// Parse — a direct payload or a batch (Step Functions, aws lambda invoke),
// an EventBridge rule's or Scheduler's event, API Gateway's REST (payload
// 1.0) and HTTP API (payload 2.0) requests and function URLs, a CloudWatch
// custom widget's call (internal/widget reads its context) — and every
// error it finds wraps ErrInvalid, so that the handler maps them to
// InvalidRequest in one place. It decides nothing and calls nothing: it
// knows the contract's shapes, not what the function does with them.
package trigger

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/callout"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/widget"
	"github.com/example/zuora-runstatus/zuora"
)

// ErrInvalid: the payload is not one of the contract's shapes, or a field
// is out of range. Its message says which and why, in the function's own
// words.
var ErrInvalid = errors.New("invalid request")

// MaxBatch is the contract's limit on the meters of one batch event.
const MaxBatch = 500

// Reply is the shape of the answer: a plain result, the batch shape, or an
// HTTP response (API Gateway's payload formats 1.0 and 2.0 and function
// URLs read the same response keys).
type Reply int

const (
	ReplySingle Reply = iota
	ReplyBatch
	ReplyHTTP
	ReplyWidget // a CloudWatch custom widget's: the HTML, as a JSON string
)

// Route is what a request asks for.
type Route int

const (
	RouteCheck   Route = iota // check meters (every shape)
	RouteWatch                // PUT /meters/{meterId}/{version}/watch
	RouteUnwatch              // DELETE /meters/{meterId}/{version}/watch
	RouteList                 // GET /meters
	RouteCallout              // POST /callouts/meter-session
	RouteMute                 // PUT /meters/{meterId}/{version}/mute
	RouteUnmute               // DELETE /meters/{meterId}/{version}/mute
	RouteWidget               // a CloudWatch custom widget's call (its button's too)
)

// Request is a payload understood.
type Request struct {
	Reply  Reply
	Source string // for logs: direct, batch, eventbridge, scheduled, apigw-rest, apigw-http, function-url
	Route  Route
	// Checks: RouteCheck's meter versions; RouteWatch's and RouteUnwatch's
	// one meter version.
	Checks []Check
	// Scheduled: a scheduled event without meters, which checks the watch
	// list and WATCH_METERS (Checks is empty).
	Scheduled bool
	Page      Page            // RouteList
	Callout   callout.Request // RouteCallout: the raw body its signature covers
	// Expect is RouteWatch's body's "expect" object, as it came (the
	// handler reads it: its checks need the time); nil: none.
	Expect json.RawMessage
	Mute   Mute         // RouteMute's body
	Widget widget.Event // RouteWidget's call
}

// Mute is PUT …/mute's body: until when, and why.
type Mute struct {
	Until  time.Time
	Reason string
}

// MaxMuteReason bounds a mute's reason: it is shown on the dashboard.
const MaxMuteReason = 200

// Check is one meter version to ask Zuora about, with the scoping headers
// that apply to it; empty header fields fall back to the configuration.
type Check struct {
	memory.Meter
	TrackID   string
	EntityIDs string
	OrgIDs    string
}

// Page is GET /meters' ?limit= and ?nextToken=.
type Page struct {
	Limit int
	After *memory.Meter // the last meter version of the page before; nil: from the start
}

// probe holds the top-level fields that tell the shapes apart. One decode
// reads them all; the full HTTP event is decoded only when it is one.
type probe struct {
	MeterID        json.RawMessage `json:"meterId"`
	Version        json.RawMessage `json:"version"`
	TrackID        json.RawMessage `json:"trackId"`
	EntityIDs      json.RawMessage `json:"entityIds"`
	OrgIDs         json.RawMessage `json:"orgIds"`
	Meters         json.RawMessage `json:"meters"`
	DetailType     json.RawMessage `json:"detail-type"`
	Source         json.RawMessage `json:"source"`
	Detail         json.RawMessage `json:"detail"`
	RequestContext json.RawMessage `json:"requestContext"`
	HTTPMethod     json.RawMessage `json:"httpMethod"`
	WidgetContext  json.RawMessage `json:"widgetContext"`
}

// Parse decides what a payload is and validates it.
func Parse(payload []byte) (Request, error) {
	var p probe
	if err := decodeObject(payload, &p, "event"); err != nil {
		return Request{}, err
	}
	switch {
	case p.WidgetContext != nil: // first: a widget button's params name a meter too
		ev, err := widget.ParseEvent(payload)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return Request{Reply: ReplyWidget, Source: "widget", Route: RouteWidget, Widget: ev}, err
	case p.RequestContext != nil:
		return parseHTTP(payload, p)
	case p.DetailType != nil || p.Detail != nil:
		return parseEventBridge(p)
	case p.Meters != nil:
		checks, err := parseBatch(p.Meters, p)
		return Request{Reply: ReplyBatch, Source: "batch", Checks: checks}, err
	case p.MeterID != nil:
		c, err := parseCheck(p)
		return Request{Reply: ReplySingle, Source: "direct", Checks: []Check{c}}, err
	}
	return Request{}, invalid(`the event is not a known shape: expected {"meterId", "version"}, {"meters": [...]}, an EventBridge event or an API Gateway / function URL request`)
}

// httpRequest is what the function reads of API Gateway's REST (payload
// 1.0) and HTTP API (payload 2.0) requests and of function URL requests.
type httpRequest struct {
	source       string // apigw-rest, apigw-http or function-url
	method, path string
	params       map[string]string // path parameters, when a route named them
	query        map[string]string
	header       func(name string) string
	body         string
	base64       bool // the body is Base64: API Gateway's way with bodies it does not take for text
}

// parseHTTP reads an HTTP request and routes it:
//
//	GET    …/meters/{meterId}/{version}/run-status  a check
//	PUT    …/meters/{meterId}/{version}/watch       add to the watch list
//	DELETE …/meters/{meterId}/{version}/watch       remove from it
//	GET    …/meters                                 list it
//	PUT    …/meters/{meterId}/{version}/mute        mute it until a time
//	DELETE …/meters/{meterId}/{version}/mute        end the mute
//	POST   …/callouts/meter-session                 a Zuora callout
//
// Only the end of the path counts, so a stage or a custom domain's base path
// in front of the route does not matter.
func parseHTTP(payload []byte, p probe) (Request, error) {
	r := Request{Reply: ReplyHTTP}
	req, err := readHTTP(payload, p)
	r.Source = req.source
	if err != nil {
		return r, err
	}
	segs := strings.Split(strings.Trim(req.path, "/"), "/")
	n := len(segs)
	switch {
	case n >= 4 && segs[n-4] == "meters" && segs[n-1] == "run-status":
		return routeRunStatus(r, req, segs[n-3:n-1])
	case n >= 4 && segs[n-4] == "meters" && segs[n-1] == "watch":
		return routeWatch(r, req, segs[n-3:n-1])
	case n >= 4 && segs[n-4] == "meters" && segs[n-1] == "mute":
		return routeMute(r, req, segs[n-3:n-1])
	case n >= 2 && segs[n-2] == "callouts" && segs[n-1] == "meter-session":
		return routeCallout(r, req)
	case n >= 1 && segs[n-1] == "meters":
		return routeList(r, req)
	}
	return r, invalid("path %q is not a route of this function: /meters/{meterId}/{version}/run-status, "+
		"/meters/{meterId}/{version}/watch, /meters/{meterId}/{version}/mute, /meters or /callouts/meter-session", truncate(req.path, 80))
}

func readHTTP(payload []byte, p probe) (httpRequest, error) {
	if p.HTTPMethod != nil {
		var ev events.APIGatewayProxyRequest
		if err := decodeObject(payload, &ev, "API Gateway request"); err != nil {
			return httpRequest{source: "apigw-rest"}, err
		}
		req := httpRequest{source: "apigw-rest", method: ev.HTTPMethod, path: ev.Path, params: ev.PathParameters,
			query: ev.QueryStringParameters, header: headerLookup(ev.Headers, ev.MultiValueHeaders),
			body: ev.Body, base64: ev.IsBase64Encoded}
		if proxy, ok := req.params["proxy"]; ok && req.params["meterId"] == "" {
			req.path, req.params = proxy, nil
		}
		return req, nil
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := decodeObject(payload, &ev, "HTTP request"); err != nil {
		return httpRequest{source: "apigw-http"}, err
	}
	if ev.Version != "2.0" || ev.RequestContext.HTTP.Method == "" {
		return httpRequest{source: "apigw-http"}, invalid("the request is neither API Gateway payload 1.0 nor 2.0")
	}
	req := httpRequest{source: "apigw-http", method: ev.RequestContext.HTTP.Method, path: ev.RawPath,
		params: ev.PathParameters, query: ev.QueryStringParameters, header: headerLookup(ev.Headers, nil),
		body: ev.Body, base64: ev.IsBase64Encoded}
	if strings.Contains(ev.RequestContext.DomainName, ".lambda-url.") { // function URLs share payload 2.0
		req.source = "function-url"
	}
	return req, nil
}

func allow(method, want string) error {
	if method != want {
		return invalid("method %s is not allowed here; use %s", truncate(method, 16), want)
	}
	return nil
}

// meterOf takes the meter from the route's path parameters, else from the
// two path segments that hold them.
func meterOf(req httpRequest, segs []string) (memory.Meter, error) {
	id, version := req.params["meterId"], req.params["version"]
	if id == "" || version == "" {
		var idErr, vErr error
		id, idErr = url.PathUnescape(segs[0])
		version, vErr = url.PathUnescape(segs[1])
		if idErr != nil || vErr != nil {
			return memory.Meter{}, invalid("path %q is not escaped correctly", truncate(req.path, 80))
		}
	}
	return meter(id, version)
}

func routeRunStatus(r Request, req httpRequest, segs []string) (Request, error) {
	if err := allow(req.method, "GET"); err != nil {
		return r, err
	}
	m, err := meterOf(req, segs)
	if err != nil {
		return r, err
	}
	c := Check{Meter: m, TrackID: req.header("Zuora-Track-Id"),
		EntityIDs: req.header("Zuora-Entity-Ids"), OrgIDs: req.header("Zuora-Org-Ids")}
	r.Checks = []Check{c}
	return r, c.Validate()
}

// routeMeter reads a route that sets something of one meter version: put
// or del as the method says, the meter version from the path.
func routeMeter(r Request, req httpRequest, segs []string, put, del Route) (Request, error) {
	switch req.method {
	case "PUT":
		r.Route = put
	case "DELETE":
		r.Route = del
	default:
		return r, invalid("method %s is not allowed here; use PUT or DELETE", truncate(req.method, 16))
	}
	m, err := meterOf(req, segs)
	r.Checks = []Check{{Meter: m}}
	return r, err
}

func routeWatch(r Request, req httpRequest, segs []string) (Request, error) {
	r, err := routeMeter(r, req, segs, RouteWatch, RouteUnwatch)
	if err != nil || r.Route == RouteUnwatch {
		return r, err
	}
	var body struct {
		Expect json.RawMessage `json:"expect"`
	}
	if err := readBody(req, &body, "watch body"); err != nil {
		return r, err
	}
	if string(bytes.TrimSpace(body.Expect)) != "null" {
		r.Expect = body.Expect
	}
	return r, nil
}

func routeMute(r Request, req httpRequest, segs []string) (Request, error) {
	r, err := routeMeter(r, req, segs, RouteMute, RouteUnmute)
	if err != nil || r.Route == RouteUnmute {
		return r, err
	}
	var body struct {
		Until  *string `json:"until"`
		Reason string  `json:"reason"`
	}
	if err := readBody(req, &body, "mute body"); err != nil {
		return r, err
	}
	if body.Until == nil {
		return r, invalid(`the mute body needs "until" (RFC 3339)`)
	}
	if r.Mute.Until, err = time.Parse(time.RFC3339, *body.Until); err != nil {
		return r, invalid("until %q is not an RFC 3339 time", truncate(*body.Until, 40))
	}
	if len(body.Reason) > MaxMuteReason || !utf8.ValidString(body.Reason) {
		return r, invalid("reason must be UTF-8 text of at most %d bytes", MaxMuteReason)
	}
	r.Mute.Reason = body.Reason
	return r, nil
}

// readBody reads an optional JSON object body into v, refusing fields v
// does not have (a typo must not pass for nothing); no body is {}.
func readBody(req httpRequest, v any, what string) error {
	raw, err := bodyOf(req)
	if err != nil || len(bytes.TrimSpace(raw)) == 0 {
		return err
	}
	if err := decodeObject(raw, v, what); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("%s: %v", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// bodyOf is the request's body, decoded when API Gateway sent it Base64.
func bodyOf(req httpRequest) ([]byte, error) {
	if !req.base64 {
		return []byte(req.body), nil
	}
	body, err := base64.StdEncoding.DecodeString(req.body)
	if err != nil {
		return nil, invalid("the body is marked Base64 but is not")
	}
	return body, nil
}

// routeCallout takes the raw body a callout's signature covers.
func routeCallout(r Request, req httpRequest) (Request, error) {
	if err := allow(req.method, "POST"); err != nil {
		return r, err
	}
	r.Route = RouteCallout
	body, err := bodyOf(req)
	if err != nil {
		return r, err
	}
	if len(body) > callout.MaxBody {
		return r, invalid("the callout body has %d bytes; at most %d", len(body), callout.MaxBody)
	}
	r.Callout = callout.Request{Body: body, Header: req.header}
	return r, nil
}

// Limits of GET /meters' pages.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func routeList(r Request, req httpRequest) (Request, error) {
	if err := allow(req.method, "GET"); err != nil {
		return r, err
	}
	r.Route, r.Page = RouteList, Page{Limit: defaultPageSize}
	if v, ok := req.query["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return r, invalid("limit %q must be a whole number from 1 to %d", truncate(v, 20), maxPageSize)
		}
		r.Page.Limit = n
	}
	if v := req.query["nextToken"]; v != "" {
		m, err := parseNextToken(v)
		if err != nil {
			return r, invalid("nextToken is not one this function gave")
		}
		r.Page.After = &m
	}
	return r, nil
}

// NextToken is GET /meters' token for the page after m: "meterId:version",
// base64url-encoded — opaque to callers, checked like any input.
func NextToken(m memory.Meter) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(m.MeterID, 10) + ":" + m.Version))
}

func parseNextToken(s string) (memory.Meter, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return memory.Meter{}, err
	}
	id, version, _ := strings.Cut(string(b), ":")
	return ParseMeter(id, version)
}

func headerLookup(single map[string]string, multi map[string][]string) func(string) string {
	return func(name string) string {
		for k, v := range single {
			if strings.EqualFold(k, name) {
				return strings.TrimSpace(v)
			}
		}
		for k, v := range multi {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return strings.TrimSpace(v[0])
			}
		}
		return ""
	}
}

// HTTPResponse encodes an HTTP answer with a JSON body: API Gateway's
// payload formats 1.0 and 2.0 and function URLs all read the keys of
// events.APIGatewayProxyResponse. A 503 says when to come back
// (Retry-After, whole seconds; one without a hint).
func HTTPResponse(status int, body any, retryAfter time.Duration) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	headers := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	if status == 503 {
		headers["Retry-After"] = strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds()))))
	}
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: string(b)})
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// decodeObject insists on one JSON object, so that arrays, strings and null
// get a clear message instead of an empty match.
func decodeObject(data []byte, v any, what string) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("the %s must be a JSON object", what)
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalid("%s field %q has the wrong type (%s)", what, te.Field, te.Value)
		}
		return invalid("the %s is not valid JSON: %v", what, err)
	}
	return nil
}

// stringField reads an optional JSON string; an absent or null field is "".
func stringField(raw json.RawMessage, name string) (string, error) {
	if raw == nil || string(bytes.TrimSpace(raw)) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid("%s must be a string", name)
	}
	return s, nil
}

// ParseMeter reads a meter id given as text and a version with the
// contract's rules: a positive integer (digits only), and a version Zuora
// accepts (zuora.ValidateVersion). Configuration reads it too
// (WATCH_METERS), so its errors say what is wrong and nothing more.
func ParseMeter(id, version string) (memory.Meter, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strings.TrimLeft(id, "0123456789") != "" {
		return memory.Meter{}, fmt.Errorf("meterId %q must be a positive integer", truncate(id, 40))
	}
	if err := zuora.ValidateVersion(version); err != nil {
		return memory.Meter{}, err
	}
	return memory.Meter{MeterID: n, Version: version}, nil
}

// meter is ParseMeter for a payload's fields: its errors wrap ErrInvalid.
func meter(id, version string) (memory.Meter, error) {
	m, err := ParseMeter(id, version)
	if err != nil {
		return memory.Meter{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return m, nil
}

// Validate applies Zuora's own rules for the scoping headers (the client
// owns them), so that a bad value is refused here, before anything is sent.
func (c Check) Validate() error {
	err := zuora.ValidateRequest(zuora.Request{MeterID: c.MeterID, Version: c.Version,
		TrackID: c.TrackID, EntityIDs: c.EntityIDs, OrgIDs: c.OrgIDs})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
