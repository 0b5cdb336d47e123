package relay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// TLSMode is how the relay ends TLS between the client and the upstream.
type TLSMode uint8

const (
	// TLSAuto is TLSImplicit for an upstream on port 993 and TLSStartTLS
	// for any other port.
	TLSAuto TLSMode = iota
	// TLSImplicit speaks TLS on both sides from the first byte.
	TLSImplicit
	// TLSStartTLS starts in plaintext and upgrades both sides when the
	// client sends STARTTLS and the upstream answers OK.
	TLSStartTLS
)

var tlsModes = []string{TLSAuto: "auto", TLSImplicit: "implicit", TLSStartTLS: "starttls"}

func (m TLSMode) String() string {
	if int(m) < len(tlsModes) {
		return tlsModes[m]
	}
	return fmt.Sprintf("TLSMode(%d)", m)
}

// ParseTLSMode reads a mode's name as String writes it.
func ParseTLSMode(s string) (TLSMode, error) {
	for i, name := range tlsModes {
		if s == name {
			return TLSMode(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a TLS mode (allowed: auto, implicit, starttls)", s)
}

// ClientConn is the client's side of a relayed connection. The default is
// the accepted socket itself; Options.Client may put something between
// (the fault layer does).
type ClientConn interface {
	net.Conn
	// HandshakeTLS makes the client's side TLS, the relay being the TLS
	// server: at the start for implicit TLS, or after the upstream's OK
	// to STARTTLS. Nothing the client sent before it may come out of Read
	// after it: that would be the STARTTLS command injection bug.
	HandshakeTLS(ctx context.Context, cfg *tls.Config) error
}

// shutdowner is a ClientConn that can end a session as a server that is
// stopping does, with an untagged BYE where the client can read one
// (faults.Conn can: it knows where lines end). Close uses it; the relay
// itself cannot, since it passes bytes through unexamined mid-line.
type shutdowner interface {
	Shutdown(text string) error
}

// Options configure a Relay.
type Options struct {
	// Upstream is the real server, as host:port.
	Upstream string
	// Listen is the address to accept clients on; default 127.0.0.1:0.
	Listen string
	// TLS is how TLS is ended on both sides.
	TLS TLSMode
	// ServerTLS is what the relay presents to clients as a TLS server (its
	// certificate). Required: both modes may need it.
	ServerTLS *tls.Config
	// UpstreamCAs verifies the upstream's certificate; nil means the
	// system's roots.
	UpstreamCAs *x509.CertPool
	// UpstreamServerName is the name the upstream's certificate must
	// carry; default the host of Upstream.
	UpstreamServerName string
	// InsecureSkipUpstreamVerify accepts any certificate from the
	// upstream, as a lab's self-signed one. Anyone on the path can then
	// read what the client sends, passwords included.
	InsecureSkipUpstreamVerify bool
	// Timeout bounds the dial, each TLS handshake and the wait for the
	// upstream's answer to STARTTLS; default 30s.
	Timeout time.Duration
	// NewObserver, when set, makes the Observer of connection n (from 1).
	// It sees the conversation as the relay has it, between Client's
	// wrapping and the upstream: Client bytes as the client side gave
	// them, Upstream bytes as the relay passes them on (COMPRESS taken out
	// of capability lists, and its refusal of a client's COMPRESS, which
	// the upstream saw as NOOP). A call never ends inside a line, except
	// one longer than 64 KiB or the last bytes before the end of the
	// stream; literals may be split across calls.
	NewObserver func(n int) Observer
	// Client, when set, wraps the accepted socket of connection n. It may
	// act before the relay dials (a connect-time fault) and end the
	// connection by returning an error; it is given the relay's context.
	Client func(ctx context.Context, n int, raw net.Conn) (ClientConn, error)
	// Logger receives what goes wrong with a connection; default none.
	Logger *slog.Logger
}

// ErrClosed is why connections end when the relay is closed.
var ErrClosed = errors.New("relay: closed")

// Relay accepts clients and relays each to its own connection to the
// upstream.
type Relay struct {
	opts     Options
	log      *slog.Logger
	ln       net.Listener
	implicit bool
	upTLS    *tls.Config

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and one goroutine per connection
}

// New checks opts, starts listening and accepts clients until Close.
func New(opts Options) (*Relay, error) {
	host, port, err := net.SplitHostPort(opts.Upstream)
	if err != nil || host == "" {
		return nil, fmt.Errorf("upstream %q: want host:port", opts.Upstream)
	}
	if opts.ServerTLS == nil {
		return nil, errors.New("relay: ServerTLS (the certificate clients see) is required")
	}
	if opts.TLS >= TLSMode(len(tlsModes)) {
		return nil, fmt.Errorf("relay: unknown TLS mode %v", opts.TLS)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	r := &Relay{opts: opts, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.implicit = opts.TLS == TLSImplicit || (opts.TLS == TLSAuto && port == "993")
	r.upTLS = &tls.Config{
		RootCAs:            opts.UpstreamCAs,
		ServerName:         opts.UpstreamServerName,
		InsecureSkipVerify: opts.InsecureSkipUpstreamVerify,
	}
	if r.upTLS.ServerName == "" {
		r.upTLS.ServerName = host
	}
	if opts.InsecureSkipUpstreamVerify {
		r.log.Warn("the upstream's certificate is not verified: anyone on the path can read what clients send, passwords included", "upstream", opts.Upstream)
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if r.ln, err = net.Listen("tcp", listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", listen, err)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.acceptLoop()
	}()
	return r, nil
}

// Addr is the address clients connect to, as host:port.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Implicit reports whether the relay speaks TLS from the first byte.
func (r *Relay) Implicit() bool { return r.implicit }

// Close stops accepting, ends every connection (each Observer sees
// Closed with ErrClosed; a ClientConn with a Shutdown(text string) error
// method is shut down with it first) and waits for the relay's
// goroutines.
func (r *Relay) Close() error {
	r.cancel()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

func (r *Relay) acceptLoop() {
	for n := 1; ; n++ {
		raw, err := r.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.log.Error("accept", "err", err)
			}
			return
		}
		c := &conn{r: r, n: n, raw: raw, verdict: make(chan bool, 1), upDone: make(chan struct{})}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			c.run(r.ctx)
		}()
	}
}
