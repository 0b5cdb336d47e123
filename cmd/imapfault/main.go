// Command imapfault plays IMAP failure scenarios on a fake server and
// diagnoses IMAP servers, fake or real.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

const usage = `imapfault: a fake IMAP server that fails on purpose, and a tester that names the failure.

Usage:
  imapfault verify [NAME|FILE|GLOB...] [--json] [--junit FILE]
  imapfault serve [--scenario NAME|FILE]... [--listen ADDR] [--control ADDR] [--json] [-v]
  imapfault scenarios [show NAME | export NAME [DIR]]
  imapfault lint FILE...
  imapfault check [flags] HOST[:PORT] | imap[s]://HOST[:PORT] [--html FILE] [--junit FILE]
  imapfault providers [PRODUCT]
  imapfault proxy --upstream HOST:PORT [--scenario FILE] [--listen ADDR] [--upstream-tls MODE] [--control ADDR] [--json]
  imapfault record --upstream HOST:PORT --out FILE [--listen ADDR] [--anonymize] [--stub-bodies]
  imapfault monitor --config FILE [--listen ADDR] [--once] [--history FILE]
  imapfault history [--history FILE] [--last 30d] [--format text|json|csv]
  imapfault report [--history FILE] --since DATE [--until DATE] [--html FILE] [--json FILE] [--csv FILE]
  imapfault healthcheck URL
  imapfault version

Examples:
  imapfault verify                         # every built-in scenario, tester against fake server
  imapfault verify 'auth-*' mine.toml
  imapfault serve                          # the healthy scenario on 127.0.0.1
  imapfault serve --scenario login-rejected --listen 127.0.0.1:1143
  imapfault serve --json --control 127.0.0.1:8025   # drive it from a test suite (docs/control.md)
  imapfault scenarios show healthy > mine.toml   # works from any folder
  imapfault scenarios export healthy mine/       # also copies its message files
  imapfault lint mine.toml
  imapfault proxy --upstream imap.example.com:993 --scenario faults.toml   # faults in front of a real server (docs/proxy.md)

Exit status: 0 ok, 1 warning, 2 failure, 3 unknown (usage error, internal
error, or interrupted). Flags may come before or after the arguments. Run "imapfault COMMAND -h"
for a command's flags.
`

// Exit codes follow the monitoring-plugins convention so that check can be
// used as a Nagios/Icinga plugin; the other commands use the same numbers.
// 3 is UNKNOWN: the outcome is not known, because the command line was
// wrong, something failed inside, or the run was interrupted (Ctrl-C
// during check or verify; for serve, Ctrl-C is the normal stop).
const (
	exitOK      = 0
	exitWarning = 1
	exitFailure = 2
	exitUnknown = 3
	exitUsage   = exitUnknown
)

// env is what a command may touch of the outside world; tests substitute it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

type command struct {
	name string
	run  func(ctx context.Context, e *env, args []string) int
}

// commands is sorted by name so that "unknown command" can list them.
var commands = []command{
	{"check", runCheck},
	{"healthcheck", runHealthcheck},
	{"history", runHistory},
	{"lint", runLint},
	{"monitor", runMonitor},
	{"providers", runProviders},
	{"proxy", runProxy},
	{"record", runRecord},
	{"report", runReport},
	{"scenarios", runScenarios},
	{"serve", runServe},
	{"verify", runVerify},
	{"version", runVersion},
}

func main() {
	ctx, stop := signalContext(os.Args[1:])
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	errorf(e, "unknown command %q", args[0])
	hintf(e, "commands: %v; run \"imapfault help\" for usage", names)
	return exitUsage
}

func errorf(e *env, format string, args ...any) {
	fmt.Fprintf(e.stderr, "imapfault: error: "+format+"\n", args...)
}

func hintf(e *env, format string, args ...any) {
	fmt.Fprintf(e.stderr, "imapfault: hint: "+format+"\n", args...)
}

// newFlagSet returns a flag set that reports errors instead of exiting, so
// that every command maps a bad flag to exitUsage the same way.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: imapfault %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and returns the exit code to use when parsing did
// not succeed (help asked for, or a bad flag). Flags may come before,
// between or after the positional arguments ("verify mine.toml --json");
// "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := parseInterspersed(fs, args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	default:
		return exitUsage, false
	}
}

// parseInterspersed is fs.Parse, which stops at the first positional
// argument, resumed after each one; fs.Args() then holds the positional
// arguments in order. Every command parses its flags through it.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// version is set with -ldflags "-X main.version=v1.2.3" by release builds.
var version = ""

func runVersion(_ context.Context, e *env, _ []string) int {
	v := version
	if v == "" {
		v = "(devel)"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
			v = info.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "imapfault %s\n", v)
	return exitOK
}
