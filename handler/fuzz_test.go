package handler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/example/zuora-runstatus/internal/memory"
)

// FuzzInvoke feeds arbitrary bytes to the handler: it never panics, and every
// answer is a result, an HTTP response, or a contract error.
func FuzzInvoke(f *testing.F) {
	files, err := filepath.Glob("../events/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no sample events to seed with: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{`{"meterId":102,"version":"0.0.1"}`, `{"meters":[{"meterId":"1","version":"x"}]}`, `{"detail-type":"Scheduled Event","source":"aws.events","detail":"{}"}`, `[]`, `{"requestContext":{},"httpMethod":"GET"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		h, _, _ := newTestHandler(t, Config{WatchMeters: []memory.Meter{{MeterID: 104, Version: "2.0.0"}}})
		out, err := invoke(h, string(payload))
		if err != nil {
			switch errorType(t, err) {
			case TypeInvalidRequest, TypeMeterNotFound:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("reply is not JSON: %s", out)
		}
	})
}
