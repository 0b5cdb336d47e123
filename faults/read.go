package faults

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Read gives the server the client's bytes, after faults had their say.
// It reads the socket into p, the server's own buffer, and keeps what the
// faults let through in c.in only until p takes it: an idle connection
// then holds no read buffer of its own.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.in) == 0 {
		if err := c.waitIfStalled(); err != nil {
			return 0, err
		}
		c.sock.Lock()
		n, err := c.transport().Read(p)
		c.sock.Unlock()
		if n > 0 {
			if ferr := c.feedClient(p[:n]); ferr != nil {
				return 0, ferr
			}
			if c.inCmd != nil {
				// The command goes on past this read (a literal, or the
				// rest of its line after one): a client that leaves
				// Nagle's algorithm on holds its next small write, such
				// as the CRLF after an APPEND literal, until this is
				// acknowledged.
				quickAck(c.tcp)
			}
		}
		if err != nil && len(c.in) == 0 {
			if c.isDropped() {
				return 0, ErrDropped
			}
			return 0, err
		}
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	if len(c.in) == 0 {
		c.in = nil
	}
	return n, nil
}

// feedClient frames client bytes into lines and literals. A line that
// arrives whole is used in place: nothing below keeps it past this call.
func (c *Conn) feedClient(b []byte) error {
	for len(b) > 0 {
		var p []byte
		var k imapframe.Kind
		p, k, b = c.inFrame.Next(b)
		switch k {
		case imapframe.Literal:
			c.clientData(p, true)
			continue
		case imapframe.None:
			// The start of a line is pending: refused as soon as it is
			// over the limit, the rest of it dropped as it comes.
			if head := c.inFrame.Pending(); c.overLong(len(head)) {
				c.inFrame.SkipLine()
				return c.refuseLine(head)
			}
			continue
		case imapframe.Long:
			if !c.overLong(len(p)) {
				// Over the framer's bound but within the limit: passed on
				// unexamined.
				c.clientData(p, false)
				continue
			}
			if p[len(p)-1] == '\n' {
				c.inFrame.NoLiteral()
			} else {
				c.inFrame.SkipLine()
			}
			if err := c.refuseLine(p); err != nil {
				return err
			}
			continue
		}
		if c.overLong(len(p)) {
			c.inFrame.NoLiteral()
			if err := c.refuseLine(p); err != nil {
				return err
			}
			continue
		}
		if err := c.clientLine(p); err != nil {
			return err
		}
		if c.isDropped() {
			return ErrDropped
		}
		if c.discard {
			c.discard = false
			return nil
		}
	}
	return nil
}

// clientData passes bytes on to the server unless the command they belong
// to was answered by a fault.
func (c *Conn) clientData(b []byte, literal bool) {
	secret := c.inCmd != nil && (c.inCmd.Name == "LOGIN" || c.inCmd.Name == "AUTHENTICATE")
	c.tap(TapEvent{Dir: DirIn, Data: b, Literal: literal, Secret: secret && literal})
	if !c.swallow {
		c.in = append(c.in, b...)
	}
}

func (c *Conn) clientLine(line []byte) error {
	first := c.inCmd == nil
	switch {
	case c.inCmd != nil:
		// A line after a literal continues the same command.
		c.tapCommand(line, c.inCmd.Name, true)
	case c.getMode() == modeIdle:
		// The client's lines in IDLE and in a SASL exchange announce no
		// literal.
		c.inFrame.NoLiteral()
		c.tap(TapEvent{Dir: DirIn, Data: line})
		c.in = append(c.in, line...)
		if strings.EqualFold(strings.TrimSpace(string(line)), "DONE") {
			c.setMode(modeCommand)
		}
		return nil
	case c.getMode() == modeAuth:
		c.inFrame.NoLiteral()
		c.tap(TapEvent{Dir: DirIn, Data: line, Secret: true})
		c.in = append(c.in, line...)
		return nil
	default:
		tag, name := imapframe.CommandName(line)
		c.tapCommand(line, name, false)
		if err := c.startCommand(tag, name, line); err != nil {
			return err
		}
	}
	c.cmdBytes += len(line)
	size, nonSync, isLit := c.inFrame.Announced()
	if c.swallow && isLit && !nonSync {
		// The fault answered with a tagged reply instead of "+", so a
		// conforming client sends no literal.
		c.inFrame.NoLiteral()
		isLit = false
	}
	if isLit && size > c.literalMax() {
		// Refused: a client that waits for "+" sends no literal; one
		// that does not is sent BYE.
		c.inFrame.NoLiteral()
		return c.refuseLiteral(size, nonSync, first)
	}
	if !c.swallow {
		c.in = append(c.in, line...)
	}
	if isLit {
		// The framer passes the literal on as such.
		return nil
	}
	if cmd := c.inCmd; cmd != nil && !c.swallow {
		switch cmd.Name {
		case "IDLE":
			c.setMode(modeIdle)
		case "AUTHENTICATE":
			c.setMode(modeAuth)
		}
	}
	c.inCmd = nil
	c.swallow = false
	return nil
}

// tapCommand records a line of command name, masking a LOGIN password and
// a SASL initial response; cont marks a line after a literal.
func (c *Conn) tapCommand(line []byte, name string, cont bool) {
	switch {
	case name == "LOGIN" && cont:
		// The rest of a LOGIN after a literal user name: the password.
		c.tap(TapEvent{Dir: DirIn, Data: redactLoginRest(line)})
	case name == "LOGIN":
		c.tap(TapEvent{Dir: DirIn, Data: redactLogin(line)})
	case name == "AUTHENTICATE":
		fields := strings.Fields(string(line))
		if len(fields) > 3 {
			line = []byte(strings.Join(fields[:3], " ") + " ********\r\n")
		}
		c.tap(TapEvent{Dir: DirIn, Data: line})
	default:
		c.tap(TapEvent{Dir: DirIn, Data: line})
	}
}

// startCommand runs the faults and the transport policy for a new command,
// then answers it when the wire layer does (local.go).
func (c *Conn) startCommand(tag, name string, line []byte) error {
	cmd := &Command{Tag: tag, Name: name}
	// Counting costs a map per connection, so only runs whose faults
	// name an nth occurrence keep count.
	if c.set.countCommands {
		if c.counts == nil {
			c.counts = make(map[string]int)
		}
		c.counts[name]++
		cmd.N = c.counts[name]
	}
	c.inCmd = cmd
	c.cmdBytes = 0
	if !c.rate.allow(c.opts.Limits.CommandsPerSecond, time.Now()) {
		return c.refuseCommand(cmd)
	}
	c.wmu.Lock()
	err := c.fire(c.life(), Event{Point: PointCommand, Command: cmd, Phase: c.Phase()})
	c.wmu.Unlock()
	if errors.Is(err, errSwallowed) {
		c.swallow = true
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case name == "STARTTLS" && c.opts.StartTLS != nil && !c.TLS() && c.advertises("STARTTLS"):
		c.swallow = true
		return c.startTLS(cmd)
	case (name == "LOGIN" || name == "AUTHENTICATE") && c.opts.RequireTLSForAuth && !c.TLS():
		c.swallow = true
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.respondTagged(cmd, "NO [PRIVACYREQUIRED] Plaintext authentication is disabled; use STARTTLS first")
	case name == "LOGIN" && c.advertises("LOGINDISABLED"):
		c.swallow = true
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.respondTagged(cmd, "NO [CANNOT] LOGIN is disabled on this server")
	}
	if reply := c.localReply(cmd, line); reply != nil {
		c.swallow = true
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.answerInOrder(cmd, reply)
	}
	c.smu.Lock()
	c.inflight = append(c.inflight, cmd)
	c.smu.Unlock()
	return nil
}

// startTLS answers STARTTLS itself and upgrades the socket, so that the
// server and the faults above keep seeing plaintext.
func (c *Conn) startTLS(cmd *Command) error {
	c.wmu.Lock()
	err := c.respondTagged(cmd, "OK Begin TLS negotiation now")
	if err == nil {
		err = c.fire(c.life(), Event{Point: PointReply, Command: cmd, Phase: c.Phase(), Status: "OK"})
	}
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	// Bytes the client pipelined after STARTTLS are discarded (RFC 9051
	// section 6.2.1): keeping them would be the STARTTLS injection bug.
	c.inFrame.Reset()
	c.discard = true
	ctx, cancel := context.WithTimeout(c.life(), 30*time.Second)
	defer cancel()
	if err := c.upgrade(ctx, c.opts.StartTLS, c.tcp); err != nil {
		c.Drop(false)
		return err
	}
	c.inCmd = nil
	return nil
}
