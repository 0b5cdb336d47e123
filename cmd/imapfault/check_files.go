package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/report"
)

// writeCheckFiles writes the files check --html and --junit ask for.
func writeCheckFiles(f *checkFlags, rep *client.Report) error {
	if f.htmlFile != "" {
		if err := writeOutput(f.htmlFile, func(w io.Writer) error { return report.CheckHTML(w, rep) }); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	if f.junitFile != "" {
		if err := writeOutput(f.junitFile, func(w io.Writer) error { return checkJUnit(w, rep) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	return nil
}

// writeOutput renders in memory first, so that a failed render never
// leaves half a file where an old one was.
func writeOutput(file string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}

// checkJUnit writes one check as a JUnit suite with one test case per
// step, so that a CI system shows which step failed and how long each
// took. Warnings go to the step's output: JUnit has no warning state.
func checkJUnit(w io.Writer, rep *client.Report) error {
	suite := junitSuite{Name: "imapfault check " + rep.Target, Tests: len(rep.Steps), Time: rep.Duration.Seconds()}
	seen := map[string]int{}
	for _, st := range rep.Steps {
		seen[st.Phase]++
		name := st.Phase
		if n := seen[st.Phase]; n > 1 {
			name = fmt.Sprintf("%s (%d)", st.Phase, n)
		}
		c := junitCase{Name: name, Classname: "imapfault.check", Time: st.Duration.Seconds(), SystemOut: st.Detail}
		if !st.OK {
			suite.Failures++
			d := rep.Diagnosis
			c.Failure = &junitFailure{Message: d.Code + ": " + d.Evidence, Body: d.Advice}
		}
		var warns []string
		for _, wd := range rep.Warnings {
			if wd.Phase == st.Phase && st.Warning {
				warns = append(warns, "warning "+wd.Code+": "+wd.Evidence+"\n"+wd.Advice)
			}
		}
		if len(warns) > 0 {
			c.SystemOut = strings.Join(append([]string{st.Detail}, warns...), "\n")
		}
		suite.Cases = append(suite.Cases, c)
	}
	b, err := xml.MarshalIndent(suite, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, b)
	return err
}
