package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/server"
)

// BenchmarkBlackbox1000Probes is BenchmarkMonitor1000Targets's yardstick:
// Debian's blackbox_exporter (prometheus-blackbox-exporter) probing the
// same four fake servers 1,000 times, 32 at a time, with the deepest IMAP
// check it can express (greeting, CAPABILITY, STARTTLS with the CA,
// CAPABILITY again; no login, no mailbox). It reports the exporter's CPU
// and peak RSS in the same units; it skips when the exporter is missing.
//
//	go test -run '^$' -bench Blackbox1000 -benchtime 1x ./cmd/imapfault
func BenchmarkBlackbox1000Probes(b *testing.B) {
	bin, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		b.Skip("prometheus-blackbox-exporter is not installed (apt-get install prometheus-blackbox-exporter)")
	}
	const probes, servers, parallel = 1000, 4, 32
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("modules:\n")
	var addrs []string
	for i := range servers {
		s := server.NewTestBuiltin(b, "healthy")
		ca := filepath.Join(dir, fmt.Sprintf("ca%d.pem", i))
		if err := os.WriteFile(ca, s.Certs().CAPEM(), 0o600); err != nil {
			b.Fatal(err)
		}
		addrs = append(addrs, s.Addr())
		fmt.Fprintf(&cfg, `  imap%d:
    prober: tcp
    timeout: 10s
    tcp:
      tls_config: {ca_file: %q, server_name: localhost}
      query_response:
        - expect: "^\\* OK"
        - send: "a1 CAPABILITY"
        - expect: "^a1 OK"
        - send: "a2 STARTTLS"
        - expect: "^a2 OK"
        - starttls: true
        - send: "a3 CAPABILITY"
        - expect: "^a3 OK"
`, i, ca)
	}
	file := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		listen := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "--config.file="+file, "--web.listen-address="+listen)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		probe := func(i int) (string, error) {
			u := fmt.Sprintf("http://%s/probe?module=imap%d&target=%s", listen, i%servers, url.QueryEscape(addrs[i%servers]))
			resp, err := http.Get(u)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			return string(body), err
		}
		// Wait for the exporter to listen: a bounded retry on refusal.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := probe(0); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill() //nolint:errcheck // failing
				b.Fatal("blackbox_exporter did not answer within 30s")
			}
			time.Sleep(50 * time.Millisecond) // an outside process: nothing to wait on
		}
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		next := make(chan int)
		for range parallel {
			wg.Go(func() {
				for i := range next {
					body, err := probe(i)
					if err != nil || !strings.Contains(body, "probe_success 1") {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				}
			})
		}
		for i := range probes {
			next <- i
		}
		close(next)
		wg.Wait()
		round := time.Since(start)
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // measured below
		cmd.Wait()                          //nolint:errcheck // terminated
		if failed > 0 {
			b.Errorf("%d of %d probes failed", failed, probes)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		b.ReportMetric(cpu.Seconds(), "cpu-s/round")
		b.ReportMetric(cpu.Seconds()/60, "cpu-cores@60s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
		b.ReportMetric(round.Seconds(), "round-s")
	}
}
