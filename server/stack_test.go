//go:build !race

package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/bench"
)

// idleStack is the stack an idle connection's serving goroutine keeps:
// a goroutine keeps the largest stack it ever needed, and at 4 KiB, with
// the goroutine that waits in IDLE, 10,000 idle clients cost 6 KiB each
// in stacks, as with go-imap's bare imapmemserver. Frames 160 bytes larger
// under the server's writes made it 8 KiB.
const idleStack = 4096

// TestIdleSessionStack checks that a session up to IDLE (greeting, LOGIN,
// SELECT, IDLE) never needs more than idleStack on any server goroutine.
// The server runs in a child process whose goroutine stacks are capped at
// idleStack, where going past it is a crash that prints the culprit's
// stack; the clients run here. (The race detector's frames are larger, so
// this test is left out of race builds.)
func TestIdleSessionStack(t *testing.T) {
	if os.Getenv("IMAPFAULT_STACK_CHILD") != "" {
		serveWithSmallStacks(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleSessionStack$")
	cmd.Env = append(os.Environ(), "IMAPFAULT_STACK_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The child prints its address, then serves until its stdin closes.
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("child server: %v\n%s", err, stderr.String())
	}
	sc := benchScenario(t, "plain.toml")
	target := bench.Target{Addr: strings.TrimSpace(addr), User: sc.Users[0].Name, Password: sc.Users[0].Password}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// One session at a time: contention on a lock takes the runtime's
	// slow path, whose frames are not the server's to keep small.
	h, holdErr := bench.HoldIdle(ctx, target, 10, 1, []string{"127.0.0.1"})
	h.Close()
	stdin.Close()
	if err := cmd.Wait(); err != nil || holdErr != nil {
		t.Fatalf("a session up to IDLE needs more than %d bytes of stack on a server goroutine (child: %v, clients: %v):\n%s", idleStack, err, holdErr, stderr.String())
	}
}

func serveWithSmallStacks(t *testing.T) {
	srv, err := New(benchScenario(t, "plain.toml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The test is about the server's frames: a collection starting under a
	// write would add the runtime's own, and make the result depend on
	// the heap's size.
	debug.SetGCPercent(-1)
	debug.SetMaxStack(idleStack)
	fmt.Println(srv.Addr())
	io.Copy(io.Discard, os.Stdin)
	debug.SetMaxStack(1 << 30)
}
