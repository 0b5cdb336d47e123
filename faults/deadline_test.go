package faults

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// TestWriteDeadline: the write deadline the IMAP server sets reaches the
// socket lazily (deadline.go), and still acts where a net.Conn's would:
// on the next write, not after it is cleared, and on a write already
// blocked on a client that reads nothing.
func TestWriteDeadline(t *testing.T) {
	past := time.Now().Add(-time.Second)
	tests := []struct {
		name    string
		before  []time.Time // deadlines set before the write
		during  bool        // set past while the write is blocked
		read    bool        // the client reads
		wantErr bool
	}{
		{name: "passed before the write", before: []time.Time{past}, wantErr: true},
		{name: "cleared before the write", before: []time.Time{past, {}}, read: true},
		{name: "set while the write is blocked", during: true, wantErr: true},
		{name: "none", read: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := NewSet(nil)
			if err != nil {
				t.Fatal(err)
			}
			server, client := net.Pipe()
			defer client.Close()
			c := set.NewConn(server, &ConnOptions{})
			defer c.Close()
			for _, d := range tt.before {
				if err := c.SetWriteDeadline(d); err != nil {
					t.Fatal(err)
				}
			}
			if tt.read {
				go io.Copy(io.Discard, client)
			}
			done := make(chan error, 1)
			go func() {
				_, err := c.Write([]byte("* OK hello\r\n"))
				done <- err
			}()
			if tt.during {
				// Wait, bounded, for the write to block on the socket.
				for deadline := time.Now().Add(5 * time.Second); !c.isWriting(); {
					if time.Now().After(deadline) {
						t.Fatal("the write never reached the socket")
					}
					runtime.Gosched()
				}
				if err := c.SetWriteDeadline(past); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-done:
				if got := errors.Is(err, os.ErrDeadlineExceeded); got != tt.wantErr {
					t.Errorf("Write: %v, want a deadline error: %v", err, tt.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Write still blocked after 10s")
			}
		})
	}
}

func (c *Conn) isWriting() bool {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return c.writing
}
