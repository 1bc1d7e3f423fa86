package trigger

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/zuora-runstatus/internal/memory"
)

// The project's samples, one per trigger (events/), each read as what it is.
func TestSampleEvents(t *testing.T) {
	want := map[string]struct {
		reply  Reply
		source string
		route  Route
		checks int
	}{
		"apigw-http-callout.json":   {ReplyHTTP, "apigw-http", RouteCallout, 0},
		"apigw-http-watch.json":     {ReplyHTTP, "apigw-http", RouteWatch, 1},
		"apigw-http-watchlist.json": {ReplyHTTP, "apigw-http", RouteList, 0},
		"apigw-http.json":           {ReplyHTTP, "apigw-http", RouteCheck, 1},
		"apigw-rest-proxy.json":     {ReplyHTTP, "apigw-rest", RouteCheck, 1},
		"apigw-rest.json":           {ReplyHTTP, "apigw-rest", RouteCheck, 1},
		"batch.json":                {ReplyBatch, "batch", RouteCheck, 7},
		"cloudwatch-widget.json":    {ReplyWidget, "widget", RouteWidget, 0},
		"direct.json":               {ReplySingle, "direct", RouteCheck, 1},
		"eventbridge-custom.json":   {ReplySingle, "eventbridge", RouteCheck, 1},
		"eventbridge-schedule.json": {ReplyBatch, "scheduled", RouteCheck, 0},
		"function-url.json":         {ReplyHTTP, "function-url", RouteCheck, 1},
		"scheduler.json":            {ReplyBatch, "scheduled", RouteCheck, 0},
		"stepfunctions.json":        {ReplySingle, "direct", RouteCheck, 1},
	}
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in events/: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "env.json" {
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no row for it here", name)
			continue
		}
		r, err := Parse(readFile(t, f))
		if err != nil || r.Reply != w.reply || r.Source != w.source || r.Route != w.route || len(r.Checks) != w.checks {
			t.Errorf("%s: %+v, %v; want reply %d source %s route %d, %d checks", name, r, err, w.reply, w.source, w.route, w.checks)
		}
	}
}

// Requests as API Gateway and function URLs really send them
// (testdata/README.md): each is told apart by its shape, refused for a
// path that is not a route, and routed once the path is one.
func TestRealPayloads(t *testing.T) {
	for _, tt := range []struct{ file, source string }{
		{"aws-lambda-go-apigw-request.json", "apigw-rest"},
		{"aws-lambda-go-apigw-v2-request-iam.json", "apigw-http"},
		{"aws-lambda-go-lambda-urls-request.json", "function-url"},
	} {
		raw := readFile(t, filepath.Join("testdata", tt.file))
		r, err := Parse(raw)
		if r.Source != tt.source || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "is not a route") {
			t.Errorf("%s as sent: source %q, %v; want %s refused for its path", tt.file, r.Source, err, tt.source)
		}
		for _, route := range []struct {
			method, path string
			want         Route
		}{
			{"GET", "/prod/meters/7/0.0.1/run-status", RouteCheck},
			{"PUT", "/meters/7/0.0.1/watch", RouteWatch},
			{"GET", "/meters", RouteList},
			{"POST", "/callouts/meter-session", RouteCallout},
		} {
			r, err := Parse(withRoute(t, raw, route.method, route.path))
			if err != nil || r.Source != tt.source || r.Route != route.want ||
				(route.want == RouteCheck || route.want == RouteWatch) && r.Checks[0].Meter != (memory.Meter{MeterID: 7, Version: "0.0.1"}) {
				t.Errorf("%s, %s %s: %+v, %v", tt.file, route.method, route.path, r, err)
			}
		}
	}
}

// withRoute is a request with its method and path set, in both payload
// formats' fields, and no path parameters of another route.
func withRoute(t *testing.T, raw []byte, method, path string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev["body"], ev["isBase64Encoded"] = "", false // a route's own body is its own test's
	rc, _ := ev["requestContext"].(map[string]any)
	if _, rest := ev["httpMethod"]; rest {
		ev["httpMethod"], ev["path"], ev["pathParameters"] = method, path, map[string]any{"proxy": strings.TrimPrefix(path, "/")}
	} else {
		ev["rawPath"], ev["pathParameters"] = path, nil
		http, _ := rc["http"].(map[string]any)
		http["method"], http["path"] = method, path
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzParse: no payload panics Parse, and every error it returns is
// ErrInvalid.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../../events/*.json", "testdata/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"meters":[{"meterId":"1","version":"x"}],"trackId":5}`))
	f.Add([]byte(`{"detail-type":"Scheduled Event","source":"aws.scheduler","detail":"\"{}\""}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := Parse(payload); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Parse(%q): %v, not ErrInvalid", payload, err)
		}
	})
}
