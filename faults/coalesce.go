package faults

import "sync"

// Coalescing: go-imap flushes its writer after every response line, so a
// FETCH 1:* (FLAGS) over 100,000 messages reached the socket as 100,000
// write(2) calls (issue 19). The wire layer holds back the untagged lines
// of a command's response and sends them with the tagged line that ends
// it, or once holdMax bytes wait. It holds nothing when a fault shapes the
// writes or counts the bytes (slice, throttle, after_bytes), so that those
// still act on the bytes where they say; nothing during IDLE, whose lines
// the client waits for one by one; nothing for a continuation or a BYE.

// holdMax bounds the bytes held back: a response bigger than this goes out
// in pieces of about this size.
const holdMax = 32 << 10

// holdPool keeps the buffers of held-back lines between responses: an idle
// connection holds none.
var holdPool = sync.Pool{New: func() any { b := make([]byte, 0, holdMax+4<<10); return &b }}

// holds reports whether the line now being screened may wait for the rest
// of its response. The caller holds wmu.
func (c *Conn) holds(tag string, status string, greeting bool) bool {
	if c.set.shapes || c.set.countBytes || greeting || tag != "*" || status == "BYE" {
		return false
	}
	cur := c.current()
	return cur != nil && cur.Name != "IDLE"
}

// queue holds b back. The caller holds wmu.
func (c *Conn) queue(b []byte) error {
	if c.held == nil {
		c.held = holdPool.Get().(*[]byte)
	}
	*c.held = append(*c.held, b...)
	if len(*c.held) >= holdMax {
		return c.flushHeld(nil)
	}
	return nil
}

// flushHeld sends what is held back followed by b, in one write. The caller
// holds wmu.
func (c *Conn) flushHeld(b []byte) error {
	p := c.held
	c.held = nil
	*p = append(*p, b...)
	err := c.rawWrite(*p)
	if cap(*p) <= 2*holdMax {
		*p = (*p)[:0]
		holdPool.Put(p)
	}
	return err
}
