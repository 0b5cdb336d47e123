package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/verify"
)

func runVerify(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "verify", "[flags] [NAME|FILE|GLOB...]")
	parallel := fs.Int("parallel", runtime.NumCPU()*8, "how many scenarios run at once (they mostly wait on timers)")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on one scenario, server start to verdict")
	jsonOut := fs.Bool("json", false, "print every result as JSON instead of lines")
	junit := fs.String("junit", "", "also write JUnit XML to `file`, for CI systems")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	scs, err := selectScenarios(fs.Args())
	if err != nil {
		errorf(e, "%v", err)
		hintf(e, "name built-in scenarios (\"imapfault scenarios\" lists them), scenario files, or globs such as 'auth-*'")
		return exitUsage
	}
	if *parallel < 1 {
		errorf(e, "--parallel must be at least 1")
		return exitUsage
	}

	f, isFile := e.stderr.(*os.File)
	progress := isFile && isTerminal(f)
	n := 0
	start := time.Now()
	results, err := verify.Run(ctx, scs, verify.Options{Parallel: *parallel, Timeout: *timeout}, func(r verify.Result) {
		n++
		if *jsonOut {
			return
		}
		if progress {
			fmt.Fprintf(e.stderr, "\r\033[K")
		}
		printResult(e, r)
		if progress {
			fmt.Fprintf(e.stderr, "[%d/%d] ", n, len(scs))
		}
	})
	if progress {
		fmt.Fprintf(e.stderr, "\r\033[K")
	}
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	passed, failed := verify.Summary(results)
	if ctx.Err() != nil {
		// Scenarios cut short did not fail: their outcome is unknown.
		errorf(e, "interrupted: %d of %d scenarios finished", n, len(scs))
		return exitUnknown
	}
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(jsonResults(results))
	} else {
		fmt.Fprintf(e.stdout, "verified %s in %v\n", plural(len(results), "scenario"), time.Since(start).Round(10*time.Millisecond))
		fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
	}
	if *junit != "" {
		if err := writeJUnit(*junit, results, time.Since(start)); err != nil {
			errorf(e, "writing %s: %v", *junit, err)
			return exitFailure
		}
	}
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// selectScenarios resolves the command line: nothing means every built-in
// scenario; each argument is a built-in name, a file, or a glob of either.
func selectScenarios(args []string) ([]*scenarios.Scenario, error) {
	if len(args) == 0 {
		return scenarios.All()
	}
	var out []*scenarios.Scenario
	seen := map[string]bool{}
	add := func(sc *scenarios.Scenario) {
		if !seen[sc.Source] {
			seen[sc.Source] = true
			out = append(out, sc)
		}
	}
	for _, arg := range args {
		if !strings.ContainsAny(arg, "*?[") {
			sc, err := scenarios.Load(arg)
			if err != nil {
				return nil, err
			}
			add(sc)
			continue
		}
		files, err := filepath.Glob(arg)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", arg, err)
		}
		matched := len(files)
		for _, f := range files {
			sc, err := scenarios.LoadFile(f)
			if err != nil {
				return nil, err
			}
			add(sc)
		}
		for _, name := range scenarios.Names() {
			if ok, _ := path.Match(arg, name); ok {
				sc, err := scenarios.Builtin(name)
				if err != nil {
					return nil, err
				}
				add(sc)
				matched++
			}
		}
		if matched == 0 {
			return nil, fmt.Errorf("%q matches no file and no built-in scenario", arg)
		}
	}
	return out, nil
}

func printResult(e *env, r verify.Result) {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	want, got := verdictTexts(r)
	fmt.Fprintf(e.stdout, "%s  %-28s expected %-28s got %-28s %6.2fs\n", verdict, r.Scenario, want, got, r.Duration.Seconds())
	if r.Pass {
		return
	}
	if r.Err != nil {
		fmt.Fprintf(e.stdout, "      %s: %v\n", r.Source, r.Err)
		return
	}
	fmt.Fprintf(e.stdout, "      %s: [expect] (-want +got):\n", r.Source)
	for _, l := range strings.Split(strings.TrimRight(r.Diff, "\n"), "\n") {
		fmt.Fprintf(e.stdout, "      %s\n", l)
	}
	if r.Report != nil {
		fmt.Fprintf(e.stdout, "      evidence: %s\n", r.Report.Diagnosis.Evidence)
		fmt.Fprintf(e.stdout, "      tester transcript (last lines):\n")
		tr := r.Report.Transcript
		if len(tr) > 8 {
			tr = tr[len(tr)-8:]
		}
		for _, ev := range tr {
			fmt.Fprintf(e.stdout, "        %s %s\n", ev.Dir, ev.Text)
		}
	}
	if len(r.ServerTail) > 0 {
		fmt.Fprintf(e.stdout, "      server transcript (last lines):\n")
		for _, l := range r.ServerTail {
			fmt.Fprintf(e.stdout, "        %s\n", l)
		}
	}
}

// verdictTexts says what was expected and what came, for a verdict line:
// the diagnoses, or on a failure with equal diagnoses the first field
// that differs, so that a FAIL line never shows two equal values.
func verdictTexts(r verify.Result) (want, got string) {
	switch {
	case r.Err != nil:
		return r.Want.Diagnosis, "error"
	case r.Pass:
		return r.Want.Diagnosis, r.Got.Diagnosis
	}
	if w, g := verify.Mismatch(r.Want, r.Got); w != "" || g != "" {
		return w, g
	}
	return r.Want.Diagnosis, r.Got.Diagnosis
}

// jsonResult is the stable JSON shape of one verdict.
type jsonResult struct {
	Scenario   string          `json:"scenario"`
	Source     string          `json:"source"`
	Pass       bool            `json:"pass"`
	Expected   verify.Outcome  `json:"expected"`
	Got        verify.Outcome  `json:"got"`
	Diff       string          `json:"diff,omitempty"`
	Error      string          `json:"error,omitempty"`
	DurationMS float64         `json:"duration_ms"`
	Report     json.RawMessage `json:"report,omitempty"`
}

func jsonResults(results []verify.Result) []jsonResult {
	out := make([]jsonResult, len(results))
	for i, r := range results {
		j := jsonResult{Scenario: r.Scenario, Source: r.Source, Pass: r.Pass, Expected: r.Want, Got: r.Got, Diff: r.Diff,
			DurationMS: float64(r.Duration) / float64(time.Millisecond)}
		if r.Err != nil {
			j.Error = r.Err.Error()
		}
		if r.Report != nil {
			j.Report, _ = json.Marshal(r.Report)
		}
		out[i] = j
	}
	return out
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

func writeJUnit(file string, results []verify.Result, total time.Duration) error {
	_, failed := verify.Summary(results)
	suite := junitSuite{Name: "imapfault verify", Tests: len(results), Failures: failed, Time: total.Seconds()}
	for _, r := range results {
		c := junitCase{Name: r.Scenario, Classname: "imapfault.verify", Time: r.Duration.Seconds()}
		switch {
		case r.Err != nil:
			c.Failure = &junitFailure{Message: r.Err.Error(), Body: r.Source}
		case !r.Pass:
			want, got := verdictTexts(r)
			c.Failure = &junitFailure{Message: fmt.Sprintf("expected %s, got %s", want, got), Body: r.Diff}
		}
		suite.Cases = append(suite.Cases, c)
	}
	b, err := xml.MarshalIndent(suite, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}
