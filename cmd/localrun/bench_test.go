package main

import (
	"testing"
	"time"
)

func TestParseRIELog(t *testing.T) {
	log := `02 Dec 2026 06:36:48,608 [INFO] (rapid) INIT START(type: on-demand, phase: init)
02 Dec 2026 06:36:48,612 [INFO] (rapid) INIT REPORT(durationMs: 4.547000)
02 Dec 2026 06:36:48,615 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 2.010000ms)
REPORT RequestId: f0f757f8	Init Duration: 0.18 ms	Duration: 6.27 ms	Billed Duration: 7 ms
02 Dec 2026 06:36:48,699 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.543000ms)`
	init, first, err := parseRIELog(log)
	if err != nil || init != 4547*time.Microsecond || first != 2010*time.Microsecond {
		t.Errorf("got %v, %v, %v; want 4.547ms and 2.01ms", init, first, err)
	}
	for _, bad := range []string{
		"INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.5ms)",
		"INIT REPORT(durationMs: 1.0)\nINVOKE RTDONE(status: error, produced bytes: 0, duration: 0.5ms)",
	} {
		if _, _, err := parseRIELog(bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 0: 1} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if percentile([]time.Duration{3, 1, 2}, 50) != 2 || percentile(nil, 50) != 0 {
		t.Error("median of 3, or of none")
	}
	if ds[0] != 100 {
		t.Error("percentile sorted its argument")
	}
}
