package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imapfault/imapfault/history"
)

// child is the monitor command in a process of its own.
type child struct {
	cmd    *exec.Cmd
	checks chan struct{} // one per check logged (logged after its result is recorded)
	done   chan struct{}
}

func startChild(t testing.TB, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "ACME_PW=correct horse battery staple")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, checks: make(chan struct{}, 10000), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "check" {
				c.checks <- struct{}{}
			}
		}
		io.Copy(io.Discard, stderr) //nolint:errcheck // draining
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() //nolint:errcheck // may have exited
		<-c.done
		cmd.Wait() //nolint:errcheck // killed
	})
	return c
}

// waitChecks returns once n more checks were logged.
func (c *child) waitChecks(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(120 * time.Second)
	for range n {
		select {
		case <-c.checks:
		case <-deadline:
			t.Fatalf("the monitor logged fewer than %d checks in 120s", n)
		}
	}
}

// Killed with SIGKILL while it writes, the monitor loses no recorded
// result, and restarted it resumes: no second alert for a target that
// was already failing.
func TestMonitorSurvivesSIGKILL(t *testing.T) {
	var mu sync.Mutex
	var alerts []string
	alerted := make(chan struct{}, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a struct{ Target, Status, Code string }
		json.NewDecoder(r.Body).Decode(&a) //nolint:errcheck // compared below
		mu.Lock()
		alerts = append(alerts, a.Target+" "+a.Status+" "+a.Code)
		mu.Unlock()
		alerted <- struct{}{}
	}))
	defer hook.Close()
	cfg := monitorConfig(t, "login-rejected", "healthy")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.ReplaceAll(string(text), `interval = "30s"`, `interval = "5ms"`) +
		fmt.Sprintf("[monitor]\njitter = 0.0\n\n[[alerts]]\ntype = \"webhook\"\nurl = %q\n", hook.URL))
	if err := os.WriteFile(cfg, text, 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "h.db")
	args := []string{"monitor", "--config", cfg, "--history", db, "--log-format", "json"}

	first := startChild(t, args...)
	first.waitChecks(t, 20)
	select {
	case <-alerted:
	case <-time.After(60 * time.Second):
		t.Fatal("no alert within 60s")
	}
	// The monitor goes on checking (and writing) every 5ms: the kill
	// lands during or between writes.
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.cmd.Wait() //nolint:errcheck // killed
	logged := 20 + len(first.checks)

	h, err := history.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	results, err := h.Results(context.Background(), history.Query{})
	if err != nil {
		t.Fatalf("the history after SIGKILL: %v", err)
	}
	if len(results) < logged {
		t.Errorf("the history holds %d results after SIGKILL, want at least the %d logged", len(results), logged)
	}

	second := startChild(t, args...)
	second.waitChecks(t, 10)
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-second.done
	if err := second.cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM the monitor exited with %v, want 0", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 1 || alerts[0] != "login-rejected firing auth.failed" {
		t.Errorf("alerts = %q, want the one firing alert of login-rejected", alerts)
	}
}
