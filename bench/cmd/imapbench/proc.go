package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imapfault/imapfault/bench"
)

// server is an "imapfault serve" subprocess: the load runs in the
// harness, the server in its own process with its own memory.
type server struct {
	cmd    *exec.Cmd
	addr   string
	caPath string
	done   chan error
}

var serveLine = regexp.MustCompile(` on (\S+) tls=`)

// serve starts bin serving scenario (a built-in name, or a file of
// bench.Scenarios written to dir) on 127.0.0.1 and waits for its address.
func serve(ctx context.Context, bin, scenario, dir string) (*server, error) {
	if strings.HasSuffix(scenario, ".toml") {
		data, err := bench.Scenarios.ReadFile("scenarios/" + scenario)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, scenario)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		scenario = path
	}
	s := &server{caPath: filepath.Join(dir, "ca.pem"), done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve", "--scenario", scenario, "--listen", "127.0.0.1:0", "--ca-out", s.caPath)
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		// serve prints nothing more on stdout (its transcript and logs go
		// to stderr), so Wait may close the pipe now.
		s.done <- s.cmd.Wait()
	}()
	select {
	case line := <-lines:
		m := serveLine.FindStringSubmatch(line)
		if m == nil {
			s.stop()
			return nil, fmt.Errorf("serve %s: unexpected output %q", scenario, line)
		}
		s.addr = m[1]
		return s, nil
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("serve %s: no address within 10s", scenario)
}

// stop ends the server with SIGTERM, then SIGKILL after five seconds.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// rssKiB is a process's resident set size.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// groupPSSKiB sums the proportional set size of every process in process
// group pgid: for Dovecot, which serves each session in its own process,
// PSS splits the shared pages fairly where summed RSS would count them
// once per process.
func groupPSSKiB(pgid int) (total int64, procs int, err error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command name, which may hold spaces.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(smaps), "\n") {
			if v, ok := strings.CutPrefix(line, "Pss:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += n
				procs++
			}
		}
	}
	return total, procs, nil
}

// timed runs a command to its end (bounded by ctx) and returns its wall
// time and combined output.
func timed(ctx context.Context, env []string, name string, args ...string) (time.Duration, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return time.Since(start), string(out), err
}
