package server

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"go.uber.org/goleak"
)

// TestCloseLeavesNoGoroutine closes a server with connections in every
// state a fault can leave them: idling, stalled, mid-delay, half-greeted.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv, err := New(plainScenario(t, `
[[faults]]
when = { connection = 2 }
stall = true
[[faults]]
when = { connection = 3, phase = "greeting" }
delay = "1h"
[[faults]]
when = { connection = 4, after = "50ms" }
drop = "rst"
`), Options{})
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
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close() took %v with stalled connections", took)
	}
	idle.Wait()
	c.Close()
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
			time.Sleep(100 * time.Millisecond)
			w.conn.Close()
			deadline := time.Now().Add(2 * time.Second)
			for {
				srv.mu.Lock()
				held := len(srv.conns)
				srv.mu.Unlock()
				if held == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server still holds %d connections 2s after the client left", held)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
