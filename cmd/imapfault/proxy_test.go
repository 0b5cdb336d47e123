package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// upstreamServer starts a healthy fake server to stand for the real one,
// and returns its address and the path of its CA.
func upstreamServer(t *testing.T) (addr, caFile string) {
	t.Helper()
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		t.Fatal(err)
	}
	return startUpstream(t, sc)
}

func startUpstream(t *testing.T, sc *scenarios.Scenario) (addr, caFile string) {
	t.Helper()
	srv, err := server.New(sc, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	caFile = filepath.Join(t.TempDir(), "upstream-ca.pem")
	if err := os.WriteFile(caFile, srv.Certs().CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.Addr(), caFile
}

// startProxy runs proxy in front of upstream with a scenario file of
// faults (none when empty) and returns its ready line.
func startProxy(t *testing.T, upstream, caFile, faultsTOML string, extra ...string) proxyReady {
	t.Helper()
	args := []string{"proxy", "--json", "--upstream", upstream, "--ca-file", caFile, "--server-name", "localhost"}
	if faultsTOML != "" {
		file := filepath.Join(t.TempDir(), "faults.toml")
		if err := os.WriteFile(file, []byte(faultsTOML), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--scenario", file)
	}
	var ready proxyReady
	startJSON(t, &ready, append(args, extra...)...)
	return ready
}

// TestProxyFaults: faults of every layer, played by the proxy in front of
// a server that is itself healthy, are seen by the tester as it sees them
// on the fake server alone (in the built-in scenario of the same name,
// where there is one).
func TestProxyFaults(t *testing.T) {
	upstream, caFile := upstreamServer(t)
	tests := []struct {
		name   string
		faults string
		args   []string
		want   string // diagnosis code and phase
	}{
		{"healthy", "", nil, "ok/logout"},
		{"bye-greeting", "[[faults]]\ngreeting = \"Too many connections from your IP address\"\nstatus = \"BYE\"\n", nil, "greeting.bye/greeting"},
		{"greeting-timeout", "[[faults]]\nwhen = { phase = \"greeting\" }\ndelay = \"5s\"\n", []string{"--timeout", "1s"}, "greeting.timeout/greeting"},
		{"tls-abort", "[[faults]]\ntls = { handshake = \"abort\" }\n", nil, "tls.handshake_failed/tls"},
		{"expired-cert", "[server]\ncertificate = \"expired\"\n", nil, "tls.cert_expired/tls"},
		{"login-rejected", "[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO [AUTHENTICATIONFAILED] Invalid credentials\"\n", nil, "auth.failed/auth"},
		{"reset-mid-session", "[[faults]]\nwhen = { command = \"SELECT\" }\ndrop = \"rst\"\n", nil, "conn.dropped/select"},
		{"truncated-literal", "[[faults]]\nwhen = { command = \"FETCH\" }\ntruncate = 20\n", nil, "fetch.literal_truncated/fetch"},
		{"idle-dropped", "[[faults]]\nwhen = { phase = \"idle\", after = \"300ms\" }\ndrop = \"fin\"\n", []string{"--idle-hold", "3s"}, "idle.dropped/idle"},
		{"fetch-failed", "[[faults]]\nwhen = { command = \"FETCH\" }\nrespond = \"NO Message file is unreadable\"\n", nil, "fetch.failed/fetch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready := startProxy(t, upstream, caFile, tt.faults)
			if ready.TLS != "starttls" {
				t.Errorf("ready tls = %q, want starttls as the upstream", ready.TLS)
			}
			args := append([]string{"check", "--json", "--user", "alice", "--ca-file", ready.CAFile, clientAddr(ready.Address)}, tt.args...)
			r := runCmd(t, map[string]string{"IMAPFAULT_PASSWORD": "correct horse battery staple"}, args...)
			var rep struct {
				Diagnosis struct{ Code, Phase string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("check output %q (stderr %q): %v", r.stdout, r.stderr, err)
			}
			if got := rep.Diagnosis.Code + "/" + rep.Diagnosis.Phase; got != tt.want {
				t.Errorf("check through the proxy = %s, want %s\n%s", got, tt.want, r.stdout)
			}
		})
	}
}

// TestProxyImplicitTLS: in front of an implicit TLS server the proxy
// speaks implicit TLS too, and a fault still acts inside it.
func TestProxyImplicitTLS(t *testing.T) {
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		t.Fatal(err)
	}
	sc.Server.TLS = scenarios.TLSImplicit
	upstream, caFile := startUpstream(t, sc)
	for _, tt := range []struct{ faults, want string }{
		{"", "ok/logout"},
		{"[[faults]]\nwhen = { command = \"SELECT\" }\nrespond = \"NO [NONEXISTENT] Mailbox does not exist\"\n", "mailbox.inbox_missing/select"},
	} {
		ready := startProxy(t, upstream, caFile, tt.faults, "--upstream-tls", "implicit")
		if ready.TLS != "implicit" {
			t.Errorf("ready tls = %q, want implicit", ready.TLS)
		}
		r := runCmd(t, map[string]string{"IMAPFAULT_PASSWORD": "correct horse battery staple"}, "check", "--json", "--tls", "implicit", "--user", "alice", "--ca-file", ready.CAFile, clientAddr(ready.Address))
		var rep struct {
			Diagnosis struct{ Code, Phase string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("check output %q (stderr %q): %v", r.stdout, r.stderr, err)
		}
		if got := rep.Diagnosis.Code + "/" + rep.Diagnosis.Phase; got != tt.want {
			t.Errorf("check through the implicit TLS proxy = %s, want %s\n%s", got, tt.want, r.stdout)
		}
	}
}

// TestProxyCapabilityFault: a capability fault edits the real server's
// lists as they pass; the tester sees IDLE gone.
func TestProxyCapabilityFault(t *testing.T) {
	upstream, caFile := upstreamServer(t)
	ready := startProxy(t, upstream, caFile, "[[faults]]\ncapabilities = { remove = [\"IDLE\"] }\n")
	r := runCmd(t, map[string]string{"IMAPFAULT_PASSWORD": "correct horse battery staple"}, "check", "--json", "--user", "alice", "--ca-file", ready.CAFile, clientAddr(ready.Address))
	var rep struct {
		Diagnosis struct{ Code string }
		Warnings  []struct{ Code string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check output %q: %v", r.stdout, err)
	}
	var warnings []string
	for _, w := range rep.Warnings {
		warnings = append(warnings, w.Code)
	}
	if rep.Diagnosis.Code != "ok" || !strings.Contains(strings.Join(warnings, " "), "idle.unsupported") {
		t.Errorf("check = %s with warnings %v, want ok with idle.unsupported", rep.Diagnosis.Code, warnings)
	}
}

// TestProxyScenarioErrors: what cannot mean anything in front of a real
// server is an error at its line, before anything listens.
func TestProxyScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.toml")
	src := "name = \"bad\"\n\n[server]\ntls = \"implicit\"\ncertificate = \"expired\"\n\n[[users]]\nname = \"alice\"\npassword = \"pw\"\n\n[[faults]]\nwhen = { command = \"LOGIN\" }\nrespond = \"NO nope\"\n\n[expect]\ndiagnosis = \"auth.failed\"\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, nil, "proxy", "--upstream", "127.0.0.1:1", "--scenario", file)
	if r.code != exitUsage {
		t.Errorf("proxy with a serve-only scenario exited %d, want %d", r.code, exitUsage)
	}
	var got []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, file+":") {
			head, _, _ := strings.Cut(line[strings.Index(line, file):], ": means")
			got = append(got, strings.TrimPrefix(head, dir+"/"))
		}
	}
	want := []string{"bad.toml:4: server.tls", "bad.toml:7: users", "bad.toml:15: expect"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s\nstderr: %s", diff, r.stderr)
	}
}

func TestProxyUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"proxy"}, "needs --upstream"},
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "--upstream-tls", "ssl"}, `"ssl" is not a TLS mode`},
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "extra"}, "takes no arguments"},
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "--ca-file", "/nonexistent/ca.pem"}, "--ca-file"},
		{[]string{"proxy", "--upstream", "127.0.0.1:143", "--scenario", "/nonexistent/faults.toml"}, "faults.toml"},
	}
	for _, tt := range tests {
		r := runCmd(t, nil, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v = %d, %q; want %d and %q", tt.args, r.code, r.stderr, exitUsage, tt.want)
		}
	}
}

// TestProxySTARTTLSInjection: what a client pipelines after STARTTLS is
// dropped, by the relay and by the fault layer alike, never run as if it
// came over TLS.
func TestProxySTARTTLSInjection(t *testing.T) {
	upstream, caFile := upstreamServer(t)
	ready := startProxy(t, upstream, caFile, "")
	pem, err := os.ReadFile(ready.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	raw, err := net.DialTimeout("tcp", ready.Address, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(raw)
	readLine := func(r *bufio.Reader) string {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (after %q)", err, line)
		}
		return line
	}
	readLine(r) // the greeting
	if _, err := raw.Write([]byte("a STARTTLS\r\nb NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	if line := readLine(r); !strings.HasPrefix(line, "a OK") {
		t.Fatalf("STARTTLS answered %q", line)
	}
	tc := tls.Client(raw, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Write([]byte("c NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	tr := bufio.NewReader(tc)
	for {
		line := readLine(tr)
		if strings.HasPrefix(line, "b ") {
			t.Fatalf("the NOOP pipelined after STARTTLS was run: %q", line)
		}
		if strings.HasPrefix(line, "c ") {
			break
		}
	}
}
