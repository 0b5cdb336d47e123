package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/server"
)

// BenchmarkMonitor1000Targets runs `imapfault monitor` as a process of
// its own with 1,000 targets at a 60s interval, spread over four fake
// servers in this process, until every target has been checked once, and
// reports the monitor's CPU and peak RSS. The first round runs the 1,000
// checks of a whole interval within the first 5 seconds, so its CPU time
// over 60s is the steady load (cpu-cores@60s), and its peak RSS an upper
// bound of the steady one. Run it with -benchtime 1x:
//
//	go test -run '^$' -bench Monitor1000 -benchtime 1x ./cmd/imapfault
func BenchmarkMonitor1000Targets(b *testing.B) {
	const targets, servers = 1000, 4
	dir := b.TempDir()
	var cfg strings.Builder
	cfg.WriteString("[monitor]\nconcurrency = 32\n\n")
	for i := range servers {
		s := server.NewTestBuiltin(b, "healthy")
		ca := fmt.Sprintf("ca%d.pem", i)
		if err := os.WriteFile(filepath.Join(dir, ca), s.Certs().CAPEM(), 0o600); err != nil {
			b.Fatal(err)
		}
		for j := i; j < targets; j += servers {
			fmt.Fprintf(&cfg, "[[targets]]\nname = \"t%04d\"\naddress = %q\nca_file = %q\nuser = \"alice\"\npassword_env = \"ACME_PW\"\ninterval = \"60s\"\n\n", j, s.Addr(), ca)
		}
	}
	file := filepath.Join(dir, "monitor.toml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		db := filepath.Join(dir, fmt.Sprintf("h%d.db", i))
		c := startChild(b, "monitor", "--config", file, "--history", db, "--log-format", "json")
		start := time.Now()
		c.waitChecks(b, targets)
		round := time.Since(start)
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		<-c.done
		if err := c.cmd.Wait(); err != nil {
			b.Fatalf("monitor: %v", err)
		}
		ru := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
		b.ReportMetric(cpu.Seconds(), "cpu-s/round")
		b.ReportMetric(cpu.Seconds()/60, "cpu-cores@60s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
		b.ReportMetric(round.Seconds(), "round-s")
	}
}
