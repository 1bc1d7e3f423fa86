package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// These cover the bench's parsing and arithmetic; the bench itself runs
// with `make bench`, not as a test.

func TestParseBenchRIELog(t *testing.T) {
	log := strings.Join([]string{
		`28 Nov 2026 11:50:47,279 [INFO] (rapid) exec '/x/bootstrap' (cwd=/x, handler=)`,
		`28 Nov 2026 11:50:47,787 [INFO] (rapid) INIT START(type: on-demand, phase: init)`,
		`START RequestId: 987b5d60 Version: $LATEST`,
		`28 Nov 2026 11:50:47,790 [INFO] (rapid) INIT RTDONE(status: success)`,
		`28 Nov 2026 11:50:47,790 [INFO] (rapid) INIT REPORT(durationMs: 2.901000)`,
		`28 Nov 2026 11:50:47,791 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.901000ms)`,
		`{"time":"2026-11-28T11:50:47Z","level":"INFO","message":"check","zuoraLatencyMs":0.3}`,
		`REPORT RequestId: 987b5d60	Init Duration: 0.02 ms	Duration: 3.94 ms	Billed Duration: 4 ms	Memory Size: 128 MB	Max Memory Used: 128 MB	`,
		`28 Nov 2026 11:50:47,799 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.543000ms)`,
	}, "\n")
	rl, err := parseBenchRIELog(log)
	if err != nil {
		t.Fatal(err)
	}
	if rl.init != 2901*time.Microsecond {
		t.Errorf("init = %v, want 2.901ms", rl.init)
	}
	if len(rl.invokes) != 2 || rl.invokes[0] != 901*time.Microsecond || rl.invokes[1] != 543*time.Microsecond {
		t.Errorf("invokes = %v, want [901µs 543µs]", rl.invokes)
	}

	for name, bad := range map[string]string{
		"no init":     `INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.5ms)`,
		"two inits":   "INIT REPORT(durationMs: 1.0)\nINIT REPORT(durationMs: 2.0)",
		"failed call": "INIT REPORT(durationMs: 1.0)\nINVOKE RTDONE(status: error, produced bytes: 0, duration: 0.5ms)",
	} {
		if _, err := parseBenchRIELog(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/example/zuora-runstatus/handler
BenchmarkInvokeDirect-2           	  121333	     10740 ns/op	    2569 B/op	      36 allocs/op
BenchmarkInvokeBatch100-2         	     925	   1370466 ns/op	       100.0 checks/op	  286389 B/op	    3334 allocs/op
BenchmarkOdd                      	     10	   not-a-number ns/op
PASS
ok  	github.com/example/zuora-runstatus/handler	3.724s
`
	res := parseGoBench(out)
	if len(res) != 2 {
		t.Fatalf("parsed %d results, want 2: %+v", len(res), res)
	}
	d, b := res[0], res[1]
	if d.name != "InvokeDirect" || d.iterations != 121333 || d.values["ns/op"] != 10740 || d.values["allocs/op"] != 36 {
		t.Errorf("direct = %+v", d)
	}
	if v, _ := d.perCheck("ns"); v != 10740 {
		t.Errorf("direct ns/check = %v, want ns/op", v)
	}
	if b.name != "InvokeBatch100" {
		t.Errorf("batch name = %q", b.name)
	}
	if v, _ := b.perCheck("allocs"); v != 33.34 {
		t.Errorf("batch allocs/check = %v, want 3334/100", v)
	}
}

func TestAWSOperation(t *testing.T) {
	const auth = "AWS4-HMAC-SHA256 Credential=test/20261128/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	sm, _ := http.NewRequest("POST", "http://127.0.0.1/", nil)
	sm.Header.Set("Authorization", strings.Replace(auth, "%s", "secretsmanager", 1))
	sm.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	if got := awsOperation(sm, []byte(`{"SecretId":"zuora/local"}`)); got != "secretsmanager:GetSecretValue" {
		t.Errorf("secrets manager request = %q", got)
	}
	pub, _ := http.NewRequest("POST", "http://127.0.0.1/", nil)
	pub.Header.Set("Authorization", strings.Replace(auth, "%s", "sns", 1))
	if got := awsOperation(pub, []byte("Action=Publish&Version=2010-03-31&TopicArn=arn")); got != "sns:Publish" {
		t.Errorf("SNS request = %q", got)
	}
	anon, _ := http.NewRequest("GET", "http://127.0.0.1/moto-api/", nil)
	if got := awsOperation(anon, nil); got != "unknown:GET /moto-api/" {
		t.Errorf("unsigned request = %q", got)
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("percentile sorted its argument in place")
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 = %v", got)
	}
	if got := median([]time.Duration{4, 1, 2, 3}); got != 2 {
		t.Errorf("median of 4 = %v, want the mean of the middle two (2.5 → 2)", got)
	}
	if percentile(nil, 50) != 0 || median(nil) != 0 {
		t.Error("empty input should give 0")
	}
}

// TestBenchReportVerdicts checks the goal arithmetic on made-up figures.
func TestBenchReportVerdicts(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	rep := &benchReport{command: "make bench", warmPerStart: 2, repeats: 1, concurrency: 32}
	rep.fn = benchStats{size: 9 << 20, inits: []time.Duration{ms(4)}, firsts: []time.Duration{ms(7)},
		warmRT: []time.Duration{ms(1.4), ms(1.6)}, warmFn: []time.Duration{ms(1), ms(1)}, hwm: 30 << 20,
		warmCalls: benchCalls{zuora: 2}}
	rep.floor = benchStats{size: 6 << 20, inits: []time.Duration{ms(3)}, firsts: []time.Duration{ms(1)},
		warmRT: []time.Duration{ms(1), ms(1)}, warmFn: []time.Duration{ms(0.5), ms(0.5)}, hwm: 7 << 20}
	rep.batches = []benchBatch{{meters: 500, wall: ms(900), maxConcurrent: 32}}
	var buf bytes.Buffer
	rep.write(&buf)
	out := buf.String()
	for _, want := range []string{
		"| arm64 `bootstrap` size | 9.00 MiB | 6.00 MiB | ≤ 10 MiB | PASS |",
		"1.33× | **MISS** |",                  // 4 ms against 1.3 × 3 ms
		"≤ floor + 0.5 ms (1.50 ms) | PASS |", // p50 of 1.4 and 1.6 is 1.4
		"| 30.00 MiB | 7.00 MiB | ≤ 25 MiB | **MISS** |",
		"| Zuora calls per warm invocation | 1 (2/2) | — | exactly 1 | PASS |",
		"| 0.90 s, 32 | — | ≤ 1.50 s, ≤ 32 (configured) | PASS |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
