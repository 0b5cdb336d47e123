package main

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dockerfile reads the instructions of the repository's Dockerfile whose
// arguments are JSON arrays (exec form), by name; and the plain ones.
func dockerfile(t *testing.T) (exec map[string][]string, plain map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	exec, plain = map[string][]string{}, map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, _ := strings.Cut(line, " ")
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		if i := strings.Index(rest, "["); i >= 0 && (name == "ENTRYPOINT" || name == "CMD" || name == "HEALTHCHECK") {
			var args []string
			if err := json.Unmarshal([]byte(rest[i:]), &args); err != nil {
				t.Fatalf("Dockerfile %s: %v", name, err)
			}
			exec[name] = args
			continue
		}
		plain[name] = rest
	}
	return exec, plain
}

// TestImageEntrypoint runs the image's entrypoint and default command as
// a plain process with the same arguments (on loopback port 0 instead of
// every interface, and a temporary CA file), then its healthcheck: what
// the container does, where containers cannot run.
func TestImageEntrypoint(t *testing.T) {
	exec, plain := dockerfile(t)
	entry, cmd, health := exec["ENTRYPOINT"], exec["CMD"], exec["HEALTHCHECK"]
	if len(entry) < 2 || entry[0] != "/imapfault" || len(health) < 3 || health[0] != "/imapfault" {
		t.Fatalf("ENTRYPOINT %q, HEALTHCHECK %q: want /imapfault commands", entry, health)
	}
	if user := plain["USER"]; user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: the image must not run as root", user)
	}
	args := slices.Clone(entry[1:])
	var ports []string
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--listen", "--control":
			host, port, err := net.SplitHostPort(args[i+1])
			if err != nil || host != "0.0.0.0" {
				t.Errorf("%s %s: inside a container, listen on every interface", args[i], args[i+1])
			}
			ports = append(ports, port)
			args[i+1] = "127.0.0.1:0"
		case "--ca-out":
			args[i+1] = filepath.Join(t.TempDir(), "ca.pem")
		}
	}
	if got := strings.Fields(plain["EXPOSE"]); !slices.Equal(got, ports) {
		t.Errorf("EXPOSE %v, want the ports the entrypoint listens on, %v", got, ports)
	}
	if args[0] != "serve" {
		t.Fatalf("entrypoint runs %q, want serve", args[0])
	}
	r := startServe(t, append(args[1:], cmd...)...)
	u, err := url.Parse(health[2])
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(u.Host); !slices.Contains(ports, port) || u.Path != "/readyz" {
		t.Errorf("HEALTHCHECK %s: want /readyz on the control port", health[2])
	}
	check := strings.Replace(health[2], "http://"+u.Host, r.Control, 1)
	if res := runCmd(t, nil, append(health[1:2], check)...); res.code != exitOK {
		t.Errorf("healthcheck %s = %d, %s", check, res.code, res.stderr)
	}
	if res := runCmd(t, nil, "healthcheck", r.Control+"/nothing"); res.code != exitFailure || !strings.Contains(res.stderr, "404") {
		t.Errorf("healthcheck of a missing page = %d, %s", res.code, res.stderr)
	}
}
