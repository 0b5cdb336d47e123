//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imapfault/imapfault/monitor"
	"github.com/imapfault/imapfault/server"
)

// promTool returns the path of a Prometheus program, or ends the test
// with what to install.
func promTool(t *testing.T, bin string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		missing(t, bin+" is not installed: apt-get install prometheus (or run make interop as root)")
	}
	return p
}

// docsYAML returns the YAML blocks of docs/monitor.md: the scrape config
// and the alerting rules, in that order.
func docsYAML(t *testing.T) (scrape, rules string) {
	t.Helper()
	b, err := os.ReadFile("../docs/monitor.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) != 2 {
		t.Fatalf("docs/monitor.md has %d yaml blocks, want the scrape config and the rules", len(blocks))
	}
	return blocks[0][1], blocks[1][1]
}

func promtool(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(promTool(t, "promtool"), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPrometheusDocs: the example scrape config and rules of
// docs/monitor.md pass promtool.
func TestPrometheusDocs(t *testing.T) {
	scrape, rules := docsYAML(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"prometheus.yml": scrape, "imapfault.rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	promtool(t, nil, "check", "rules", filepath.Join(dir, "imapfault.rules.yml"))
	promtool(t, nil, "check", "config", filepath.Join(dir, "prometheus.yml"))
}

// switchable forwards connections to a backend, or, once broken, closes
// them at once: a target whose state the test changes.
type switchable struct {
	ln      net.Listener
	backend string
	broken  atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

func newSwitchable(t *testing.T, backend string) *switchable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchable{ln: ln, backend: backend}
	s.wg.Go(s.accept)
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *switchable) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if s.broken.Load() {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", s.backend)
		if err != nil {
			c.Close()
			continue
		}
		s.mu.Lock()
		s.conns = append(s.conns, c, b)
		s.mu.Unlock()
		s.wg.Go(func() { io.Copy(b, c); b.Close() }) //nolint:errcheck // either side may end it
		s.wg.Go(func() { io.Copy(c, b); c.Close() }) //nolint:errcheck // either side may end it
	}
}

// TestPrometheusScrapesMonitor: promtool accepts the monitor's /metrics;
// a real Prometheus scrapes /metrics and /probe on loopback, and the docs'
// IMAPTargetFailing alert fires for a target that breaks and resolves
// when it recovers.
func TestPrometheusScrapesMonitor(t *testing.T) {
	promBin := promTool(t, "prometheus")
	_, rules := docsYAML(t)
	dir := t.TempDir()

	healthy := server.NewTestBuiltin(t, "healthy")
	flappy := newSwitchable(t, healthy.Addr())
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), healthy.Certs().CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfgText strings.Builder
	cfgText.WriteString("[monitor]\njitter = 0.0\n\n")
	for _, tg := range []struct{ name, addr string }{{"healthy", healthy.Addr()}, {"flappy", flappy.ln.Addr().String()}} {
		fmt.Fprintf(&cfgText, "[[targets]]\nname = %q\naddress = %q\ntls = \"starttls\"\nca_file = \"ca.pem\"\nserver_name = \"localhost\"\nuser = \"alice\"\npassword_env = \"PW\"\ninterval = \"300ms\"\ntimeout = \"5s\"\n\n", tg.name, tg.addr)
	}
	cfgFile := filepath.Join(dir, "monitor.toml")
	if err := os.WriteFile(cfgFile, []byte(cfgText.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := monitor.LoadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := monitor.New(context.Background(), monitor.Options{Config: cfg,
		Getenv: func(string) string { return "correct horse battery staple" }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	m.Routes(mux)
	web := httptest.NewServer(mux)
	defer web.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { m.Run(ctx); close(ran) }() //nolint:errcheck // returns when ctx ends
	defer func() { cancel(); <-ran }()

	// promtool's lint of what we expose, once every target has a result.
	waitFor(t, "a result for each target", func() bool {
		return !m.States()[0].LastCheck.IsZero() && !m.States()[1].LastCheck.IsZero()
	})
	resp, err := http.Get(web.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	promtool(t, metrics, "check", "metrics")
	resp, err = http.Get(web.URL + "/probe?target=healthy")
	if err != nil {
		t.Fatal(err)
	}
	probe, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	promtool(t, probe, "check", "metrics")

	// A real Prometheus with the docs' rules, scraping every second.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := ln.Addr().String()
	ln.Close()
	monAddr := strings.TrimPrefix(web.URL, "http://")
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [imapfault.rules.yml]
scrape_configs:
  - job_name: imapfault
    static_configs: [{targets: [%q]}]
  - job_name: imap-probe
    metrics_path: /probe
    scrape_timeout: 900ms
    params: {module: [healthy]}
    static_configs: [{targets: [%q]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: %q}
`, monAddr, healthy.Addr(), monAddr)
	for name, text := range map[string]string{"prometheus.yml": promCfg, "imapfault.rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var promOut bytes.Buffer
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	prom.Stdout, prom.Stderr = &promOut, &promOut
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Kill() //nolint:errcheck // may have exited
		prom.Wait()         //nolint:errcheck // killed
		if t.Failed() {
			t.Logf("prometheus output:\n%s", promOut.String())
		}
	}()
	api := "http://" + promAddr + "/api/v1/"

	waitFor(t, "Prometheus to scrape /probe with probe_success 1", func() bool {
		return queryValue(api, `probe_success{job="imap-probe"}`) == "1"
	})
	waitFor(t, "Prometheus to scrape /metrics", func() bool {
		return queryValue(api, `probe_success{job="imapfault",target="healthy"}`) == "1"
	})
	flappy.broken.Store(true)
	waitFor(t, "IMAPTargetFailing to fire for flappy", func() bool {
		return alertState(api, "IMAPTargetFailing", "flappy") == "firing"
	})
	if s := alertState(api, "IMAPTargetFailing", "healthy"); s != "" {
		t.Errorf("IMAPTargetFailing is %s for the healthy target", s)
	}
	flappy.broken.Store(false)
	waitFor(t, "IMAPTargetFailing to resolve for flappy", func() bool {
		return alertState(api, "IMAPTargetFailing", "flappy") == ""
	})
}

// waitFor polls cond (an outside process's state, which sends no event)
// every 200ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		<-tick.C
	}
}

// queryValue returns the first value of an instant query, or "".
func queryValue(api, query string) string {
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if !getJSON(api+"query?query="+url.QueryEscape(query), &r) || len(r.Data.Result) == 0 {
		return ""
	}
	v, _ := r.Data.Result[0].Value[1].(string)
	return v
}

// alertState returns the state of an alert for a target ("" when none).
func alertState(api, name, target string) string {
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if !getJSON(api+"alerts", &r) {
		return ""
	}
	for _, a := range r.Data.Alerts {
		if a.Labels["alertname"] == name && a.Labels["target"] == target {
			return a.State
		}
	}
	return ""
}

func getJSON(u string, v any) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}
