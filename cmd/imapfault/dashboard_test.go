package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/report"
)

// TestMonitorDashboard checks two targets once, then serves the dashboard
// over their monitor and history as monitor --listen does: each target's
// state and last diagnosis, and the page of a check it links to.
func TestMonitorDashboard(t *testing.T) {
	cfgFile := monitorConfig(t, "healthy", "login-rejected")
	histFile := filepath.Join(t.TempDir(), "h.db")
	env := map[string]string{"ACME_PW": "correct horse battery staple"}
	if r := runCmd(t, env, "monitor", "--once", "--config", cfgFile, "--history", histFile); r.code != exitFailure {
		t.Fatalf("monitor --once = %d: %s", r.code, r.stderr)
	}
	ctx := context.Background()
	cfg, err := monitor.LoadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.Open(ctx, histFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := monitor.New(ctx, monitor.Options{Config: cfg, History: db, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	dash := newDashboard(m, db)
	srv := httptest.NewServer(report.DashboardHandler(dash))
	defer srv.Close()
	get := func(path string) string {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	page := get("/")
	for _, want := range []string{"login-rejected", "healthy", "<code>auth.failed</code>", `href="check?at=`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	link := regexp.MustCompile(`href="(check\?[^"]+login-rejected)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no link to login-rejected's check")
	}
	check := get("/" + strings.ReplaceAll(link[1], "&amp;", "&"))
	if !strings.Contains(check, "auth.failed") || !strings.Contains(check, `rect class="bar`) {
		t.Errorf("the check's page lacks its diagnosis or waterfall:\n%.500s", check)
	}
	if strings.Contains(page+check, env["ACME_PW"]) {
		t.Error("the password reached a page")
	}

	// A later refresh reads only what is new, and keeps each result once.
	recent := func() []history.Result {
		dash.mu.Lock()
		defer dash.mu.Unlock()
		return dash.kept.Target(report.DashTarget{Name: "healthy"}, time.Now()).Recent
	}
	before := recent()
	later := before[0]
	later.Time = time.Now()
	if err := db.Record(ctx, later, nil); err != nil {
		t.Fatal(err)
	}
	get("/?fragment=1")
	get("/?fragment=1")
	got := recent()
	if len(got) != min(len(before)+1, report.DashRecent) || !got[0].Time.Equal(later.Time) || !got[1].Time.Equal(before[0].Time) {
		t.Errorf("after one more result, healthy's recent checks are %v, want it once before %v", times(got), times(before))
	}
}

func times(rs []history.Result) []time.Time {
	var out []time.Time
	for _, r := range rs {
		out = append(out, r.Time)
	}
	return out
}
