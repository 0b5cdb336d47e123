package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/status"
)

// fakeMonitor is a DashboardSource over a fixed day of three targets.
type fakeMonitor struct {
	now     time.Time
	refresh time.Duration
	results []history.Result
	targets []DashTarget
}

func newFakeMonitor(refresh time.Duration) *fakeMonitor {
	start := auditStart
	d := func(hour int) time.Time { return start.Add(time.Duration(hour) * time.Hour) }
	iv := 5 * time.Minute
	m := &fakeMonitor{now: start.Add(24 * time.Hour), refresh: refresh}
	m.results = fixedHistory("imap", 1, iv, 3*time.Millisecond, nil, [2]time.Time{})
	m.results = append(m.results, fixedHistory("mail.example.org:143", 1, iv, 8*time.Millisecond, []outage{
		{d(6), d(7), "auth.unavailable", "auth"}, {d(23), d(25), "tcp.refused", "connect"}}, [2]time.Time{})...)
	m.results = append(m.results, fixedHistory("legacy.example.net:993", 1, iv, 20*time.Millisecond, nil, [2]time.Time{d(9), d(15)})...)
	last := func(name string) history.Result {
		var out history.Result
		for _, r := range m.results {
			if r.Target == name && r.Time.After(out.Time) {
				out = r
			}
		}
		return out
	}
	for _, t := range []struct {
		name, addr string
		state      status.State
	}{
		{"imap", "imap.example.com:993", status.OK},
		{"mail.example.org:143", "mail.example.org:143", status.Critical},
		{"legacy.example.net:993", "legacy.example.net:993", status.Warning},
		{"new.example.com:993", "new.example.com:993", status.Unknown},
	} {
		r := last(t.name)
		dt := DashTarget{Name: t.name, Address: t.addr, State: t.state, Code: r.Code, Phase: r.Phase, Evidence: r.Evidence, LastCheck: r.Time}
		m.targets = append(m.targets, NewDashTarget(dt, m.results, m.now))
	}
	return m
}

func (m *fakeMonitor) View(context.Context) (*DashboardView, error) {
	return &DashboardView{Now: m.now, Targets: m.targets, Refresh: m.refresh}, nil
}

func (m *fakeMonitor) Result(_ context.Context, target string, at time.Time) (history.Result, bool, error) {
	for _, r := range m.results {
		if r.Target == target && r.Time.Equal(at) {
			return r, true, nil
		}
	}
	return history.Result{}, false, nil
}

func TestDashboardGolden(t *testing.T) {
	m := newFakeMonitor(0)
	v, _ := m.View(context.Background())
	var b bytes.Buffer
	if err := DashboardHTML(&b, v); err != nil {
		t.Fatal(err)
	}
	golden(t, "dashboard.html", b.Bytes())
}

func TestDashboardHandler(t *testing.T) {
	m := newFakeMonitor(0)
	srv := httptest.NewServer(DashboardHandler(m))
	defer srv.Close()
	get := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("GET", "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	doc := parse(t, []byte(page))
	checkSelfContained(t, doc)
	rows := all(doc, func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" })
	var order []string
	for _, r := range rows {
		order = append(order, attr(r, "class"))
	}
	if got := strings.Join(order, " "); got != "critical warning unknown ok" {
		t.Errorf("rows by state = %q, want the failing first", got)
	}
	if !strings.Contains(page, "connect-src &#39;self&#39;") || !strings.Contains(page, `id="live"`) {
		t.Errorf("page cannot refresh itself: no connect-src 'self' or no live region")
	}
	links := all(doc, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "check?") })
	if len(links) != 3*DashRecent {
		t.Fatalf("%d links to recent checks, want %d", len(links), 3*DashRecent)
	}
	code, check := get("GET", "/"+attr(links[0], "href"))
	if code != http.StatusOK || !strings.Contains(check, "tcp.refused") || !strings.Contains(check, `rect class="bar`) {
		t.Errorf("GET %s = %d; want the failing check's page:\n%.300s", attr(links[0], "href"), code, check)
	}

	code, frag := get("GET", "/?fragment=1")
	if code != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, "<tbody>") {
		t.Errorf("GET /?fragment=1 = %d, want the table alone:\n%.200s", code, frag)
	}
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/", http.StatusMethodNotAllowed},
		{"DELETE", "/check", http.StatusMethodNotAllowed},
		{"GET", "/nothing", http.StatusNotFound},
		{"GET", "/check?target=x", http.StatusBadRequest},
		{"GET", "/check?target=x&at=zz", http.StatusBadRequest},
		{"GET", "/check?target=nobody&at=" + strconv.FormatInt(m.now.UnixNano(), 10), http.StatusNotFound},
	} {
		if code, _ := get(tt.method, tt.path); code != tt.code {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, code, tt.code)
		}
	}
}

func TestDashStripRuns(t *testing.T) {
	m := newFakeMonitor(0)
	// mail.example.org: up, down 06-07, up, down from 23: four runs.
	for _, dt := range m.targets {
		if dt.Name != "mail.example.org:143" {
			continue
		}
		got := dashStrip(dt.Timeline)
		var classes []string
		for _, s := range got {
			classes = append(classes, s.Class)
		}
		if strings.Join(classes, " ") != "ok critical ok critical" || got[1].Title != "down 06:00 to 07:00" {
			t.Errorf("strip = %+v", got)
		}
	}
}

// benchTargets makes n targets checked every minute for a day.
func benchTargets(n int) (*DashboardView, []history.Result) {
	now := auditStart.Add(24 * time.Hour)
	v := &DashboardView{Now: now}
	var all []history.Result
	for i := range n {
		name := fmt.Sprintf("imap%04d.example.com:993", i)
		var rs []history.Result
		for at := auditStart; at.Before(now); at = at.Add(time.Minute) {
			r := history.Result{Target: name, Time: at, Interval: time.Minute, State: status.OK, Code: "ok"}
			if i%50 == 0 && at.Hour() == 3 {
				r.State, r.Code = status.Critical, "tcp.refused"
			}
			rs = append(rs, r)
		}
		all = append(all, rs...)
		last := rs[len(rs)-1]
		v.Targets = append(v.Targets, NewDashTarget(DashTarget{Name: name, Address: name, State: last.State, Code: last.Code, LastCheck: last.Time}, rs, now))
	}
	return v, all
}

// BenchmarkDashboard1000 renders the page of 1,000 targets, each with its
// strip and recent checks: the target is under 100 ms.
func BenchmarkDashboard1000(b *testing.B) {
	v, _ := benchTargets(1000)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if err := DashboardHTML(io.Discard, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time the process has used: on a shared machine the
// figure to hold against a target, where wall time includes waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDashTargets1000 is what a monitor of 1,000 targets checked
// every minute does at each refresh once it has a day of their results
// (1,440 checks at 60 s each): add the one new result of each target and
// draw every target's strip and recent checks.
func BenchmarkDashTargets1000(b *testing.B) {
	v, all := benchTargets(1000)
	h := NewDashHistory()
	for _, r := range all {
		h.Add(r)
	}
	now := v.Now
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		for _, t := range v.Targets {
			h.Add(history.Result{Target: t.Name, Time: now, Interval: time.Minute, State: status.OK, Code: "ok"})
		}
		now = now.Add(time.Minute)
		for _, t := range v.Targets {
			h.Target(t, now)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkDashFirstRead1000 is a monitor's first refresh: a day of
// 1,000 targets' results (1,440 checks at 60 s each) fed to the
// dashboard, and every strip drawn.
func BenchmarkDashFirstRead1000(b *testing.B) {
	v, all := benchTargets(1000)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		h := NewDashHistory()
		for _, r := range all {
			h.Add(r)
		}
		for _, t := range v.Targets {
			h.Target(t, v.Now)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// TestDashboardEscapes: a target's name and evidence are data, even in the
// markup the dashboard writes without a template.
func TestDashboardEscapes(t *testing.T) {
	now := auditStart.Add(24 * time.Hour)
	evil := `x"><script>alert(1)</script>`
	rs := []history.Result{{Target: evil, Time: now.Add(-time.Minute), Interval: time.Minute, State: status.Critical, Code: "tcp.refused", Evidence: evil}}
	dt := NewDashTarget(DashTarget{Name: evil, State: status.Critical, Code: "tcp.refused", Evidence: evil, LastCheck: rs[0].Time}, rs, now)
	var b bytes.Buffer
	if err := DashboardHTML(&b, &DashboardView{Now: now, Targets: []DashTarget{dt}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert") || strings.Count(b.String(), "<script>") != 1 {
		t.Errorf("the target's name reached the page as markup")
	}
	doc := parse(t, b.Bytes())
	links := all(doc, func(n *html.Node) bool { return n.Data == "a" })
	if len(links) != 1 || !strings.Contains(attr(links[0], "href"), "target=x%22%3E%3Cscript") {
		t.Errorf("links = %v, want one with the name escaped in its query", links)
	}
}

// TestDashHistory: the dashboard keeps each target's newest checks once,
// however often the history is read again, and only those of its window;
// its strip is history.Timeline's over the same results.
func TestDashHistory(t *testing.T) {
	now := auditStart.Add(30 * time.Hour)
	var rs []history.Result
	for i := range 8 {
		rs = append(rs, history.Result{Target: "a", Time: now.Add(-time.Duration(26-i) * time.Hour), Interval: time.Hour, State: status.OK, Code: "ok"})
	}
	rs[6].State, rs[6].Code = status.Critical, "tcp.refused"
	h := NewDashHistory()
	for _, r := range rs[:6] {
		h.Add(r)
	}
	for _, r := range rs { // read again, overlapping
		h.Add(r)
	}
	dt := h.Target(DashTarget{Name: "a"}, now)
	var got []time.Time
	for _, r := range dt.Recent {
		got = append(got, r.Time)
	}
	want := []time.Time{rs[7].Time, rs[6].Time, rs[5].Time, rs[4].Time, rs[3].Time}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recent checks (-want +got):\n%s", diff)
	}
	if got := h.Target(DashTarget{Name: "a"}, now.Add(3*time.Hour+30*time.Minute)).Recent; len(got) != 2 {
		t.Errorf("3.5 hours later, %d recent checks, want the 2 of the last day", len(got))
	}
	if diff := cmp.Diff(history.Timeline(rs, "a", now.Add(-DashWindow), now, DashSlots), dt.Timeline); diff != "" {
		t.Errorf("strip differs from history.Timeline (-want +got):\n%s", diff)
	}
	if dt := h.Target(DashTarget{Name: "never"}, now); len(dt.Timeline) != DashSlots || dt.Recent != nil {
		t.Errorf("a target never checked: %d slots, recent %v", len(dt.Timeline), dt.Recent)
	}
}
