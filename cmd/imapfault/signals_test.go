//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSignalEndsReadOnlyCommand runs "imapfault lint" on a FIFO nobody
// writes to, so that it blocks reading for ever, and checks that SIGTERM
// and SIGINT end it at once, by the signal (issue 19: timeout(1) could not
// stop lint, which caught SIGTERM and never looked).
func TestSignalEndsReadOnlyCommand(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "stuck.toml")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			cmd := exec.Command(os.Args[0], "lint", fifo)
			cmd.Env = append(os.Environ(), childEnv+"=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Opening the FIFO for writing returns once lint has opened
			// it for reading: lint is then blocked in its read, with its
			// signal handling (if any) in place.
			opened := make(chan *os.File, 1)
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					f = nil
				}
				opened <- f
			}()
			var w *os.File
			select {
			case w = <-opened:
			case err := <-exited:
				unblockOpen(t, fifo, opened)
				t.Fatalf("lint ended before reading: %v", err)
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-exited
				unblockOpen(t, fifo, opened)
				t.Fatal("lint never opened the file")
			}
			if w == nil {
				t.Fatal("could not open the FIFO for writing")
			}
			defer w.Close()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("lint ended with %v, want death by %v", err, sig)
				}
				ws := exit.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || ws.Signal() != sig {
					t.Errorf("lint ended with %v, want death by %v", ws, sig)
				}
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("lint still blocked a minute after %v", sig)
			}
		})
	}
}

// unblockOpen releases the goroutine blocked opening the FIFO for writing
// by opening it for reading, then closes both ends.
func unblockOpen(t *testing.T, fifo string, opened chan *os.File) {
	t.Helper()
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Errorf("unblocking the FIFO: %v", err)
		return
	}
	defer r.Close()
	if w := <-opened; w != nil {
		w.Close()
	}
}
