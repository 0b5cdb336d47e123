package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/imapfault/imapfault/control"
	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

const proxySynopsis = "--upstream HOST:PORT [--scenario FILE] [--listen ADDR] [--upstream-tls auto|implicit|starttls] [--ca-file FILE] [--server-name NAME] [--insecure-skip-upstream-verify] [--ca-out FILE] [--control ADDR [--control-token-file FILE]] [--json] [--ready-file FILE] [-v]"

// proxyReady is proxy's machine-readable announcement.
type proxyReady struct {
	relayReady
	Scenario string `json:"scenario,omitempty"`
	Faults   int    `json:"faults"`
	Control  string `json:"control,omitempty"` // the control API's URL
}

// runProxy puts a scenario's faults in front of a real server: the relay
// ends TLS on both sides and the fault layer stands between it and the
// client, acting on the real server's replies as they pass.
func runProxy(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "proxy", proxySynopsis)
	up := addUpstreamFlags(fs)
	scenarioFile := fs.String("scenario", "", "scenario `file` whose [[faults]] the proxy plays (default: none, a plain relay)")
	controlAddr := fs.String("control", "", "serve the control API's fault endpoints (HTTP/JSON, see docs/control.md) on `address`, such as 127.0.0.1:8025: faults added there act on new connections")
	tokenFile := fs.String("control-token-file", "", "require the bearer token in `file` on every control API request")
	jsonOut := fs.Bool("json", false, "print the ready line as JSON (address, tls, upstream, faults, ca_file)")
	readyFile := fs.String("ready-file", "", "write the JSON ready line to `file` once listening, for harnesses to wait on")
	verbose := fs.Bool("v", false, "print the client-side transcript (secrets masked) and the faults that fire to stderr")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(e, "proxy takes no arguments, got %q", fs.Args())
		hintf(e, "give the scenario with --scenario FILE")
		return exitUsage
	}
	if *up.upstream == "" {
		errorf(e, "proxy needs --upstream HOST:PORT, the real server to put faults in front of")
		return exitUsage
	}
	sc := &scenarios.Scenario{Name: "no-faults"}
	var err error
	if *scenarioFile != "" {
		if sc, err = scenarios.LoadFile(*scenarioFile, scenarios.ForProxy); err != nil {
			errorf(e, "%v", err)
			hintf(e, "a proxy scenario holds name, description, layer, [[faults]] and, for the certificate clients see, server.certificate and server.hostnames (docs/proxy.md)")
			return exitUsage
		}
	} else if err := sc.Validate(); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	token, err := readControlToken(*controlAddr, *tokenFile)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	set, err := faults.NewSet(sc.Faults)
	if err != nil {
		errorf(e, "%s: %v", sc.Source, err)
		return exitUsage
	}
	// The scenario's faults with those the control API adds: each new
	// connection takes the faults in force when it is accepted.
	live := faults.NewLive(set)
	opts, certs, code, ok := up.relayOptions(e, sc.Server.Certificate, sc.Server.Hostnames)
	if !ok {
		return code
	}
	connOpts := &faults.ConnOptions{Logger: logger, Relayed: true}
	if *verbose {
		connOpts.Tap = server.NewTranscript(e.stderr).Record
	}
	opts.Logger = logger
	opts.Client = func(ctx context.Context, _ int, raw net.Conn) (relay.ClientConn, error) {
		fc := live.NewConn(raw, connOpts)
		if err := fc.Connect(ctx); err != nil {
			fc.Close()
			return nil, err
		}
		return fc, nil
	}
	r, err := relay.New(opts)
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	defer r.Close()

	caPath, cleanup, err := writeCA(*up.caOut, certs.CAPEM())
	if err != nil {
		errorf(e, "writing the CA certificate: %v", err)
		return exitFailure
	}
	defer cleanup()
	ready := proxyReady{relayReady: newRelayReady(r, *up.upstream, caPath), Faults: len(sc.Faults)}
	if *scenarioFile != "" {
		ready.Scenario = sc.Name
	}
	if *controlAddr != "" {
		target := control.Target{Name: "proxy", Proxy: &control.Proxy{Faults: live, Address: ready.Address, TLS: ready.TLS, Upstream: ready.Upstream, Scenario: sc.Name}}
		stop, url, err := startControl(*controlAddr, token, []control.Target{target}, logger)
		if err != nil {
			errorf(e, "%v", err)
			return exitFailure
		}
		defer stop()
		ready.Control = url
	}
	if err := announce(e, ready, *jsonOut, *readyFile); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if !*jsonOut {
		fmt.Fprintf(e.stdout, "imapfault: proxying %s to %s tls=%s faults=%d ca=%s\n", clientAddr(ready.Address), ready.Upstream, ready.TLS, ready.Faults, caPath)
		if ready.Control != "" {
			fmt.Fprintf(e.stdout, "imapfault: control API on %s (fault endpoints; see %s/openapi.json)\n", ready.Control, ready.Control)
		}
	}
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "imapfault: shutting down")
	return exitOK
}
