// Package server is the fake IMAP server: it plays a scenario over real
// TCP, with the scenario's faults applied on the wire, and gives Go tests a
// small API in the spirit of net/http/httptest.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/imapfault/imapfault/faults"
	"github.com/imapfault/imapfault/scenarios"
)

// Options configure a Server beyond what its scenario says.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0", falling back to
	// "[::1]:0". A non-loopback address must be given explicitly.
	Addr string
	// Certs to sign the server certificate with; default a fresh CA.
	Certs *Certs
	// Transcript, when set, receives every transcript line as it happens.
	Transcript io.Writer
	// Logger receives server errors and the faults that fire.
	Logger *slog.Logger
	// Now anchors the dates of generated messages; default time.Now.
	Now func() time.Time
	// Limits bound what one client can make the server do. Its non-zero
	// fields override the scenario's [server.limits], whose non-zero
	// fields override faults.DefaultLimits.
	Limits faults.Limits
}

// Server is a running fake IMAP server.
type Server struct {
	opts       Options
	log        *slog.Logger
	ln         net.Listener
	imap       *imapserver.Server
	handoff    *handoff
	transcript *Transcript

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop, connection set-up, imapserver.Serve

	mu sync.Mutex
	// cur is what new connections get: the scenario, its store and its
	// faults (live.go). A connection keeps the play it started with.
	cur      *play
	certs    *Certs // nil until a scenario with TLS needs them
	conns    map[*faults.Conn]*connState
	live     int            // sessions the IMAP server has not closed yet
	sessions map[string]int // logged-in sessions per user
	faultID  int            // the last live fault's id
}

// New validates the scenario, seeds the store and starts listening. A
// scenario built in Go needs no Validate call of its own: New gives its
// zero fields the defaults a scenario file gets.
func New(sc *scenarios.Scenario, opts Options) (*Server, error) {
	// Validate is what makes the scenario's pointers (plaintext_auth,
	// trust_ca) and enums safe to use; it is idempotent on a parsed one.
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, conns: map[*faults.Conn]*connState{}, sessions: map[string]int{}, certs: opts.Certs}
	s.log = opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.transcript = newTranscript(opts.Transcript)
	p, err := s.newPlay(sc)
	if err != nil {
		return nil, err
	}
	s.publish(p)
	if s.ln, err = listen(opts.Addr); err != nil {
		return nil, err
	}
	if !isLoopback(s.ln.Addr()) {
		s.log.Warn("listening beyond this machine: this fake server accepts the scenario's published test passwords", "addr", s.ln.Addr().String(), "scenario", sc.Name)
	}
	s.handoff = newHandoff(s.ln.Addr())
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: s.newSession,
		// ID is answered by the wire layer (ConnOptions.ID): go-imap does
		// not know it.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapMove: {}, imap.CapSpecialUse: {}, imap.CapLiteralPlus: {}, imap.Cap("ID"): {}},
		Logger:       imapLogger{s.log},
		InsecureAuth: true, // the wire layer enforces the scenario's TLS policy
	})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.imap.Serve(s.handoff)
	}()
	<-s.handoff.serving
	go func() {
		defer s.wg.Done()
		s.acceptLoop()
	}()
	return s, nil
}

func listen(addr string) (net.Listener, error) {
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err6 := net.Listen("tcp", "[::1]:0"); err6 == nil {
			return ln, nil
		}
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	return ln, nil
}

// isLoopback reports whether a listener's address is reachable from this
// machine only.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func (s *Server) acceptLoop() {
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept", "err", err)
			}
			return
		}
		// The play is taken and the connection numbered under one lock,
		// so that a fault armed for the next connection gets exactly it.
		s.mu.Lock()
		p := s.cur
		full := len(s.conns) >= p.limits.MaxConnections
		var c *faults.Conn
		if !full {
			c = p.faults.Set().NewConn(raw, p.connOpts)
			s.conns[c] = &connState{play: p, started: time.Now()}
		}
		s.mu.Unlock()
		if full {
			s.refuse(raw, p)
			continue
		}
		// A set-up that cannot wait on the client (no fault at connect,
		// no TLS handshake) runs here. A goroutine that ended at once
		// would leave its stack, as big as the runtime's average, to the
		// next goroutine started: often the one go-imap starts for IDLE,
		// which then holds 4 KiB for the session instead of 2.
		if !p.faults.Set().AtConnect() && p.sc.Server.TLS != scenarios.TLSImplicit {
			s.setup(c, p)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.setup(c, p)
		}()
	}
}

// refuse turns away a connection past MaxConnections, before it is
// numbered, so that the scenario's per-connection faults count only the
// connections it serves. A plaintext client reads why; an implicit TLS
// one sees the socket close, since a handshake would cost more than the
// refusal is worth.
func (s *Server) refuse(raw net.Conn, p *play) {
	what := fmt.Sprintf("connection from %s refused: %d connections open (max_connections)", raw.RemoteAddr(), p.limits.MaxConnections)
	s.log.Warn("client hit a limit", "limit", what)
	s.transcript.record(faults.TapEvent{Time: time.Now(), Dir: faults.DirInfo, Data: []byte("limit: " + what)})
	if p.sc.Server.TLS != scenarios.TLSImplicit {
		// A fresh socket's send buffer takes a line without blocking; the
		// deadline only guards against the unexpected.
		_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = raw.Write([]byte("* BYE [LIMIT] Too many connections\r\n"))
	}
	_ = raw.Close()
}

// setup runs the connect-time faults and the implicit TLS handshake, then
// hands the connection to the IMAP server.
func (s *Server) setup(c *faults.Conn, p *play) {
	ok := false
	defer func() {
		if !ok {
			s.forget(c)
			c.Close()
		}
	}()
	if err := c.Connect(s.ctx); err != nil {
		return
	}
	if p.sc.Server.TLS == scenarios.TLSImplicit {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		err := c.HandshakeTLS(ctx, p.tlsConfig)
		cancel()
		if err != nil {
			return
		}
	}
	ok = s.handoff.give(s.ctx, c)
}

// errUserLimit refuses a login past MaxConnectionsPerUser.
var errUserLimit = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit, Text: "Too many connections for this user"}

// claim counts a session on c logged in as user, or refuses it past the
// per-user limit.
func (s *Server) claim(c *faults.Conn, p *play, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[user] >= p.limits.MaxConnectionsPerUser {
		return errUserLimit
	}
	s.sessions[user]++
	if st := s.conns[c]; st != nil {
		st.user = user
	}
	return nil
}

// forget lets a connection go, and says so in the transcript: after the
// entry the server no longer counts it.
func (s *Server) forget(c *faults.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.noteEnd(c)
}

func (s *Server) noteEnd(c *faults.Conn) {
	s.transcript.record(faults.TapEvent{Conn: c.Number(), Time: time.Now(), Dir: faults.DirInfo, Data: []byte("end of connection")})
}

// sessionDone counts a session out, releases its user's count (user is ""
// when nobody logged in) and forgets its connection, under one lock of
// the server: every connection passes here, and the server's lock is
// also the one every new connection takes.
func (s *Server) sessionDone(c *faults.Conn, user string) {
	s.mu.Lock()
	s.live--
	if user != "" {
		if s.sessions[user]--; s.sessions[user] <= 0 {
			delete(s.sessions, user)
		}
	}
	if c != nil {
		delete(s.conns, c)
	}
	s.mu.Unlock()
	if c != nil {
		s.noteEnd(c)
	}
}

func (s *Server) newSession(conn *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	fc, _ := conn.NetConn().(*faults.Conn)
	s.mu.Lock()
	s.live++
	p := s.cur
	if st := s.conns[fc]; st != nil {
		p = st.play
	}
	s.mu.Unlock()
	sess := &session{srv: s, conn: fc, play: p}
	if fc != nil && fc.PreAuth() && len(p.sc.Users) > 0 {
		if err := sess.become(p.sc.Users[0].Name); err == nil {
			return sess, &imapserver.GreetingData{PreAuth: true}, nil
		}
	}
	return sess, nil, nil
}

// Addr returns the address the server listens on, as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Scenario returns the scenario the server plays for new connections.
func (s *Server) Scenario() *scenarios.Scenario { return s.play().sc }

// Certs returns the run's CA and certificates, or nil while no scenario
// played so far had TLS on.
func (s *Server) Certs() *Certs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certs
}

// CAPool returns a pool trusting the server's CA (empty when TLS is off).
func (s *Server) CAPool() *x509.CertPool {
	certs := s.Certs()
	if certs == nil {
		return x509.NewCertPool()
	}
	return certs.Pool()
}

// ClientTLSConfig returns a TLS configuration for clients of this server:
// it trusts the run's CA and names "localhost".
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CAPool(), ServerName: "localhost"}
}

// Transcript returns the server-side transcript so far, secrets masked:
// the last 10,000 lines, or fewer when long lines would make them take
// more than 4 MiB.
func (s *Server) Transcript() []Entry { return s.transcript.entries() }

// WaitTranscript waits until the transcript holds an entry that match
// accepts, and returns the first; it gives up with ctx's error. Tests use
// it to wait for what the server did (a fault fired, a connection
// closed) rather than sleep and hope.
func (s *Server) WaitTranscript(ctx context.Context, match func(Entry) bool) (Entry, error) {
	var found Entry
	err := s.transcript.until(ctx, func() bool {
		for _, e := range s.transcript.entries() {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found, err
}

// Close stops the server: the listener, every connection (each told so
// with an untagged BYE where it can read one) and every goroutine it
// started. It waits up to five seconds for sessions to end.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Shutdown("[UNAVAILABLE] Server shutting down")
	}
	s.mu.Unlock()
	s.handoff.Close()
	_ = s.imap.Close()
	s.wg.Wait()
	s.transcript.endSubscriptions()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		live := s.live
		s.mu.Unlock()
		if live == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	if s.live > 0 {
		s.log.Warn("sessions still running after Close", "count", s.live)
	}
	s.mu.Unlock()
	return err
}

// imapLogger sends go-imap's log lines to slog; a closed connection is the
// normal end of a faulted session, not an error worth a user's attention.
type imapLogger struct{ log *slog.Logger }

func (l imapLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(msg, "use of closed network connection") || strings.Contains(msg, faults.ErrDropped.Error()) {
		l.log.Debug(msg)
		return
	}
	l.log.Info(msg)
}
