package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/imapfault/imapfault/internal/imapframe"
)

// conn is one relayed connection. It runs in two goroutines: the one the
// relay started for it pumps the client's bytes to the upstream, and one
// it starts pumps the upstream's back. Each side has one writer, so no
// write needs a lock; the pumps meet only at STARTTLS (verdict) and at
// the Observer (omu).
type conn struct {
	r   *Relay
	n   int
	raw net.Conn // the accepted socket

	cmu    sync.Mutex // guards the fields below, which set-up and STARTTLS change
	closed bool
	client ClientConn
	upRaw  net.Conn // the dialled socket
	up     net.Conn // upRaw, or TLS over it

	omu   sync.Mutex // one Observer call at a time
	obs   Observer
	ended bool
	by    Side
	why   error

	pmu     sync.Mutex
	pending map[string]pendingKind // client tags whose reply the relay acts on

	// verdict carries the upstream pump's answer to a STARTTLS the client
	// pump waits on: true once both sides speak TLS. upDone is closed when
	// the upstream pump ends.
	verdict chan bool
	upDone  chan struct{}
	isTLS   bool // read and written by the client pump only
}

// pendingKind is what the relay does with the tagged reply to a command.
type pendingKind uint8

const (
	pendingNone     pendingKind = iota
	pendingStartTLS             // upgrade both sides on OK
	pendingCompress             // the upstream got NOOP; the client gets a refusal
)

// compressRefusal is the tagged reply a client's COMPRESS gets (see
// stripCompress for why).
const compressRefusal = " NO [CANNOT] COMPRESS is not available through this relay, which must see plaintext\r\n"

func (c *conn) run(ctx context.Context) {
	if c.r.opts.NewObserver != nil {
		c.obs = c.r.opts.NewObserver(c.n)
	}
	stop := context.AfterFunc(ctx, c.shutdown)
	defer func() {
		stop()
		c.closeAll()
		if c.obs != nil {
			c.omu.Lock()
			c.obs.Closed(time.Now(), c.by, c.why)
			c.omu.Unlock()
		}
	}()
	if !c.setup(ctx) {
		return
	}
	go func() {
		defer close(c.upDone)
		c.upstreamPump(ctx)
	}()
	c.clientPump(ctx)
	<-c.upDone
}

// setup wraps the client's socket, ends implicit TLS on its side, and
// dials the upstream; false means the connection is over.
func (c *conn) setup(ctx context.Context) bool {
	var client ClientConn = &plainClient{raw: c.raw, Conn: c.raw}
	if wrap := c.r.opts.Client; wrap != nil {
		var err error
		if client, err = wrap(ctx, c.n, c.raw); err != nil {
			c.end(ctx, Client, fmt.Errorf("client side: %w", err))
			return false
		}
	}
	if !c.set(func() { c.client = client }) {
		return false
	}
	if c.r.implicit {
		hctx, cancel := context.WithTimeout(ctx, c.r.opts.Timeout)
		err := client.HandshakeTLS(hctx, c.r.opts.ServerTLS)
		cancel()
		if err != nil {
			c.end(ctx, Client, fmt.Errorf("client TLS handshake: %w", err))
			return false
		}
	}
	if err := c.dial(ctx); err != nil {
		c.r.log.Warn("upstream unreachable", "conn", c.n, "upstream", c.r.opts.Upstream, "err", err)
		// The client is told why in the one way IMAP has before a
		// greeting, rather than left to guess from a closed socket.
		bye := []byte("* BYE [UNAVAILABLE] imapfault relay: upstream " + c.r.opts.Upstream + " unreachable\r\n")
		c.observe(func(o Observer) { o.Bytes(time.Now(), Upstream, bye) })
		_, _ = client.Write(bye)
		c.end(ctx, Upstream, err)
		return false
	}
	if c.r.implicit {
		c.isTLS = true
		c.observe(func(o Observer) { o.TLS(time.Now()) })
	}
	return true
}

// dial connects to the upstream, with TLS for implicit TLS.
func (c *conn) dial(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, c.r.opts.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(dctx, "tcp", c.r.opts.Upstream)
	if err != nil {
		return fmt.Errorf("dial upstream: %w", err)
	}
	if !c.set(func() { c.upRaw, c.up = raw, raw }) {
		return ErrClosed
	}
	if c.r.implicit {
		tc := tls.Client(raw, c.r.upTLS)
		if err := tc.HandshakeContext(dctx); err != nil {
			return fmt.Errorf("upstream TLS handshake: %w", err)
		}
		c.set(func() { c.up = tc })
	}
	return nil
}

// set changes the connection's sockets under cmu; false when the
// connection was closed meanwhile, in which case it closes what set made.
func (c *conn) set(f func()) bool {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	f()
	if c.closed {
		c.closeLocked()
		return false
	}
	return true
}

func (c *conn) sides() (ClientConn, net.Conn) {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return c.client, c.up
}

// shutdown ends the connection when the relay closes: the client told
// why, where its side knows how (shutdowner).
func (c *conn) shutdown() {
	c.cmu.Lock()
	client := c.client
	c.cmu.Unlock()
	if s, ok := client.(shutdowner); ok {
		_ = s.Shutdown("[UNAVAILABLE] imapfault relay shutting down")
	}
	c.closeAll()
}

// closeAll closes both sides, which ends any read or write on them.
func (c *conn) closeAll() {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.closed = true
	c.closeLocked()
}

func (c *conn) closeLocked() {
	_ = c.raw.Close()
	if c.client != nil {
		_ = c.client.Close()
	}
	if c.upRaw != nil {
		_ = c.upRaw.Close()
	}
}

// end notes the first side that ended the connection and why: nil for an
// orderly EOF, ErrClosed once the relay is closing.
func (c *conn) end(ctx context.Context, by Side, err error) {
	switch {
	case ctx.Err() != nil:
		err = ErrClosed
	case errors.Is(err, io.EOF):
		err = nil
	}
	c.omu.Lock()
	defer c.omu.Unlock()
	if c.ended {
		return
	}
	c.ended, c.by, c.why = true, by, err
	if err != nil {
		c.r.log.Info("connection ended", "conn", c.n, "by", by.String(), "err", err)
	}
}

func (c *conn) observe(f func(Observer)) {
	if c.obs == nil {
		return
	}
	c.omu.Lock()
	defer c.omu.Unlock()
	f(c.obs)
}

func (c *conn) expect(tag string, k pendingKind) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.pending == nil {
		c.pending = map[string]pendingKind{}
	}
	c.pending[tag] = k
}

// took returns and forgets what the relay does with the tagged reply tag.
func (c *conn) took(tag string) pendingKind {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	k := c.pending[tag]
	delete(c.pending, tag)
	return k
}

// clientPump relays the client's bytes until the client's side ends. A
// STARTTLS makes it wait for the upstream's answer before it reads on, so
// that it never reads the client's TLS handshake as plaintext.
func (c *conn) clientPump(ctx context.Context) {
	buf := make([]byte, 32<<10)
	var fr imapframe.Framer
	var seen, out []byte
	for {
		client, up := c.sides()
		n, rerr := client.Read(buf)
		at := time.Now()
		b := buf[:n]
		for len(b) > 0 {
			wait := false
			for len(b) > 0 && !wait {
				var p []byte
				var k imapframe.Kind
				p, k, b = fr.Next(b)
				seen = append(seen, p...)
				if k != imapframe.Line {
					out = append(out, p...)
					continue
				}
				switch tag, name := imapframe.CommandName(p); {
				case name == "STARTTLS" && !c.isTLS:
					out = append(out, p...)
					c.expect(tag, pendingStartTLS)
					wait = true
				case name == "COMPRESS":
					out = append(out, tag+" NOOP\r\n"...)
					c.expect(tag, pendingCompress)
				default:
					out = append(out, p...)
				}
			}
			if err := c.flush(at, Client, seen, out, up); err != nil {
				c.end(ctx, Upstream, err)
				c.closeAll()
				return
			}
			seen, out = seen[:0], out[:0]
			if !wait {
				continue
			}
			upgraded, err := c.awaitTLS(ctx)
			if err != nil {
				c.end(ctx, Upstream, err)
				c.closeAll()
				return
			}
			if upgraded {
				if len(b) > 0 {
					c.r.log.Warn("discarded what the client sent after STARTTLS before the handshake", "conn", c.n, "bytes", len(b))
				}
				b = nil
				fr.Reset()
				c.isTLS = true
			}
		}
		if rerr != nil {
			if p := fr.Pending(); len(p) > 0 {
				if err := c.flush(at, Client, p, p, up); err != nil {
					rerr = fmt.Errorf("passing on the client's last bytes: %w", err)
				}
			}
			c.end(ctx, Client, rerr)
			_, up := c.sides()
			halfClose(up)
			return
		}
	}
}

// errUpstreamEnded stops the client pump when the upstream ended while it
// waited on STARTTLS; the upstream pump noted why.
var errUpstreamEnded = errors.New("upstream ended")

// awaitTLS waits for the upstream pump's verdict on a STARTTLS.
func (c *conn) awaitTLS(ctx context.Context) (bool, error) {
	t := time.NewTimer(c.r.opts.Timeout)
	defer t.Stop()
	select {
	case ok := <-c.verdict:
		return ok, nil
	case <-c.upDone:
		select {
		case ok := <-c.verdict:
			return ok, nil
		default:
			return false, errUpstreamEnded
		}
	case <-t.C:
		return false, fmt.Errorf("upstream did not answer STARTTLS within %v", c.r.opts.Timeout)
	case <-ctx.Done():
		return false, ErrClosed
	}
}

// upstreamPump relays the upstream's bytes until the upstream's side
// ends, and upgrades both sides when the upstream accepts STARTTLS.
func (c *conn) upstreamPump(ctx context.Context) {
	buf := make([]byte, 32<<10)
	var fr imapframe.Framer
	var out []byte
	for {
		client, up := c.sides()
		n, rerr := up.Read(buf)
		at := time.Now()
		b := buf[:n]
		for len(b) > 0 {
			upgrade := false
			for len(b) > 0 && !upgrade {
				var p []byte
				var k imapframe.Kind
				p, k, b = fr.Next(b)
				if k == imapframe.Line {
					p = stripCompress(p)
					tag, status := imapframe.CommandName(p)
					switch c.took(tag) {
					case pendingStartTLS:
						if status == "OK" {
							upgrade = true
						} else {
							c.verdict <- false
						}
					case pendingCompress:
						p = []byte(tag + compressRefusal)
					}
				}
				out = append(out, p...)
			}
			if err := c.flush(at, Upstream, out, out, client); err != nil {
				c.end(ctx, Client, err)
				c.closeAll()
				return
			}
			out = out[:0]
			if !upgrade {
				continue
			}
			if len(b) > 0 {
				// Plaintext after the OK would be read as if it came
				// over TLS: the injection a careful client refuses.
				c.r.log.Warn("discarded what the upstream sent after its OK to STARTTLS", "conn", c.n, "bytes", len(b))
			}
			b = nil
			fr.Reset()
			if by, err := c.upgrade(ctx, client, up); err != nil {
				c.end(ctx, by, err)
				c.closeAll()
				return
			}
			c.verdict <- true
		}
		if rerr != nil {
			if p := fr.Pending(); len(p) > 0 {
				if err := c.flush(at, Upstream, p, p, client); err != nil {
					rerr = fmt.Errorf("passing on the upstream's last bytes: %w", err)
				}
			}
			c.end(ctx, Upstream, rerr)
			client, _ := c.sides()
			halfClose(client)
			return
		}
	}
}

// upgrade ends TLS on both sides after the upstream's OK to STARTTLS: the
// upstream's first, since the client will not speak before its own
// handshake. It returns the side that failed.
func (c *conn) upgrade(ctx context.Context, client ClientConn, up net.Conn) (Side, error) {
	hctx, cancel := context.WithTimeout(ctx, c.r.opts.Timeout)
	defer cancel()
	tc := tls.Client(up, c.r.upTLS)
	if err := tc.HandshakeContext(hctx); err != nil {
		return Upstream, fmt.Errorf("upstream TLS handshake after STARTTLS: %w", err)
	}
	c.set(func() { c.up = tc })
	if err := client.HandshakeTLS(hctx, c.r.opts.ServerTLS); err != nil {
		return Client, fmt.Errorf("client TLS handshake after STARTTLS: %w", err)
	}
	c.observe(func(o Observer) { o.TLS(time.Now()) })
	return 0, nil
}

// flush shows seen to the Observer, then writes out to dst: in that order,
// so that the Observer sees a command before the reply it causes.
func (c *conn) flush(at time.Time, from Side, seen, out []byte, dst net.Conn) error {
	if len(seen) > 0 {
		c.observe(func(o Observer) { o.Bytes(at, from, seen) })
	}
	if len(out) == 0 {
		return nil
	}
	_, err := dst.Write(out)
	return err
}

// halfClose passes an EOF on: the other side sees the end of the stream
// but may still send (a close_notify on TLS), or is closed when it cannot
// half-close.
func halfClose(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	_ = c.Close()
}

// plainClient is the client's side when Options.Client is not set: the
// socket, and TLS over it once HandshakeTLS ran.
type plainClient struct {
	net.Conn
	raw net.Conn
}

func (p *plainClient) HandshakeTLS(ctx context.Context, cfg *tls.Config) error {
	tc := tls.Server(p.raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	p.Conn = tc
	return nil
}

// Close closes the socket, whatever runs over it.
func (p *plainClient) Close() error { return p.raw.Close() }

// CloseWrite half-closes the socket, or sends TLS's close_notify.
func (p *plainClient) CloseWrite() error {
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
