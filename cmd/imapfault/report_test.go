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
