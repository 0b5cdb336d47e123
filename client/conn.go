package client

import (
	"net"
	"sync"
)

// captureSize is how many raw bytes a recConn keeps after capture starts,
// to quote what a server sent when a TLS handshake fails.
const captureSize = 256

// recConn is the recording conn at the bottom of a session: it counts the
// bytes in each direction, timestamps the last read and keeps the tail of
// the first bytes received after a capture starts, so that silence and
// garbage can be quoted as evidence.
// The line-level transcript with direction marks is kept by the wire
// reader and writer above it, where secrets can be masked by meaning.
type recConn struct {
	net.Conn

	mu      sync.Mutex
	in, out int64
	capture []byte
}

var _ net.Conn = (*recConn)(nil)

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.in += int64(n)
		if room := captureSize - len(c.capture); room > 0 {
			c.capture = append(c.capture, p[:min(n, room)]...)
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out += int64(n)
	c.mu.Unlock()
	return n, err
}

// startCapture forgets what was captured and starts anew.
func (c *recConn) startCapture() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capture = c.capture[:0]
}

// captured returns the bytes captured since startCapture.
func (c *recConn) captured() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.capture...)
}

// counts returns the bytes received and sent.
func (c *recConn) counts() (in, out int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in, c.out
}
