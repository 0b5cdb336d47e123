package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/imapfault/imapfault/scenarios"
)

func runScenarios(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "scenarios", "[show NAME | export NAME [DIR] | from-report FILE]")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return listScenarios(e)
	case fs.Arg(0) == "show" && fs.NArg() == 2:
		src, err := scenarios.Standalone(fs.Arg(1))
		if err != nil {
			errorf(e, "%v", err)
			return exitUsage
		}
		e.stdout.Write(src)
		return exitOK
	case fs.Arg(0) == "export" && (fs.NArg() == 2 || fs.NArg() == 3):
		dir := "."
		if fs.NArg() == 3 {
			dir = fs.Arg(2)
		}
		written, err := scenarios.Export(fs.Arg(1), dir)
		if err != nil {
			errorf(e, "%v", err)
			return exitUsage
		}
		for _, f := range written {
			fmt.Fprintln(e.stdout, f)
		}
		return exitOK
	case fs.Arg(0) == "from-report" && fs.NArg() == 2:
		return scenariosFromReport(e, fs.Arg(1))
	default:
		errorf(e, "unexpected arguments %q", fs.Args())
		hintf(e, "imapfault scenarios                    lists the built-in scenarios")
		hintf(e, "imapfault scenarios show NAME          prints one as TOML that works from any folder")
		hintf(e, "imapfault scenarios export NAME [DIR]  writes NAME.toml and its message files into DIR")
		hintf(e, "imapfault scenarios from-report FILE   writes a scenario replaying a check --json report (FILE - is stdin)")
		return exitUsage
	}
}

func listScenarios(e *env) int {
	all, err := scenarios.All()
	if err != nil {
		errorf(e, "built-in scenarios: %v", err)
		return exitFailure
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLAYER\tEXPECTED\tDESCRIPTION")
	for _, sc := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sc.Name, sc.Layer, sc.Expect.Diagnosis, sc.Description)
	}
	tw.Flush()
	return exitOK
}
