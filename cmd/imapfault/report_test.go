package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// writeHistory records results in a new database and returns its path.
func writeHistory(t *testing.T, results []history.Result) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "monitor.db")
	db, err := history.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range results {
		if err := db.Record(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestReportCommand(t *testing.T) {
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var rs []history.Result
	for h := range 48 {
		r := history.Result{Target: "acme", Time: day.Add(time.Duration(h) * time.Hour), Interval: time.Hour, State: status.OK,
			Code: "ok", Phase: "logout", Duration: 50 * time.Millisecond,
			Steps: []history.Step{{Phase: "connect", Duration: time.Duration(h+1) * time.Millisecond, OK: true}}}
		if h >= 10 && h < 13 { // down from 10:00 to 13:00 on the first day
			r.State, r.Code, r.Phase = status.Critical, "auth.failed", "auth"
		}
		rs = append(rs, r)
	}
	db := writeHistory(t, rs)
	dir := t.TempDir()
	page, js, table := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json"), filepath.Join(dir, "r.csv")
	r := runCmd(t, nil, "report", "--history", db, "--since", "2026-10-01", "--until", "2026-10-01", "--html", page, "--json", js, "--csv", table)
	if r.code != exitOK || !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "87.500% of 24 checks") {
		t.Fatalf("report = %d, stdout %q, stderr %q; want acme at 21/24", r.code, r.stdout, r.stderr)
	}
	var out struct {
		From, To time.Time
		Targets  []struct {
			Target       string
			Availability float64
			Incidents    []struct{ Start, End time.Time }
		}
	}
	b, err := os.ReadFile(js)
	if err != nil || json.Unmarshal(b, &out) != nil {
		t.Fatalf("--json: %v\n%s", err, b)
	}
	if !out.From.Equal(day) || !out.To.Equal(day.AddDate(0, 0, 1)) || len(out.Targets) != 1 || out.Targets[0].Availability != 0.875 ||
		len(out.Targets[0].Incidents) != 1 || !out.Targets[0].Incidents[0].Start.Equal(day.Add(10*time.Hour)) ||
		!out.Targets[0].Incidents[0].End.Equal(day.Add(13*time.Hour)) {
		t.Errorf("--json = %+v; want the first day of acme, 0.875, one incident 10:00-13:00", out)
	}
	for _, f := range []string{page, table} {
		if b, err := os.ReadFile(f); err != nil || !strings.Contains(string(b), "acme") {
			t.Errorf("%s: %v, %.200q", f, err, b)
		}
	}
	r = runCmd(t, nil, "report", "--history", db, "--since", "2026-10-01T12:00:00Z", "--target", "acme", "--csv", "-")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "section,target,") || strings.Contains(r.stdout, "imapfault report") {
		t.Errorf("report --csv - = %d, %q; want only the CSV on stdout", r.code, r.stdout)
	}
}

func TestReportUsage(t *testing.T) {
	db := writeHistory(t, []history.Result{{Target: "acme", Time: time.Now(), State: status.OK, Code: "ok"}})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--history", db}, "needs --since"},
		{[]string{"--history", db, "--since", "October"}, `--since: want a day (2026-10-01) or an RFC 3339 time`},
		{[]string{"--history", db, "--since", "2026-10-02", "--until", "2026-10-01"}, "is not after --since"},
		{[]string{"--history", filepath.Join(t.TempDir(), "none.db"), "--since", "2026-10-01"}, "--history:"},
		{[]string{"--history", db, "--since", "2026-01-01", "--target", "nobody"}, `--target "nobody": no result in the history (targets: [acme])`},
		{[]string{"--history", db, "--since", "2026-01-01", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		r := runCmd(t, nil, append([]string{"report"}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("report %q = %d, %q; want %d with %q", tt.args, r.code, r.stderr, exitUsage, tt.want)
		}
	}
}

// TestReportConfig shows each target's settings from the monitor's
// config, naming where a secret comes from and never more of it.
func TestReportConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "monitor.toml")
	text := `[[targets]]
name = "acme"
address = "127.0.0.1:1143"
tls = "none"
user = "alice"
password_env = "ACME_PW"
interval = "45s"

[targets.critical]
total = "5"

[[targets]]
name = "oauth"
address = "127.0.0.1:1144"
tls = "none"
user = "bob"
auth = "xoauth2"
token_command = ["gettoken", "--client-secret", "s3cr3t-arg"]
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	db := writeHistory(t, []history.Result{
		{Target: "acme", Time: day, Interval: 45 * time.Second, State: status.OK, Code: "ok"},
		{Target: "oauth", Time: day, Interval: time.Minute, State: status.OK, Code: "ok"},
	})
	page := filepath.Join(dir, "r.html")
	r := runCmd(t, nil, "report", "--history", db, "--config", cfg, "--since", "2026-10-01", "--until", "2026-10-01", "--html", page)
	b, err := os.ReadFile(page)
	if r.code != exitOK || err != nil {
		t.Fatalf("report --config = %d, %v: %s", r.code, err, r.stderr)
	}
	for _, want := range []string{"environment variable ACME_PW", "45s", "total 5", "the output of gettoken", "xoauth2"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(string(b), "s3cr3t-arg") {
		t.Error("the token command's arguments reached the report")
	}
	r = runCmd(t, nil, "report", "--history", db, "--config", filepath.Join(dir, "none.toml"), "--since", "2026-10-01")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--config") {
		t.Errorf("report --config missing = %d, %q", r.code, r.stderr)
	}
}
