package client

import (
	"net"
	"sync"
	"time"
)

// tailSize is how many of the most recent raw bytes a recConn keeps, to
// quote what a server sent when a handshake or a line fails to parse.
const tailSize = 256

// recConn is the recording conn at the bottom of a session: it counts the
// bytes in each direction, timestamps the last read and keeps the tail of
// what was received, so that silence and garbage can be quoted as evidence.
// The line-level transcript with direction marks is kept by the wire
// reader and writer above it, where secrets can be masked by meaning.
type recConn struct {
	net.Conn

	mu       sync.Mutex
	in, out  int64
	lastRead time.Time
	tail     []byte
}

var _ net.Conn = (*recConn)(nil)

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.in += int64(n)
		c.lastRead = time.Now()
		c.tail = append(c.tail, p[:n]...)
		if len(c.tail) > tailSize {
			c.tail = append(c.tail[:0], c.tail[len(c.tail)-tailSize:]...)
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

// received returns the bytes read so far and the tail of them.
func (c *recConn) received() (int64, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in, append([]byte(nil), c.tail...)
}
