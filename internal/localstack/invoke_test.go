package localstack

import "testing"

// The RIE's answers below were recorded from aws-lambda-rie running a Go
// bootstrap built on aws-lambda-go.
func TestReadReply(t *testing.T) {
	tests := []struct {
		name, body    string
		status        int
		wantType      string
		wantUnhandled bool
	}{
		{"result", `{"meterId":104,"status":"COMPLETED"}`, 200, "", false},
		{"result with an errorType among other keys", `{"errorType":"x","status":"FAILED"}`, 200, "", false},
		{"null result", `null`, 200, "", false},
		{"handled error", `{"errorMessage":"no such meter","errorType":"MeterNotFound"}`, 200, "MeterNotFound", false},
		{"panic", `{"errorMessage":"boom","errorType":"string","stackTrace":[]}`, 502, "string", true},
		{"init error posted", `{"errorMessage":"ZUORA_BASE_URL: must be https","errorType":"Runtime.InvalidConfig"}`, 502, "Runtime.InvalidConfig", true},
		{"exit during init", ``, 502, "Runtime.ExitError", true},
		{"timeout", `Task timed out after 5.00 seconds`, 200, "Sandbox.Timedout", true},
	}
	for _, tt := range tests {
		r := readReply(tt.status, []byte(tt.body))
		if r.ErrorType != tt.wantType || r.Unhandled != tt.wantUnhandled || (r.Failed() && r.ErrorMessage == "") {
			t.Errorf("%s: got %q %q unhandled %v, want %q unhandled %v", tt.name, r.ErrorType, r.ErrorMessage, r.Unhandled, tt.wantType, tt.wantUnhandled)
		}
	}
	http := readReply(200, []byte(`{"statusCode":503,"headers":{"Retry-After":"2"},"body":"{}"}`))
	if h, ok := http.HTTP(); !ok || h.StatusCode != 503 || h.Headers["Retry-After"] != "2" {
		t.Errorf("HTTP() = %+v, %v", h, ok)
	}
	if _, ok := readReply(200, []byte(`{"meterId":1,"statusCode":8}`)).HTTP(); ok {
		t.Error("a check result was taken for an HTTP response")
	}
}
