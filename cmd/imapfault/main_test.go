package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Every command must leave no goroutine behind when it returns: serve's
// server, check's sessions, verify's runs.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
	}
	goleak.VerifyTestMain(m)
}

// childEnv makes the test binary run main instead of the tests, so that a
// test can signal a real imapfault process.
const childEnv = "IMAPFAULT_TEST_RUN_MAIN"

type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command line as main would, with the given environment
// and captured output, bounded in time.
func runCmd(t *testing.T, environ map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return environ[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, e, args)
	return result{code, out.String(), errb.String()}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{nil, exitUsage, "Usage:"},
		{[]string{"frobnicate"}, exitUsage, `imapfault: error: unknown command "frobnicate"`},
		{[]string{"serve", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--scenario", "no-such-scenario"}, exitUsage, `no built-in scenario "no-such-scenario"`},
		{[]string{"scenarios", "show"}, exitUsage, "imapfault: hint:"},
		{[]string{"scenarios", "show", "nope"}, exitUsage, `no built-in scenario "nope"`},
		{[]string{"lint"}, exitUsage, "lint needs at least one scenario file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCmd(t, nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestScenariosListAndShow(t *testing.T) {
	r := runCmd(t, nil, "scenarios")
	if r.code != exitOK || !regexp.MustCompile(`(?m)^healthy\s+none\s+ok\s+A well-behaved`).MatchString(r.stdout) {
		t.Errorf("scenarios = %d, %q", r.code, r.stdout)
	}
	r = runCmd(t, nil, "scenarios", "show", "healthy")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, `name = "healthy"`) {
		t.Errorf("scenarios show healthy = %d, %.60q", r.code, r.stdout)
	}
}

// TestLint copies a built-in scenario as a user would, lints it, breaks it
// and lints it again.
func TestLint(t *testing.T) {
	dir := t.TempDir()
	shown := runCmd(t, nil, "scenarios", "show", "healthy")
	good := filepath.Join(dir, "good.toml")
	// The copy names no message files: they live beside the built-ins.
	src := strings.ReplaceAll(shown.stdout, `files = ["messages/*.eml"]`, "")
	os.WriteFile(good, []byte(src), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(strings.Replace(src, `tls = "starttls"`, `tls = "ssl"`, 1)), 0o644)

	if r := runCmd(t, nil, "lint", good); r.code != exitOK {
		t.Fatalf("lint good = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCmd(t, nil, "lint", good, bad)
	if r.code != exitFailure || !strings.Contains(r.stdout, bad+`:6: server.tls: "ssl" is not allowed`) {
		t.Errorf("lint bad = %d, %q", r.code, r.stdout)
	}
}

// TestServe starts serve as a user would, reads its one line, talks IMAP
// to it and stops it as Ctrl-C does.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	e := &env{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	go func() {
		done <- run(ctx, e, []string{"serve", "--listen", "127.0.0.1:0", "--ca-out", caFile})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no line from serve: %v (stderr %q)", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`on (127\.0\.0\.1:\d+) tls=starttls user=alice password="correct horse battery staple" ca=(\S+)`).FindStringSubmatch(line)
	if m == nil || m[2] != caFile {
		t.Fatalf("serve line = %q", line)
	}
	if pem, err := os.ReadFile(caFile); err != nil || !bytes.Contains(pem, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("CA file: %v", err)
	}
	conn, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	greeting, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(greeting, "* OK [CAPABILITY IMAP4rev1") {
		t.Errorf("greeting = %q", greeting)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d, stderr %q", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after the signal")
	}
}

// TestVerify runs the main job on a selection, then on a user's file with
// a wrong [expect], which must fail with a diff and land in JUnit.
func TestVerify(t *testing.T) {
	r := runCmd(t, nil, "verify", "healthy", "auth-*")
	if r.code != exitOK || !strings.Contains(r.stdout, "PASS  healthy") || !strings.Contains(r.stdout, "PASS  auth-expired") {
		t.Fatalf("verify = %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).MatchString(r.stdout) {
		t.Errorf("no summary line in %q", r.stdout)
	}

	dir := t.TempDir()
	src := `
name = "mine"
[[users]]
name = "alice"
password = "pw"
[[faults]]
when = { command = "LOGIN" }
respond = "NO [EXPIRED] Password expired"
[expect]
diagnosis = "auth.failed"
`
	file := filepath.Join(dir, "mine.toml")
	os.WriteFile(file, []byte(src), 0o644)
	junit := filepath.Join(dir, "junit.xml")
	r = runCmd(t, nil, "verify", "--junit", junit, file)
	for _, want := range []string{"FAIL  mine", `-`, `"auth.failed"`, `+`, `"auth.expired"`, "evidence: a", "NO [EXPIRED]", "0 passed, 1 failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != exitFailure {
		t.Errorf("verify = %d, want %d", r.code, exitFailure)
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), `<testsuite name="imapfault verify" tests="1" failures="1"`) || !strings.Contains(string(x), `message="expected auth.failed, got auth.expired"`) {
		t.Errorf("junit = %s, %v", x, err)
	}

	r = runCmd(t, nil, "verify", "--json", "login-rejected")
	if r.code != exitOK || !strings.Contains(r.stdout, `"scenario": "login-rejected"`) || !strings.Contains(r.stdout, `"code": "auth.failed"`) {
		t.Errorf("verify --json = %d\n%.400s", r.code, r.stdout)
	}
	if r := runCmd(t, nil, "verify", "no-such-*"); r.code != exitUsage || !strings.Contains(r.stderr, "matches no file and no built-in scenario") {
		t.Errorf("verify no-such-* = %d, %q", r.code, r.stderr)
	}
}
