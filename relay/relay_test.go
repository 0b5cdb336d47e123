package relay_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/imapfault/imapfault/relay"
	"github.com/imapfault/imapfault/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait bounds every wait in these tests: long enough for a loaded
// machine, short enough to end a hung test.
const wait = 20 * time.Second

// tlsFixture is a CA and a certificate for localhost, shared by the
// upstreams and the relay of one test.
type tlsFixture struct {
	server *tls.Config // for a TLS server naming localhost
	client *tls.Config // trusts the CA, expects localhost
}

func newTLS(t testing.TB) tlsFixture {
	t.Helper()
	certs, err := server.NewCerts()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.Leaf("valid", []string{"localhost", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return tlsFixture{
		server: &tls.Config{Certificates: []tls.Certificate{leaf}},
		client: &tls.Config{RootCAs: certs.Pool(), ServerName: "localhost"},
	}
}

// peer is one end of a scripted conversation: lines in, bytes out.
type peer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func newPeer(t *testing.T, c net.Conn) *peer {
	_ = c.SetDeadline(time.Now().Add(wait))
	return &peer{t: t, conn: c, r: bufio.NewReader(c)}
}

func (p *peer) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.conn, s); err != nil {
		p.t.Errorf("send %q: %v", s, err)
	}
}

func (p *peer) expect(want string) {
	p.t.Helper()
	got, err := p.r.ReadString('\n')
	if err != nil || got != want {
		p.t.Errorf("read = %q, %v; want %q", got, err, want)
	}
}

func (p *peer) expectEOF() {
	p.t.Helper()
	if b, err := p.r.ReadByte(); err != io.EOF {
		p.t.Errorf("read = %q, %v; want EOF", b, err)
	}
}

// startTLS makes p TLS, as a server or a client.
func (p *peer) startTLS(cfg *tls.Config, asServer bool) {
	p.t.Helper()
	if p.r.Buffered() > 0 {
		p.t.Errorf("%d plaintext bytes buffered before the handshake", p.r.Buffered())
	}
	var tc *tls.Conn
	if asServer {
		tc = tls.Server(p.conn, cfg)
	} else {
		tc = tls.Client(p.conn, cfg)
	}
	if err := tc.Handshake(); err != nil {
		p.t.Errorf("handshake: %v", err)
	}
	p.conn = tc
	p.r = bufio.NewReader(tc)
}

// upstream serves one connection with script and reports when it is done.
func upstream(t *testing.T, script func(p *peer)) (addr string, done <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.Close()
		script(newPeer(t, c))
	}()
	t.Cleanup(func() { ln.Close(); <-ch })
	return ln.Addr().String(), ch
}

// event is one Observer call, as tests compare them.
type event struct {
	Kind string // bytes, tls, closed
	From string
	Data string
	Err  string
}

// recorder is an Observer that keeps the calls and fails the test if two
// overlap.
type recorder struct {
	t      *testing.T
	busy   atomic.Bool
	mu     sync.Mutex
	events []event
	closed chan struct{}
}

func (r *recorder) add(e event) {
	if !r.busy.CompareAndSwap(false, true) {
		r.t.Errorf("two Observer calls at once")
	}
	defer r.busy.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	// Reads split bytes arbitrarily: join consecutive ones from a side.
	if n := len(r.events); n > 0 && e.Kind == "bytes" && r.events[n-1].Kind == "bytes" && r.events[n-1].From == e.From {
		r.events[n-1].Data += e.Data
		return
	}
	r.events = append(r.events, e)
}

func (r *recorder) Bytes(_ time.Time, from relay.Side, b []byte) {
	r.add(event{Kind: "bytes", From: from.String(), Data: string(b)})
}

func (r *recorder) TLS(time.Time) { r.add(event{Kind: "tls"}) }

func (r *recorder) Closed(_ time.Time, by relay.Side, err error) {
	e := event{Kind: "closed", From: by.String()}
	if err != nil {
		e.Err = err.Error()
	}
	r.add(e)
	close(r.closed)
}

// wait returns the events once the connection is closed.
func (r *recorder) wait() []event {
	r.t.Helper()
	select {
	case <-r.closed:
	case <-time.After(wait):
		r.t.Fatal("the Observer saw no Closed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events
}

// start runs a relay to upstream with opts, one recorder for its first
// connection, and returns both.
func start(t *testing.T, fx tlsFixture, up string, opts relay.Options) (*relay.Relay, *recorder) {
	t.Helper()
	rec := &recorder{t: t, closed: make(chan struct{})}
	opts.Upstream = up
	opts.ServerTLS = fx.server
	if opts.UpstreamCAs == nil {
		opts.UpstreamCAs = fx.client.RootCAs
	}
	if opts.UpstreamServerName == "" {
		opts.UpstreamServerName = "localhost"
	}
	opts.NewObserver = func(n int) relay.Observer {
		if n != 1 {
			t.Errorf("connection %d: the tests make one", n)
		}
		return rec
	}
	r, err := relay.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, rec
}

func dial(t *testing.T, r *relay.Relay) *peer {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr(), wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return newPeer(t, c)
}

func bytesEv(from relay.Side, data string) event {
	return event{Kind: "bytes", From: from.String(), Data: data}
}

func TestRelayStartTLS(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK [CAPABILITY IMAP4rev1 STARTTLS COMPRESS=DEFLATE] ready\r\n")
		p.expect("a STARTTLS\r\n")
		// Plaintext after the OK must never reach the client.
		p.send("a OK Begin TLS\r\n* OK injected\r\n")
		p.startTLS(fx.server, true)
		p.expect("b CAPABILITY\r\n")
		p.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN COMPRESS=DEFLATE\r\nb OK done\r\n")
		p.expect("c LOGOUT\r\n")
		p.send("* BYE bye\r\nc OK done\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{TLS: relay.TLSStartTLS})
	c := dial(t, r)
	c.expect("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
	c.send("a STARTTLS\r\n")
	c.expect("a OK Begin TLS\r\n")
	c.startTLS(fx.client, false)
	c.send("b CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
	c.expect("b OK done\r\n")
	c.send("c LOGOUT\r\n")
	c.expect("* BYE bye\r\n")
	c.expect("c OK done\r\n")
	c.expectEOF()
	<-done
	c.conn.Close()
	want := []event{
		bytesEv(relay.Upstream, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
		bytesEv(relay.Client, "a STARTTLS\r\n"),
		bytesEv(relay.Upstream, "a OK Begin TLS\r\n"),
		{Kind: "tls"},
		bytesEv(relay.Client, "b CAPABILITY\r\n"),
		bytesEv(relay.Upstream, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nb OK done\r\n"),
		bytesEv(relay.Client, "c LOGOUT\r\n"),
		bytesEv(relay.Upstream, "* BYE bye\r\nc OK done\r\n"),
		{Kind: "closed", From: "upstream"},
	}
	if diff := cmp.Diff(want, rec.wait()); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestRelayStartTLSRefused(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expect("a STARTTLS\r\n")
		p.send("a NO not today\r\n")
		// What the client pipelined goes on in plaintext.
		p.expect("b NOOP\r\n")
		p.send("b OK done\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	c.send("a STARTTLS\r\nb NOOP\r\n")
	c.expect("a NO not today\r\n")
	c.expect("b OK done\r\n")
	c.expectEOF()
	<-done
	c.conn.Close()
	events := rec.wait()
	if last := events[len(events)-1]; last != (event{Kind: "closed", From: "upstream"}) {
		t.Errorf("last event = %+v, want the upstream's orderly close", last)
	}
	for _, e := range events {
		if e.Kind == "tls" {
			t.Errorf("TLS observed after a refused STARTTLS")
		}
	}
}

func TestRelayImplicitTLS(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.startTLS(fx.server, true)
		p.send("* OK ready\r\n")
		p.expect("a NOOP\r\n")
		p.send("a OK done\r\n")
		// The client's EOF reaches the upstream.
		p.expectEOF()
	})
	r, rec := start(t, fx, addr, relay.Options{TLS: relay.TLSImplicit})
	c := dial(t, r)
	c.startTLS(fx.client, false)
	c.expect("* OK ready\r\n")
	c.send("a NOOP\r\n")
	c.expect("a OK done\r\n")
	if err := c.conn.(*tls.Conn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	<-done
	c.expectEOF()
	want := []event{
		{Kind: "tls"},
		bytesEv(relay.Upstream, "* OK ready\r\n"),
		bytesEv(relay.Client, "a NOOP\r\n"),
		bytesEv(relay.Upstream, "a OK done\r\n"),
		{Kind: "closed", From: "client"},
	}
	if diff := cmp.Diff(want, rec.wait()); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

// A client's COMPRESS never reaches the upstream: it gets NOOP, in order
// with the other commands, and the client a refusal.
func TestRelayCompressRefused(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expect("a NOOP\r\n")
		p.expect("b NOOP\r\n")
		p.send("a OK done\r\nb OK NOOP done\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	c.send("a NOOP\r\nb COMPRESS DEFLATE\r\n")
	c.expect("a OK done\r\n")
	c.expect("b NO [CANNOT] COMPRESS is not available through this relay, which must see plaintext\r\n")
	<-done
	c.expectEOF()
	c.conn.Close()
	events := rec.wait()
	if diff := cmp.Diff(bytesEv(relay.Client, "a NOOP\r\nb COMPRESS DEFLATE\r\n"), events[1]); diff != "" {
		t.Errorf("the Observer sees what the client sent (-want +got):\n%s", diff)
	}
}

// The upstream's last bytes reach the client even without a line end.
func TestRelayPartialLineAtEOF(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n* BYE no line end")
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	<-done
	if rest, err := io.ReadAll(c.r); err != nil || string(rest) != "* BYE no line end" {
		t.Errorf("after the greeting the client read %q, %v; want the partial line", rest, err)
	}
	c.conn.Close()
	events := rec.wait()
	if diff := cmp.Diff(bytesEv(relay.Upstream, "* OK ready\r\n* BYE no line end"), events[0]); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestRelayClientEOF(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expectEOF()
		p.send("* BYE after your EOF\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The half-close lets the upstream still speak.
	c.expect("* BYE after your EOF\r\n")
	<-done
	c.expectEOF()
	events := rec.wait()
	if last := events[len(events)-1]; last != (event{Kind: "closed", From: "client"}) {
		t.Errorf("last event = %+v, want the client's orderly close", last)
	}
}

// A literal's content is relayed as data, never read as a command or a
// tagged reply, even when it looks like one.
func TestRelayLiterals(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expect("a APPEND INBOX {12+}\r\n")
		p.expect("x STARTTLS\r\n")
		p.expect("\r\n")
		p.send("* 1 FETCH (BODY[] {30}\r\nb OK [CAPABILITY COMPRESS=X]\r\n)\r\na OK done\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	c.send("a APPEND INBOX {12+}\r\nx STARTTLS\r\n\r\n")
	c.expect("* 1 FETCH (BODY[] {30}\r\n")
	c.expect("b OK [CAPABILITY COMPRESS=X]\r\n")
	c.expect(")\r\n")
	c.expect("a OK done\r\n")
	<-done
	c.expectEOF()
	c.conn.Close()
	rec.wait()
}

func TestRelayUpstreamUnreachable(t *testing.T) {
	fx := newTLS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* BYE [UNAVAILABLE] imapfault relay: upstream " + addr + " unreachable\r\n")
	c.expectEOF()
	events := rec.wait()
	last := events[len(events)-1]
	if last.From != "upstream" || !strings.Contains(last.Err, "dial upstream") {
		t.Errorf("last event = %+v, want the upstream's dial error", last)
	}
}

// A hostile or confused upstream ends its connection with a clear error,
// never a panic.
func TestRelayHostileUpstream(t *testing.T) {
	fx := newTLS(t)
	tests := []struct {
		name    string
		mode    relay.TLSMode
		script  func(p *peer)
		client  func(c *peer, addr string)
		wantErr string
	}{
		{
			name:   "plaintext on implicit TLS",
			mode:   relay.TLSImplicit,
			script: func(p *peer) { p.send("* OK I am not TLS\r\n") },
			client: func(c *peer, addr string) {
				c.startTLS(fx.client, false)
				c.expect("* BYE [UNAVAILABLE] imapfault relay: upstream " + addr + " unreachable\r\n")
			},
			wantErr: "upstream TLS handshake",
		},
		{
			name: "garbage after STARTTLS OK",
			mode: relay.TLSStartTLS,
			script: func(p *peer) {
				p.send("* OK ready\r\n")
				p.expect("a STARTTLS\r\n")
				p.send("a OK go\r\n")
				p.r.ReadByte() // the ClientHello's first byte
				p.send("\x00\xff garbage {99999999999999999999}\r\n")
			},
			client: func(c *peer, _ string) {
				c.expect("* OK ready\r\n")
				c.send("a STARTTLS\r\n")
				c.expect("a OK go\r\n")
				tc := tls.Client(c.conn, fx.client)
				if err := tc.Handshake(); err == nil {
					t.Errorf("client handshake succeeded through a broken upstream")
				}
			},
			wantErr: "upstream TLS handshake after STARTTLS",
		},
		{
			name: "garbage lines and a huge literal",
			mode: relay.TLSStartTLS,
			script: func(p *peer) {
				p.send("\x00\x01\x02 {18446744073709551616}\r\n{-1}\r\n* OK {3}\r\nabc" + strings.Repeat("x", 100<<10) + "{2}\r\nzz\r\n")
			},
			client: func(c *peer, _ string) {
				n, err := io.Copy(io.Discard, c.r)
				if err != nil || n != int64(len("\x00\x01\x02 {18446744073709551616}\r\n{-1}\r\n* OK {3}\r\nabc")+100<<10+len("{2}\r\nzz\r\n")) {
					t.Errorf("relayed %d bytes, %v", n, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, done := upstream(t, tt.script)
			r, rec := start(t, fx, addr, relay.Options{TLS: tt.mode})
			c := dial(t, r)
			tt.client(c, addr)
			c.conn.Close()
			<-done
			events := rec.wait()
			last := events[len(events)-1]
			if tt.wantErr == "" {
				if last.Err != "" {
					t.Errorf("closed with %q, want an orderly close", last.Err)
				}
				return
			}
			if last.From != "upstream" || !strings.Contains(last.Err, tt.wantErr) {
				t.Errorf("last event = %+v, want the upstream's %q", last, tt.wantErr)
			}
		})
	}
}

// fakeClient is a ClientConn that counts its handshakes, as the fault
// layer's would run its own.
type fakeClient struct {
	net.Conn
	handshakes *atomic.Int32
}

func (f *fakeClient) HandshakeTLS(ctx context.Context, cfg *tls.Config) error {
	f.handshakes.Add(1)
	tc := tls.Server(f.Conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	f.Conn = tc
	return nil
}

func TestRelayClientHook(t *testing.T) {
	fx := newTLS(t)
	var handshakes atomic.Int32
	addr, done := upstream(t, func(p *peer) {
		p.startTLS(fx.server, true)
		p.send("* OK ready\r\n")
	})
	r, rec := start(t, fx, addr, relay.Options{TLS: relay.TLSImplicit, Client: func(_ context.Context, n int, raw net.Conn) (relay.ClientConn, error) {
		return &fakeClient{Conn: raw, handshakes: &handshakes}, nil
	}})
	c := dial(t, r)
	c.startTLS(fx.client, false)
	c.expect("* OK ready\r\n")
	<-done
	c.conn.Close()
	rec.wait()
	if n := handshakes.Load(); n != 1 {
		t.Errorf("the hook's HandshakeTLS ran %d times, want 1", n)
	}
}

// A hook's error ends the connection before the upstream is dialled.
func TestRelayClientHookRefuses(t *testing.T) {
	fx := newTLS(t)
	refused := errors.New("refused by a fault")
	r, rec := start(t, fx, "127.0.0.1:1", relay.Options{Client: func(_ context.Context, _ int, raw net.Conn) (relay.ClientConn, error) {
		return nil, refused
	}})
	c := dial(t, r)
	c.expectEOF()
	want := []event{{Kind: "closed", From: "client", Err: "client side: " + refused.Error()}}
	if diff := cmp.Diff(want, rec.wait()); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

func TestRelayClose(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expectEOF()
	})
	r, rec := start(t, fx, addr, relay.Options{})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectEOF()
	<-done
	events := rec.wait()
	if last := events[len(events)-1]; last.Err != relay.ErrClosed.Error() {
		t.Errorf("last event = %+v, want %v", last, relay.ErrClosed)
	}
}

func TestNewErrors(t *testing.T) {
	fx := newTLS(t)
	tests := []struct {
		opts relay.Options
		want string
	}{
		{relay.Options{Upstream: "nohost", ServerTLS: fx.server}, "want host:port"},
		{relay.Options{Upstream: "127.0.0.1:143"}, "ServerTLS"},
		{relay.Options{Upstream: "127.0.0.1:143", ServerTLS: fx.server, TLS: 9}, "unknown TLS mode"},
		{relay.Options{Upstream: "127.0.0.1:143", ServerTLS: fx.server, Listen: "256.0.0.1:0"}, "listen on"},
	}
	for _, tt := range tests {
		r, err := relay.New(tt.opts)
		if err == nil {
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tt.opts, err, tt.want)
		}
	}
}

func TestParseTLSMode(t *testing.T) {
	for _, m := range []relay.TLSMode{relay.TLSAuto, relay.TLSImplicit, relay.TLSStartTLS} {
		got, err := relay.ParseTLSMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseTLSMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := relay.ParseTLSMode("ssl"); err == nil {
		t.Error(`ParseTLSMode("ssl") accepted`)
	}
	_ = fmt.Sprint(relay.TLSMode(7))
}

// byeClient is a ClientConn that knows how to say goodbye, as the fault
// layer does.
type byeClient struct{ net.Conn }

func (b *byeClient) HandshakeTLS(context.Context, *tls.Config) error {
	return errors.New("no TLS in this test")
}

func (b *byeClient) Shutdown(text string) error {
	_, err := io.WriteString(b.Conn, "* BYE "+text+"\r\n")
	return err
}

// Closing the relay tells a client whose side can say it why.
func TestRelayCloseShutdown(t *testing.T) {
	fx := newTLS(t)
	addr, done := upstream(t, func(p *peer) {
		p.send("* OK ready\r\n")
		p.expectEOF()
	})
	r, rec := start(t, fx, addr, relay.Options{Client: func(_ context.Context, _ int, raw net.Conn) (relay.ClientConn, error) {
		return &byeClient{raw}, nil
	}})
	c := dial(t, r)
	c.expect("* OK ready\r\n")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.expect("* BYE [UNAVAILABLE] imapfault relay shutting down\r\n")
	c.expectEOF()
	<-done
	rec.wait()
}
