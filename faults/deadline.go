package faults

import "time"

// go-imap sets a write deadline before every response line and clears it
// after: two deadline changes per message of a FETCH 1:* (FLAGS), each a
// timer update in the runtime's poller (a sixth of the server's time in
// that FETCH; issue 19), while the wire layer holds most of those lines
// back (coalesce.go) and writes them later in one go. So the deadline is
// kept here and given to the socket just before a write reaches it, or
// at once when a write is blocked on the socket, which the new deadline
// may be meant to end. Every write to the socket then runs under the
// deadline the IMAP server set last, as before.

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.deadline = t
	if c.writing {
		c.dirty = false
		return c.transport().SetWriteDeadline(t)
	}
	c.dirty = true
	return nil
}

// beginWrite gives the socket the deadline set since the last write; the
// caller then writes to the socket and calls endWrite.
func (c *Conn) beginWrite() error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.writing = true
	if !c.dirty {
		return nil
	}
	c.dirty = false
	if err := c.transport().SetWriteDeadline(c.deadline); err != nil {
		c.writing = false
		return err
	}
	return nil
}

func (c *Conn) endWrite() {
	c.dmu.Lock()
	c.writing = false
	c.dmu.Unlock()
}
