package faults

import (
	"errors"
	"fmt"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// Limits bound what one client can make the server do, however hostile.
// The wire layer enforces the per-connection ones (MaxLine, MaxLiteral,
// CommandsPerSecond); the server counts connections. A zero field takes
// its value from DefaultLimits.
type Limits struct {
	// MaxLine is the longest command the server reads, in bytes: every
	// line of it, literals excluded. Past it a new command gets BAD; a
	// line the server is already reading ends the connection with BYE.
	MaxLine int `toml:"max_line"`
	// MaxLiteral is the largest literal APPEND accepts, in bytes; other
	// commands accept at most 4 KiB, go-imap's own cap for literals it
	// holds in memory. Past it a literal gets NO [TOOBIG]; a
	// non-synchronizing one, already on its way, also ends the connection.
	MaxLiteral int64 `toml:"max_literal"`
	// MaxConnections is how many connections the server holds at once;
	// one more is greeted with BYE [LIMIT] and closed.
	MaxConnections int `toml:"max_connections"`
	// MaxConnectionsPerUser is how many sessions one user may have logged
	// in at once; one more LOGIN or AUTHENTICATE gets NO [LIMIT].
	MaxConnectionsPerUser int `toml:"max_connections_per_user"`
	// CommandsPerSecond is the sustained command rate of one connection,
	// with a burst of as many. A command past it gets NO [LIMIT]; a
	// second's worth of refused commands in a row gets BYE.
	CommandsPerSecond int `toml:"commands_per_second"`
}

// MaxCommandSize is go-imap's own bound on a command (RFC 2683 asks for at
// least 8000 bytes). Past it imapserver answers NO [SERVERBUG] and reads
// the rest of the line as a new command, so MaxLine may not exceed it.
const MaxCommandSize = 50 << 10

// bufferedLiteralMax is imapserver's cap on a literal it reads into memory
// (every command but APPEND). Past it imapserver drops its own NO
// [TOOBIG]: a synchronizing literal gets neither "+" nor an answer, and a
// non-synchronizing one is read as commands, so the wire layer refuses
// those itself.
const bufferedLiteralMax = 4096

// The largest values a limit may take: past them a limit protects
// nothing (a literal of gigabytes held in memory, more connections than a
// process has descriptors) and is most likely a typo.
const (
	maxLiteralLimit     = 1 << 30
	maxConnectionsLimit = 100000
	maxCommandRate      = 1000000
)

// DefaultLimits are generous for any mail client and test suite, and keep
// a hostile client from holding more than about a gigabyte of memory.
var DefaultLimits = Limits{
	MaxLine:               MaxCommandSize,
	MaxLiteral:            16 << 20,
	MaxConnections:        500,
	MaxConnectionsPerUser: 100,
	CommandsPerSecond:     1000,
}

// Or returns l with each zero field taken from d.
func (l Limits) Or(d Limits) Limits {
	if l.MaxLine == 0 {
		l.MaxLine = d.MaxLine
	}
	if l.MaxLiteral == 0 {
		l.MaxLiteral = d.MaxLiteral
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = d.MaxConnections
	}
	if l.MaxConnectionsPerUser == 0 {
		l.MaxConnectionsPerUser = d.MaxConnectionsPerUser
	}
	if l.CommandsPerSecond == 0 {
		l.CommandsPerSecond = d.CommandsPerSecond
	}
	return l
}

// Validate reports every limit that cannot work, one per line, each
// naming its key.
func (l Limits) Validate() error {
	var errs []error
	for _, f := range []struct {
		key  string
		v    int64
		max  int64
		why  string
		unit string
	}{
		{"max_line", int64(l.MaxLine), MaxCommandSize, ", go-imap's own bound on a command", "bytes"},
		{"max_literal", l.MaxLiteral, maxLiteralLimit, "", "bytes"},
		{"max_connections", int64(l.MaxConnections), maxConnectionsLimit, "", "connections"},
		{"max_connections_per_user", int64(l.MaxConnectionsPerUser), maxConnectionsLimit, "", "sessions"},
		{"commands_per_second", int64(l.CommandsPerSecond), maxCommandRate, "", "commands"},
	} {
		switch {
		case f.v < 0:
			errs = append(errs, fmt.Errorf("%s: %d is negative (allowed: 1 to %d %s; 0 or absent: the default)", f.key, f.v, f.max, f.unit))
		case f.v > f.max:
			errs = append(errs, fmt.Errorf("%s: %d is above %d%s (allowed: 1 to %d %s; 0 or absent: the default)", f.key, f.v, f.max, f.why, f.max, f.unit))
		}
	}
	return errors.Join(errs...)
}

// limiter is one connection's command budget: a token bucket that refills
// at the limit's rate and holds one second's worth.
type limiter struct {
	at      time.Time
	tokens  float32 // 32 bits fit the Conn in a smaller size class
	refused int32   // commands refused in a row
}

// allow takes a token for a command arriving at now, for rate commands a
// second (0: no limit).
func (l *limiter) allow(rate int, now time.Time) bool {
	if rate <= 0 {
		return true
	}
	if l.at.IsZero() {
		l.tokens = float32(rate)
	} else {
		l.tokens = float32(min(float64(rate), float64(l.tokens)+now.Sub(l.at).Seconds()*float64(rate)))
	}
	l.at = now
	if l.tokens < 1 {
		l.refused++
		return false
	}
	l.tokens--
	l.refused = 0
	return true
}

// validTag reports whether s can be echoed as a command's tag: an IMAP
// atom of sane length without '+' (RFC 9051 section 9, tag).
func validTag(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch <= ' ' || ch >= 0x7f || ch == '+' || ch == '(' || ch == ')' || ch == '{' || ch == '%' || ch == '*' || ch == '"' || ch == '\\' || ch == ']' {
			return false
		}
	}
	return true
}

// overLong reports whether a line of n bytes takes the current command
// past the line limit.
func (c *Conn) overLong(n int) bool {
	limit := c.opts.Limits.MaxLine
	if c.inCmd != nil {
		n += c.cmdBytes
	}
	return limit > 0 && n > limit
}

// refuseLine answers a line over the length limit without passing it on.
// A new command gets BAD and the session goes on after the line's end; a
// line the server is already reading (the rest of a command after a
// literal, an IDLE or SASL exchange) cannot be taken back, so the
// connection ends with BYE.
func (c *Conn) refuseLine(head []byte) error {
	limit := c.opts.Limits.MaxLine
	c.limitHit(fmt.Sprintf("line over %d bytes refused", limit))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.inCmd != nil || c.getMode() != modeCommand {
		return c.bye(fmt.Sprintf("Command line too long (limit %d bytes)", limit))
	}
	tag, _ := imapframe.CommandName(head)
	if !validTag(tag) {
		tag = "*"
	}
	return c.emit([]byte(fmt.Sprintf("%s BAD [TOOBIG] Command line too long (limit %d bytes)\r\n", tag, limit)))
}

// literalMax is the largest literal the current command may carry.
func (c *Conn) literalMax() int64 {
	limit := c.opts.Limits.MaxLiteral
	if limit <= 0 {
		limit = 1<<63 - 1
	}
	if c.inCmd != nil && c.inCmd.Name != "APPEND" {
		limit = min(limit, bufferedLiteralMax)
	}
	return limit
}

// refuseLiteral answers a literal over the limit. When the server has seen
// nothing of the command and the client waits for "+", NO [TOOBIG] is the
// whole answer; otherwise the literal is on its way, or the server is
// waiting for it, and the connection ends with BYE.
func (c *Conn) refuseLiteral(size int64, nonSync, first bool) error {
	cmd, limit := c.inCmd, c.literalMax()
	c.limitHit(fmt.Sprintf("literal of %d bytes over %d refused", size, limit))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.swallow {
		if err := c.respondTagged(cmd, fmt.Sprintf("NO [TOOBIG] Literal of %d bytes is over the limit of %d", size, limit)); err != nil {
			return err
		}
	}
	if first && !nonSync && !c.swallow {
		c.popInflight(cmd.Tag)
		c.inCmd = nil
		return nil
	}
	return c.bye("Too much data")
}

// refuseCommand answers a command past the rate limit with NO [LIMIT], or
// ends a flood that goes on regardless with BYE.
func (c *Conn) refuseCommand(cmd *Command) error {
	rate := c.opts.Limits.CommandsPerSecond
	c.limitHit(fmt.Sprintf("%s over %d commands per second refused", cmd.Name, rate))
	c.swallow = true
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if int(c.rate.refused) > rate {
		return c.bye("Too many commands")
	}
	return c.respondTagged(cmd, fmt.Sprintf("NO [LIMIT] Too many commands (limit %d per second)", rate))
}

// limitHit records a limit the client ran into.
func (c *Conn) limitHit(what string) {
	c.tap(TapEvent{Dir: DirInfo, Data: []byte("limit: " + what)})
	if c.opts.Logger != nil {
		c.opts.Logger.Info("client hit a limit", "conn", c.n, "limit", what)
	}
}

// bye sends an untagged BYE and closes the connection; the caller holds
// wmu.
func (c *Conn) bye(text string) error {
	err := c.emit([]byte("* BYE " + text + "\r\n"))
	c.Drop(false)
	if err != nil && !errors.Is(err, ErrDropped) {
		return err
	}
	return ErrDropped
}
