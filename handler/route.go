package handler

import (
	"encoding/base64"
	"github.com/example/zuora-runstatus/internal/memory"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/example/zuora-runstatus/internal/callout"
)

// httpRequest is what the handler reads of API Gateway's REST (payload 1.0)
// and HTTP API (payload 2.0) requests and of function URL requests.
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
//	POST   …/callouts/meter-session                 a Zuora callout
//
// Only the end of the path counts, so a stage or a custom domain's base path
// in front of the route does not matter.
func parseHTTP(payload []byte, p probe) (invocation, error) {
	inv := invocation{shape: replyHTTP}
	req, err := readHTTP(payload, p)
	inv.source = req.source
	if err != nil {
		return inv, err
	}
	segs := strings.Split(strings.Trim(req.path, "/"), "/")
	n := len(segs)
	switch {
	case n >= 4 && segs[n-4] == "meters" && segs[n-1] == "run-status":
		return routeRunStatus(inv, req, segs[n-3:n-1])
	case n >= 4 && segs[n-4] == "meters" && segs[n-1] == "watch":
		return routeWatchList(inv, req, segs[n-3:n-1])
	case n >= 2 && segs[n-2] == "callouts" && segs[n-1] == "meter-session":
		return parseCalloutRoute(inv, req)
	case n >= 1 && segs[n-1] == "meters":
		if err := allow(req.method, "GET"); err != nil {
			return inv, err
		}
		inv.route = routeList
		inv.page, err = parsePage(req.query)
		return inv, err
	}
	return inv, invalid("path %q is not a route of this function: /meters/{meterId}/{version}/run-status, "+
		"/meters/{meterId}/{version}/watch, /meters or /callouts/meter-session", truncate(req.path, 80))
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
	if ev.RouteKey == "$default" && strings.Contains(ev.RequestContext.DomainName, ".lambda-url.") {
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
	return newMeter(id, version)
}

func routeRunStatus(inv invocation, req httpRequest, segs []string) (invocation, error) {
	if err := allow(req.method, "GET"); err != nil {
		return inv, err
	}
	m, err := meterOf(req, segs)
	if err != nil {
		return inv, err
	}
	c := checkRequest{Meter: m, TrackID: req.header("Zuora-Track-Id"),
		EntityIDs: req.header("Zuora-Entity-Ids"), OrgIDs: req.header("Zuora-Org-Ids")}
	inv.checks = []checkRequest{c}
	return inv, c.validate()
}

func routeWatchList(inv invocation, req httpRequest, segs []string) (invocation, error) {
	switch req.method {
	case "PUT":
		inv.route = routeWatch
	case "DELETE":
		inv.route = routeUnwatch
	default:
		return inv, invalid("method %s is not allowed here; use PUT or DELETE", truncate(req.method, 16))
	}
	m, err := meterOf(req, segs)
	inv.checks = []checkRequest{{Meter: m}}
	return inv, err
}

// parseCalloutRoute takes the raw body a callout's signature covers.
func parseCalloutRoute(inv invocation, req httpRequest) (invocation, error) {
	if err := allow(req.method, "POST"); err != nil {
		return inv, err
	}
	inv.route = routeCallout
	body := []byte(req.body)
	if req.base64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.body); err != nil {
			return inv, invalid("the body is marked Base64 but is not")
		}
	}
	if len(body) > callout.MaxBody {
		return inv, invalid("the callout body has %d bytes; at most %d", len(body), callout.MaxBody)
	}
	inv.callout = callout.Request{Body: body, Header: req.header}
	return inv, nil
}

// Limits of GET /meters' pages.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func parsePage(query map[string]string) (pageRequest, error) {
	page := pageRequest{limit: defaultPageSize}
	if v, ok := query["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return page, invalid("limit %q must be a whole number from 1 to %d", truncate(v, 20), maxPageSize)
		}
		page.limit = n
	}
	if v := query["nextToken"]; v != "" {
		m, err := parseNextToken(v)
		if err != nil {
			return page, invalid("nextToken is not one this function gave")
		}
		page.after = &m
	}
	return page, nil
}

// A nextToken is the last meter version of a page, "meterId:version",
// base64url-encoded: opaque to callers, checked like any input.
func nextToken(m memory.Meter) string {
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
