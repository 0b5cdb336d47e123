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
