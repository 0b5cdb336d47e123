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

// serve starts bin serving scenario (a built-in name, a file of
// bench.Scenarios written to dir, or the absolute path of a file) on
// 127.0.0.1 and waits for its address.
func serve(ctx context.Context, bin, scenario, dir string) (*server, error) {
	return serveWait(ctx, bin, scenario, dir, 10*time.Second)
}

// serveWait is serve, waiting up to wait for the server to listen: a
// mailbox of 100,000 generated messages takes longer than the others.
func serveWait(ctx context.Context, bin, scenario, dir string, wait time.Duration) (*server, error) {
	if strings.HasSuffix(scenario, ".toml") && !filepath.IsAbs(scenario) {
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
	case <-time.After(wait):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("serve %s: no address within %s", scenario, wait)
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

// mem is the memory of one process or a group of them, in KiB: RSS
// counts a page shared by several processes once in each; PSS splits it
// between them, so that PSS summed over Dovecot's processes (one per
// session) is fair where summed RSS is not. For one process the two
// differ only by what it shares with others (the binary's pages).
type mem struct {
	rss, pss int64
	procs    int
}

// processMem reads one process's memory.
func processMem(pid int) (mem, error) {
	var m mem
	return m, m.add(pid)
}

func (m *mem) add(pid int) error {
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(smaps), "\n") {
		for prefix, dst := range map[string]*int64{"Rss:": &m.rss, "Pss:": &m.pss} {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				*dst += n
			}
		}
	}
	m.procs++
	return nil
}

// groupMem sums the memory of every process in process group pgid.
func groupMem(pgid int) (mem, error) {
	var m mem
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return m, err
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
		m.add(pid) // a process that just exited is not counted
	}
	if m.procs == 0 {
		return m, fmt.Errorf("no process in group %d", pgid)
	}
	return m, nil
}

// timed runs a command to its end (bounded by ctx) and returns its wall
// time and combined output.
func timed(ctx context.Context, env []string, name string, args ...string) (time.Duration, string, error) {
	return run1(ctx, env, "", name, args...)
}

// timedIn is timed in the folder dir.
func timedIn(ctx context.Context, dir, name string, args ...string) (time.Duration, string, error) {
	return run1(ctx, nil, dir, name, args...)
}

func run1(ctx context.Context, env []string, dir, name string, args ...string) (time.Duration, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return time.Since(start), string(out), err
}
