package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// What the pinned RIE logs (internal/lambda/rapid in its source) about one
// start of the runtime and each invocation:
//
//	INIT REPORT(durationMs: 2.901000)
//	INVOKE RTDONE(status: success, produced bytes: 0, duration: 0.901000ms)
//
// INIT REPORT times the init phase as Lambda does: from the RIE starting the
// bootstrap to the runtime's first GET /runtime/invocation/next. INVOKE
// RTDONE times one invocation from the RIE handing over the event to the
// runtime posting its response. (The "Init Duration" of the REPORT line is
// not usable: this RIE starts the init asynchronously and reports ~0 ms.)
var (
	benchInitReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	benchInvokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: ([a-z]+)[^)]*duration: ([0-9.]+)ms\)`)
)

// benchRIELog is what one RIE's log says, in order.
type benchRIELog struct {
	init    time.Duration
	invokes []time.Duration
}

func parseBenchRIELog(log string) (benchRIELog, error) {
	var rl benchRIELog
	inits := 0
	for _, line := range strings.Split(log, "\n") {
		if m := benchInitReport.FindStringSubmatch(line); m != nil {
			d, err := benchMillis(m[1])
			if err != nil {
				return rl, err
			}
			rl.init = d
			inits++
		} else if m := benchInvokeDone.FindStringSubmatch(line); m != nil {
			if m[1] != "success" {
				return rl, fmt.Errorf("the RIE reports an invocation with status %s: %s", m[1], line)
			}
			d, err := benchMillis(m[2])
			if err != nil {
				return rl, err
			}
			rl.invokes = append(rl.invokes, d)
		}
	}
	switch {
	case inits == 0:
		return rl, errors.New("the RIE logged no INIT REPORT line")
	case inits > 1:
		return rl, fmt.Errorf("the RIE logged %d INIT REPORT lines: the runtime was restarted", inits)
	}
	return rl, nil
}

func benchMillis(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("RIE log: %q is not a number of milliseconds", s)
	}
	return time.Duration(f * float64(time.Millisecond)), nil
}
