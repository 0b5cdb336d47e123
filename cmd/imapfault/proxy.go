package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

const proxySynopsis = "--upstream HOST:PORT [--scenario FILE] [--listen ADDR] [--upstream-tls auto|implicit|starttls] [--ca-file FILE] [--server-name NAME] [--insecure-skip-upstream-verify] [--ca-out FILE] [--json] [--ready-file FILE] [-v]"

// proxyReady is proxy's machine-readable announcement.
type proxyReady struct {
	Address  string `json:"address"`
	TLS      string `json:"tls"` // implicit or starttls, as the upstream
	Upstream string `json:"upstream"`
	Scenario string `json:"scenario,omitempty"`
	Faults   int    `json:"faults"`
	CAFile   string `json:"ca_file"`
}

// runProxy puts a scenario's faults in front of a real server: the relay
// ends TLS on both sides and the fault layer stands between it and the
// client, acting on the real server's replies as they pass.
func runProxy(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "proxy", proxySynopsis)
	upstream := fs.String("upstream", "", "the real server as `host:port` (required)")
	scenarioFile := fs.String("scenario", "", "scenario `file` whose [[faults]] the proxy plays (default: none, a plain relay)")
	listen := fs.String("listen", "127.0.0.1:0", "`address` to accept clients on; port 0 picks a free port")
	upTLS := fs.String("upstream-tls", "auto", "how the upstream speaks TLS: `mode` implicit, starttls, or auto (implicit on port 993); the proxy speaks the same to clients")
	caFile := fs.String("ca-file", "", "trust the CA certificates in PEM `file` for the upstream, instead of the system's")
	serverName := fs.String("server-name", "", "the `name` the upstream's certificate must carry (default: the host of --upstream)")
	insecure := fs.Bool("insecure-skip-upstream-verify", false, "accept any certificate from the upstream: anyone on the path can then read the passwords clients send")
	caOut := fs.String("ca-out", "", "write the CA certificate clients must trust to `file` (default: a file in a new temporary folder)")
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
	if *upstream == "" {
		errorf(e, "proxy needs --upstream HOST:PORT, the real server to put faults in front of")
		return exitUsage
	}
	mode, err := relay.ParseTLSMode(*upTLS)
	if err != nil {
		errorf(e, "--upstream-tls: %v", err)
		return exitUsage
	}
	sc := &scenarios.Scenario{Name: "no-faults"}
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
	var pool *x509.CertPool
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			errorf(e, "--ca-file: %v", err)
			return exitUsage
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			errorf(e, "--ca-file %s: no PEM certificate in it", *caFile)
			return exitUsage
		}
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
	certs, err := server.NewCerts()
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	leaf, err := certs.Leaf(sc.Server.Certificate, sc.Server.Hostnames)
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	connOpts := &faults.ConnOptions{Logger: logger, Relayed: true}
	if *verbose {
		connOpts.Tap = server.NewTranscript(e.stderr).Record
	}
	r, err := relay.New(relay.Options{
		Upstream:                   *upstream,
		Listen:                     *listen,
		TLS:                        mode,
		ServerTLS:                  &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		UpstreamCAs:                pool,
		UpstreamServerName:         *serverName,
		InsecureSkipUpstreamVerify: *insecure,
		Logger:                     logger,
		Client: func(ctx context.Context, _ int, raw net.Conn) (relay.ClientConn, error) {
			fc := set.NewConn(raw, connOpts)
			if err := fc.Connect(ctx); err != nil {
				fc.Close()
				return nil, err
			}
			return fc, nil
		},
	})
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	defer r.Close()

	caPath, cleanup, err := writeCA(*caOut, certs.CAPEM())
	if err != nil {
		errorf(e, "writing the CA certificate: %v", err)
		return exitFailure
	}
	defer cleanup()
	tlsName := relay.TLSStartTLS.String()
	if r.Implicit() {
		tlsName = relay.TLSImplicit.String()
	}
	ready := proxyReady{Address: r.Addr(), TLS: tlsName, Upstream: *upstream, Faults: len(sc.Faults), CAFile: caPath}
	if *scenarioFile != "" {
		ready.Scenario = sc.Name
	}
	if err := announce(e, ready, *jsonOut, *readyFile); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if !*jsonOut {
		fmt.Fprintf(e.stdout, "imapfault: proxying %s to %s tls=%s faults=%d ca=%s\n", clientAddr(r.Addr()), *upstream, tlsName, len(sc.Faults), caPath)
	}
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "imapfault: shutting down")
	return exitOK
}
