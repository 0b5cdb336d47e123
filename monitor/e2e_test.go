package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/history"
	"github.com/imapfault/imapfault/server"
)

// waitLimit bounds every wait of these tests.
const waitLimit = 60 * time.Second

const alicePW = "correct horse battery staple"

// checks counts finished checks by address and lets a test wait for a
// count, instead of sleeping.
type checks struct {
	mu      sync.Mutex
	n       map[string]int
	changed chan struct{}
}

func newChecks() *checks { return &checks{n: map[string]int{}, changed: make(chan struct{})} }

func (c *checks) wrap(ctx context.Context, o client.Options) (*client.Report, error) {
	rep, err := client.Check(ctx, o)
	c.mu.Lock()
	c.n[o.Addr]++
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return rep, err
}

// wait returns once addr has had at least n checks.
func (c *checks) wait(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		c.mu.Lock()
		got, ch := c.n[addr], c.changed
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: %d checks after %v, want %d", addr, got, waitLimit, n)
		}
	}
}

func (c *checks) count(addr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[addr]
}

// receiver is a local webhook that records what it is sent.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	alerts []Alert
	am     []amPayload
	got    chan struct{}
	fail   int // answer 503 to this many requests first
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail > 0 {
			r.fail--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		switch req.URL.Path {
		case "/am":
			var p amPayload
			if err := json.Unmarshal(b, &p); err != nil {
				t.Errorf("alertmanager payload %s: %v", b, err)
			}
			r.am = append(r.am, p)
			return
		default:
			var a Alert
			if err := json.Unmarshal(b, &a); err != nil {
				t.Errorf("webhook payload %s: %v", b, err)
			}
			r.alerts = append(r.alerts, a)
		}
		r.got <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitAlerts returns once n webhook alerts have arrived.
func (r *receiver) waitAlerts(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		r.mu.Lock()
		got := len(r.alerts)
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("%d alerts after %v, want %d", got, waitLimit, n)
		}
	}
}

// summary is the part of an alert a test compares.
type summary struct{ Target, Status, Code, Previous string }

func (r *receiver) summaries() []summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []summary{}
	for _, a := range r.alerts {
		out = append(out, summary{a.Target, string(a.Status), a.Code, a.Previous})
	}
	return out
}

// fixture writes a config for the named built-in scenarios, each served
// by its own fake server, with alerts to rcv.
type fixture struct {
	dir     string
	servers map[string]*server.Server
	cfg     *Config
}

func newFixture(t *testing.T, rcv *receiver, extra string, scenarios ...string) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), servers: map[string]*server.Server{}}
	var b strings.Builder
	b.WriteString("[monitor]\njitter = 0.0\nconcurrency = 4\n\n")
	for _, name := range scenarios {
		s := server.NewTestBuiltin(t, name)
		f.servers[name] = s
		ca := filepath.Join(f.dir, name+".pem")
		if err := os.WriteFile(ca, s.Certs().CAPEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "[[targets]]\nname = %q\naddress = %q\ntls = \"starttls\"\nca_file = %q\nuser = \"alice\"\npassword_env = \"TEST_PW\"\ninterval = \"10ms\"\ntimeout = \"5s\"\n%s\n",
			name, s.Addr(), name+".pem", extra)
	}
	if rcv != nil {
		fmt.Fprintf(&b, "[[alerts]]\ntype = \"webhook\"\nurl = %q\n\n[[alerts]]\ntype = \"alertmanager\"\nurl = %q\n", rcv.srv.URL+"/hook", rcv.srv.URL+"/am")
	}
	file := filepath.Join(f.dir, "monitor.toml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(file)
	if err != nil {
		t.Fatalf("LoadConfig:\n%v\n%s", err, b.String())
	}
	f.cfg = cfg
	return f
}

func getenv(name string) string {
	if name == "TEST_PW" {
		return alicePW
	}
	return ""
}

// running starts m.Run and returns a function that stops it and waits.
func running(t *testing.T, m *Monitor) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		m.Run(ctx) //nolint:errcheck // returns when ctx ends
		close(done)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitLimit):
				t.Fatalf("Run did not return within %v of its context ending", waitLimit)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func openHistory(t *testing.T, dir string) *history.DB {
	t.Helper()
	h, err := history.Open(context.Background(), filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestMonitorEndToEnd(t *testing.T) {
	rcv := newReceiver(t)
	f := newFixture(t, rcv, "", "healthy", "login-rejected", "login-succeeds-third-time")
	hist := openHistory(t, f.dir)
	cs := newChecks()
	m, err := New(context.Background(), Options{Config: f.cfg, History: hist, Getenv: getenv, Check: cs.wrap})
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, m)
	// Three alerts: login-rejected fires, login-succeeds-third-time fires
	// on its second failure and resolves on its first success.
	rcv.waitAlerts(t, 3)
	// Then enough further checks that a repeated alert would have come.
	for _, s := range f.servers {
		cs.wait(t, s.Addr(), cs.count(s.Addr())+4)
	}
	stop()

	want := []summary{
		{"login-rejected", "firing", client.CodeAuthFailed, ""},
		{"login-succeeds-third-time", "firing", client.CodeAuthUnavailable, ""},
		{"login-succeeds-third-time", "resolved", client.CodeAuthUnavailable, ""},
	}
	got := rcv.summaries()
	if diff := cmp.Diff(want, sortSummaries(got)); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
	rcv.mu.Lock()
	if len(rcv.am) != 3 || rcv.am[0].Version != "4" || rcv.am[0].Alerts[0].Labels["alertname"] != AlertName {
		t.Errorf("alertmanager payloads = %+v, want 3 of version 4", rcv.am)
	}
	rcv.mu.Unlock()

	// Metrics, by target.
	for _, tc := range []struct {
		metric, target string
		want           float64
	}{
		{"probe_success", "healthy", 1},
		{"probe_success", "login-rejected", 0},
		{"probe_success", "login-succeeds-third-time", 1},
		{"imapfault_target_failing", "login-rejected", 1},
		{"imapfault_target_failing", "login-succeeds-third-time", 0},
	} {
		if got := gaugeValue(t, m, tc.metric, map[string]string{"target": tc.target}); got != tc.want {
			t.Errorf("%s{target=%q} = %v, want %v", tc.metric, tc.target, got, tc.want)
		}
	}
	if got := gaugeValue(t, m, "imapfault_diagnosis_info", map[string]string{"target": "login-rejected", "code": "auth.failed", "phase": "auth"}); got != 1 {
		t.Errorf("imapfault_diagnosis_info of login-rejected = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.Registry(), "imapfault_step_duration_seconds"); n < 10 {
		t.Errorf("imapfault_step_duration_seconds has %d series, want a step each", n)
	}

	// History: one closed incident for the flapping target, one open for
	// the broken one, none for the healthy one.
	sums, err := hist.Summary(context.Background(), history.Query{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	incidents := map[string][]history.Incident{}
	for _, s := range sums {
		incidents[s.Target] = s.Incidents
	}
	if n := len(incidents["healthy"]); n != 0 {
		t.Errorf("healthy has %d incidents", n)
	}
	if in := incidents["login-succeeds-third-time"]; len(in) != 1 || in[0].Open || in[0].Code != client.CodeAuthUnavailable || in[0].Checks != 2 {
		t.Errorf("login-succeeds-third-time incidents = %+v, want one closed of 2 auth.unavailable checks", in)
	}
	if in := incidents["login-rejected"]; len(in) != 1 || !in[0].Open || in[0].Code != client.CodeAuthFailed {
		t.Errorf("login-rejected incidents = %+v, want one open auth.failed", in)
	}

	states := m.States()
	if len(states) != 3 || states[1].Name != "login-rejected" || states[1].State.String() != "critical" || states[1].Failures < 2 {
		t.Errorf("States() = %+v", states)
	}
	// No secret anywhere in the history.
	all, err := hist.Results(context.Background(), history.Query{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(all)
	if strings.Contains(string(b), alicePW) {
		t.Error("the history holds the password")
	}
}

func sortSummaries(s []summary) []summary {
	out := append([]summary(nil), s...)
	// Targets alert independently; within a target the order is kept.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Target < out[j-1].Target; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func gaugeValue(t *testing.T, m *Monitor, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, mt := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range mt.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			return mt.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return 0
}

// A restarted monitor resumes a failing target's state from the history
// and does not alert for it again.
func TestRestartNoDuplicateAlert(t *testing.T) {
	rcv := newReceiver(t)
	f := newFixture(t, rcv, "", "login-rejected")
	hist := openHistory(t, f.dir)
	addr := f.servers["login-rejected"].Addr()
	cs := newChecks()
	m, err := New(context.Background(), Options{Config: f.cfg, History: hist, Getenv: getenv, Check: cs.wrap})
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, m)
	rcv.waitAlerts(t, 1)
	stop()

	m2, err := New(context.Background(), Options{Config: f.cfg, History: hist, Getenv: getenv, Check: cs.wrap})
	if err != nil {
		t.Fatal(err)
	}
	if s := m2.States()[0]; !s.Failing {
		t.Fatalf("after restart: %+v, want failing", s)
	}
	stop2 := running(t, m2)
	cs.wait(t, addr, cs.count(addr)+4)
	stop2()
	if got := rcv.summaries(); len(got) != 1 {
		t.Errorf("alerts = %+v, want the one before the restart", got)
	}
}

// A target that accepts and never answers holds none of the others up.
func TestHungTargetDelaysNoOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	f := newFixture(t, nil, "", "healthy")
	f.cfg.Targets = append(f.cfg.Targets, Target{Name: "hung", Address: ln.Addr().String(), TLS: "none",
		Interval: 10 * time.Millisecond, Timeout: time.Hour, Failures: 2, Successes: 1, Auth: "login"})
	cs := newChecks()
	m, err := New(context.Background(), Options{Config: f.cfg, Getenv: getenv, Check: cs.wrap})
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, m)
	select {
	case c := <-accepted:
		// Held open (and referenced: a dropped net.Conn is closed by
		// its finalizer) until the test ends.
		defer c.Close()
	case <-time.After(waitLimit):
		t.Fatal("the hung target was never checked")
	}
	healthy := f.servers["healthy"].Addr()
	cs.wait(t, healthy, cs.count(healthy)+3)
	if n := cs.count(ln.Addr().String()); n != 0 {
		t.Fatalf("the hung target's check finished (%d): %+v", n, m.States())
	}
	stop()
}

// The history keeps a check's transcript only when asked, and never a
// secret.
func TestHistoryTranscriptOnlyWhenAsked(t *testing.T) {
	f := newFixture(t, nil, "", "healthy")
	hist := openHistory(t, f.dir)
	m, err := New(context.Background(), Options{Config: f.cfg, History: hist, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	m.runOne(context.Background(), &f.cfg.Targets[0])
	f.cfg.Monitor.KeepTranscript = true
	m.runOne(context.Background(), &f.cfg.Targets[0])
	rs, err := hist.Results(context.Background(), history.Query{})
	if err != nil || len(rs) != 2 {
		t.Fatalf("Results() = %d results, %v; want 2", len(rs), err)
	}
	if rs[0].Transcript != "" || !strings.Contains(rs[1].Transcript, "LOGIN alice ********") {
		t.Errorf("transcripts = %q / %.200q; want none, then one with the LOGIN masked", rs[0].Transcript, rs[1].Transcript)
	}
	if strings.Contains(rs[1].Transcript, alicePW) {
		t.Error("the stored transcript holds the password")
	}
}

// A history that cannot be written (a full disk, here a closed database)
// costs the result, counted and logged, and nothing else: the check's
// state and metrics still move.
func TestHistoryFailureKeepsChecking(t *testing.T) {
	f := newFixture(t, nil, "", "healthy")
	hist := openHistory(t, f.dir)
	m, err := New(context.Background(), Options{Config: f.cfg, History: hist, Getenv: getenv, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	hist.Close()
	o := m.runOne(context.Background(), &f.cfg.Targets[0])
	if o.State.String() != "ok" || m.States()[0].LastCheck.IsZero() {
		t.Errorf("runOne = %v, state %+v; want an ok check recorded in the state", o.State, m.States()[0])
	}
	if got := testutil.ToFloat64(m.ops.historyErrors); got != 1 {
		t.Errorf("imapfault_history_errors_total = %v, want 1", got)
	}
}

// Once checks every target once and reports each to progress.
func TestOnceProgress(t *testing.T) {
	f := newFixture(t, nil, "", "healthy", "login-rejected")
	m, err := New(context.Background(), Options{Config: f.cfg, Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	out := m.Once(context.Background(), func(done, total int, o Outcome) {
		if total != 2 {
			t.Errorf("progress total = %d, want 2", total)
		}
		seen = append(seen, done)
	})
	if diff := cmp.Diff([]int{1, 2}, seen); diff != "" {
		t.Errorf("progress calls (-want +got):\n%s", diff)
	}
	if len(out) != 2 || out[0].State.String() != "ok" || out[1].State.String() != "critical" {
		t.Errorf("Once() = %+v", out)
	}
}
