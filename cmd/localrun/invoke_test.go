package main

import (
	"bytes"
	"strings"
	"testing"
)

// The RIE's answers below were recorded from aws-lambda-rie with a Go
// bootstrap built on aws-lambda-go.
func TestClassify(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		header        string
		wantType      string
		wantUnhandled bool
	}{
		{"result", 200, `{"meterId":104,"status":"COMPLETED"}`, "", "", false},
		{"result with an errorType field among others", 200, `{"errorType":"x","status":"FAILED"}`, "", "", false},
		{"handled error", 200, `{"errorMessage":"no such meter","errorType":"MeterNotFound"}`, "", "MeterNotFound", false},
		{"handled error, real Lambda", 200, `{"errorMessage":"m","errorType":"ZuoraThrottled"}`, "Handled", "ZuoraThrottled", false},
		{"panic", 502, `{"errorMessage":"boom","errorType":"string","stackTrace":[]}`, "", "string", true},
		{"exit during invoke", 502, `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: exit status 7"}`, "", "Runtime.ExitError", true},
		{"init error posted", 502, `{"errorMessage":"ZUORA_BASE_URL: must be https","errorType":"Runtime.InvalidConfig"}`, "", "Runtime.InvalidConfig", true},
		{"exit during init", 502, ``, "", "Runtime.ExitError", true},
		{"timeout", 200, `Task timed out after 5.00 seconds`, "", "Sandbox.Timedout", true},
		{"string result", 200, `"hello"`, "", "", false},
		{"null result", 200, `null`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reply{StatusCode: tt.status, Body: []byte(tt.body)}
			classify(&r, tt.header)
			if r.ErrorType != tt.wantType || r.Unhandled != tt.wantUnhandled {
				t.Errorf("got type %q unhandled %v, want %q %v", r.ErrorType, r.Unhandled, tt.wantType, tt.wantUnhandled)
			}
			if r.Failed() && r.ErrorMessage == "" {
				t.Error("failed reply without a message")
			}
		})
	}
}

func TestReplyHTTP(t *testing.T) {
	r := Reply{StatusCode: 200, Body: []byte(`{"statusCode":503,"headers":{"content-type":"application/json","Retry-After":"2"},"body":"{\"error\":{\"type\":\"ZuoraThrottled\"}}"}`)}
	h, ok := r.HTTP()
	if !ok || h.StatusCode != 503 {
		t.Fatalf("HTTP() = %+v, %v", h, ok)
	}
	var out bytes.Buffer
	printReply(&out, r)
	for _, want := range []string{"HTTP 503 (application/json) Retry-After: 2", `"type": "ZuoraThrottled"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed reply lacks %q:\n%s", want, out.String())
		}
	}
	// A check result has a numeric statusCode (Zuora's) but no string body.
	direct := Reply{StatusCode: 200, Body: []byte(`{"meterId":1,"statusCode":8,"status":"FAILED"}`)}
	if _, ok := direct.HTTP(); ok {
		t.Error("a direct check result was taken for an HTTP response")
	}
}

func TestPrintAlert(t *testing.T) {
	var out bytes.Buffer
	printAlert(&out, Alert{
		Subject: "Zuora meter 102 version 0.0.1: FAILED",
		Message: "{\n  \"meterId\": 102\n}",
		Attributes: map[string]AlertAttribute{
			"version": {Type: "String", Value: "0.0.1"},
			"meterId": {Type: "Number", Value: "102"},
		},
	})
	want := "- Zuora meter 102 version 0.0.1: FAILED\n" +
		"  attributes: meterId=102 (Number), version=0.0.1 (String)\n" +
		"  message: {\"meterId\":102}\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
