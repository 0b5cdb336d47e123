package faults

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Write takes the server's output, frames it and applies the faults.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	total := len(p)
	for len(p) > 0 {
		if c.outLit > 0 {
			n := int64(len(p))
			if n > c.outLit {
				n = c.outLit
			}
			if err := c.writeLiteral(p[:n]); err != nil {
				return 0, err
			}
			c.outLit -= n
			c.litRest = c.outLit == 0
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.outLine = append(c.outLine, p...)
			// The server's lines are bounded as the client's are: past
			// the framer's bound, passed on unexamined.
			if len(c.outLine) > imapframe.DefaultMaxLine {
				err := c.emit(c.outLine)
				c.outLine = nil
				if err != nil {
					return 0, err
				}
			}
			break
		}
		// A line that arrives whole is used in place: nothing below keeps
		// it past this call.
		line := p[:i+1]
		if len(c.outLine) > 0 {
			line = append(c.outLine, line...)
			c.outLine = nil
		}
		p = p[i+1:]
		if err := c.serverLine(line); err != nil {
			return 0, err
		}
	}
	return total, nil
}

func (c *Conn) writeLiteral(b []byte) error {
	c.tap(TapEvent{Dir: DirOut, Data: b, Literal: true})
	if c.litLimit >= 0 && int64(len(b)) > c.litLimit {
		if err := c.rawWrite(b[:c.litLimit]); err != nil {
			return err
		}
		c.tap(TapEvent{Dir: DirInfo, Data: []byte(fmt.Sprintf("fault: truncate: literal cut after %d bytes, connection closed", c.litLimit))})
		c.dropAfterWrite()
		return ErrDropped
	}
	if c.litLimit >= 0 {
		c.litLimit -= int64(len(b))
	}
	c.hold = c.litHold
	return c.rawWrite(b)
}

// dropAfterWrite closes the connection once what is held back is sent.
func (c *Conn) dropAfterWrite() {
	if c.held != nil {
		_ = c.flushHeld(nil)
	}
	c.Drop(false)
}

// serverLine applies the transport policy and the faults to one line of
// server output and sends it.
//
// It runs under every write of the IMAP server, below go-imap's deepest
// handlers, and a goroutine keeps the largest stack it ever needed for as
// long as its connection lives. So the frames from here down to the
// socket (serverLine, emit, rawWrite) stay small, and the work that needs
// room happens in calls that return before the write: a SELECT reply
// written through frames 160 bytes larger doubled each idle connection's
// 4 KiB stack.
func (c *Conn) serverLine(raw []byte) error {
	out, r, err := c.screenLine(raw)
	if err == nil && c.release != nil {
		err = c.emitReleased()
	}
	if err != nil || len(out) == 0 {
		c.hold = false
		return err
	}
	if err := c.emit(out); err != nil {
		return err
	}
	if c.closeAfter {
		c.dropAfterWrite()
		return ErrDropped
	}
	if err := c.afterServerLine(r); err != nil {
		return err
	}
	if r.cmd != nil {
		return c.flushLocal()
	}
	return nil
}

// sent is what the bookkeeping after a server line needs to know of it.
type sent struct {
	cmd      *Command // the command a tagged reply answers
	status   string
	greeting bool
	cont     bool // a continuation request ("+")
}

// screenLine runs the greeting faults, the transport policy and the line
// filters on a server line, and returns what is to be sent.
func (c *Conn) screenLine(raw []byte) ([]byte, sent, error) {
	greeting := !c.greeted
	c.greeted = true
	if greeting {
		c.setPhase(phaseGreeting)
		if err := c.fire(c.life(), Event{Point: PointGreeting, Phase: PhaseGreeting}); err != nil {
			return nil, sent{}, err
		}
	}
	line := parseLine(raw, greeting, c.rewritesCaps(), c.inflightTag)
	if line.Caps != nil {
		if caps := c.adjustCaps(line.Caps, c.filterActive, true); !slices.Equal(caps, line.Caps) {
			line.Raw = line.withCaps(caps)
		}
	}
	out := line.Raw
	var cmd *Command
	if line.Tag != "*" && line.Tag != "+" {
		cmd = c.popInflight(line.Tag)
	}
	if c.withheld != nil && !c.holding(cmd) {
		c.release, c.withheld = c.withheld, nil
	}
	for _, a := range c.set.armed {
		f, ok := a.Action.(LineFilter)
		if !ok || !c.lineFilterActive(a, cmd, greeting) {
			continue
		}
		in := out
		out = f.FilterLine(c, &Line{Raw: in, Tag: line.Tag, Status: line.Status, Caps: line.Caps, Greeting: greeting})
		if !bytes.Equal(in, out) {
			c.noteActed(a)
		}
	}
	c.litLimit = -1
	c.hold = c.holds(line.Tag, line.Status, greeting)
	if c.litRest {
		c.hold, c.litRest = c.litHold, false
	}
	if size, _, ok := imapframe.LiteralSize(out); ok {
		c.outLit = size
		c.litLimit = c.literalLimit(size, cmd)
		c.litHold = c.hold
	}
	return out, sent{cmd: cmd, status: line.Status, greeting: greeting, cont: line.Tag == "+"}, nil
}

// holding reports whether a hold fault applies to the line being sent,
// answering cmd: held lines wait for the first line none applies to.
func (c *Conn) holding(cmd *Command) bool {
	for _, a := range c.set.armed {
		if _, ok := a.Action.(*Hold); ok && c.filterMatches(a, cmd) {
			return true
		}
	}
	return false
}

// emitReleased sends the lines a hold fault kept back, one by one, so
// that the transcript shows each where the client got it.
func (c *Conn) emitReleased() error {
	b := c.release
	c.release = nil
	c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: hold: releasing the lines held back")})
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 {
			i = len(b)
		}
		if err := c.emit(b[:i]); err != nil {
			return err
		}
		b = b[i:]
	}
	return nil
}

// lineFilterActive reports whether a line filter acts on the line being
// sent. A greeting fault acts on the greeting alone, as decided once for
// the connection: a draw or a count for any other line would use up its
// probability or its first N.
func (c *Conn) lineFilterActive(a *armed, cmd *Command, greeting bool) bool {
	if _, ok := a.Action.(*Greeting); ok {
		return greeting && slices.Contains(c.greetingFaults(), a)
	}
	return c.filterActive(a, cmd)
}

// afterServerLine moves the session phase along and fires the faults that
// wait for a reply or a phase.
func (c *Conn) afterServerLine(line sent) error {
	cmd := line.cmd
	if line.greeting {
		switch line.status {
		case "PREAUTH":
			return c.enterPhase(phaseAuthenticated)
		case "BYE":
			return nil
		}
		return c.enterPhase(phaseNotAuthenticated)
	}
	if line.cont {
		if cur := c.current(); cur != nil && cur.Name == "IDLE" && c.getPhase() != phaseIdle {
			c.smu.Lock()
			c.idleFrom = c.phase
			c.smu.Unlock()
			return c.enterPhase(phaseIdle)
		}
		return nil
	}
	if cmd == nil {
		return nil
	}
	if cmd.Name == "AUTHENTICATE" {
		c.setMode(modeCommand)
	}
	next := c.getPhase()
	switch {
	case line.status == "OK" && (cmd.Name == "LOGIN" || cmd.Name == "AUTHENTICATE"):
		next = phaseAuthenticated
	case cmd.Name == "SELECT" || cmd.Name == "EXAMINE":
		next = phaseAuthenticated
		if line.status == "OK" {
			next = phaseSelected
		}
	case line.status == "OK" && (cmd.Name == "CLOSE" || cmd.Name == "UNSELECT"):
		next = phaseAuthenticated
	case cmd.Name == "IDLE":
		c.setMode(modeCommand)
		c.smu.Lock()
		if c.phase == phaseIdle {
			next = c.idleFrom
		}
		c.smu.Unlock()
	}
	if next != c.getPhase() {
		if err := c.enterPhase(next); err != nil {
			return err
		}
	}
	return c.fire(c.life(), Event{Point: PointReply, Command: cmd, Phase: c.Phase(), Status: line.status})
}

// emit sends one line (or an unexamined chunk) through the write shapers.
func (c *Conn) emit(b []byte) error {
	c.tap(TapEvent{Dir: DirOut, Data: b})
	if !c.set.shapes {
		return c.rawWrite(b)
	}
	return c.emitShaped(b)
}

// emitShaped chains the shapers active now in front of rawWrite. The
// chain is built only when one is: a method value and a closure per line
// were the never-firing faults' allocations (BenchmarkSession/neverfire).
func (c *Conn) emitShaped(b []byte) error {
	var write func([]byte) error
	for i := len(c.set.armed) - 1; i >= 0; i-- {
		a := c.set.armed[i]
		s, ok := a.Action.(WriteShaper)
		if !ok || !c.filterActive(a, nil) {
			continue
		}
		c.noteActed(a)
		if write == nil {
			write = c.rawWrite
		}
		next := write
		write = func(b []byte) error { return s.Shape(c.life(), c, b, next) }
	}
	if write == nil {
		return c.rawWrite(b)
	}
	return write(b)
}

// rawWrite writes to the socket and fires the byte-count faults; a line
// that may wait for the rest of its response is held back instead
// (coalesce.go), and what is held back goes first.
func (c *Conn) rawWrite(b []byte) error {
	if c.hold {
		c.hold = false
		return c.queue(b)
	}
	if c.held != nil {
		return c.flushHeld(b)
	}
	if c.set.countBytes {
		var err error
		if b, err = c.fireAtBytes(b); err != nil {
			return err
		}
	}
	if err := c.waitIfStalled(); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	if err := c.beginWrite(); err != nil {
		return err
	}
	n, err := c.transport().Write(b)
	c.endWrite()
	c.bytesOut += int64(n)
	if err != nil && c.isDropped() {
		return ErrDropped
	}
	return err
}

// fireAtBytes writes the part of b before each byte-count fault that b
// reaches, fires the fault, and returns the rest of b.
func (c *Conn) fireAtBytes(b []byte) ([]byte, error) {
	for _, a := range c.set.armed {
		w := a.When
		act, ok := a.Action.(EventAction)
		if !ok || w.Point() != PointBytes || c.fired[a] || !a.onConn(c.n) {
			continue
		}
		if c.bytesOut+int64(len(b)) < w.AfterBytes {
			continue
		}
		if c.fired == nil {
			c.fired = make(map[*armed]bool)
		}
		c.fired[a] = true
		if !a.take() {
			continue
		}
		head := b[:w.AfterBytes-c.bytesOut]
		if err := c.rawWrite(head); err != nil {
			return nil, err
		}
		b = b[len(head):]
		ev := &Event{Point: PointBytes, Phase: c.Phase()}
		c.logFired(a, ev)
		if err := act.Apply(c.life(), c, ev); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// closeAfterWrite makes the connection close once the line being filtered
// is sent.
func (c *Conn) closeAfterWrite() { c.closeAfter = true }

// WriteRaw sends bytes to the client as they are, outside IMAP framing.
func (c *Conn) WriteRaw(b []byte) error {
	c.tap(TapEvent{Dir: DirOut, Data: b})
	return c.rawWrite(b)
}

// errSwallowed tells the reader that a fault answered the command itself.
var errSwallowed = errors.New("command answered by a fault")

// Respond sends a status line for ev: the tagged reply to the command at a
// command point (which then never reaches the server), an untagged line
// anywhere else. A BYE closes the connection after it is sent.
func (c *Conn) Respond(ev *Event, status string) error {
	var err error
	if ev.Point == PointCommand && ev.Command != nil {
		err = c.respondTagged(ev.Command, status)
		if err == nil {
			err = errSwallowed
		}
	} else {
		err = c.emit([]byte("* " + status + "\r\n"))
	}
	if strings.HasPrefix(strings.ToUpper(status), "BYE") {
		c.Drop(false)
		return ErrDropped
	}
	return err
}

// respondTagged writes a tagged reply; the caller holds wmu.
func (c *Conn) respondTagged(cmd *Command, status string) error {
	return c.emit([]byte(cmd.Tag + " " + status + "\r\n"))
}
