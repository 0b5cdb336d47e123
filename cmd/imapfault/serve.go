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

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "serve", "[--scenario NAME|FILE] [--listen ADDR] [--ca-out FILE] [-v]")
	name := fs.String("scenario", "healthy", "built-in scenario `name` or path to a scenario file")
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on; port 0 picks a free port")
	caOut := fs.String("ca-out", "", "write the CA certificate to `file` (default: a file in a new temporary folder)")
	verbose := fs.Bool("v", false, "print the server-side transcript to stderr")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		errorf(e, "serve takes no arguments, got %q", fs.Args())
		hintf(e, "pick the scenario with --scenario NAME")
		return exitUsage
	}
	sc, err := scenarios.Load(*name)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	// server.New warns, through this logger, when the address is beyond
	// loopback.
	opts := server.Options{Addr: *listen, Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if *verbose {
		opts.Transcript = e.stderr
	}
	srv, err := server.New(sc, opts)
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	defer srv.Close()

	caPath := ""
	if certs := srv.Certs(); certs != nil {
		var cleanup func()
		if caPath, cleanup, err = writeCA(*caOut, certs.CAPEM()); err != nil {
			errorf(e, "writing the CA certificate: %v", err)
			return exitFailure
		}
		defer cleanup()
	}
	fmt.Fprintln(e.stdout, serveLine(sc, clientAddr(srv.Addr()), caPath))
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
