package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/imapfault/imapfault/recorder"
	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/scenarios"
)

const recordSynopsis = "--upstream HOST:PORT --out FILE [--listen ADDR] [--force] [--anonymize] [--stub-bodies] [--connections N] [--upstream-tls auto|implicit|starttls] [--ca-file FILE] [--server-name NAME] [--insecure-skip-upstream-verify] [--ca-out FILE] [--json] [--ready-file FILE]"

// recordReady is record's machine-readable announcement.
type recordReady struct {
	relayReady
	Out string `json:"out"`
}

// runRecord relays clients to a real server and writes what the server
// did as a replayable scenario when it stops: on SIGINT or SIGTERM, or
// once --connections clients have come and gone.
func runRecord(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "record", recordSynopsis)
	up := addUpstreamFlags(fs)
	out := fs.String("out", "", "the scenario `file` to write when the recording stops (required)")
	force := fs.Bool("force", false, "overwrite --out if it exists")
	anonymize := fs.Bool("anonymize", false, "replace host names and IP addresses in the server's texts, and addresses, names and subjects in messages, with pseudonyms")
	stub := fs.Bool("stub-bodies", false, "replace message bodies with generated text of the same size")
	connections := fs.Int("connections", 0, "stop after `N` client connections have ended (default: at SIGINT or SIGTERM)")
	jsonOut := fs.Bool("json", false, "print the ready line as JSON (address, tls, upstream, out, ca_file)")
	readyFile := fs.String("ready-file", "", "write the JSON ready line to `file` once listening, for harnesses to wait on")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		errorf(e, "record takes no arguments, got %q", fs.Args())
		return exitUsage
	case *up.upstream == "" || *out == "":
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
	opts, certs, code, ok := up.relayOptions(e, scenarios.CertValid, []string{"localhost", "127.0.0.1", "::1"})
	if !ok {
		return code
	}
	rec := recorder.New(recorder.Options{Upstream: *up.upstream, Anonymize: *anonymize, StubBodies: *stub})
	opts.NewObserver = rec.Observer
	opts.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r, err := relay.New(opts)
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
	caPath, cleanup, err := writeCA(*up.caOut, certs.CAPEM())
	if err != nil {
		errorf(e, "writing the CA certificate: %v", err)
		return exitFailure
	}
	defer cleanup()
	ready := recordReady{relayReady: newRelayReady(r, *up.upstream, caPath), Out: *out}
	if err := announce(e, ready, *jsonOut, *readyFile); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	if !*jsonOut {
		fmt.Fprintf(e.stdout, "imapfault: recording %s through %s tls=%s ca=%s; Ctrl-C writes %s\n", ready.Upstream, clientAddr(ready.Address), ready.TLS, caPath, *out)
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
