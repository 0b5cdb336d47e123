package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// maxLine bounds how much of one line is buffered before it is passed on
// unexamined, so that a hostile peer cannot make the wire layer grow
// without limit.
const maxLine = 64 << 10

// ErrDropped is returned by reads and writes after a fault closed the
// connection.
var ErrDropped = errors.New("faults: connection dropped by a fault")

// Command is a client command as the wire layer sees it.
type Command struct {
	Tag  string
	Name string // upper case; "UID FETCH" for UID commands
	N    int    // how many times Name has been seen on this connection
}

// Event is the occasion an EventAction runs at.
type Event struct {
	Point   Point
	Command *Command // the command, for PointCommand and PointReply
	Phase   string
	Status  string // the tagged reply's status, for PointReply
}

// Conn is one client connection seen as a plaintext IMAP stream, with the
// run's faults applied. The IMAP server reads from and writes to it as if
// it were the socket. It is deliberately not a *tls.Conn even when TLS is
// up: the transport policy is decided here, not by the IMAP server.
type Conn struct {
	set    *Set
	opts   *ConnOptions // shared by the run's connections, never modified
	n      int
	start  time.Time
	tcp    net.Conn // the accepted socket, for RST and for the TLS upgrade
	ctx    context.Context
	cancel context.CancelFunc
	timers sync.WaitGroup

	rmu     sync.Mutex // the client-to-server side
	sock    sync.Mutex // one reader of the socket at a time: Read, or a stall's drain
	in      []byte     // bytes ready for the server; nil once drained
	inLine  []byte
	inLit   int64
	inCmd   *Command // the command whose line or literals are being read
	swallow bool     // the current command was answered by a fault
	discard bool     // drop the rest of the read buffer (after STARTTLS)
	counts  map[string]int
	// skipLine drops client bytes up to the next LF: the rest of a line
	// refused for its length.
	skipLine bool
	cmdBytes int // bytes of the current command's lines so far
	rate     limiter

	wmu        sync.Mutex // the server-to-client side
	outLine    []byte
	outLit     int64
	litLimit   int64 // bytes of the current literal allowed before a drop
	greeted    bool
	closeAfter bool // a filter turned the line into a BYE
	bytesOut   int64
	fired      map[*armed]bool // byte-count faults already fired

	smu      sync.Mutex // state both sides share
	raw      net.Conn   // tcp, or the TLS connection over it
	isTLS    bool
	mode     string // "", "idle" or "auth": what client lines mean now
	phase    string
	idleFrom string // the phase to return to when IDLE ends
	epoch    int    // counts phase changes, so that a phase's timers know it ended
	inflight []*Command
	stalled  chan struct{} // closed: never; set: the connection is stalled
	dropped  bool
}

func newConn(s *Set, raw net.Conn, n int, opts *ConnOptions) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &Conn{
		set: s, opts: opts, n: n, start: time.Now(),
		tcp: raw, raw: raw, ctx: ctx, cancel: cancel,
		phase: PhaseConnect,
	}
}

// Number is the connection's 1-based number in the server run.
func (c *Conn) Number() int { return c.n }

// Phase returns the session phase the connection is in.
func (c *Conn) Phase() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.phase
}

// Connect runs the faults that act on a just-accepted connection (refuse,
// reset, silence, delay, a non-IMAP banner) and arms the timers. An error
// means the connection is finished.
func (c *Conn) Connect(ctx context.Context) error {
	c.armTimers(PhaseConnect)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fire(ctx, &Event{Point: PointConnect, Phase: PhaseConnect})
}

// HandshakeTLS makes the connection implicit TLS.
func (c *Conn) HandshakeTLS(ctx context.Context, cfg *tls.Config) error {
	return c.upgrade(ctx, cfg, c.tcp)
}

func (c *Conn) upgrade(ctx context.Context, cfg *tls.Config, under net.Conn) error {
	for _, a := range c.set.armed {
		t, ok := a.Action.(*TLS)
		if !ok || !c.filterActive(a, nil) {
			continue
		}
		c.logFired(a, &Event{Point: PointConnect, Phase: c.Phase()})
		if done, err := t.sabotage(c); done {
			return fmt.Errorf("tls handshake: %w", err)
		}
		cfg = t.configure(cfg)
	}
	tc := tls.Server(under, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.tap(TapEvent{Dir: DirInfo, Data: []byte("TLS handshake failed: " + err.Error())})
		return fmt.Errorf("tls handshake: %w", err)
	}
	st := tc.ConnectionState()
	c.tap(TapEvent{Dir: DirInfo, Data: []byte(fmt.Sprintf("TLS up: %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite)))})
	c.smu.Lock()
	c.raw = tc
	c.isTLS = true
	c.smu.Unlock()
	return nil
}

// PreAuth reports whether a greeting fault makes this connection start
// authenticated (a PREAUTH greeting), which the IMAP server must know
// before it greets.
func (c *Conn) PreAuth() bool {
	for _, a := range c.set.armed {
		g, ok := a.Action.(*Greeting)
		if ok && strings.EqualFold(g.Status, "PREAUTH") && (a.When.Connection == 0 || a.When.Connection == c.n) {
			return true
		}
	}
	return false
}

// TLS reports whether the connection is encrypted now.
func (c *Conn) TLS() bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.isTLS
}

func (c *Conn) transport() net.Conn {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.raw
}

func (c *Conn) getMode() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.mode
}

func (c *Conn) setMode(m string) {
	c.smu.Lock()
	c.mode = m
	c.smu.Unlock()
}

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

// feedClient frames client bytes into lines and literals.
func (c *Conn) feedClient(b []byte) error {
	for len(b) > 0 {
		if c.inLit > 0 {
			n := int64(len(b))
			if n > c.inLit {
				n = c.inLit
			}
			c.clientData(b[:n], true)
			c.inLit -= n
			b = b[n:]
			continue
		}
		i := bytes.IndexByte(b, '\n')
		if c.skipLine {
			if i < 0 {
				return nil
			}
			c.skipLine = false
			b = b[i+1:]
			continue
		}
		if i < 0 {
			c.inLine = append(c.inLine, b...)
			if c.overLong(len(c.inLine)) {
				c.skipLine = true
				head := c.inLine
				c.inLine = nil
				return c.refuseLine(head)
			}
			if len(c.inLine) > maxLine {
				c.clientData(c.inLine, false)
				c.inLine = nil
			}
			return nil
		}
		line := append(c.inLine, b[:i+1]...)
		c.inLine = nil
		b = b[i+1:]
		if c.overLong(len(line)) {
			if err := c.refuseLine(line); err != nil {
				return err
			}
			continue
		}
		if err := c.clientLine(line); err != nil {
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
		c.tapCommand(line)
	case c.getMode() == "idle":
		c.tap(TapEvent{Dir: DirIn, Data: line})
		c.in = append(c.in, line...)
		if strings.EqualFold(strings.TrimSpace(string(line)), "DONE") {
			c.setMode("")
		}
		return nil
	case c.getMode() == "auth":
		c.tap(TapEvent{Dir: DirIn, Data: line, Secret: true})
		c.in = append(c.in, line...)
		return nil
	default:
		c.tapCommand(line)
		if err := c.startCommand(line); err != nil {
			return err
		}
	}
	c.cmdBytes += len(line)
	size, nonSync, isLit := literalSize(line)
	if c.swallow && isLit && !nonSync {
		// The fault answered with a tagged reply instead of "+", so a
		// conforming client sends no literal.
		isLit = false
	}
	if isLit && size > c.literalMax() {
		return c.refuseLiteral(size, nonSync, first)
	}
	if !c.swallow {
		c.in = append(c.in, line...)
	}
	if isLit {
		c.inLit = size
		return nil
	}
	if cmd := c.inCmd; cmd != nil && !c.swallow {
		switch cmd.Name {
		case "IDLE":
			c.setMode("idle")
		case "AUTHENTICATE":
			c.setMode("auth")
		}
	}
	c.inCmd = nil
	c.swallow = false
	return nil
}

// tapCommand records a command line, masking a LOGIN password and a SASL
// initial response.
func (c *Conn) tapCommand(line []byte) {
	_, name := commandName(line)
	if c.inCmd != nil {
		name = c.inCmd.Name
	}
	switch {
	case name == "LOGIN" && c.inCmd != nil:
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

// startCommand runs the faults and the transport policy for a new command.
func (c *Conn) startCommand(line []byte) error {
	tag, name := commandName(line)
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
	ev := &Event{Point: PointCommand, Command: cmd, Phase: c.Phase()}
	c.wmu.Lock()
	err := c.fire(c.ctx, ev)
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
	c.smu.Lock()
	c.inflight = append(c.inflight, cmd)
	c.smu.Unlock()
	return nil
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
	if c.inCmd != nil || c.getMode() != "" {
		return c.bye(fmt.Sprintf("Command line too long (limit %d bytes)", limit))
	}
	tag, _ := commandName(head)
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
	if c.rate.refused > rate {
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

// startTLS answers STARTTLS itself and upgrades the socket, so that the
// server and the faults above keep seeing plaintext.
func (c *Conn) startTLS(cmd *Command) error {
	c.wmu.Lock()
	err := c.respondTagged(cmd, "OK Begin TLS negotiation now")
	if err == nil {
		err = c.fire(c.ctx, &Event{Point: PointReply, Command: cmd, Phase: c.Phase(), Status: "OK"})
	}
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	// Bytes the client pipelined after STARTTLS are discarded (RFC 9051
	// section 6.2.1): keeping them would be the STARTTLS injection bug.
	c.inLine = nil
	c.discard = true
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if err := c.upgrade(ctx, c.opts.StartTLS, c.tcp); err != nil {
		c.Drop(false)
		return err
	}
	c.inCmd = nil
	return nil
}

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
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.outLine = append(c.outLine, p...)
			if len(c.outLine) > maxLine {
				err := c.emit(c.outLine)
				c.outLine = nil
				if err != nil {
					return 0, err
				}
			}
			break
		}
		line := append(c.outLine, p[:i+1]...)
		c.outLine = nil
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
		c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: literal truncated, connection closed")})
		c.Drop(false)
		return ErrDropped
	}
	if c.litLimit >= 0 {
		c.litLimit -= int64(len(b))
	}
	return c.rawWrite(b)
}

// serverLine applies the transport policy and the faults to one line of
// server output and sends it.
func (c *Conn) serverLine(raw []byte) error {
	greeting := !c.greeted
	c.greeted = true
	if greeting {
		c.setPhase(PhaseGreeting)
		if err := c.fire(c.ctx, &Event{Point: PointGreeting, Phase: PhaseGreeting}); err != nil {
			return err
		}
	}
	line := parseLine(raw, greeting)
	if line.Caps != nil {
		line.Raw = line.withCaps(c.adjustCaps(line.Caps, c.filterActive))
	}
	out := line.Raw
	var cmd *Command
	if line.Tag != "*" && line.Tag != "+" {
		cmd = c.popInflight(line.Tag)
	}
	for _, a := range c.set.armed {
		f, ok := a.Action.(LineFilter)
		if !ok || !c.filterActive(a, cmd) {
			continue
		}
		out = f.FilterLine(c, &Line{Raw: out, Tag: line.Tag, Status: line.Status, Caps: line.Caps, Greeting: greeting})
	}
	if len(out) == 0 {
		return nil
	}
	c.litLimit = -1
	if size, _, ok := literalSize(out); ok {
		c.outLit = size
		c.litLimit = c.literalLimit(size, cmd)
	}
	if err := c.emit(out); err != nil {
		return err
	}
	if c.closeAfter {
		c.Drop(false)
		return ErrDropped
	}
	return c.afterServerLine(line, cmd)
}

// afterServerLine moves the session phase along and fires the faults that
// wait for a reply or a phase.
func (c *Conn) afterServerLine(line *Line, cmd *Command) error {
	if line.Greeting {
		switch line.Status {
		case "PREAUTH":
			return c.enterPhase(PhaseAuthenticated)
		case "BYE":
			return nil
		}
		return c.enterPhase(PhaseNotAuthenticated)
	}
	if line.Tag == "+" {
		if cur := c.current(); cur != nil && cur.Name == "IDLE" && c.Phase() != PhaseIdle {
			c.smu.Lock()
			c.idleFrom = c.phase
			c.smu.Unlock()
			return c.enterPhase(PhaseIdle)
		}
		return nil
	}
	if cmd == nil {
		return nil
	}
	if cmd.Name == "AUTHENTICATE" {
		c.setMode("")
	}
	next := ""
	switch {
	case line.Status == "OK" && (cmd.Name == "LOGIN" || cmd.Name == "AUTHENTICATE"):
		next = PhaseAuthenticated
	case cmd.Name == "SELECT" || cmd.Name == "EXAMINE":
		next = PhaseAuthenticated
		if line.Status == "OK" {
			next = PhaseSelected
		}
	case line.Status == "OK" && (cmd.Name == "CLOSE" || cmd.Name == "UNSELECT"):
		next = PhaseAuthenticated
	case cmd.Name == "IDLE":
		c.setMode("")
		c.smu.Lock()
		next = c.idleFrom
		c.smu.Unlock()
	}
	if next != "" && next != c.Phase() {
		if err := c.enterPhase(next); err != nil {
			return err
		}
	}
	return c.fire(c.ctx, &Event{Point: PointReply, Command: cmd, Phase: c.Phase(), Status: line.Status})
}

func (c *Conn) setPhase(p string) {
	c.smu.Lock()
	c.phase = p
	c.smu.Unlock()
}

// enterPhase records a new phase, fires the faults waiting for it and arms
// its timers.
func (c *Conn) enterPhase(p string) error {
	c.setPhase(p)
	c.armTimers(p)
	return c.fire(c.ctx, &Event{Point: PointPhase, Phase: p})
}

func (c *Conn) popInflight(tag string) *Command {
	c.smu.Lock()
	defer c.smu.Unlock()
	for i, cmd := range c.inflight {
		if cmd.Tag == tag {
			c.inflight = append(c.inflight[:i], c.inflight[i+1:]...)
			return cmd
		}
	}
	return nil
}

// current is the oldest command the server has not answered yet: the one
// its output belongs to.
func (c *Conn) current() *Command {
	c.smu.Lock()
	defer c.smu.Unlock()
	if len(c.inflight) == 0 {
		return nil
	}
	return c.inflight[0]
}

// matches checks a fault's per-connection conditions for an event.
func (c *Conn) matches(a *armed, ev *Event) bool {
	w := a.When
	if w.Point() != ev.Point {
		return false
	}
	if w.Connection > 0 && w.Connection != c.n {
		return false
	}
	switch ev.Point {
	case PointCommand, PointReply:
		if !w.matchCommand(ev.Command.Name) || (w.Nth > 0 && w.Nth != ev.Command.N) {
			return false
		}
		if ev.Point == PointReply && !strings.EqualFold(w.Reply, ev.Status) {
			return false
		}
		if w.Phase != "" && w.Phase != ev.Phase && ev.Point == PointCommand {
			return false
		}
	case PointPhase:
		if w.Phase != ev.Phase {
			return false
		}
	}
	return true
}

// fire runs the event actions matching ev, in the order the scenario
// declares them. errSwallowed from an action ends the command's journey.
// The caller holds wmu, so that actions write in turn with the server.
func (c *Conn) fire(ctx context.Context, ev *Event) error {
	for _, a := range c.set.armed {
		act, ok := a.Action.(EventAction)
		if !ok || !c.matches(a, ev) || !a.take() {
			continue
		}
		c.logFired(a, ev)
		if err := act.Apply(ctx, c, ev); err != nil {
			return err
		}
	}
	return nil
}

func (c *Conn) logFired(a *armed, ev *Event) {
	c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: " + a.Action.Kind())})
	if c.opts.Logger != nil {
		c.opts.Logger.Debug("fault fired", "conn", c.n, "fault", a.Action.Kind(), "phase", ev.Phase)
	}
}

// armTimers starts the timer faults that count from phase p. Each runs in
// a goroutine the connection owns: it ends when the connection closes or
// the phase it belongs to is over.
func (c *Conn) armTimers(p string) {
	c.smu.Lock()
	c.epoch++
	epoch := c.epoch
	c.smu.Unlock()
	for _, a := range c.set.armed {
		w := a.When
		act, ok := a.Action.(EventAction)
		if !ok || w.Point() != PointTimer || (w.Connection > 0 && w.Connection != c.n) {
			continue
		}
		from := w.Phase
		if from == "" {
			from = PhaseConnect
		}
		if from != p {
			continue
		}
		c.timers.Add(1)
		go func() {
			defer c.timers.Done()
			c.runTimer(a, act, epoch)
		}()
	}
}

func (c *Conn) runTimer(a *armed, act EventAction, epoch int) {
	w := a.When
	wait := w.After
	if wait == 0 {
		wait = w.Every
	}
	for {
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		c.smu.Lock()
		over := w.Phase != "" && c.epoch != epoch
		c.smu.Unlock()
		if over || !a.take() {
			return
		}
		ev := &Event{Point: PointTimer, Phase: c.Phase()}
		c.wmu.Lock()
		c.logFired(a, ev)
		err := act.Apply(c.ctx, c, ev)
		c.wmu.Unlock()
		if err != nil || w.Every == 0 {
			return
		}
		wait = w.Every
	}
}

// filterActive reports whether a line filter applies to the current line.
func (c *Conn) filterActive(a *armed, cmd *Command) bool {
	w := a.When
	if !c.filterMatches(a, cmd) {
		return false
	}
	if w.First > 0 || w.Probability > 0 {
		return a.take()
	}
	return true
}

// filterMatches is filterActive without counting a firing against First
// or drawing for Probability, for questions that send nothing.
func (c *Conn) filterMatches(a *armed, cmd *Command) bool {
	w := a.When
	if w.Connection > 0 && w.Connection != c.n {
		return false
	}
	if w.Phase != "" && w.Phase != c.Phase() {
		return false
	}
	if w.Command != "" {
		if cmd == nil {
			cmd = c.current()
		}
		if cmd == nil || !w.matchCommand(cmd.Name) || (w.Nth > 0 && w.Nth != cmd.N) {
			return false
		}
	}
	return true
}

func (c *Conn) literalLimit(size int64, cmd *Command) int64 {
	limit := int64(-1)
	for _, a := range c.set.armed {
		f, ok := a.Action.(LiteralFilter)
		if !ok || !c.filterActive(a, cmd) {
			continue
		}
		if l := f.LiteralLimit(size); l < size && (limit < 0 || l < limit) {
			limit = l
		}
	}
	return limit
}

// adjustCaps applies the transport policy and the capability faults.
func (c *Conn) adjustCaps(caps []string, active func(*armed, *Command) bool) []string {
	if c.opts.Capabilities != nil {
		caps = append([]string(nil), c.opts.Capabilities...)
	}
	isTLS := c.TLS()
	preAuth := c.Phase() == PhaseNotAuthenticated || c.Phase() == PhaseGreeting
	if c.opts.StartTLS != nil && !isTLS && preAuth && !hasCap(caps, "STARTTLS") {
		caps = append(caps, "STARTTLS")
	}
	if c.opts.RequireTLSForAuth && !isTLS && preAuth {
		kept := caps[:0:0]
		for _, cp := range caps {
			if !strings.HasPrefix(strings.ToUpper(cp), "AUTH=") {
				kept = append(kept, cp)
			}
		}
		caps = kept
		if !hasCap(caps, "LOGINDISABLED") {
			caps = append(caps, "LOGINDISABLED")
		}
	}
	for _, a := range c.set.armed {
		if f, ok := a.Action.(*Capabilities); ok && active(a, nil) {
			caps = f.apply(caps)
		}
	}
	return caps
}

// advertises reports whether the capabilities the client is shown now
// include name. A server that hides STARTTLS or announces LOGINDISABLED
// must also refuse the command, as a real one does: clients that send it
// regardless (fetchmail with TLS required, imaplib's login) would
// otherwise succeed where a customer's client fails.
func (c *Conn) advertises(name string) bool {
	return hasCap(c.adjustCaps(nil, c.filterMatches), name)
}

func hasCap(caps []string, name string) bool {
	for _, c := range caps {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// emit sends one line (or an unexamined chunk) through the write shapers.
func (c *Conn) emit(b []byte) error {
	c.tap(TapEvent{Dir: DirOut, Data: b})
	write := c.rawWrite
	for i := len(c.set.armed) - 1; i >= 0; i-- {
		a := c.set.armed[i]
		s, ok := a.Action.(WriteShaper)
		if !ok || !c.filterActive(a, nil) {
			continue
		}
		next := write
		write = func(b []byte) error { return s.Shape(c.ctx, c, b, next) }
	}
	return write(b)
}

// rawWrite writes to the socket and fires the byte-count faults.
func (c *Conn) rawWrite(b []byte) error {
	for _, a := range c.set.armed {
		w := a.When
		act, ok := a.Action.(EventAction)
		if !ok || w.Point() != PointBytes || c.fired[a] || (w.Connection > 0 && w.Connection != c.n) {
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
			return err
		}
		b = b[len(head):]
		ev := &Event{Point: PointBytes, Phase: c.Phase()}
		c.logFired(a, ev)
		if err := act.Apply(c.ctx, c, ev); err != nil {
			return err
		}
	}
	if err := c.waitIfStalled(); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	n, err := c.transport().Write(b)
	c.bytesOut += int64(n)
	if err != nil && c.isDropped() {
		return ErrDropped
	}
	return err
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

// Drop closes the connection, with a TCP reset when rst is set.
func (c *Conn) Drop(rst bool) {
	c.smu.Lock()
	c.dropped = true
	c.smu.Unlock()
	if tc, ok := c.tcp.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	c.tap(TapEvent{Dir: DirInfo, Data: []byte(map[bool]string{true: "fault: connection reset", false: "fault: connection closed"}[rst])})
	_ = c.tcp.Close()
}

func (c *Conn) isDropped() bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.dropped
}

// Stall stops all traffic on the connection until it is closed. What the
// client sends meanwhile is read and thrown away, as by a hung server's
// kernel, so that the connection ends when the client hangs up instead of
// staying half-open until the server closes.
func (c *Conn) Stall() {
	c.smu.Lock()
	first := c.stalled == nil
	if first {
		c.stalled = make(chan struct{})
	}
	c.smu.Unlock()
	c.tap(TapEvent{Dir: DirInfo, Data: []byte("fault: connection stalled")})
	if !first {
		return
	}
	c.timers.Add(1)
	go func() {
		defer c.timers.Done()
		c.drainStalled()
	}()
}

// drainStalled reads and discards the client's bytes until the client
// closes (or a read deadline the IMAP server set passes), then ends the
// connection.
func (c *Conn) drainStalled() {
	c.sock.Lock()
	defer c.sock.Unlock()
	buf := make([]byte, 4096)
	for c.ctx.Err() == nil {
		if _, err := c.transport().Read(buf); err != nil {
			if c.ctx.Err() == nil {
				c.tap(TapEvent{Dir: DirInfo, Data: []byte("stalled connection ended: " + err.Error())})
			}
			break
		}
	}
	c.cancel()
	_ = c.tcp.Close()
}

func (c *Conn) waitIfStalled() error {
	c.smu.Lock()
	st := c.stalled
	c.smu.Unlock()
	if st == nil {
		return nil
	}
	<-c.ctx.Done()
	return ErrDropped
}

// Sleep waits for d or until the connection closes.
func (c *Conn) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ErrDropped
	case <-c.ctx.Done():
		return ErrDropped
	}
}

func (c *Conn) tap(ev TapEvent) {
	if c.opts.Tap != nil {
		ev.Conn = c.n
		ev.Time = time.Now()
		c.opts.Tap(ev)
	}
}

// Close closes the connection and stops its timers and stalls.
func (c *Conn) Close() error {
	c.cancel()
	err := c.tcp.Close()
	c.timers.Wait()
	return err
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.tcp.LocalAddr() }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.tcp.RemoteAddr() }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error { return c.transport().SetDeadline(t) }

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.transport().SetReadDeadline(t) }

// SetWriteDeadline implements net.Conn.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.transport().SetWriteDeadline(t) }

var _ net.Conn = (*Conn)(nil)
