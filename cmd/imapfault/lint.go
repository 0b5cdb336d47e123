package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/imapfault/imapfault/internal/tomlpos"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/verify"
)

func runLint(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "lint", "FILE...")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		errorf(e, "lint needs at least one scenario file (or monitor config)")
		hintf(e, "imapfault scenarios show healthy > mine.toml && imapfault lint mine.toml")
		return exitUsage
	}
	bad := 0
	for _, path := range fs.Args() {
		err := lintFile(path)
		if err != nil {
			bad++
			// Scenarios and monitor configs share tomlpos's error list.
			var list tomlpos.ErrorList
			if errors.As(err, &list) {
				for _, e2 := range list {
					fmt.Fprintln(e.stdout, e2)
				}
				continue
			}
			fmt.Fprintf(e.stdout, "%s: %v\n", path, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", path)
	}
	if bad > 0 {
		verb := "have"
		if bad == 1 {
			verb = "has"
		}
		fmt.Fprintf(e.stderr, "imapfault: %d of %s %s problems\n", bad, plural(fs.NArg(), "file"), verb)
		return exitFailure
	}
	return exitOK
}

// plural renders n things: "1 scenario", "87 scenarios".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// lintFile checks a scenario, or a monitor config (a file with [[targets]]
// or [monitor]).
func lintFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if monitor.IsConfig(data) {
		_, err := monitor.ParseConfig(path, data)
		return err
	}
	_, err = scenarios.LoadFile(path, verify.ExpectCodes)
	return err
}
