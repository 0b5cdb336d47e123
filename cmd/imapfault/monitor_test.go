package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imapfault/imapfault/server"
)

// monitorConfig writes the minimal config, one target per
// scenario, each served by a fake server.
func monitorConfig(t *testing.T, scenarios ...string) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for _, name := range scenarios {
		s := server.NewTestBuiltin(t, name)
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), s.Certs().CAPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, `[[targets]]
name = %q
address = %q
tls = "starttls"          # none | starttls | implicit
ca_file = "%s.pem"        # relative to the config file
user = "alice"
password_env = "ACME_PW"
interval = "30s"

`, name, s.Addr(), name)
	}
	path := filepath.Join(dir, "monitor.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMonitorOnce(t *testing.T) {
	cfg := monitorConfig(t, "healthy", "login-rejected")
	hist := filepath.Join(t.TempDir(), "h.db")
	env := map[string]string{"ACME_PW": "correct horse battery staple"}
	r := runCmd(t, env, "monitor", "--once", "--config", cfg, "--history", hist)
	if r.code != exitFailure {
		t.Errorf("monitor --once = %d, want %d (critical); stderr:\n%s", r.code, exitFailure, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^healthy +OK +ok in logout +\S+ +every step passed`),
		regexp.MustCompile(`^login-rejected +CRITICAL +auth.failed in auth `),
	}
	if len(lines) != len(want) {
		t.Fatalf("monitor --once printed %q, want %d lines", r.stdout, len(want))
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %v", i+1, lines[i], re)
		}
	}
	if strings.Contains(r.stdout+r.stderr, env["ACME_PW"]) {
		t.Error("the password was printed")
	}
	// The results went to the history.
	h := runCmd(t, nil, "history", "--history", hist, "--format", "csv")
	if h.code != exitOK || !strings.Contains(h.stdout, "login-rejected") {
		t.Errorf("history = %d %q %q", h.code, h.stdout, h.stderr)
	}
}

func TestMonitorUsage(t *testing.T) {
	cfg := monitorConfig(t, "healthy")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"monitor"}, nil, "monitor needs --config FILE"},
		{[]string{"monitor", "--once", "--config", cfg}, nil, "$ACME_PW is not set"},
		{[]string{"monitor", "--once", "--config", filepath.Join(t.TempDir(), "none.toml")}, nil, "no such file"},
	} {
		r := runCmd(t, tc.env, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q = %d %q, want %d and %q", tc.args, r.code, r.stderr, exitUsage, tc.want)
		}
	}
	r := runCmd(t, nil, "lint", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, ": ok") {
		t.Errorf("lint of a monitor config = %d %q %q", r.code, r.stdout, r.stderr)
	}
}
