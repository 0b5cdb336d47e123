package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An abPair is a comparison of two Go benchmarks run in alternation: A,
// B, then A again as its own A/A control, round after round, so that a
// slow spell of the (shared) machine hits both sides alike, and the A/A
// spread shows how much of the A/B difference is noise.
type abPair struct {
	name   string // what the pair measures, for the report
	a, b   string // -test.bench patterns of the two sides
	aLabel string
	bLabel string
}

// abPairs are the comparisons the targets rest on.
var abPairs = []abPair{
	{name: "fault-layer overhead", a: "^BenchmarkSession$/^plain$", b: "^BenchmarkSession$/^neverfire$", aLabel: "BenchmarkSession/plain", bLabel: "BenchmarkSession/neverfire"},
	{name: "cold start cost", a: "^BenchmarkStartStop$/^healthy$", b: "^BenchmarkStartStopCold$/^healthy$", aLabel: "BenchmarkStartStop/healthy", bLabel: "BenchmarkStartStopCold/healthy"},
}

// abRounds is how many times each side runs; abBenchtime is each run's
// length.
const (
	abRounds    = 5
	abBenchtime = "800ms"
)

// abResult is one pair's runs, in ns/op.
type abResult struct {
	pair    abPair
	a, b    []float64 // each round's A and B
	aa      []float64 // each round's second A
	err     error
	load    string // load average before and after
	started time.Time
}

// ratios are each round's B/A − 1 and A'/A − 1, in percent, sorted.
func (r abResult) ratios() (ab, aa []float64) {
	for i := range r.a {
		ab = append(ab, (r.b[i]/r.a[i]-1)*100)
		aa = append(aa, (r.aa[i]/r.a[i]-1)*100)
	}
	slices.Sort(ab)
	slices.Sort(aa)
	return ab, aa
}

// runAlternated builds the server package's test binary once and runs
// each pair's benchmarks in alternation.
func runAlternated(ctx context.Context, goCmd, dir string) []abResult {
	bin := filepath.Join(dir, "server.test")
	_, out, err := timed(ctx, nil, goCmd, "test", "-c", "-o", bin, "./server/")
	var results []abResult
	for _, p := range abPairs {
		r := abResult{pair: p, load: loadavg(), started: time.Now()}
		if err != nil {
			r.err = fmt.Errorf("go test -c: %v: %s", err, out)
			results = append(results, r)
			continue
		}
		one := func(pattern string) float64 {
			if r.err != nil {
				return 0
			}
			ns, err := benchOnce(ctx, bin, pattern)
			if err != nil {
				r.err = err
			}
			return ns
		}
		for range abRounds {
			r.a = append(r.a, one(p.a))
			r.b = append(r.b, one(p.b))
			r.aa = append(r.aa, one(p.a))
		}
		r.load += " → " + loadavg()
		results = append(results, r)
	}
	return results
}

// benchOnce runs the benchmarks matching pattern once in the server
// package's test binary and returns the ns/op it printed.
func benchOnce(ctx context.Context, bin, pattern string) (float64, error) {
	cmd := []string{"-test.run=^$", "-test.bench=" + pattern, "-test.benchtime=" + abBenchtime, "-test.count=1"}
	_, out, err := timedIn(ctx, "server", bin, cmd...)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %v: %s", bin, strings.Join(cmd, " "), err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(f[0], "Benchmark") && f[3] == "ns/op" {
			return strconv.ParseFloat(f[2], 64)
		}
	}
	return 0, fmt.Errorf("%s: no ns/op in %q", pattern, out)
}

// spread renders sorted values as "median (min to max, n runs)".
func spread(v []float64, format string) string {
	if len(v) == 0 {
		return "–"
	}
	f := func(x float64) string { return fmt.Sprintf(format, x) }
	if len(v) == 1 {
		return f(v[0]) + " (one run)"
	}
	return fmt.Sprintf("%s (%s to %s, %d runs)", f(median(v)), f(v[0]), f(v[len(v)-1]), len(v))
}

// median of sorted values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func sorted(v []float64) []float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s
}
