package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServe runs serve with args, returns its JSON ready line, and stops
// it when the test ends, checking that it exits cleanly.
func startServe(t *testing.T, args ...string) readyLine {
	t.Helper()
	var r readyLine
	startJSON(t, &r, append([]string{"serve", "--json"}, args...)...)
	return r
}

// startJSON runs a command that serves until interrupted (serve, proxy),
// decodes its JSON ready line into ready, and stops it when the test
// ends, checking that it exits cleanly.
func startJSON(t *testing.T, ready any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb syncBuf
	e := &env{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, args)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("%s exited %d, stderr %q", args[0], code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop", args[0])
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no line from %s: %v (stderr %q)", args[0], err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	if err := json.Unmarshal([]byte(line), ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
}

// TestServeJSONSeveralScenarios: serve announces every scenario it
// serves, each on its own port, with users, CA and control API, in one
// JSON line and in the ready file.
func TestServeJSONSeveralScenarios(t *testing.T) {
	dir := t.TempDir()
	readyFile := filepath.Join(dir, "ready.json")
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("tok\n"), 0o600)
	r := startServe(t, "--scenario", "healthy", "--scenario", "login-rejected", "--scenario", "healthy", "--tls", "implicit",
		"--control", "127.0.0.1:0", "--control-token-file", tokenFile, "--ready-file", readyFile)
	if len(r.Servers) != 3 || r.Servers[2].Name != "healthy-2" || r.Address != r.Servers[0].Address || r.Servers[0].Address == r.Servers[1].Address {
		t.Fatalf("servers = %+v", r.Servers)
	}
	for _, s := range r.Servers {
		if s.TLS != "implicit" || len(s.Users) == 0 || s.Users[0].Password == "" {
			t.Errorf("server %+v: want implicit TLS and users with passwords", s)
		}
	}
	if pem, err := os.ReadFile(r.CAFile); err != nil || !bytes.Contains(pem, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("ca_file %q: %v", r.CAFile, err)
	}
	if data, err := os.ReadFile(readyFile); err != nil || !json.Valid(data) || !bytes.Contains(data, []byte(r.Control)) {
		t.Errorf("ready file: %q, %v", data, err)
	}
	req, _ := http.NewRequest("GET", r.Control+"/api/server?server=login-rejected", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), r.Servers[1].Address) {
		t.Errorf("control API: %d %s", resp.StatusCode, body)
	}
	c, err := net.DialTimeout("tcp", r.Servers[1].Address, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestServePlanErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "healthy", "--scenario", "healthy", "--listen", "127.0.0.1:1143"}, "give one --listen each, or one with port 0"},
		{[]string{"--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0"}, "2 --listen flags for 1 --scenario flags"},
		{[]string{"--tls", "ssl"}, `--tls "ssl": use none, starttls or implicit`},
		{[]string{"--control-token-file", "/nonexistent"}, "--control-token-file needs --control ADDR"},
		{[]string{"--control", "127.0.0.1:0", "--control-token-file", "/nonexistent/token"}, "--control-token-file: open /nonexistent/token"},
	}
	for _, tt := range tests {
		r := runCmd(t, nil, append([]string{"serve"}, tt.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("serve %q = %d, %q; want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// syncBuf is a buffer the command writes from several goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
