package trigger

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
)

// Every trigger's shape, as its service sends it.
func TestParseShapes(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		shape  Reply
		source string
		want   []Check
	}{
		{"direct number", `{"meterId": 123, "version": "0.0.1"}`, ReplySingle, "direct", []Check{{Meter: memory.Meter{MeterID: 123, Version: "0.0.1"}}}},
		{"direct string id and overrides", `{"meterId": "123", "version": "v_1-2.3", "trackId": "t-1", "entityIds": "e1", "orgIds": "o1,o2"}`,
			ReplySingle, "direct", []Check{{Meter: memory.Meter{MeterID: 123, Version: "v_1-2.3"}, TrackID: "t-1", EntityIDs: "e1", OrgIDs: "o1,o2"}}},
		{"direct extra fields ignored", `{"meterId": 1, "version": "2.0", "status": "RUNNING"}`, ReplySingle, "direct", []Check{{Meter: memory.Meter{MeterID: 1, Version: "2.0"}}}},
		{"batch", `{"meters": [{"meterId": 1, "version": "a"}, {"meterId": "2", "version": "b", "orgIds": "o"}], "orgIds": "top"}`,
			ReplyBatch, "batch", []Check{{Meter: memory.Meter{MeterID: 1, Version: "a"}, OrgIDs: "top"}, {Meter: memory.Meter{MeterID: 2, Version: "b"}, OrgIDs: "o"}}},
		{"eventbridge custom single", `{"detail-type": "MeterRunCheckRequested", "source": "com.example", "detail": {"meterId": 5, "version": "1"}}`,
			ReplySingle, "eventbridge", []Check{{Meter: memory.Meter{MeterID: 5, Version: "1"}}}},
		{"eventbridge custom batch", `{"detail-type": "X", "source": "com.example", "detail": {"meters": [{"meterId": 5, "version": "1"}]}}`,
			ReplyBatch, "eventbridge", []Check{{Meter: memory.Meter{MeterID: 5, Version: "1"}}}},
		{"eventbridge detail as string", `{"detail-type": "X", "source": "aws.scheduler", "detail": "{\"meterId\": 5, \"version\": \"1\"}"}`,
			ReplySingle, "eventbridge", []Check{{Meter: memory.Meter{MeterID: 5, Version: "1"}}}},
		{"scheduled rule", `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}`, ReplyBatch, "scheduled", nil},
		{"scheduler", `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "{}"}`, ReplyBatch, "scheduled", nil},
		{"rest", `{"httpMethod": "GET", "path": "/meters/9/0.0.1/run-status", "requestContext": {}, "pathParameters": {"meterId": "9", "version": "0.0.1"}, "headers": {"zuora-track-id": "h-1"}}`,
			ReplyHTTP, "apigw-rest", []Check{{Meter: memory.Meter{MeterID: 9, Version: "0.0.1"}, TrackID: "h-1"}}},
		{"rest proxy", `{"httpMethod": "GET", "resource": "/{proxy+}", "requestContext": {}, "pathParameters": {"proxy": "meters/9/0.0.1/run-status"}, "multiValueHeaders": {"Zuora-Org-Ids": ["o1"]}}`,
			ReplyHTTP, "apigw-rest", []Check{{Meter: memory.Meter{MeterID: 9, Version: "0.0.1"}, OrgIDs: "o1"}}},
		{"http api with stage", `{"version": "2.0", "routeKey": "GET /meters/{meterId}/{version}/run-status", "rawPath": "/prod/meters/9/0.0.1/run-status", "requestContext": {"http": {"method": "GET"}}, "headers": {"zuora-entity-ids": "e"}}`,
			ReplyHTTP, "apigw-http", []Check{{Meter: memory.Meter{MeterID: 9, Version: "0.0.1"}, EntityIDs: "e"}}},
		{"function url escaped", `{"version": "2.0", "routeKey": "$default", "rawPath": "/meters/9/0%2E0%2E1/run-status", "requestContext": {"domainName": "abc.lambda-url.us-east-1.on.aws", "http": {"method": "GET"}}}`,
			ReplyHTTP, "function-url", []Check{{Meter: memory.Meter{MeterID: 9, Version: "0.0.1"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if r.Reply != tt.shape || r.Source != tt.source || r.Route != RouteCheck || r.Scheduled != (tt.source == "scheduled") {
				t.Errorf("reply %d source %q route %d scheduled %v, want %d %q", r.Reply, r.Source, r.Route, r.Scheduled, tt.shape, tt.source)
			}
			if !slices.Equal(r.Checks, tt.want) {
				t.Errorf("checks = %+v, want %+v", r.Checks, tt.want)
			}
		})
	}
}

// Bad input of every kind is ErrInvalid with a message that says what is
// wrong.
func TestInvalidInput(t *testing.T) {
	long := strings.Repeat("9", 65)
	var many []string
	for range MaxBatch + 1 {
		many = append(many, `{"meterId":1,"version":"a"}`)
	}
	tests := []struct{ event, wantMsg string }{
		{``, "JSON object"},
		{`null`, "JSON object"},
		{`[{"meterId":1,"version":"a"}]`, "JSON object"},
		{`"hello"`, "JSON object"},
		{`{"meterId":1,`, "not valid JSON"},
		{`{}`, "not a known shape"},
		{`{"foo":"bar"}`, "not a known shape"},
		{`{"meterId": 0, "version": "a"}`, "positive integer"},
		{`{"meterId": -5, "version": "a"}`, "positive integer"},
		{`{"meterId": 1.5, "version": "a"}`, "positive integer"},
		{`{"meterId": 1e3, "version": "a"}`, "positive integer"},
		{`{"meterId": "12a", "version": "a"}`, "positive integer"},
		{`{"meterId": "+12", "version": "a"}`, "positive integer"},
		{`{"meterId": 99999999999999999999, "version": "a"}`, "positive integer"},
		{`{"meterId": true, "version": "a"}`, "positive integer"},
		{`{"meterId": null, "version": "a"}`, "positive integer"},
		{`{"meterId": 1}`, "version is required"},
		{`{"meterId": 1, "version": 2}`, "version must be a string"},
		{`{"meterId": 1, "version": ""}`, "version"},
		{`{"meterId": 1, "version": "` + long + `"}`, "version"},
		{`{"meterId": 1, "version": "../x"}`, "version"},
		{`{"meterId": 1, "version": ".."}`, "version"},
		{`{"meterId": 1, "version": "a/b"}`, "version"},
		{`{"meterId": 1, "version": "a b"}`, "version"},
		{`{"meterId": 1, "version": "é"}`, "version"},
		{`{"meterId": 1, "version": "a", "trackId": "a:b"}`, "track"},
		{`{"meterId": 1, "version": "a", "trackId": "` + strings.Repeat("t", 65) + `"}`, "track"},
		{`{"meterId": 1, "version": "a", "trackId": 5}`, "trackId must be a string"},
		{`{"meterId": 1, "version": "a", "entityIds": "a\r\nX-Evil: 1"}`, "entit"},
		{`{"meters": []}`, "1 to 500"},
		{`{"meters": {}}`, "array"},
		{`{"meters": null}`, "array"},
		{`{"meters": [` + strings.Join(many, ",") + `]}`, "1 to 500"},
		{`{"meters": [{"meterId": 1, "version": "a"}, 5]}`, "meters[1]"},
		{`{"meters": [{"meterId": 1, "version": "a"}, {"meterId": 1}]}`, "meters[1]: invalid request: version is required"},
		{`{"detail-type": "Custom", "source": "com.example", "detail": {}}`, "names no meter"},
		{`{"detail-type": "X", "source": "s"}`, "needs detail-type, source and detail"},
		{`{"detail-type": "X", "source": "s", "detail": "not json"}`, "detail must be a JSON object"},
		{`{"detail-type": "X", "source": "s", "detail": [1]}`, "detail must be a JSON object"},
		{`{"detail-type": 5, "source": "s", "detail": {}}`, "detail-type must be a string"},
		{`{"httpMethod": "POST", "path": "/meters/1/a/run-status", "requestContext": {}}`, "method POST"},
		{`{"httpMethod": "GET", "path": "/meters/1/a/status", "requestContext": {}}`, "is not a route of this function"},
		{`{"httpMethod": "PUT", "path": "/meters/1/a/run-status", "requestContext": {}}`, "method PUT"},
		{`{"httpMethod": "POST", "path": "/meters/1/a/watch", "requestContext": {}}`, "use PUT or DELETE"},
		{`{"httpMethod": "PUT", "path": "/meters/x/a/watch", "requestContext": {}}`, "positive integer"},
		{`{"httpMethod": "DELETE", "path": "/meters", "requestContext": {}}`, "method DELETE"},
		{`{"httpMethod": "GET", "path": "/meters", "requestContext": {}, "queryStringParameters": {"limit": "0"}}`, "limit"},
		{`{"httpMethod": "GET", "path": "/meters", "requestContext": {}, "queryStringParameters": {"limit": "1001"}}`, "limit"},
		{`{"version": "2.0", "rawPath": "/meters", "requestContext": {"http": {"method": "GET"}}, "queryStringParameters": {"nextToken": "!!"}}`, "nextToken"},
		{`{"httpMethod": "GET", "path": "/x", "requestContext": {}, "pathParameters": {"meterId": "1", "version": ".."}}`, "version"},
		{`{"httpMethod": "GET", "path": "/meters/1/a/run-status", "requestContext": {}, "headers": {"Zuora-Track-Id": "bad;id"}}`, "track"},
		{`{"version": "2.0", "rawPath": "/meters/1/%zz/run-status", "requestContext": {"http": {"method": "GET"}}}`, "not escaped correctly"},
		{`{"version": "2.0", "rawPath": "/meters/1/a%2Fb/run-status", "requestContext": {"http": {"method": "GET"}}}`, "version"},
		{`{"version": "1.0", "rawPath": "/meters/1/a/run-status", "requestContext": {}}`, "neither API Gateway payload"},
		{`{"requestContext": 5, "httpMethod": "GET"}`, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.event[:min(len(tt.event), 60)], func(t *testing.T) {
			_, err := Parse([]byte(tt.event))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}

// The watch-list routes, in each payload format.
func TestParseWatchListRoutes(t *testing.T) {
	token := NextToken(memory.Meter{MeterID: 42, Version: "0.0.1"})
	tests := []struct {
		name, event string
		route       Route
		meter       memory.Meter
		page        Page
	}{
		{"http api put", `{"version": "2.0", "routeKey": "PUT /meters/{meterId}/{version}/watch", "rawPath": "/meters/9/0.0.1/watch", "pathParameters": {"meterId": "9", "version": "0.0.1"}, "requestContext": {"http": {"method": "PUT"}}}`,
			RouteWatch, memory.Meter{MeterID: 9, Version: "0.0.1"}, Page{}},
		{"rest delete with stage", `{"httpMethod": "DELETE", "path": "/prod/meters/9/0.0.1/watch", "requestContext": {}}`, RouteUnwatch, memory.Meter{MeterID: 9, Version: "0.0.1"}, Page{}},
		{"list defaults", `{"version": "2.0", "routeKey": "GET /meters", "rawPath": "/meters", "requestContext": {"http": {"method": "GET"}}}`,
			RouteList, memory.Meter{}, Page{Limit: 100}},
		{"list page", `{"httpMethod": "GET", "path": "/meters", "requestContext": {}, "queryStringParameters": {"limit": "2", "nextToken": "` + token + `"}}`,
			RouteList, memory.Meter{}, Page{Limit: 2, After: &memory.Meter{MeterID: 42, Version: "0.0.1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			samePage := r.Page.Limit == tt.page.Limit && (r.Page.After == nil) == (tt.page.After == nil) &&
				(r.Page.After == nil || *r.Page.After == *tt.page.After)
			if r.Reply != ReplyHTTP || r.Route != tt.route || !samePage {
				t.Errorf("request = %+v, want route %d page %+v", r, tt.route, tt.page)
			}
			if tt.route != RouteList && (len(r.Checks) != 1 || r.Checks[0].Meter != tt.meter) {
				t.Errorf("checks = %+v, want %v", r.Checks, tt.meter)
			}
		})
	}
}

// The watch route's body and the mute route.
func TestWatchBodyAndMute(t *testing.T) {
	http := func(method, path, body string, b64 bool) string {
		ev, _ := json.Marshal(map[string]any{"version": "2.0", "rawPath": path, "body": body, "isBase64Encoded": b64,
			"requestContext": map[string]any{"http": map[string]any{"method": method}}})
		return string(ev)
	}
	expect := `{"expect": {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "2h"}}`
	until := "2026-12-08T06:00:00+01:00"
	tests := []struct {
		name, event string
		route       Route
		expect      string
		mute        Mute
		wantErr     string
	}{
		{"watch with an expectation", http("PUT", "/meters/9/0.0.1/watch", expect, false), RouteWatch, `{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "2h"}`, Mute{}, ""},
		{"watch, Base64", http("PUT", "/meters/9/0.0.1/watch", base64.StdEncoding.EncodeToString([]byte(expect)), true), RouteWatch, `{"cron": "0 2 * * *", "timezone": "Europe/Berlin", "grace": "2h"}`, Mute{}, ""},
		{"watch without a body", http("PUT", "/meters/9/0.0.1/watch", "", false), RouteWatch, "", Mute{}, ""},
		{"watch with {}", http("PUT", "/meters/9/0.0.1/watch", "{}", false), RouteWatch, "", Mute{}, ""},
		{"watch with expect null", http("PUT", "/meters/9/0.0.1/watch", `{"expect": null}`, false), RouteWatch, "", Mute{}, ""},
		{"unwatch ignores a body", http("DELETE", "/meters/9/0.0.1/watch", "whatever", false), RouteUnwatch, "", Mute{}, ""},
		{"a typo in the body", http("PUT", "/meters/9/0.0.1/watch", `{"expects": {}}`, false), RouteWatch, "", Mute{}, `unknown field "expects"`},
		{"a body that is not an object", http("PUT", "/meters/9/0.0.1/watch", `[1]`, false), RouteWatch, "", Mute{}, "must be a JSON object"},
		{"mute", http("PUT", "/meters/9/0.0.1/mute", `{"until": "`+until+`", "reason": "maintenance"}`, false), RouteMute, "",
			Mute{Until: time.Date(2026, 12, 8, 5, 0, 0, 0, time.UTC), Reason: "maintenance"}, ""},
		{"unmute", http("DELETE", "/meters/9/0.0.1/mute", "", false), RouteUnmute, "", Mute{}, ""},
		{"mute without until", http("PUT", "/meters/9/0.0.1/mute", `{"reason": "x"}`, false), RouteMute, "", Mute{}, `needs "until"`},
		{"mute until no time", http("PUT", "/meters/9/0.0.1/mute", `{"until": "tomorrow"}`, false), RouteMute, "", Mute{}, "RFC 3339"},
		{"mute for too long a reason", http("PUT", "/meters/9/0.0.1/mute", `{"until": "`+until+`", "reason": "`+strings.Repeat("r", MaxMuteReason+1)+`"}`, false), RouteMute, "", Mute{}, "reason"},
		{"mute with POST", http("POST", "/meters/9/0.0.1/mute", "", false), RouteCheck, "", Mute{}, "use PUT or DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.event))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want ErrInvalid saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.Route != tt.route || string(r.Expect) != tt.expect || !r.Mute.Until.Equal(tt.mute.Until) || r.Mute.Reason != tt.mute.Reason ||
				r.Checks[0].Meter != (memory.Meter{MeterID: 9, Version: "0.0.1"}) {
				t.Errorf("%+v, %v", r, err)
			}
		})
	}
}
