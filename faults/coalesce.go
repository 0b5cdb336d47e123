package faults

import "sync"

// Coalescing: go-imap flushes its writer after every response line, so a
// FETCH 1:* (FLAGS) over 100,000 messages reached the socket as 100,000
// write(2) calls (issue 19). The wire layer holds back the untagged lines
// of a command's response and sends them with the tagged line that ends
// it, or once holdMax bytes wait. It holds nothing while a fault may shape
// the line's writes or count its bytes (a slice or throttle whose when
// matches now, an after_bytes yet to fire on this connection), so that
// those still act on the bytes where they say; nothing during IDLE, whose
// lines the client waits for one by one; nothing for a continuation or a
// BYE. A shaping fault that waits for another command does not stop the
// holding: a scenario's never-firing slice made every session of it write
// line by line (+25% per session, BenchmarkSession/neverfire).

// holdMax bounds the bytes held back: a response bigger than this goes out
// in pieces of about this size.
const holdMax = 32 << 10

// holdPool keeps the buffers of held-back lines between responses: an idle
// connection holds none.
var holdPool = sync.Pool{New: func() any { b := make([]byte, 0, holdMax+4<<10); return &b }}

// holds reports whether the line now being screened may wait for the rest
// of its response. The caller holds wmu.
func (c *Conn) holds(tag string, status string, greeting bool) bool {
	if greeting || tag != "*" || status == "BYE" {
		return false
	}
	cur := c.current()
	return cur != nil && cur.Name != "IDLE" && !c.shapedNow()
}

// shapedNow reports whether a fault may shape the writes of the line now
// being screened or count its bytes. It asks without side effects
// (filterMatches, not filterActive): a slice limited by first or
// probability that then declines only costs the holding of one line. The
// caller holds wmu.
func (c *Conn) shapedNow() bool {
	if !c.set.shapes && !c.set.countBytes {
		return false
	}
	for _, a := range c.set.armed {
		switch a.Action.(type) {
		case WriteShaper:
			if c.filterMatches(a, nil) {
				return true
			}
		case EventAction:
			if a.When.Point() == PointBytes && !c.fired[a] && a.onConn(c.n) {
				return true
			}
		}
	}
	return false
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
