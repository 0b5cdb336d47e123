package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// graceful names the commands that watch their context to stop cleanly
// on SIGINT or SIGTERM: they close servers, remove temporary files and
// report what they saw. The other commands only read and print: they
// leave both signals at their default, so that timeout(1) and Ctrl-C end
// them at once, whatever they are in the middle of (issue 19: lint caught
// SIGTERM and never looked).
var graceful = map[string]bool{"check": true, "monitor": true, "proxy": true, "record": true, "serve": true, "verify": true}

// signalContext returns the context the command line args runs with: for
// a graceful command, one cancelled by the first SIGINT or SIGTERM, after
// which a second signal ends the process at once.
func signalContext(args []string) (context.Context, context.CancelFunc) {
	if len(args) == 0 || !graceful[args[0]] {
		return context.WithCancel(context.Background())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}
