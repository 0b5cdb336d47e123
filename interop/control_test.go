//go:build interop

package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// requireEnv makes a missing peer fail the test rather than skip it, as
// CI sets it: a suite that quietly skips proves nothing.
const requireEnv = "IMAPFAULT_INTEROP_REQUIRE"

// requirePeer returns the path of bin, or skips (fails under
// IMAPFAULT_INTEROP_REQUIRE=1) with what to install.
func requirePeer(t *testing.T, bin, install string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		missingPeer(t, bin+" is not installed: "+install)
	}
	return p
}

func missingPeer(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s (%s=1: required)", msg, requireEnv)
	}
	t.Skip(msg)
}

// buildImapfault builds the command for examples that run it as their
// users do, as a separate process.
func buildImapfault(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imapfault")
	// Not run(): a cold build on a busy machine may take longer than a
	// client is given.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/imapfault").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestControlPython runs the Python example suite (standard library
// only, unittest or pytest) against imapfault serve --control.
func TestControlPython(t *testing.T) {
	python := requirePeer(t, "python3", "apt-get install python3")
	bin := buildImapfault(t)
	r := run(t, []string{"IMAPFAULT_BIN=" + bin}, python, "-m", "unittest", "discover", "-v", "-s", "python", "-p", "test_*.py")
	if r.code != 0 {
		t.Fatalf("python3 -m unittest = exit %d:\n%s", r.code, r.output())
	}
	t.Logf("%s", r.stderr)
}

// TestControlNode runs the Node example suite (node --test, imapflow)
// against imapfault serve --control.
func TestControlNode(t *testing.T) {
	node := requirePeer(t, "node", "apt-get install nodejs npm")
	if _, err := os.Stat(filepath.Join("node", "node_modules", "imapflow")); err != nil {
		missingPeer(t, "imapflow is not installed: npm install --prefix interop/node")
	}
	bin := buildImapfault(t)
	r := run(t, []string{"IMAPFAULT_BIN=" + bin}, node, "--test", "node/control.test.mjs")
	if r.code != 0 {
		t.Fatalf("node --test = exit %d:\n%s", r.code, r.output())
	}
}
