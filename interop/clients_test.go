//go:build interop

package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/internal/peer"
	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// Transports a healthy case runs over; a fault case keeps its scenario's.
const (
	plaintext = "plaintext"
	starttls  = "STARTTLS"
	implicit  = "implicit TLS"
)

// clientTimeout is the short timeout each client is given for scenarios
// that go silent, so that the client's own timeout fires well before
// runLimit.
const clientTimeout = 2 * time.Second

// runLimit bounds every client process: a client still running then is
// killed, with its children, and the case fails.
const runLimit = 60 * time.Second

// fake is a fake server playing one scenario for one client case.
type fake struct {
	*server.Server
	sc        *scenarios.Scenario
	transport string // plaintext, STARTTLS or implicit TLS
	ca        string // the run's CA certificate as a PEM file; "" without TLS
	dir       string // a temporary folder for the client's files
	// addr, when set, is where the clients connect instead of Server (nil
	// then): a process such as imapfault record or serve.
	addr string
}

// Addr is where the clients connect.
func (f *fake) Addr() string {
	if f.addr != "" {
		return f.addr
	}
	return f.Server.Addr()
}

// user and password are what the scenario's [client] logs in with: its
// first account, or a wrong password in wrong-password.
func (f *fake) user() string     { return f.sc.Client.User }
func (f *fake) password() string { return f.sc.Client.Password }

// port is the server's port, for clients that take host and port apart.
func (f *fake) port() string {
	_, port, _ := net.SplitHostPort(f.Addr())
	return port
}

// startFake starts the built-in scenario name on loopback. A transport
// other than "" replaces the scenario's own: healthy runs over all three.
func startFake(t *testing.T, name, transport string) *fake {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, sc, transport)
}

// flavours are the fake server's flavours, each with the transport its
// provider serves IMAP on, and whether it advertises IDLE after login.
var flavours = []struct {
	name, transport string
	idle            bool
}{
	{"gmail", implicit, true}, {"outlook", implicit, true}, {"exchange", starttls, true}, {"yahoo", implicit, false},
	{"icloud", implicit, true}, {"dovecot", starttls, true}, {"cyrus", starttls, true}, {"courier", starttls, true},
}

// startFlavour starts healthy played as a flavour: the flavour's greeting,
// capabilities, ID, delimiter and folders over healthy's users and mail,
// so that the clients' healthy runs apply unchanged.
func startFlavour(t *testing.T, flavour, transport string) *fake {
	t.Helper()
	sc, err := scenarios.Builtin("healthy")
	if err != nil {
		t.Fatal(err)
	}
	sc.Name, sc.Flavor = "healthy-as-"+flavour, flavour
	return serve(t, sc, transport)
}

// serve starts sc on loopback; see startFake for transport.
func serve(t *testing.T, sc *scenarios.Scenario, transport string) *fake {
	t.Helper()
	switch transport {
	case plaintext:
		sc.Server.TLS = scenarios.TLSNone
		// A plaintext server must take the password in the clear; the
		// default for a scenario written with TLS is to refuse it.
		allow := true
		sc.Server.PlaintextAuth = &allow
	case starttls:
		sc.Server.TLS = scenarios.TLSStartTLS
	case implicit:
		sc.Server.TLS = scenarios.TLSImplicit
	case "":
		transport = map[string]string{scenarios.TLSNone: plaintext, scenarios.TLSStartTLS: starttls, scenarios.TLSImplicit: implicit}[sc.Server.TLS]
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	f := &fake{Server: server.NewTest(t, sc), sc: sc, transport: transport, dir: t.TempDir()}
	if c := f.Certs(); c != nil {
		f.ca = filepath.Join(f.dir, "ca.pem")
		write(t, f.ca, c.CAPEM(), 0o644)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var b strings.Builder
			for _, e := range f.Transcript() {
				fmt.Fprintln(&b, " ", e)
			}
			t.Logf("server transcript:\n%s", b.String())
		}
	})
	return f
}

// need returns the path of a client binary, or skips the test with what
// to install.
func need(t *testing.T, client, bin, install string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		skipMissing(t, client, fmt.Sprintf("%s is not installed: %s (or run make interop as root)", bin, install))
	}
	return p
}

// skipMissing skips a client's tests; the table shows the client skipped.
func skipMissing(t *testing.T, client, msg string) {
	t.Helper()
	r := record(t, client, &fake{sc: &scenarios.Scenario{Name: "(all)"}}, "installed")
	r.got = msg
	missing(t, msg)
}

// requireEnv is peer.RequireEnv, which the interop tests' own test sets.
const requireEnv = peer.RequireEnv

// missing ends a test whose peer is not installed (peer.Missing).
func missing(t *testing.T, msg string) {
	t.Helper()
	peer.Missing(t, msg)
}

// ran is what a client process did.
type ran struct {
	code   int // exit code
	stdout string
	stderr string
}

func (r ran) output() string { return r.stderr + "\n" + r.stdout }

// command makes a client process bounded by ctx, in its own process
// group so that a client's children (fetchmail's MDA) are killed with it.
func command(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs a client to completion within runLimit.
func run(t *testing.T, env []string, name string, args ...string) ran {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	cmd := command(ctx, env, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := ran{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within %s; output:\n%s", filepath.Base(name), runLimit, r.output())
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", name, err)
	}
	return r
}

// failure is how a client must fail on a fault scenario: its exit code
// and a text its output must contain.
type failure struct {
	code int
	text string
}

func (w failure) String() string { return fmt.Sprintf("exit %d, `%s`", w.code, w.text) }

// expectFailure records the case, runs the client and checks its failure
// against want. Recording first keeps a client that never finishes in the
// table, as a failure.
func expectFailure(t *testing.T, client string, f *fake, want failure, runClient func() ran) {
	t.Helper()
	res := record(t, client, f, want.String())
	r := runClient()
	// The port changes every run; the committed table should not.
	out := strings.ReplaceAll(r.output(), f.port(), "PORT")
	res.got = fmt.Sprintf("exit %d, %s", r.code, evidence(out, want.text))
	if r.code != want.code || !strings.Contains(r.output(), want.text) {
		t.Errorf("%s on %s = exit %d, want %s; output:\n%s", client, f.sc.Name, r.code, want, r.output())
	}
}

// evidence returns the line of out that holds text, or out's last line.
func evidence(out, text string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	line := lines[len(lines)-1]
	for _, l := range lines {
		if text != "" && strings.Contains(l, text) {
			line = l
			break
		}
	}
	line = strings.TrimSpace(line)
	if len(line) > 100 {
		line = line[:97] + "..."
	}
	return "`" + line + "`"
}

// write creates a file the test needs, failing the test if it cannot.
func write(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}
