// Package verify is where a scenario's fake server and the tester meet:
// it serves the scenario, points the tester at it with the scenario's
// [client] settings, and compares the report with the scenario's [expect].
package verify

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/internal/spell"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// Options configure a verify run.
type Options struct {
	// Parallel is how many scenarios run at once; default the CPU count.
	Parallel int
	// Timeout bounds one scenario, server start to verdict; default 30s.
	Timeout time.Duration
	// Certs is shared by every scenario's server; default one fresh CA for
	// the run, made once.
	Certs  *server.Certs
	Logger *slog.Logger
}

// Outcome is the part of a report that [expect] speaks about, in a shape
// that go-cmp can diff against the expectation.
type Outcome struct {
	Diagnosis string `json:"diagnosis"`
	Phase     string `json:"phase"`
	// Warnings are the required warnings that were reported.
	Warnings []string `json:"warnings,omitempty"`
	// Forbidden are the warnings [expect] excludes that were reported.
	Forbidden []string `json:"forbidden,omitempty"`
	// Durations gives, per bounded phase, "within bounds" or what it took.
	Durations map[string]string `json:"durations,omitempty"`
	// Product is, for a flavoured scenario, the product the tester named:
	// a flavour must be recognised as what it plays.
	Product string `json:"product,omitempty"`
}

// Result is one scenario's verdict.
type Result struct {
	Scenario string
	Source   string
	Want     Outcome
	Got      Outcome
	Pass     bool
	// Diff is go-cmp's diff of Want and Got, empty on a pass.
	Diff     string
	Duration time.Duration
	Report   *client.Report
	// Err is set when the scenario could not be run at all (its server did
	// not start, or the tester ran past the time bound).
	Err error
	// ServerTail is the end of the server-side transcript.
	ServerTail []string
}

const withinBounds = "within bounds"

// Run verifies each scenario, several at a time, and calls done (from one
// goroutine at a time) as each finishes. It returns the results in the
// order of scs.
func Run(ctx context.Context, scs []*scenarios.Scenario, opts Options, done func(Result)) ([]Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	if opts.Certs == nil {
		certs, err := server.NewCerts()
		if err != nil {
			return nil, fmt.Errorf("making the run's CA: %w", err)
		}
		opts.Certs = certs
	}
	results := make([]Result, len(scs))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = Result{Scenario: sc.Name, Source: sc.Source, Err: ctx.Err()}
				return
			}
			r := One(ctx, sc, opts)
			<-sem
			results[i] = r
			if done != nil {
				mu.Lock()
				done(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results, nil
}

// CheckCodes reports [expect] codes the tester never produces: a typo
// there would otherwise only show as a failed verify.
func CheckCodes(sc *scenarios.Scenario) error {
	return sc.Check(ExpectCodes)
}

// ExpectCodes is the scenarios.Check behind CheckCodes, for lint to run
// with a file's other checks: each unknown code at its own key.
func ExpectCodes(sc *scenarios.Scenario, report scenarios.Report) {
	known := client.Codes()
	check := func(path, code string) {
		if slices.Contains(known, code) {
			return
		}
		hint := ""
		if near := spell.Closest(code, known); near != "" {
			hint = "did you mean " + near + "? "
		}
		report(path, "%q is a code the tester never reports: %s(known: %s)", code, hint, strings.Join(known, ", "))
	}
	check("expect.diagnosis", sc.Expect.Diagnosis)
	for i, w := range sc.Expect.Warnings {
		check(fmt.Sprintf("expect.warnings[%d]", i), w)
	}
	for i, w := range sc.Expect.Absent {
		check(fmt.Sprintf("expect.absent[%d]", i), w)
	}
}

// One verifies a single scenario.
func One(ctx context.Context, sc *scenarios.Scenario, opts Options) Result {
	start := time.Now()
	res := Result{Scenario: sc.Name, Source: sc.Source}
	// A scenario built in Go gets the defaults of a file ([client]
	// trust_ca, [expect] diagnosis) before anything reads them.
	if err := sc.Validate(); err != nil {
		res.Err = err
		return res
	}
	res.Want = want(sc.Expect)
	if err := CheckCodes(sc); err != nil {
		res.Err = err
		return res
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	srv, err := server.New(sc, server.Options{Certs: opts.Certs, Logger: opts.Logger})
	if err != nil {
		res.Err = err
		res.Duration = time.Since(start)
		return res
	}
	defer srv.Close()

	report, err := client.Check(ctx, clientOptions(sc, srv))
	res.Duration = time.Since(start)
	res.ServerTail = tail(srv.Transcript(), 12)
	if err != nil {
		res.Err = fmt.Errorf("tester options from [client]: %w", err)
		return res
	}
	res.Report = report
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("no verdict within %v: the scenario hangs the tester", timeout)
		return res
	}
	res.Got = observe(sc.Expect, report)
	if sc.Flavor != "" {
		res.Want.Product, res.Got.Product = sc.Flavor, report.Server.Product
	}
	if res.Want.Phase == "" {
		res.Want.Phase = res.Got.Phase
	}
	res.Diff = cmp.Diff(res.Want, res.Got)
	res.Pass = res.Diff == ""
	return res
}

func clientOptions(sc *scenarios.Scenario, srv *server.Server) client.Options {
	c := sc.Client
	o := client.Options{
		Addr:          srv.Addr(),
		TLS:           client.TLSMode(c.TLS),
		ServerName:    c.ServerName,
		Insecure:      c.Insecure,
		User:          c.User,
		Password:      c.Password,
		Token:         c.Token,
		Auth:          c.Auth,
		Mailbox:       c.Mailbox,
		StepTimeout:   c.Timeout,
		PhaseTimeouts: c.Timeouts,
		IdleHold:      c.IdleHold,
		Write:         c.Write,
	}
	if *c.TrustCA {
		o.RootCAs = srv.CAPool()
	}
	return o
}

func want(e scenarios.Expect) Outcome {
	o := Outcome{Diagnosis: e.Diagnosis, Phase: e.Phase}
	// observe lists only the warnings it finds: an empty list in [expect]
	// ("warnings = []") must mean what no list means, not a mismatch with
	// the nil observe builds.
	if len(e.Warnings) > 0 {
		o.Warnings = e.Warnings
	}
	if len(e.Durations) > 0 {
		o.Durations = map[string]string{}
		for phase := range e.Durations {
			o.Durations[phase] = withinBounds
		}
	}
	return o
}

func observe(e scenarios.Expect, r *client.Report) Outcome {
	reported := map[string]bool{}
	for _, w := range r.Warnings {
		reported[w.Code] = true
	}
	o := Outcome{Diagnosis: r.Diagnosis.Code, Phase: r.Diagnosis.Phase}
	for _, w := range e.Warnings {
		if reported[w] {
			o.Warnings = append(o.Warnings, w)
		}
	}
	for _, w := range e.Absent {
		if reported[w] {
			o.Forbidden = append(o.Forbidden, w)
		}
	}
	if len(e.Durations) > 0 {
		o.Durations = map[string]string{}
		for phase, b := range e.Durations {
			o.Durations[phase] = judge(r, phase, b)
		}
	}
	return o
}

// judge says whether the step for phase took a time within b.
func judge(r *client.Report, phase string, b scenarios.Bound) string {
	i := slices.IndexFunc(r.Steps, func(s client.Step) bool { return s.Phase == phase })
	if i < 0 {
		return "no " + phase + " step in the report"
	}
	took := r.Steps[i].Duration
	if took < b.Min || (b.Max > 0 && took > b.Max) {
		return fmt.Sprintf("took %v, want %v..%v", took.Round(time.Millisecond), b.Min, b.Max)
	}
	return withinBounds
}

func tail(entries []server.Entry, n int) []string {
	if len(entries) > n {
		entries = entries[len(entries)-n:]
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.String()
	}
	return out
}

// Mismatch names the first field in which want and got differ, as two
// short texts for a one-line verdict ("phase auth" against "phase
// greeting"), so that a failure never reads "expected X got X". Both are
// empty when nothing differs.
func Mismatch(want, got Outcome) (wantText, gotText string) {
	list := func(l []string) string { return "[" + strings.Join(l, ", ") + "]" }
	switch {
	case want.Diagnosis != got.Diagnosis:
		return want.Diagnosis, got.Diagnosis
	case want.Phase != got.Phase:
		return "phase " + want.Phase, "phase " + got.Phase
	case !slices.Equal(want.Warnings, got.Warnings):
		return "warnings " + list(want.Warnings), "warnings " + list(got.Warnings)
	case len(got.Forbidden) > 0:
		return "absent " + list(got.Forbidden), "reported " + list(got.Forbidden)
	}
	for _, phase := range slices.Sorted(maps.Keys(want.Durations)) {
		if g := got.Durations[phase]; g != want.Durations[phase] {
			return phase + " " + want.Durations[phase], phase + " " + g
		}
	}
	return "", ""
}

// Summary counts passes and failures.
func Summary(results []Result) (passed, failed int) {
	for _, r := range results {
		if r.Pass {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}
