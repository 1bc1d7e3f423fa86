package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// benchGoResult is one line of `go test -bench` output.
type benchGoResult struct {
	name       string // without the Benchmark prefix and the -GOMAXPROCS suffix
	iterations int64
	values     map[string]float64 // by unit: "ns/op", "B/op", "allocs/op", custom units
}

// runGoBench runs the package's Go benchmarks (and no tests) with -benchmem.
func runGoBench(ctx context.Context, goCmd, pkg string) ([]benchGoResult, error) {
	cmd := exec.CommandContext(ctx, goCmd, "test", "-run", "^$", "-bench", ".", "-benchmem", pkg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench %s: %v\n%s", pkg, err, out)
	}
	res := parseGoBench(string(out))
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench %s printed no benchmark:\n%s", pkg, out)
	}
	return res, nil
}

// parseGoBench reads the result lines of `go test -bench` output:
//
//	BenchmarkInvokeDirect-2   123456   9876 ns/op   2345 B/op   34 allocs/op
func parseGoBench(out string) []benchGoResult {
	var res []benchGoResult
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		r := benchGoResult{name: strings.TrimPrefix(f[0], "Benchmark"), iterations: n, values: map[string]float64{}}
		if i := strings.LastIndexByte(r.name, '-'); i > 0 {
			if _, err := strconv.Atoi(r.name[i+1:]); err == nil {
				r.name = r.name[:i]
			}
		}
		ok := true
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			r.values[f[i+1]] = v
		}
		if ok {
			res = append(res, r)
		}
	}
	return res
}
