// Command imapbench is the harness behind "make bench": it measures the
// imapfault server beside Dovecot in the same run, the cost of the fault
// layer, idle connections, scenario start-up, the verify suite and the
// tester beside curl, and writes the figures to docs/benchmarks.md.
//
// It is a development tool, not part of the product: run it from the
// repository root, after building bin/imapfault.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/imapfault", "the imapfault `binary` to measure")
	flag.StringVar(&o.goCmd, "go", "go", "the go `command` that runs the Go benchmarks")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "write the report to `file`")
	flag.DurationVar(&o.duration, "duration", 2*time.Second, "length of each load run")
	flag.IntVar(&o.idle, "idle", 10000, "idle connections to hold against imapfault")
	flag.IntVar(&o.dovecotIdle, "dovecot-idle", 500, "idle connections to hold against Dovecot (one process each)")
	flag.Parse()
	// The command as typed: go run names a temporary binary in os.Args[0].
	o.command = strings.Join(append([]string{"go run ./bench/cmd/imapbench"}, os.Args[1:]...), " ")

	// The whole run is bounded: a few minutes when all goes well.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()

	rep, err := run(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapbench: error: %v\n", err)
		os.Exit(1)
	}
	md := rep.markdown()
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "imapbench: error: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(md)
}

type options struct {
	bin, out, goCmd   string
	duration          time.Duration
	idle, dovecotIdle int
	command           string
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "imapbench: "+format+"\n", args...)
}
