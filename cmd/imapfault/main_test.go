package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
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
		{[]string{"scenarios", "export", "nope", "."}, exitUsage, `no built-in scenario "nope"`},
		{[]string{"scenarios", "export"}, exitUsage, "scenarios export NAME [DIR]"},
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
	src := shown.stdout
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

	// Every problem at once, each at its line: a type error hides neither
	// the rest nor an unknown [expect] code, which used to have no line.
	worse := filepath.Join(dir, "worse.toml")
	os.WriteFile(worse, []byte("name = \"worse\"\n[server]\ntls = 3\n[[faults]]\nwhen = { command = \"FECTH\" }\ndrop = \"fin\"\n[expect]\ndiagnosis = \"auth.faild\"\nwarnings = [\"auth.slow\", \"tls.expiring\"]\n"), 0o644)
	r = runCmd(t, nil, "lint", worse)
	for _, want := range []string{
		worse + `:3: server.tls: want a string, got the integer 3`,
		worse + `:5: faults[0].when: when.command: "FECTH" is not an IMAP command: did you mean FETCH?`,
		worse + `:8: expect.diagnosis: "auth.faild" is a code the tester never reports: did you mean auth.failed?`,
		worse + `:9: expect.warnings[1]: "tls.expiring" is a code the tester never reports`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lint worse lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "\n"); r.code != exitFailure || n != 4 {
		t.Errorf("lint worse = %d with %d lines, want %d and 4:\n%s", r.code, n, exitFailure, r.stdout)
	}
}

// TestCopyWorkflow is the README's "Add a scenario of your own" for every
// built-in scenario, in a folder of the user's: what "scenarios show"
// prints and what "scenarios export" writes both lint, and verify passes
// on a couple of them. Linting a shown copy failed for every scenario
// with message files.
func TestCopyWorkflow(t *testing.T) {
	dir := t.TempDir()
	names := strings.Fields(regexp.MustCompile(`(?m)^(\S+)\s.*$`).ReplaceAllString(runCmd(t, nil, "scenarios").stdout, "$1"))[1:]
	if len(names) < 10 {
		t.Fatalf("scenarios listed %d names: %v", len(names), names)
	}
	var shown, exported []string
	for _, name := range names {
		r := runCmd(t, nil, "scenarios", "show", name)
		file := filepath.Join(dir, "shown", name+".toml")
		os.MkdirAll(filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		shown = append(shown, file)
		r = runCmd(t, nil, "scenarios", "export", name, filepath.Join(dir, "exported"))
		if r.code != exitOK || !strings.HasPrefix(r.stdout, filepath.Join(dir, "exported", name+".toml")+"\n") {
			t.Fatalf("scenarios export %s = %d, %q, %q", name, r.code, r.stdout, r.stderr)
		}
		exported = append(exported, filepath.Join(dir, "exported", name+".toml"))
	}
	for _, files := range [][]string{shown, exported} {
		if r := runCmd(t, nil, append([]string{"lint"}, files...)...); r.code != exitOK {
			t.Errorf("lint of the copies = %d:\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	r := runCmd(t, nil, "verify", filepath.Join(dir, "shown", "login-rejected.toml"), filepath.Join(dir, "exported", "login-rejected.toml"),
		filepath.Join(dir, "shown", "healthy.toml"), filepath.Join(dir, "exported", "healthy.toml"))
	if r.code != exitOK || !strings.Contains(r.stdout, "4 passed, 0 failed") {
		t.Errorf("verify of the copies = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestDocsExampleLints: the complete example in docs/scenarios.md, copied
// into a folder of its own, passes lint.
func TestDocsExampleLints(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete example\n\n```toml\n")
	if !ok {
		t.Fatal("no complete example in docs/scenarios.md")
	}
	example, _, _ := strings.Cut(rest, "```")
	file := filepath.Join(t.TempDir(), "example.toml")
	os.WriteFile(file, []byte(example), 0o644)
	if r := runCmd(t, nil, "lint", file); r.code != exitOK {
		t.Errorf("lint of the docs' example = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// serveHuman runs serve with args as a user would and returns its first
// line, and stop, which stops it as Ctrl-C does and checks it exits 0.
func serveHuman(t *testing.T, args ...string) (line string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb syncBuf
	e := &env{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve"}, args...))
		pw.Close()
	}()
	stop = func() {
		t.Helper()
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
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("no line from serve: %v (stderr %q)", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	return line, stop
}

// TestServe starts serve as a user would, reads its one line, talks IMAP
// to it and stops it as Ctrl-C does.
func TestServe(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	line, stop := serveHuman(t, "--listen", "127.0.0.1:0", "--ca-out", caFile)
	m := regexp.MustCompile(`on (localhost:\d+) tls=starttls user=alice password="correct horse battery staple" ca=(\S+)`).FindStringSubmatch(line)
	if m == nil || m[2] != caFile {
		stop()
		t.Fatalf("serve line = %q", line)
	}
	if pem, err := os.ReadFile(caFile); err != nil || !bytes.Contains(pem, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("CA file: %v", err)
	}
	conn, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	greeting, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if !strings.HasPrefix(greeting, "* OK [CAPABILITY IMAP4rev1") {
		t.Errorf("greeting = %q", greeting)
	}
	stop()
	if _, err := os.Stat(caFile); err != nil {
		t.Errorf("the CA file the user asked for is gone after the stop: %v", err)
	}
}

// TestServeNamesLocalhostAndCleansUp: serve names the server localhost,
// which its certificate is valid for (mbsync and fetchmail check the name
// they were given), and removes the temporary folder it wrote the CA to
// once stopped.
func TestServeNamesLocalhostAndCleansUp(t *testing.T) {
	line, stop := serveHuman(t)
	m := regexp.MustCompile(`on (localhost:\d+) tls=starttls .* ca=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		stop()
		t.Fatalf("serve line = %q, want localhost:PORT and a CA file", line)
	}
	pem, err := os.ReadFile(m[2])
	if err != nil {
		stop()
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	r.ReadString('\n')
	conn.Write([]byte("a STARTTLS\r\n"))
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "a OK") {
		t.Errorf("STARTTLS: %q", l)
	} else if err := tls.Client(conn, &tls.Config{ServerName: "localhost", RootCAs: pool}).Handshake(); err != nil {
		t.Errorf("TLS to %s with the printed CA: %v", m[1], err)
	}
	conn.Close()
	stop()
	if _, err := os.Stat(filepath.Dir(m[2])); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the CA's temporary folder is still there after the stop: %v", err)
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

	// Same diagnosis, wrong phase: the FAIL line says what differs rather
	// than "expected auth.failed got auth.failed".
	phase := filepath.Join(dir, "phase.toml")
	os.WriteFile(phase, []byte(strings.Replace(strings.Replace(src, "EXPIRED", "AUTHENTICATIONFAILED", 1), "[expect]", "[expect]\nphase = \"greeting\"", 1)), 0o644)
	r = runCmd(t, nil, "verify", phase)
	if !regexp.MustCompile(`FAIL  mine +expected phase greeting +got phase auth `).MatchString(r.stdout) || !strings.Contains(r.stdout, "verified 1 scenario in") {
		t.Errorf("verify with a wrong phase:\n%s", r.stdout)
	}

	r = runCmd(t, nil, "verify", "--json", "login-rejected")
	if r.code != exitOK || !strings.Contains(r.stdout, `"scenario": "login-rejected"`) || !strings.Contains(r.stdout, `"code": "auth.failed"`) {
		t.Errorf("verify --json = %d\n%.400s", r.code, r.stdout)
	}
	if r := runCmd(t, nil, "verify", "no-such-*"); r.code != exitUsage || !strings.Contains(r.stderr, "matches no file and no built-in scenario") {
		t.Errorf("verify no-such-* = %d, %q", r.code, r.stderr)
	}
}
