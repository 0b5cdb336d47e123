//go:build interop

package interop

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/internal/dovecot"
)

// proxied is imapfault proxy as its users run it: a process in front of
// dovecot, announcing itself with --json.
type proxied struct {
	Address string `json:"address"`
	TLS     string `json:"tls"`
	CAFile  string `json:"ca_file"`
	Faults  int    `json:"faults"`
}

func (p proxied) port() string {
	_, port, _ := net.SplitHostPort(p.Address)
	return port
}

// startProxy runs bin proxy in front of upstream (mode: implicit or
// starttls, as the proxy's --upstream-tls) with the faults in faultsTOML, and stops it with SIGTERM when
// the test ends, which it must survive with exit 0.
func startProxy(t *testing.T, bin string, d *dovecot.Dovecot, mode, faultsTOML string) proxied {
	t.Helper()
	dir := t.TempDir()
	upstream := d.Plain
	if mode == "implicit" {
		upstream = d.TLS
	}
	args := []string{"proxy", "--json", "--upstream", upstream, "--upstream-tls", mode, "--ca-file", d.CertFile, "--server-name", "localhost", "--ca-out", filepath.Join(dir, "proxy-ca.pem")}
	if faultsTOML != "" {
		file := filepath.Join(dir, "faults.toml")
		write(t, file, []byte(faultsTOML), 0o644)
		args = append(args, "--scenario", file)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := command(ctx, nil, bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A file, not a buffer: the process writes it while the test reads.
	errFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd.Stderr = errFile
	stderr := func() string {
		b, _ := os.ReadFile(errFile.Name())
		return string(b)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		defer cancel()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("proxy after SIGTERM: %v; stderr:\n%s", err, stderr())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("proxy did not stop on SIGTERM; stderr:\n%s", stderr())
		}
		if t.Failed() {
			t.Logf("proxy stderr:\n%s", stderr())
		}
	})
	var p proxied
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("proxy ready line %q: %v; stderr:\n%s", line, err, stderr())
		}
	case <-time.After(time.Minute):
		t.Fatalf("proxy printed no ready line; stderr:\n%s", stderr())
	}
	if p.TLS != mode {
		t.Errorf("proxy tls = %q, want %q", p.TLS, mode)
	}
	return p
}

// curlProxy fetches path through p with curl, TLS required and the
// proxy's CA trusted.
func curlProxy(t *testing.T, bin string, p proxied, path string) ran {
	scheme := "imap"
	if p.TLS == "implicit" {
		scheme = "imaps"
	}
	args := []string{"--silent", "--show-error", "--max-time", fmt.Sprint(clientTimeout.Seconds()), "--user", testUser + ":" + testPassword, "--cacert", p.CAFile}
	if p.TLS == "starttls" {
		args = append(args, "--ssl-reqd")
	}
	return run(t, nil, bin, append(args, fmt.Sprintf("%s://%s/%s", scheme, p.Address, path))...)
}

// imaplibProxy runs the imaplib script's read session through p.
func imaplibProxy(t *testing.T, python string, p proxied) ran {
	env := []string{"IMAP_USER=" + testUser, "IMAP_PASSWORD=" + testPassword, "IMAP_SUBJECT=interop hello"}
	return run(t, env, python, "testdata/imaplib_client.py", "127.0.0.1", p.port(), p.TLS, p.CAFile, fmt.Sprint(clientTimeout.Seconds()), "read")
}

// TestProxyDovecot: real clients talk to the real Dovecot through
// imapfault proxy, first with no fault (the session works as without the
// proxy, over STARTTLS and implicit TLS), then with one fault of each
// layer added, which each client sees as it would from a server that has
// it.
func TestProxyDovecot(t *testing.T) {
	curlBin := need(t, "curl", "curl", "apt-get install curl")
	python := need(t, "imaplib", "python3", "apt-get install python3")
	d := startDovecot(t, dovecot.Options{})
	bin := buildImapfault(t)

	// The table's names for the proxy's modes.
	transport := map[string]string{"starttls": starttls, "implicit": implicit}
	for _, mode := range []string{"starttls", "implicit"} {
		t.Run("healthy "+mode, func(t *testing.T) {
			p := startProxy(t, bin, d, mode, "")
			res := recordCase(t, "curl", "proxy→dovecot: healthy", transport[mode], "fetch UID 1")
			r := curlProxy(t, curlBin, p, "INBOX;UID=1")
			if r.code != 0 || !strings.Contains(r.stdout, "Subject: interop hello") {
				t.Errorf("curl through the proxy = exit %d, want 0 and the message; output:\n%s", r.code, r.output())
			}
			res.got = fmt.Sprintf("exit %d", r.code)
			res = recordCase(t, "imaplib", "proxy→dovecot: healthy", transport[mode], "login, list, select, fetch")
			r = imaplibProxy(t, python, p)
			if r.code != 0 || !strings.Contains(r.stdout, "logout") {
				t.Errorf("imaplib through the proxy = exit %d, want 0 and logout; output:\n%s", r.code, r.output())
			}
			res.got = fmt.Sprintf("exit %d", r.code)
			// The tester, through the proxy, recognises Dovecot itself
			// from its greeting and ID answer.
			pem, err := os.ReadFile(p.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(pem)
			tlsMode := map[string]client.TLSMode{"starttls": client.TLSStartTLS, "implicit": client.TLSImplicit}[mode]
			rep := check(t, client.Options{Addr: p.Address, TLS: tlsMode, RootCAs: roots, User: testUser, Password: testPassword}, client.CodeOK, "logout")
			if rep.Server.Product != "dovecot" || len(rep.Server.ID) == 0 || rep.Server.ID[0] != (client.IDField{Name: "name", Value: "Dovecot"}) {
				t.Errorf("server through the proxy = %+v, want product dovecot and ID name Dovecot", rep.Server)
			}
		})
	}

	tests := []struct {
		name    string
		mode    string
		faults  string
		curl    failure
		imaplib string // in imaplib's traceback
	}{
		{
			name:    "greeting delay",
			mode:    "starttls",
			faults:  "[[faults]]\nwhen = { phase = \"greeting\" }\ndelay = \"5s\"\n",
			curl:    failure{28, "Operation timed out"},
			imaplib: "TimeoutError: timed out",
		},
		{
			name:    "TLS handshake aborted",
			mode:    "implicit",
			faults:  "[[faults]]\ntls = { handshake = \"abort\" }\n",
			curl:    failure{35, "handshake failure"},
			imaplib: "ssl.SSLError: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE]",
		},
		{
			name:    "expired certificate",
			mode:    "implicit",
			faults:  "[server]\ncertificate = \"expired\"\n",
			curl:    failure{60, "certificate has expired"},
			imaplib: "certificate verify failed: certificate has expired",
		},
		{
			name:    "NO to LOGIN",
			mode:    "starttls",
			faults:  "[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO [AUTHENTICATIONFAILED] Invalid credentials\"\n",
			curl:    failure{67, "Login denied"},
			imaplib: "imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials'",
		},
		{
			name:    "NO to SELECT",
			mode:    "implicit",
			faults:  "[[faults]]\nwhen = { command = \"SELECT\" }\nrespond = \"NO [NONEXISTENT] Mailbox does not exist\"\n",
			curl:    failure{67, "Select failed"},
			imaplib: "imaplib.IMAP4.error: select: NO [b'[NONEXISTENT] Mailbox does not exist']",
		},
		{
			// Dovecot's FETCH literal, cut after 20 bytes.
			name:    "FETCH reply cut",
			mode:    "starttls",
			faults:  "[[faults]]\nwhen = { command = \"FETCH\" }\ntruncate = 20\n",
			curl:    failure{18, "transfer closed with"},
			imaplib: "imaplib.IMAP4.abort: command: FETCH => socket error: EOF",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, bin, d, tc.mode, tc.faults)
			check := func(client string, want failure, r func() ran) {
				res := recordCase(t, client, "proxy→dovecot: "+tc.name, transport[tc.mode], want.String())
				got := r()
				res.got = fmt.Sprintf("exit %d, %s", got.code, evidence(strings.ReplaceAll(got.output(), p.port(), "PORT"), want.text))
				if got.code != want.code || !strings.Contains(got.output(), want.text) {
					t.Errorf("%s through the proxy = exit %d, want %s; output:\n%s", client, got.code, want, got.output())
				}
			}
			check("curl", tc.curl, func() ran { return curlProxy(t, curlBin, p, "INBOX;UID=1") })
			check("imaplib", failure{1, tc.imaplib}, func() ran { return imaplibProxy(t, python, p) })
		})
	}
}
