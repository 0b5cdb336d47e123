//go:build interop

package interop

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

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
	python := need(t, "python (control API)", "python3", "apt-get install python3")
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
	node, _ := needImapflow(t)
	bin := buildImapfault(t)
	r := run(t, []string{"IMAPFAULT_BIN=" + bin}, node, "--test", "node/control.test.mjs")
	if r.code != 0 {
		t.Fatalf("node --test = exit %d:\n%s", r.code, r.output())
	}
}
