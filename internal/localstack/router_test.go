package localstack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The router answers the function's Invoke as Lambda does and sends the
// rest to moto: what moto's interpreter turns into a Task's result or error.
func TestRouter(t *testing.T) {
	replies := map[string]Reply{
		"ok":      readReply(200, []byte(`{"meterId":1,"status":"COMPLETED"}`)),
		"handled": readReply(200, []byte(`{"errorMessage":"no such meter","errorType":"MeterNotFound"}`)),
		"timeout": readReply(200, []byte(`Task timed out after 5.00 seconds`)),
	}
	rt, err := newRouter()
	if err != nil {
		t.Fatal(err)
	}
	defer rt.close()
	rt.register("123456789012", func(_ context.Context, name string, payload []byte) (Reply, bool, error) {
		if name != "RunStatusFunction" {
			return Reply{}, false, nil
		}
		return replies[string(payload)], true, nil
	})
	base := "http://127.0.0.1:" + rt.port
	invoke := func(function, payload string) (*http.Response, string) {
		return post(t, base+"/2015-03-31/functions/"+function+"/invocations", payload)
	}
	arn := "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3ARunStatusFunction"
	tests := []struct {
		function, payload   string
		status              int
		functionError, body string // X-Amz-Function-Error, and a part of the body
	}{
		{arn, "ok", 200, "", `"COMPLETED"`},
		{"123456789012:function:RunStatusFunction", "handled", 200, "Unhandled", `"errorType":"MeterNotFound"`},
		{arn, "timeout", 200, "Unhandled", `"errorType":"Sandbox.Timedout"`},
		{"123456789012:function:Other", "ok", 404, "", "Function not found"},
		{"RunStatusFunction", "ok", 404, "", "Function not found"},                       // no account: no stack's
		{"999999999999:function:RunStatusFunction", "ok", 404, "", "Function not found"}, // another account's
	}
	for _, tt := range tests {
		resp, body := invoke(tt.function, tt.payload)
		if resp.StatusCode != tt.status || resp.Header.Get("X-Amz-Function-Error") != tt.functionError || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s: %d %q %s, want %d %q and %s", tt.function, tt.payload, resp.StatusCode,
				resp.Header.Get("X-Amz-Function-Error"), body, tt.status, tt.functionError, tt.body)
		}
	}
	if resp, _ := invoke(arn, "ok"); resp.Header.Get("X-Amzn-Errortype") != "" {
		t.Error("a result carries an error type")
	}
	if resp, _ := invoke("123456789012:function:Other", "ok"); resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" {
		t.Errorf("unknown function: error type %q", resp.Header.Get("X-Amzn-Errortype"))
	}

	if resp, _ := post(t, base+"/", "Action=ListTopics"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("before moto listens: %d, want 503", resp.StatusCode)
	}
	moto := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "moto "+r.URL.Path) }))
	defer moto.Close()
	if err := rt.forwardTo(moto.URL); err != nil {
		t.Fatal(err)
	}
	if _, body := post(t, base+"/some/path", "Action=ListTopics"); body != "moto /some/path" {
		t.Errorf("forwarded: %q", body)
	}
}

func post(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestFunctionRef(t *testing.T) {
	for in, want := range map[string]string{
		"f": ":f", "f:live": ":f", "123456789012:function:f": "123456789012:f", "123456789012:function:f:3": "123456789012:f",
		"arn:aws:lambda:us-east-1:123456789012:function:f": "123456789012:f", "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST": "123456789012:f",
	} {
		if account, name := functionRef(in); account+":"+name != want {
			t.Errorf("functionRef(%q) = %q, %q, want %q", in, account, name, want)
		}
	}
}
