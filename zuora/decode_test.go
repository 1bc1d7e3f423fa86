package zuora

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorDetails(t *testing.T) {
	tests := []struct {
		name, body, code, msg string
	}{
		{"400 errors[]", `{"success":false,"errors":[{"code":"58730020","message":"bad"},{"code":"2","message":"second"}]}`, "58730020", "bad"},
		{"404 error{}", `{"success":false,"error":{"code":"70002104","message":"Meter version does not exist."}}`, "70002104", "Meter version does not exist."},
		{"500 reasons[]", `{"reasons":[{"code":"SystemError","message":"internal server error"}]}`, "SystemError", "internal server error"},
		{"numeric code", `{"reasons":[{"code":50000040,"message":"x"}]}`, "50000040", "x"},
		{"401 message", `{"message":"Authentication error"}`, "", "Authentication error"},
		{"oauth", `{"error":"invalid_client","error_description":"Bad client credentials"}`, "invalid_client", "Bad client credentials"},
		{"not JSON", `<html>502</html>`, "", ""},
		{"empty", ``, "", ""},
		{"wrong types", `{"errors":"x","reasons":{},"error":3}`, "", ""},
		{"control characters", `{"message":"a\nb\u0000c"}`, "", "a b c"},
	}
	for _, tt := range tests {
		code, msg := errorDetails([]byte(tt.body))
		if code != tt.code || msg != tt.msg {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", tt.name, code, msg, tt.code, tt.msg)
		}
	}
	_, long := errorDetails([]byte(`{"message":"` + strings.Repeat("é", 1000) + `"}`))
	if len(long) > maxMessageLen+len("…") || !utf8.ValidString(long) {
		t.Errorf("long message kept at %d bytes (valid UTF-8: %v)", len(long), utf8.ValidString(long))
	}
}

var decodeSeeds = []string{
	`{"success": true, "data": {"runStatus": 7, "runStatusDescription": "COMPLETED"}}`,
	`{"success":true,"data":{"runStatus":42,"runStatusDescription":"ARCHIVED"}}`,
	`{"success":true,"data":{"runStatus":8}}`,
	`{"success":false,"errors":[{"code":"1","message":"m"}]}`,
	`{"success":true}`,
	`{"success":true,"data":null}`,
	`{"success":true,"data":{"runStatus":null}}`,
	`{"success":true,"data":{"runStatus":"7"}}`,
	`{"success":true,"data":{"runStatus":7.5}}`,
	`{"success":true,"data":{"runStatus":1e3}}`,
	`{"success":true,"data":{"runStatus":99999999999999999999}}`,
	`{"success":true,"data":{"runStatus":-2147483649}}`,
	`{"success":true,"data":{"runStatus":7,"runStatusDescription":7}}`,
	`{"success":"yes","data":{"runStatus":7}}`,
	`{"success":true,"data":[1,2]}`,
	`{"success":true,"data":{"runStatus":7}} trailing`,
	`{"success":true,"data":{"runStatus":7}}{"again":1}`,
	`[]`, `null`, `""`, `7`, ``, `{`, "\xff\xfe", `{"data":{"runStatus":5}}`,
}

func TestDecodeRunStatusSeeds(t *testing.T) {
	ok := map[int]bool{0: true, 1: true, 2: true, 24: true}
	for i, s := range decodeSeeds {
		code, _, err := decodeRunStatus([]byte(s))
		if ok[i] != (err == nil) {
			t.Errorf("seed %d %q: code %d, err %v; want ok=%v", i, s, code, err, ok[i])
		}
	}
}

// FuzzDecodeRunStatus: any body gives a code (which classify names) or an
// *Error of class ErrUnavailable; nothing panics.
func FuzzDecodeRunStatus(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, desc, err := decodeRunStatus(body)
		if err != nil {
			if !errors.Is(err, ErrUnavailable) || err.Class != ErrUnavailable {
				t.Fatalf("error of class %v: %v", err.Class, err)
			}
			if len(err.Message) > maxMessageLen+len("…") {
				t.Fatalf("message of %d bytes", len(err.Message))
			}
			return
		}
		info := lookupStatus(code, desc)
		if !IsStatusName(info.name) {
			t.Fatalf("lookupStatus(%d, %q) = %q", code, desc, info.name)
		}
		if info.name != Unknown && (desc != "" && desc != info.name) {
			t.Fatalf("description %q named %q", desc, info.name)
		}
		code2, msg := errorDetails(body)
		if len(code2) > 64+len("…") || len(msg) > maxMessageLen+len("…") {
			t.Fatalf("errorDetails kept too much")
		}
	})
}

func TestDecodeRunStatusLongDescription(t *testing.T) {
	body := `{"success":true,"data":{"runStatus":42,"runStatusDescription":"` + strings.Repeat("N", 5000) + `\n"}}`
	code, desc, err := decodeRunStatus([]byte(body))
	if err != nil || code != 42 {
		t.Fatalf("got %d, %v", code, err)
	}
	if len(desc) > maxDescriptionLen+len("…") || strings.ContainsAny(desc, "\n") {
		t.Errorf("description kept at %d bytes", len(desc))
	}
}

func TestStatusNamed(t *testing.T) {
	for code, s := range statuses[1:] {
		if got := StatusNamed(s.name); got.Code != code+1 || got.Name != s.name || got.Terminal != s.terminal || got.Failed != s.failed {
			t.Errorf("StatusNamed(%q) = %+v", s.name, got)
		}
	}
	if got := StatusNamed("STOPPING"); got.Name != Unknown || got.Code != 0 || got.Description != "STOPPING" {
		t.Errorf("StatusNamed(STOPPING) = %+v", got)
	}
}
