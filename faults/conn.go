package faults

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// ErrDropped is returned by reads and writes after a fault closed the
// connection.
var ErrDropped = errors.New("faults: connection dropped by a fault")

// Command is a client command as the wire layer sees it.
type Command struct {
	Tag  string
	Name string // upper case; "UID FETCH" for UID commands
	N    int    // how many times Name has been seen on this connection

	reply []byte // the wire layer's own reply, waiting its turn (local.go)
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
	tcp    net.Conn // the accepted socket, for RST and for the TLS upgrade
	timers sync.WaitGroup

	rmu      sync.Mutex       // the client-to-server side
	sock     sync.Mutex       // one reader of the socket at a time: Read, or a stall's drain
	in       []byte           // bytes ready for the server; nil once drained
	inFrame  imapframe.Framer // frames the client's bytes
	inCmd    *Command         // the command whose line or literals are being read
	swallow  bool             // the current command was answered by a fault
	discard  bool             // drop the rest of the read buffer (after STARTTLS)
	counts   map[string]int
	cmdBytes int // bytes of the current command's lines so far
	rate     limiter

	wmu      sync.Mutex // the server-to-client side
	outLine  []byte
	outLit   int64
	litLimit int64 // bytes of the current literal allowed before a drop
	greeted  bool
	// greetDecided is set once the greeting faults are decided; greetFired
	// holds those that act (PreAuth needs to know before the greeting).
	greetDecided bool
	greetFired   []*armed
	closeAfter   bool // a filter turned the line into a BYE
	bytesOut     int64
	fired        map[*armed]bool // byte-count faults already fired
	noted        map[*armed]bool // pervasive faults already noted in the transcript
	// withheld is the lines a hold fault keeps back; release the part of it
	// to send before the line being written, once no hold applies.
	withheld, release []byte
	// held is the output held back to go out with the rest of its
	// response (coalesce.go); hold says that the next raw write may join
	// it, litHold the same for the literal being written and the rest of
	// its line, which litRest marks.
	held    *[]byte
	hold    bool
	litHold bool
	litRest bool

	// The write deadline the IMAP server asked for, given to the socket
	// only before a write to it (deadline.go).
	dmu      sync.Mutex
	deadline time.Time
	dirty    bool // deadline is not on the socket yet
	writing  bool // a write to the socket is under way

	smu      sync.Mutex // state both sides share
	raw      net.Conn   // tcp, or the TLS connection over it
	isTLS    bool
	dropped  bool
	ended    bool // the connection is closed: its context is done
	mode     mode
	phase    phase
	idleFrom phase // the phase to return to when IDLE ends
	epoch    int   // counts phase changes, so that a phase's timers know it ended
	inflight []*Command
	stalled  chan struct{} // closed: never; set: the connection is stalled
	done     chan struct{} // made by the first wait on the context, closed at the end
}

// mode is what client lines mean now.
type mode uint8

const (
	modeCommand mode = iota
	modeIdle         // the client may send DONE
	modeAuth         // SASL responses
)

// phase is a session phase as an index into phases. The connection keeps
// its state in small integers because an idle server holds one Conn per
// client for hours, thousands at a time.
type phase uint8

const (
	phaseConnect phase = iota
	phaseGreeting
	phaseNotAuthenticated
	phaseAuthenticated
	phaseSelected
	phaseIdle
)

func (p phase) String() string { return phases[p] }

func newConn(s *Set, raw net.Conn, n int, opts *ConnOptions) *Conn {
	return &Conn{set: s, opts: opts, n: n, tcp: raw, raw: raw}
}

// life is the connection's lifetime as a context: it ends when the
// connection closes. It makes its Done channel only when something waits,
// which an idle connection never does, and costs no allocation of its own.
type life Conn

func (c *Conn) life() context.Context { return (*life)(c) }

func (l *life) Deadline() (time.Time, bool) { return time.Time{}, false }

func (l *life) Value(any) any { return nil }

func (l *life) Done() <-chan struct{} {
	c := (*Conn)(l)
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.ended {
			close(c.done)
		}
	}
	return c.done
}

func (l *life) Err() error {
	c := (*Conn)(l)
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.ended {
		return context.Canceled
	}
	return nil
}

// end makes the connection's context done.
func (c *Conn) end() {
	c.smu.Lock()
	defer c.smu.Unlock()
	if !c.ended {
		c.ended = true
		if c.done != nil {
			close(c.done)
		}
	}
}

// Number is the connection's 1-based number in the server run.
func (c *Conn) Number() int { return c.n }

// Phase returns the session phase the connection is in.
func (c *Conn) Phase() string { return c.getPhase().String() }

func (c *Conn) getPhase() phase {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.phase
}

// Connect runs the faults that act on a just-accepted connection (refuse,
// reset, silence, delay, a non-IMAP banner) and arms the timers. An error
// means the connection is finished.
func (c *Conn) Connect(ctx context.Context) error {
	c.armTimers(phaseConnect)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.fire(ctx, Event{Point: PointConnect, Phase: PhaseConnect})
}

// HandshakeTLS makes the connection TLS: implicit TLS at the start, or,
// for a relay that forwards STARTTLS and its OK itself, after them. The
// client's bytes framed before the handshake are dropped: after STARTTLS
// they would be the command injection RFC 9051 section 6.2.1 forbids.
func (c *Conn) HandshakeTLS(ctx context.Context, cfg *tls.Config) error {
	c.rmu.Lock()
	c.in, c.inCmd, c.swallow = nil, nil, false
	c.inFrame.Reset()
	c.rmu.Unlock()
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
// before it greets. It decides the greeting faults then, by the same
// matching as every other fault, and the greeting line keeps to that
// decision.
func (c *Conn) PreAuth() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, a := range c.greetingFaults() {
		if a.Action.(*Greeting).status() == "PREAUTH" {
			return true
		}
	}
	return false
}

// greetingFaults decides once which greeting faults act on this
// connection's greeting, in the greeting phase. The caller holds wmu.
func (c *Conn) greetingFaults() []*armed {
	if c.greetDecided {
		return c.greetFired
	}
	c.greetDecided = true
	c.setPhase(phaseGreeting)
	for _, a := range c.set.armed {
		if _, ok := a.Action.(*Greeting); ok && c.filterActive(a, nil) {
			c.greetFired = append(c.greetFired, a)
		}
	}
	return c.greetFired
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

func (c *Conn) getMode() mode {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.mode
}

func (c *Conn) setMode(m mode) {
	c.smu.Lock()
	c.mode = m
	c.smu.Unlock()
}

// Drop closes the connection, with a TCP reset when rst is set.
func (c *Conn) Drop(rst bool) {
	c.smu.Lock()
	c.dropped = true
	c.smu.Unlock()
	if tc, ok := c.tcp.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	what := "fault: connection closed"
	if rst {
		what = "fault: connection reset"
	}
	c.tap(TapEvent{Dir: DirInfo, Data: []byte(what)})
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
	if first {
		c.goOwned(c.drainStalled)
	}
}

// goOwned runs f in a goroutine that Close waits for, unless the
// connection has ended: Close waits only once it has ended the
// connection, so that no goroutine is admitted while it waits (a
// WaitGroup Add concurrent with its Wait is a data race, and would leave
// the goroutine unwaited).
func (c *Conn) goOwned(f func()) {
	c.smu.Lock()
	if c.ended {
		c.smu.Unlock()
		return
	}
	c.timers.Add(1)
	c.smu.Unlock()
	go func() {
		defer c.timers.Done()
		f()
	}()
}

// drainStalled reads and discards the client's bytes until the client
// closes (or a read deadline the IMAP server set passes), then ends the
// connection.
func (c *Conn) drainStalled() {
	c.sock.Lock()
	defer c.sock.Unlock()
	buf := make([]byte, 4096)
	for c.life().Err() == nil {
		if _, err := c.transport().Read(buf); err != nil {
			if c.life().Err() == nil {
				c.tap(TapEvent{Dir: DirInfo, Data: []byte("stalled connection ended: " + err.Error())})
			}
			break
		}
	}
	c.end()
	_ = c.tcp.Close()
}

func (c *Conn) waitIfStalled() error {
	c.smu.Lock()
	st := c.stalled
	c.smu.Unlock()
	if st == nil {
		return nil
	}
	<-c.life().Done()
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
	case <-c.life().Done():
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

// Close closes the connection and stops its timers and stalls. Ending
// the connection first closes admission (goOwned), so that the wait
// below covers every goroutine the connection started.
func (c *Conn) Close() error {
	c.end()
	err := c.tcp.Close()
	c.timers.Wait()
	return err
}

// Shutdown closes the connection as a server that is stopping does: with
// an untagged BYE first (RFC 9051 section 7.1.5), unless the client could
// not read it as one: before the greeting, inside a line or a literal the
// server was writing, or on a stalled connection, which just closes.
// Nothing the IMAP server writes after the BYE reaches the client.
func (c *Conn) Shutdown(text string) error {
	// Ending the connection first makes a fault that holds the output
	// (a delay, a throttle, a stall) let go of it; the deadline does the
	// same for a write to a client that reads nothing.
	c.end()
	t := c.transport()
	_ = t.SetWriteDeadline(time.Now().Add(time.Second))
	c.wmu.Lock()
	if c.greeted && len(c.outLine) == 0 && c.outLit == 0 && !c.isDropped() && !c.isStalled() {
		line := []byte("* BYE " + text + "\r\n")
		c.tap(TapEvent{Dir: DirOut, Data: line})
		_, _ = t.Write(line)
	}
	_ = c.tcp.Close()
	c.wmu.Unlock()
	return c.Close()
}

func (c *Conn) isStalled() bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.stalled != nil
}

// LocalAddr implements net.Conn.
func (c *Conn) LocalAddr() net.Addr { return c.tcp.LocalAddr() }

// RemoteAddr implements net.Conn.
func (c *Conn) RemoteAddr() net.Addr { return c.tcp.RemoteAddr() }

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.transport().SetReadDeadline(t)
}

// SetReadDeadline implements net.Conn.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.transport().SetReadDeadline(t) }

var _ net.Conn = (*Conn)(nil)
