package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/replay"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// TestRecord records the tester through record against the healthy fake
// server as a user would (--connections 1 stops it), then: the file
// lints clean, holds no password, serves a replay the tester passes the
// same way, and is not overwritten without --force.
func TestRecord(t *testing.T) {
	upstream := server.NewTestBuiltin(t, "healthy")
	sc := upstream.Scenario()
	dir := t.TempDir()
	ca, out, clientCA := filepath.Join(dir, "upstream-ca.pem"), filepath.Join(dir, "session.toml"), filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, upstream.Certs().CAPEM(), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var errb syncBuf
	e := &env{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"record", "--upstream", upstream.Addr(), "--out", out, "--ca-file", ca, "--server-name", "localhost",
			"--connections", "1", "--json", "--ca-out", clientCA})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no ready line: %v (stderr %q)", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	var ready recordReady
	if err := json.Unmarshal([]byte(line), &ready); err != nil || ready.TLS != "starttls" || ready.CAFile != clientCA {
		cancel()
		t.Fatalf("ready line %q: %v", line, err)
	}
	pemData, _ := os.ReadFile(clientCA)
	opts := client.Options{Addr: ready.Address, TLS: client.TLSStartTLS, ServerName: "localhost", User: sc.Client.User, Password: sc.Client.Password, Mailbox: "INBOX"}
	opts.RootCAs = x509.NewCertPool()
	opts.RootCAs.AppendCertsFromPEM(pemData)
	through, err := client.Check(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("record exited %d: %s", code, errb.String())
		}
	case <-ctx.Done():
		t.Fatal("record did not stop after its one connection")
	}
	src, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte(sc.Client.Password)) {
		t.Errorf("the recording holds the password:\n%s", src)
	}
	if r := runCmd(t, nil, "lint", out); r.code != exitOK {
		t.Errorf("lint of the recording = %d:\n%s%s\n%s", r.code, r.stdout, r.stderr, src)
	}
	rec, err := scenarios.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	replayed := server.NewTest(t, rec)
	opts.Addr, opts.RootCAs, opts.Password = replayed.Addr(), replayed.CAPool(), "anything"
	again, err := client.Check(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if through.Diagnosis.Code != again.Diagnosis.Code || through.Diagnosis.Code != client.CodeOK {
		t.Errorf("through the relay %s, replayed %s; want ok both", through.Diagnosis.Code, again.Diagnosis.Code)
	}
	if !strings.Contains(string(src), "any_password = true") || !strings.Contains(string(src), `password = "`+replay.Password+`"`) {
		t.Errorf("the recording does not log in with any password:\n%s", src)
	}

	r := runCmd(t, nil, "record", "--upstream", upstream.Addr(), "--out", out)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--force") {
		t.Errorf("record over an existing file = %d, stderr %q; want a usage error naming --force", r.code, r.stderr)
	}
}

func TestRecordUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"record"}, "record needs --upstream HOST:PORT"},
		{[]string{"record", "--upstream", "h:1"}, "--out FILE"},
		{[]string{"record", "--upstream", "h:1", "--out", "x.toml", "--connections", "-1"}, "--connections -1"},
		{[]string{"record", "--upstream", "h:1", "--out", "x.toml", "--upstream-tls", "ssl"}, "not a TLS mode"},
		{[]string{"record", "extra"}, "record takes no arguments"},
	} {
		if r := runCmd(t, nil, tt.args...); r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("run(%q) = %d, stderr %q; want a usage error with %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}
