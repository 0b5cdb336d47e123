package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

const serveSynopsis = "[--scenario NAME|FILE]... [--listen ADDR]... [--tls none|starttls|implicit] [--ca-out FILE] [--control ADDR [--control-token-file FILE]] [--json] [--ready-file FILE] [-v]"

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "serve", serveSynopsis)
	var names, listens listFlag
	fs.Var(&names, "scenario", "built-in scenario `name` or path to a scenario file; repeat to serve several, each on its own port (default healthy)")
	fs.Var(&listens, "listen", "`address` to listen on; port 0 picks a free port (default 127.0.0.1:0); give one per --scenario, or one with port 0 for all")
	tlsMode := fs.String("tls", "", "replace the scenarios' server.tls with `mode` none, starttls or implicit (plaintext_auth then takes that mode's default)")
	caOut := fs.String("ca-out", "", "write the CA certificate to `file` (default: a file in a new temporary folder)")
	controlAddr := fs.String("control", "", "serve the control API (HTTP/JSON, see docs/control.md) on `address`, such as 127.0.0.1:8025")
	tokenFile := fs.String("control-token-file", "", "require the bearer token in `file` on every control API request")
	jsonOut := fs.Bool("json", false, "print the ready line as JSON (address, ca_file, control, users with passwords)")
	readyFile := fs.String("ready-file", "", "write the JSON ready line to `file` once serving, for harnesses to wait on")
	verbose := fs.Bool("v", false, "print the server-side transcript to stderr")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(e, "serve takes no arguments, got %q", fs.Args())
		hintf(e, "pick the scenario with --scenario NAME")
		return exitUsage
	}
	plan, err := planServe(names, listens, *tlsMode, *controlAddr, *tokenFile)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// One CA for every scenario, and for any the control API switches to
	// later, so that clients trust one file.
	certs, err := server.NewCerts()
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	var servers []*server.Server
	defer func() {
		for _, srv := range servers {
			srv.Close()
		}
	}()
	for i, sc := range plan.scenarios {
		// server.New warns, through this logger, when the address is
		// beyond loopback.
		opts := server.Options{Addr: plan.listens[i], Logger: logger, Certs: certs}
		if *verbose {
			opts.Transcript = e.stderr
		}
		srv, err := server.New(sc, opts)
		if err != nil {
			errorf(e, "%v", err)
			return exitFailure
		}
		servers = append(servers, srv)
	}

	caPath, cleanup, err := writeCA(*caOut, certs.CAPEM())
	if err != nil {
		errorf(e, "writing the CA certificate: %v", err)
		return exitFailure
	}
	defer cleanup()
	ready := readyLine{CAFile: caPath}
	for i, srv := range servers {
		ready.Servers = append(ready.Servers, readyServer{Name: plan.names[i], Address: srv.Addr(), TLS: srv.Scenario().Server.TLS, Scenario: srv.Scenario().Name, Users: usersOf(srv.Scenario())})
	}
	if plan.controlAddr != "" {
		stop, url, err := startControl(plan.controlAddr, plan.token, serverTargets(plan.names, servers), logger)
		if err != nil {
			errorf(e, "%v", err)
			return exitFailure
		}
		defer stop()
		ready.Control = url
	}
	ready.fillFirst()
	if err := announce(e, ready, *jsonOut, *readyFile); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if !*jsonOut {
		for _, srv := range servers {
			fmt.Fprintln(e.stdout, serveLine(srv.Scenario(), clientAddr(srv.Addr()), caPath))
		}
		if ready.Control != "" {
			fmt.Fprintf(e.stdout, "imapfault: control API on %s (see %s/openapi.json)\n", ready.Control, ready.Control)
		}
	}
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "imapfault: shutting down")
	return exitOK
}

// serveLine is the one line a user (or a script) needs to connect.
func serveLine(sc *scenarios.Scenario, addr, caPath string) string {
	line := fmt.Sprintf("imapfault: serving %q on %s tls=%s", sc.Name, addr, sc.Server.TLS)
	if len(sc.Users) > 0 {
		u := sc.Users[0]
		line += fmt.Sprintf(" user=%s password=%q", u.Name, u.Password)
	}
	if caPath != "" {
		line += " ca=" + caPath
	}
	return line
}

// clientAddr is the address to give clients: on loopback, localhost and
// the port, since the certificate names localhost and clients that check
// it (mbsync, fetchmail) compare it with the name they were given, not
// with an address.
func clientAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return addr
	}
	return net.JoinHostPort("localhost", port)
}

// writeCA writes the CA certificate to path, or to a new temporary folder
// when path is empty; cleanup removes that folder (a path the user chose
// is theirs to keep).
func writeCA(path string, pem []byte) (string, func(), error) {
	cleanup := func() {}
	if path == "" {
		dir, err := os.MkdirTemp("", "imapfault-")
		if err != nil {
			return "", cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		path = filepath.Join(dir, "ca.pem")
	}
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		cleanup()
		return "", func() {}, err
	}
	return path, cleanup, nil
}
