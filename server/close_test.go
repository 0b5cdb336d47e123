package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"go.uber.org/goleak"
)

// waitEntry waits up to 10s for a transcript entry of connection conn
// whose text starts with prefix (conn 0: any connection).
func waitEntry(t *testing.T, srv *Server, conn int, dir, prefix string) Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := srv.WaitTranscript(ctx, func(e Entry) bool {
		return (conn == 0 || e.Conn == conn) && e.Dir == dir && strings.HasPrefix(e.Text, prefix)
	})
	if err != nil {
		t.Fatalf("no %q entry %q on connection %d: %v", dir, prefix, conn, err)
	}
	return e
}

// TestCloseLeavesNoGoroutine closes a server with connections in every
// state a fault can leave them: idling, stalled, mid-delay, waiting for a
// timer. It waits for the transcript to say each got there.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	var logs syncBuffer
	srv, err := New(plainScenario(t, `
[[faults]]
when = { connection = 2 }
stall = true
[[faults]]
when = { connection = 3, phase = "greeting" }
delay = "1h"
[[faults]]
when = { connection = 4, after = "1h" }
drop = "rst"
`), Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("alice", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		dialWire(t, srv.Addr())
	}
	waitEntry(t, srv, 2, "==", "fault: connection stalled")
	waitEntry(t, srv, 3, "==", "fault: delay")
	waitEntry(t, srv, 4, "->", "* OK") // greeted, its timer armed

	if err := srv.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	idle.Wait()
	c.Close()
	// Close waits for sessions up to a bound, then says some outlived it.
	if strings.Contains(logs.String(), "sessions still running") {
		t.Errorf("Close left sessions behind:\n%s", logs.String())
	}
}

// TestStalledConnectionEndsWithClient checks that a stalled connection is
// let go when its client hangs up, instead of staying half-open until the
// server closes (the soak test found hundreds of them).
func TestStalledConnectionEndsWithClient(t *testing.T) {
	tests := []struct {
		name   string
		faults string
		send   string
	}{
		{"at accept", "[[faults]]\nstall = true\n", ""},
		{"on a command", "[[faults]]\nwhen = { command = \"LIST\" }\nstall = true\n", "a LOGIN alice pw\r\nb LIST \"\" *\r\n"},
		{"mid-reply", "[[faults]]\nwhen = { after_bytes = 200 }\nstall = true\n", "a LOGIN alice pw\r\nb SELECT INBOX\r\nc FETCH 1 BODY[]\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewTest(t, plainScenario(t, tt.faults))
			w := dialWire(t, srv.Addr())
			w.conn.Write([]byte(tt.send))
			waitEntry(t, srv, 1, "==", "fault: connection stalled")
			w.conn.Close()
			waitEntry(t, srv, 1, "==", "end of connection")
			srv.mu.Lock()
			held := len(srv.conns)
			srv.mu.Unlock()
			if held != 0 {
				t.Fatalf("the server still holds %d connections after the client left", held)
			}
		})
	}
}
