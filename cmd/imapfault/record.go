package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/imapfault/imapfault/recorder"
	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

const recordSynopsis = "--upstream HOST:PORT --out FILE [--listen ADDR] [--force] [--anonymize] [--stub-bodies] [--connections N] [--upstream-tls auto|implicit|starttls] [--ca-file FILE] [--server-name NAME] [--insecure-skip-upstream-verify] [--ca-out FILE] [--json] [--ready-file FILE]"

// recordReady is record's machine-readable announcement.
type recordReady struct {
	Address  string `json:"address"`
	TLS      string `json:"tls"` // implicit or starttls, as the upstream
	Upstream string `json:"upstream"`
	Out      string `json:"out"`
	CAFile   string `json:"ca_file"`
}

// runRecord relays clients to a real server and writes what the server
// did as a replayable scenario when it stops: on SIGINT or SIGTERM, or
// once --connections clients have come and gone.
func runRecord(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "record", recordSynopsis)
	upstream := fs.String("upstream", "", "the real server as `host:port` (required)")
	out := fs.String("out", "", "the scenario `file` to write when the recording stops (required)")
	listen := fs.String("listen", "127.0.0.1:0", "`address` to accept clients on; port 0 picks a free port")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	anonymize := fs.Bool("anonymize", false, "replace host names and IP addresses in the server's texts, and addresses, names and subjects in messages, with pseudonyms")
	stub := fs.Bool("stub-bodies", false, "replace message bodies with generated text of the same size")
	connections := fs.Int("connections", 0, "stop after `N` client connections have ended (default: at SIGINT or SIGTERM)")
	upTLS := fs.String("upstream-tls", "auto", "how the upstream speaks TLS: `mode` implicit, starttls, or auto (implicit on port 993); clients are spoken to the same way")
	caFile := fs.String("ca-file", "", "trust the CA certificates in PEM `file` for the upstream, instead of the system's")
	serverName := fs.String("server-name", "", "the `name` the upstream's certificate must carry (default: the host of --upstream)")
	insecure := fs.Bool("insecure-skip-upstream-verify", false, "accept any certificate from the upstream: anyone on the path can then read the passwords clients send")
	caOut := fs.String("ca-out", "", "write the CA certificate clients must trust to `file` (default: a file in a new temporary folder)")
	jsonOut := fs.Bool("json", false, "print the ready line as JSON (address, tls, upstream, out, ca_file)")
	readyFile := fs.String("ready-file", "", "write the JSON ready line to `file` once listening, for harnesses to wait on")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		errorf(e, "record takes no arguments, got %q", fs.Args())
		return exitUsage
	case *upstream == "" || *out == "":
		errorf(e, "record needs --upstream HOST:PORT, the real server, and --out FILE, where the scenario goes")
		hintf(e, "imapfault record --upstream imap.example.com:993 --listen 127.0.0.1:1993 --out session.toml")
		return exitUsage
	case *connections < 0:
		errorf(e, "--connections %d: want a count of connections, or 0 to stop at a signal", *connections)
		return exitUsage
	}
	if !*force {
		if _, err := os.Stat(*out); err == nil {
			errorf(e, "%s exists: give --force to overwrite it, or another --out", *out)
			return exitUsage
		}
	}
	mode, err := relay.ParseTLSMode(*upTLS)
	if err != nil {
		errorf(e, "--upstream-tls: %v", err)
		return exitUsage
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
	certs, err := server.NewCerts()
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	leaf, err := certs.Leaf(scenarios.CertValid, []string{"localhost", "127.0.0.1", "::1"})
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	rec := recorder.New(recorder.Options{Upstream: *upstream, Anonymize: *anonymize, StubBodies: *stub})
	r, err := relay.New(relay.Options{
		Upstream:                   *upstream,
		Listen:                     *listen,
		TLS:                        mode,
		ServerTLS:                  &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12},
		UpstreamCAs:                pool,
		UpstreamServerName:         *serverName,
		InsecureSkipUpstreamVerify: *insecure,
		NewObserver:                rec.Observer,
		Logger:                     slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	closed := false
	defer func() {
		if !closed {
			r.Close()
		}
	}()
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
	if err := announce(e, recordReady{Address: r.Addr(), TLS: tlsName, Upstream: *upstream, Out: *out, CAFile: caPath}, *jsonOut, *readyFile); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if !*jsonOut {
		fmt.Fprintf(e.stdout, "imapfault: recording %s through %s tls=%s ca=%s; Ctrl-C writes %s\n", *upstream, clientAddr(r.Addr()), tlsName, caPath, *out)
	}
	if *connections > 0 {
		_ = rec.WaitClosed(ctx, *connections) // or a signal first: write what came
	} else {
		<-ctx.Done()
	}
	closed = true
	r.Close()
	src, err := rec.Scenario()
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if err := writeNew(*out, src, *force); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	fmt.Fprintf(e.stderr, "imapfault: wrote %s (%d connections); serve it with: imapfault serve --scenario %s\n", *out, rec.Connections(), *out)
	return exitOK
}

// writeNew writes data to path whole or not at all: through a temporary
// file in the same folder, renamed over path with force, or linked to it
// only if path does not exist (another writer, or the user, may have
// made it since the start).
func writeNew(path string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".record-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if force {
		return os.Rename(tmp.Name(), path)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s appeared while recording: give --force to overwrite it", path)
		}
		return err
	}
	return nil
}
