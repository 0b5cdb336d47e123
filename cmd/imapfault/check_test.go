package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/server"
)

const testPassword = "p4ss-W0rd-secret"

// miniServer is a loopback IMAP server just big enough for the command's
// tests; the client package has the thorough fake.
func miniServer(t *testing.T, caps string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveMini(c, caps)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func serveMini(c net.Conn, caps string) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	send := func(lines ...string) {
		for _, l := range lines {
			c.Write([]byte(l + "\r\n"))
		}
	}
	send("* OK [CAPABILITY " + caps + "] mini ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return
		}
		tag := f[0]
		switch strings.ToUpper(f[1]) {
		case "LOGIN":
			if len(f) < 4 || strings.Trim(f[3], `"`) != testPassword {
				send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
				continue
			}
			send(tag + " OK logged in")
		case "CAPABILITY":
			send("* CAPABILITY "+caps, tag+" OK done")
		case "LIST":
			send(`* LIST () "/" INBOX`, tag+" OK done")
		case "SELECT":
			send("* 0 EXISTS", tag+" OK [READ-WRITE] done")
		case "IDLE":
			send("+ idling")
			r.ReadString('\n')
			send(tag + " OK done")
		case "LOGOUT":
			send("* BYE bye", tag+" OK done")
			return
		default:
			send(tag + " OK done")
		}
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a", "b"},
		{"--tls", "sometimes", "localhost"},
		{"--json", "--nagios", "localhost"},
		{"--timeout", "0s", "localhost"},
		{"--auth", "kerberos", "--user", "a", "localhost"},
		{"--ca-file", "/nonexistent", "localhost"},
		{"--no-such-flag", "localhost"},
	} {
		if r := runCmd(t, nil, append([]string{"check"}, args...)...); r.code != exitUsage || !strings.Contains(r.stderr, "imapfault") {
			t.Errorf("check %q = %d (%q), want %d with a message", args, r.code, r.stderr, exitUsage)
		}
	}
	if r := runCmd(t, nil, "check", "-h"); r.code != exitOK || !strings.Contains(r.stderr, "--password-file") {
		t.Errorf("check -h = %d, %q; want usage with the flags", r.code, r.stderr)
	}
}

func TestCheckNoSecret(t *testing.T) {
	r := runCmd(t, nil, "check", "--user", "alice", "127.0.0.1:1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "IMAPFAULT_PASSWORD") {
		t.Errorf("check without a secret = %d, %q; want %d naming IMAPFAULT_PASSWORD", r.code, r.stderr, exitUsage)
	}
	r = runCmd(t, nil, "check", "--user", "alice", "--auth", "xoauth2", "127.0.0.1:1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "IMAPFAULT_TOKEN") {
		t.Errorf("check xoauth2 without a token = %d, %q; want %d naming IMAPFAULT_TOKEN", r.code, r.stderr, exitUsage)
	}
}

// TestCheckEmptySecretFile: an empty --password-file or --token-file is a
// usage error; it used to send an empty password.
func TestCheckEmptySecretFile(t *testing.T) {
	dir := t.TempDir()
	for _, content := range []string{"", "\n", "\r\nsecret\n"} {
		file := filepath.Join(dir, "pw")
		os.WriteFile(file, []byte(content), 0o600)
		for _, args := range [][]string{
			{"--password-file", file},
			{"--auth", "xoauth2", "--token-file", file},
		} {
			r := runCmd(t, nil, append(append([]string{"check", "--user", "alice"}, args...), "127.0.0.1:1")...)
			if r.code != exitUsage || !strings.Contains(r.stderr, file+": the first line is empty") {
				t.Errorf("check %q with %q in the file = %d, %q; want %d saying the line is empty", args, content, r.code, r.stderr, exitUsage)
			}
		}
	}
}

func TestCheckExitCodes(t *testing.T) {
	addr := miniServer(t, "IMAP4rev1 IDLE")
	disabled := miniServer(t, "IMAP4rev1 LOGINDISABLED")
	pw := map[string]string{"IMAPFAULT_PASSWORD": testPassword}
	wrong := map[string]string{"IMAPFAULT_PASSWORD": "wrong"}
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		code    int
		out     string
	}{
		{"ok probe", nil, []string{"--tls", "none", disabled}, exitOK, "diagnosis: ok"},
		{"warning", pw, []string{"--tls", "none", "--user", "alice", addr}, exitWarning, "warning: security.plaintext_login"},
		{"failure", wrong, []string{"--tls", "none", "--user", "alice", addr}, exitFailure, "diagnosis: auth.failed (phase auth)"},
		{"refused", nil, []string{"--tls", "none", "127.0.0.1:1"}, exitFailure, "tcp.refused"},
		{"starttls missing", nil, []string{addr}, exitFailure, "starttls.unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, tt.environ, append([]string{"check", "--timeout", "1s"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.out) {
				t.Errorf("check %q = %d, want %d with %q; stdout:\n%s\nstderr:\n%s", tt.args, r.code, tt.code, tt.out, r.stdout, r.stderr)
			}
		})
	}
}

func TestCheckOutputs(t *testing.T) {
	addr := miniServer(t, "IMAP4rev1 IDLE")
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--tls", "none", "--user", "alice", "--password-file", pwFile, "--timeout", "1s"}

	r := runCmd(t, nil, append(append([]string{"check"}, base...), "-v", addr)...)
	if !strings.Contains(r.stdout, "-> a1 LOGIN alice ********") || !strings.Contains(r.stdout, "<- * OK") {
		t.Errorf("check -v transcript lacks the masked LOGIN or the greeting:\n%s", r.stdout)
	}

	r = runCmd(t, nil, append(append([]string{"check"}, base...), "--json", addr)...)
	var rep struct {
		Diagnosis struct{ Code, Phase string }
		Warnings  []struct{ Code string }
		Steps     []struct {
			Phase      string
			DurationMS *float64 `json:"duration_ms"`
		}
		Transcript []struct{ Dir, Text string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json output is not JSON (%v):\n%s", err, r.stdout)
	}
	if rep.Diagnosis.Code != client.CodeOK || len(rep.Steps) == 0 || rep.Steps[0].DurationMS == nil || len(rep.Transcript) == 0 {
		t.Errorf("check --json = %+v, want code ok, steps with duration_ms, a transcript", rep)
	}

	r = runCmd(t, nil, append(append([]string{"check"}, base...), "--nagios", addr)...)
	if r.code != exitWarning || !strings.HasPrefix(r.stdout, "IMAP WARNING - security.plaintext_login") || !strings.Contains(r.stdout, "| connect=") {
		t.Errorf("check --nagios = %d, %q; want a WARNING line with perfdata", r.code, r.stdout)
	}

	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, testPassword) {
			t.Errorf("output contains the password:\n%s", out)
		}
	}
	for _, flag := range []string{"-v", "--json"} {
		r := runCmd(t, nil, append(append([]string{"check"}, base...), flag, addr)...)
		if strings.Contains(r.stdout+r.stderr, testPassword) {
			t.Errorf("check %s output contains the password", flag)
		}
	}
}

func TestCheckTargets(t *testing.T) {
	tests := []struct {
		tls, target string
		addr        string
		mode        client.TLSMode
	}{
		{"", "mail.example.com", "mail.example.com:143", client.TLSStartTLS},
		{"", "mail.example.com:993", "mail.example.com:993", client.TLSImplicit},
		{"", "mail.example.com:1143", "mail.example.com:1143", client.TLSStartTLS},
		{"implicit", "mail.example.com", "mail.example.com:993", client.TLSImplicit},
		{"none", "mail.example.com:993", "mail.example.com:993", client.TLSNone},
		{"", "[::1]", "[::1]:143", client.TLSStartTLS},
		{"", "[::1]:993", "[::1]:993", client.TLSImplicit},
		// URLs as users paste them: imaps:// is implicit TLS on 993, it
		// used to be looked up as a host name (dns.nxdomain).
		{"", "imaps://mail.example.com", "mail.example.com:993", client.TLSImplicit},
		{"", "imaps://mail.example.com:993", "mail.example.com:993", client.TLSImplicit},
		{"", "IMAPS://mail.example.com:10993/", "mail.example.com:10993", client.TLSImplicit},
		{"implicit", "imaps://mail.example.com", "mail.example.com:993", client.TLSImplicit},
		{"", "imap://mail.example.com", "mail.example.com:143", client.TLSStartTLS},
		{"none", "imap://mail.example.com:1143", "mail.example.com:1143", client.TLSNone},
		{"", "imap://[::1]:993", "[::1]:993", client.TLSImplicit},
	}
	for _, tt := range tests {
		o, err := checkOptions(&env{getenv: func(string) string { return "" }}, &checkFlags{tls: tt.tls, timeout: time.Second}, tt.target)
		if err != nil || o.Addr != tt.addr || o.TLS != tt.mode {
			t.Errorf("checkOptions(--tls %q, %q) = %q, %q, %v; want %q, %q", tt.tls, tt.target, o.Addr, o.TLS, err, tt.addr, tt.mode)
		}
	}
}

func TestCheckTargetErrors(t *testing.T) {
	tests := []struct {
		flags  checkFlags
		target string
		want   string
	}{
		{checkFlags{}, "https://mail.example.com", `check tests IMAP, not https://`},
		{checkFlags{}, "imaps://", "empty host"},
		{checkFlags{}, ":143", "empty host"},
		{checkFlags{tls: "none"}, "imaps://mail.example.com", "means --tls implicit, but --tls none was given"},
		{checkFlags{}, "imaps://alice:secret@mail.example.com", "a password in the URL would show in the process list"},
		{checkFlags{}, "imap://mail.example.com/Archive", "give a mailbox with --mailbox"},
		{checkFlags{user: "bob"}, "imap://alice@mail.example.com", `names user "alice", but --user "bob" was given`},
	}
	for _, tt := range tests {
		f := tt.flags
		f.timeout = time.Second
		_, err := checkOptions(&env{getenv: func(string) string { return "" }}, &f, tt.target)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkOptions(%q) = %v, want an error containing %q", tt.target, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	// The user in a URL is --user.
	o, err := checkOptions(&env{getenv: func(k string) string { return map[string]string{"IMAPFAULT_PASSWORD": "pw"}[k] }},
		&checkFlags{timeout: time.Second, auth: "login"}, "imaps://alice@mail.example.com")
	if err != nil || o.User != "alice" || o.Password != "pw" {
		t.Errorf("checkOptions(imaps://alice@...) = user %q, %v; want alice with the password from the environment", o.User, err)
	}
}

// TestFlagsAfterArguments: every command takes its flags before, between
// or after its arguments, through the one parseFlags; "--" ends them.
func TestFlagsAfterArguments(t *testing.T) {
	tests := []struct {
		args       []string
		positional []string
		json       bool
		user       string
	}{
		{[]string{"a", "--json"}, []string{"a"}, true, ""},
		{[]string{"--json", "a", "b"}, []string{"a", "b"}, true, ""},
		{[]string{"a", "--user", "alice", "b", "--json"}, []string{"a", "b"}, true, "alice"},
		{[]string{"a", "--", "--json", "b"}, []string{"a", "--json", "b"}, false, ""},
		{[]string{"--user=alice", "a"}, []string{"a"}, false, "alice"},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		fs := newFlagSet(&env{stderr: io.Discard}, "x", "")
		jsonOut := fs.Bool("json", false, "")
		user := fs.String("user", "", "")
		if code, ok := parseFlags(fs, tt.args); !ok {
			t.Fatalf("parseFlags(%q) = %d", tt.args, code)
		}
		if got := fs.Args(); !slices.Equal(got, tt.positional) || *jsonOut != tt.json || *user != tt.user {
			t.Errorf("parseFlags(%q) = %q, json %v, user %q; want %q, %v, %q", tt.args, got, *jsonOut, *user, tt.positional, tt.json, tt.user)
		}
	}
	// End to end: check and verify as users type them.
	if r := runCmd(t, nil, "check", "127.0.0.1:1", "--user", "alice"); r.code != exitUsage || !strings.Contains(r.stderr, "IMAPFAULT_PASSWORD") {
		t.Errorf("check HOST --user alice = %d, %q; want the missing-secret error, as with the flag first", r.code, r.stderr)
	}
	if r := runCmd(t, nil, "verify", "healthy", "--json"); r.code != exitOK || !strings.HasPrefix(r.stdout, "[") {
		t.Errorf("verify healthy --json = %d, %.80q", r.code, r.stdout)
	}
	if r := runCmd(t, nil, "scenarios", "show", "healthy", "--bogus"); r.code != exitUsage || !strings.Contains(r.stderr, "-bogus") {
		t.Errorf("scenarios show healthy --bogus = %d, %q", r.code, r.stderr)
	}
}

// TestInterruptedExitsUnknown: Ctrl-C during check (in every output mode)
// and during verify exits 3, UNKNOWN in the monitoring-plugins convention,
// with check.canceled in check's report.
func TestInterruptedExitsUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, mode := range [][]string{nil, {"--json"}, {"--nagios"}} {
		ctx, cancel := context.WithCancel(context.Background())
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			cancel() // Ctrl-C while the check waits for the greeting
			accepted <- c
		}()
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := run(ctx, e, append(append([]string{"check", "--timeout", "20s"}, mode...), ln.Addr().String()))
		if c, ok := <-accepted; ok {
			c.Close()
		}
		cancel()
		if code != exitUnknown || !strings.Contains(out.String(), "check.canceled") {
			t.Errorf("check %v interrupted = %d, %q; want %d with check.canceled", mode, code, out.String(), exitUnknown)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := run(ctx, e, []string{"verify", "healthy"}); code != exitUnknown || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("verify interrupted = %d, %q; want %d", code, errb.String(), exitUnknown)
	}
}

// TestCheckNamesProvider: against a server playing Gmail that asks for an
// app password, the summary names the server with its evidence, gives the
// likely diagnosis with the text's source and what the wire alone said,
// and the JSON report carries server.product and the recognition.
func TestCheckNamesProvider(t *testing.T) {
	srv := server.NewTestBuiltin(t, "gmail-app-password-required")
	env := map[string]string{"IMAPFAULT_PASSWORD": "correct horse battery staple"}
	args := []string{"check", "--tls", "none", "--user", "alice@example.com", "--timeout", "5s"}
	r := runCmd(t, env, append(args, srv.Addr())...)
	for _, want := range []string{
		"server: Gmail (Gimap) [gmail] (from greeting \"* OK Gimap ready for requests",
		"diagnosis: auth.app_password_required (likely, recognised from the server's text) (phase auth)",
		"recognised: gmail-app-password-required (gmail; source https://github.com/BrianLeishman/go-imap/issues/25)",
		"wire alone: auth.failed",
		"https://support.google.com/accounts/answer/185833",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCmd(t, env, append(append(args, "--json"), srv.Addr())...)
	var rep struct {
		Server    client.ServerInfo
		Diagnosis client.Diagnosis
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json output is not JSON (%v):\n%s", err, r.stdout)
	}
	if rep.Server.Product != "gmail" || !rep.Diagnosis.Likely || rep.Diagnosis.Recognised == nil ||
		rep.Diagnosis.Recognised.WireCode != client.CodeAuthFailed {
		t.Errorf("check --json server = %+v, diagnosis = %+v; want product gmail and a likely recognised diagnosis", rep.Server, rep.Diagnosis)
	}
}

// TestProvidersCommand: the knowledge base is listed, one product is
// shown with its texts and sources, and an unknown one is a usage error.
func TestProvidersCommand(t *testing.T) {
	r := runCmd(t, nil, "providers")
	if r.code != exitOK || !strings.Contains(r.stdout, "gmail") || !strings.Contains(r.stdout, `flavor = "gmail"`) {
		t.Errorf("providers = %d:\n%s", r.code, r.stdout)
	}
	r = runCmd(t, nil, "providers", "gmail")
	if r.code != exitOK || !strings.Contains(r.stdout, "gmail-too-many-connections -> auth.too_many_connections") ||
		!strings.Contains(r.stdout, "source: https://github.com/zone-eu/wildduck/issues/35") {
		t.Errorf("providers gmail = %d:\n%s", r.code, r.stdout)
	}
	r = runCmd(t, nil, "providers", "gmial")
	if r.code != exitUsage || !strings.Contains(r.stderr, `no product "gmial"`) {
		t.Errorf("providers gmial = %d, stderr %q; want a usage error", r.code, r.stderr)
	}
}

func TestCheckThresholds(t *testing.T) {
	disabled := miniServer(t, "IMAP4rev1 LOGINDISABLED")
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"within", []string{"--warning", "total=60", "--critical", "total=120"}, exitOK, "diagnosis: ok"},
		{"warning on total", []string{"--warning", "total=@0:60"}, exitWarning, "threshold (warning): total "},
		{"critical wins", []string{"--warning", "total=@0:60", "--critical", "connect=@0:60"}, exitFailure, "threshold (critical): connect "},
		{"nagios perfdata", []string{"--nagios", "--warning", "total=@0:60,greeting=5"}, exitWarning, "IMAP WARNING - threshold: total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, nil, append(append([]string{"check", "--timeout", "2s", "--tls", "none"}, tt.args...), disabled)...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.out) {
				t.Errorf("check %q = %d, want %d with %q; stdout:\n%s\nstderr:\n%s", tt.args, r.code, tt.code, tt.out, r.stdout, r.stderr)
			}
		})
	}
	r := runCmd(t, nil, "check", "--nagios", "--tls", "none", "--warning", "greeting=5", "--critical", "total=9", disabled)
	if !strings.Contains(r.stdout, ";5;;0") || !strings.Contains(r.stdout, "total=") || !strings.Contains(r.stdout, ";;9;0") {
		t.Errorf("check --nagios perfdata lacks the thresholds: %q", r.stdout)
	}
	for _, bad := range []string{"total", "total=x", "logn=1", "total=5:1", "total=1,total=2"} {
		r := runCmd(t, nil, "check", "--warning", bad, disabled)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--warning") {
			t.Errorf("check --warning %q = %d %q, want a usage error", bad, r.code, r.stderr)
		}
	}
}

// TestCheckHTMLAndJUnit writes both files for a passing and a failing
// check and reads them as a browser and a CI system would.
func TestCheckHTMLAndJUnit(t *testing.T) {
	addr := miniServer(t, "IMAP4rev1 IDLE")
	tests := []struct {
		name     string
		password string
		code     int
		failures int
		diag     string
	}{
		{"ok", testPassword, exitWarning, 0, client.CodeOK},
		{"rejected", "wrong", exitFailure, 1, client.CodeAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			page, junit := filepath.Join(dir, "check.html"), filepath.Join(dir, "check.xml")
			r := runCmd(t, map[string]string{"IMAPFAULT_PASSWORD": tt.password},
				"check", "--tls", "none", "--user", "alice", "--timeout", "1s", "--html", page, "--junit", junit, addr)
			if r.code != tt.code {
				t.Fatalf("check = %d, want %d; stderr %s", r.code, tt.code, r.stderr)
			}
			b, err := os.ReadFile(page)
			if err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "<h1>"+addr+"</h1>") ||
				!strings.Contains(string(b), " "+tt.diag+": "+addr+" (imapfault check)</title>") {
				t.Errorf("--html page (%v) lacks the doctype, the target or %s:\n%.600s", err, tt.diag, b)
			}
			x, err := os.ReadFile(junit)
			if err != nil {
				t.Fatal(err)
			}
			var suite junitSuite
			if err := xml.Unmarshal(x, &suite); err != nil {
				t.Fatalf("--junit is not XML: %v\n%s", err, x)
			}
			var failed []string
			for _, c := range suite.Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name+" "+c.Failure.Message)
				}
			}
			if suite.Tests != len(suite.Cases) || suite.Tests < 3 || suite.Failures != tt.failures || len(failed) != tt.failures ||
				(tt.failures > 0 && !strings.HasPrefix(failed[0], "auth auth.failed: ")) {
				t.Errorf("--junit = %d tests, %d cases, %d failures %q; want one case per step and %d failure(s)",
					suite.Tests, len(suite.Cases), suite.Failures, failed, tt.failures)
			}
		})
	}
	r := runCmd(t, nil, "check", "--tls", "none", "--timeout", "1s", "--html", filepath.Join(t.TempDir(), "no", "such", "dir.html"), addr)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--html") {
		t.Errorf("check --html into a missing folder = %d, %q; want %d naming --html", r.code, r.stderr, exitUsage)
	}
}
