//go:build interop

package interop

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/internal/dovecot"
	"github.com/imapfault/imapfault/scenarios"
)

// endpoint is an imapfault process the clients talk to (record, serve),
// started from the built binary, with its ready line.
type endpoint struct {
	addr, tls, caFile string
	stop              func() ran // SIGINT, then wait: what it printed and its exit code
}

// startImapfault runs bin with args (which ask for --json) and returns
// once its JSON ready line is read.
func startImapfault(t *testing.T, bin string, args ...string) *endpoint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	cmd := command(ctx, nil, bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	var ready struct {
		Address string `json:"address"`
		TLS     string `json:"tls"`
		CAFile  string `json:"ca_file"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(line), &ready)
	}
	ep := &endpoint{addr: ready.Address, tls: ready.TLS, caFile: ready.CAFile}
	stopped := false
	ep.stop = func() ran {
		if stopped {
			return ran{}
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGINT)
		rest, _ := io.ReadAll(r)
		werr := cmd.Wait()
		if ctx.Err() != nil {
			t.Errorf("%s %s did not stop at SIGINT within %s (%v)", filepath.Base(bin), args[0], runLimit, werr)
		}
		cancel()
		res := ran{stdout: string(rest), stderr: stderr.String()}
		if cmd.ProcessState != nil {
			res.code = cmd.ProcessState.ExitCode()
		}
		return res
	}
	t.Cleanup(func() { ep.stop() })
	if err != nil {
		ep.stop()
		t.Fatalf("%s %s: no ready line: %v (%q); stderr:\n%s", filepath.Base(bin), args[0], err, line, stderr.String())
	}
	return ep
}

// at is a client's view of ep: the fake the client helpers take.
func (ep *endpoint) at(t *testing.T, sc *scenarios.Scenario, user, password string) *fake {
	cl := *sc
	cl.Client.User, cl.Client.Password = user, password
	return &fake{sc: &cl, transport: starttls, ca: ep.caFile, dir: t.TempDir(), addr: ep.addr}
}

// TestRecordReplay records each client through imapfault record against
// Dovecot, serves the recording with imapfault serve --scenario, runs the
// same client against it and compares the outcomes; no recorded file
// holds the password, plain or in a SASL blob.
func TestRecordReplay(t *testing.T) {
	d := startDovecot(t, dovecot.Options{})
	bin := buildImapfault(t)
	secrets := []string{testPassword, base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPassword)),
		base64.StdEncoding.EncodeToString([]byte(testUser + "\x00" + testUser + "\x00" + testPassword)), base64.StdEncoding.EncodeToString([]byte(testPassword))}
	dovecotScenario := &scenarios.Scenario{Server: scenarios.Server{TLS: scenarios.TLSStartTLS}}

	tester := func(t *testing.T, f *fake) string {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pem)
		ctx, cancel := context.WithTimeout(context.Background(), runLimit)
		defer cancel()
		rep, err := client.Check(ctx, client.Options{Addr: f.Addr(), TLS: client.TLSStartTLS, ServerName: "localhost", RootCAs: roots,
			User: f.user(), Password: f.password(), StepTimeout: stepTimeout})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Diagnosis.Code + " (" + rep.Diagnosis.Phase + ")"
	}
	curlBin, python, mbsyncBin := need(t, "curl", "curl", "apt-get install curl"), need(t, "imaplib", "python3", "apt-get install python3"),
		need(t, "mbsync", "mbsync", "apt-get install isync")
	clients := []struct {
		name     string
		password string                             // default testPassword
		want     string                             // the outcome, through record and against the replay
		run      func(t *testing.T, f *fake) string // the outcome
	}{
		{name: "imapfault check", want: "ok (logout)", run: tester},
		{name: "curl", want: "exit 0, Subject: interop hello", run: func(t *testing.T, f *fake) string {
			r := curl(t, curlBin, f, "INBOX;UID=1")
			return fmt.Sprintf("exit %d, %s", r.code, firstLine(r.stdout, "Subject:"))
		}},
		{name: "imaplib", want: "exit 0, login,list,select,fetch,logout", run: func(t *testing.T, f *fake) string {
			r := run(t, []string{"IMAP_USER=" + f.user(), "IMAP_PASSWORD=" + f.password(), "IMAP_SUBJECT=interop hello"},
				python, "testdata/imaplib_client.py", "127.0.0.1", f.port(), scenarios.TLSStartTLS, f.ca, "5", "read")
			var steps []string
			for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if fs := strings.Fields(l); len(fs) > 0 {
					steps = append(steps, fs[0])
				}
			}
			return fmt.Sprintf("exit %d, %s", r.code, strings.Join(steps, ","))
		}},
		{name: "mbsync", want: "exit 0, 1 messages", run: func(t *testing.T, f *fake) string {
			maildir := filepath.Join(t.TempDir(), "mail")
			r := mbsync(t, mbsyncBin, f, maildir)
			entries, _ := os.ReadDir(filepath.Join(maildir, "INBOX", "cur"))
			news, _ := os.ReadDir(filepath.Join(maildir, "INBOX", "new"))
			return fmt.Sprintf("exit %d, %d messages", r.code, len(entries)+len(news))
		}},
		// Dovecot's refusal is recorded, and replayed although the replay
		// takes any password. Last: Dovecot then slows logins from the
		// address down.
		{name: "imapfault check, wrong password", password: "not the password", want: "auth.failed (auth)", run: tester},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			column, variant, _ := strings.Cut(c.name, ", ")
			row := "dovecot: recorded, then replayed"
			if variant != "" {
				row += " (" + variant + ")"
			}
			res := recordCase(t, column, row, starttls, c.want)
			out := filepath.Join(t.TempDir(), "session.toml")
			rec := startImapfault(t, bin, "record", "--upstream", d.Plain, "--upstream-tls", "starttls", "--ca-file", d.CertFile,
				"--server-name", "localhost", "--out", out, "--json")
			password := testPassword
			if c.password != "" {
				password = c.password
			}
			through := c.run(t, rec.at(t, dovecotScenario, testUser, password))
			if r := rec.stop(); r.code != 0 {
				t.Fatalf("record exited %d:\n%s", r.code, r.output())
			}
			src, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range append(secrets, password) {
				if strings.Contains(string(src), s) {
					t.Errorf("the recording holds %q:\n%s", s, src)
				}
			}
			if r := run(t, nil, bin, "lint", out); r.code != 0 {
				t.Errorf("lint of the recording = exit %d:\n%s\n%s", r.code, r.output(), src)
			}
			sc, err := scenarios.LoadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			replayed := startImapfault(t, bin, "serve", "--scenario", out, "--listen", "127.0.0.1:0", "--json")
			// The replay takes any password: the client keeps its own.
			again := c.run(t, replayed.at(t, sc, testUser, password))
			replayed.stop()
			res.got = through
			if again != through {
				res.got += "; replayed: " + again
			}
			if through != c.want || again != c.want {
				t.Errorf("%s through record: %q; against the replay: %q; want %q both\nthe recording:\n%s", c.name, through, again, c.want, src)
			}
			t.Logf("%s: %s", c.name, through)
		})
	}
}

// firstLine is the first line of s that starts with prefix, or "".
func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
