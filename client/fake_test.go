package client

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConfig scripts a fake IMAP server for end-to-end tests. Unset
// fields give a healthy server; on overrides single commands.
type fakeConfig struct {
	raw      func(c *fconn) // the whole conversation, instead of the IMAP loop
	implicit *tls.Config    // TLS from the first byte
	starttls *tls.Config    // what STARTTLS upgrades with
	greeting string         // default: "* OK [CAPABILITY <caps>] fake ready"
	caps     string         // default: "IMAP4rev1 IDLE LITERAL+ UIDPLUS SASL-IR AUTH=PLAIN" (+ STARTTLS)
	password string         // checked by LOGIN and AUTHENTICATE PLAIN when set
	noPush   bool           // never push flag changes during IDLE
	noNotify bool           // never report flag changes, not even on NOOP
	lose     bool           // accept STORE but forget it
	on       map[string]func(c *fconn, tag, args string)
}

// fakeServer is a loopback IMAP server playing a fakeConfig.
type fakeServer struct {
	t       testing.TB
	ln      net.Listener
	cfg     fakeConfig
	wg      sync.WaitGroup
	flagged atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

func startFake(t testing.TB, cfg fakeConfig) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if cfg.caps == "" {
		cfg.caps = "IMAP4rev1 IDLE LITERAL+ UIDPLUS SASL-IR AUTH=PLAIN"
		if cfg.starttls != nil {
			cfg.caps += " STARTTLS"
		}
	}
	if cfg.greeting == "" {
		cfg.greeting = "* OK [CAPABILITY " + cfg.caps + "] fake ready"
	}
	s := &fakeServer{t: t, ln: ln, cfg: cfg}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.serve(newFconn(conn, s))
		}()
	}
}

func (s *fakeServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// fconn is the server side of one connection.
type fconn struct {
	net.Conn
	r      *bufio.Reader
	srv    *fakeServer
	pushed bool
}

func newFconn(c net.Conn, s *fakeServer) *fconn {
	return &fconn{Conn: c, r: bufio.NewReader(c), srv: s}
}

func (c *fconn) send(lines ...string) {
	for _, l := range lines {
		io.WriteString(c.Conn, l+"\r\n")
	}
}

func (c *fconn) readLine() (string, error) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// wait blocks until the client closes the connection (or 10s pass): a
// silent server.
func (c *fconn) wait() {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, c.r)
}

func (c *fconn) upgrade(cfg *tls.Config) bool {
	tc := tls.Server(c.Conn, cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return false
	}
	tc.SetDeadline(time.Time{})
	c.Conn, c.r = tc, bufio.NewReader(tc)
	return true
}

func (s *fakeServer) serve(c *fconn) {
	if s.cfg.implicit != nil && !c.upgrade(s.cfg.implicit) {
		return
	}
	if s.cfg.raw != nil {
		s.cfg.raw(c)
		return
	}
	c.send(s.cfg.greeting)
	for {
		line, err := c.readLine()
		if err != nil {
			return
		}
		tag, rest, _ := strings.Cut(line, " ")
		verb, args, _ := strings.Cut(rest, " ")
		verb = strings.ToUpper(verb)
		if verb != "APPEND" {
			if args, err = c.inlineLiterals(args); err != nil {
				return
			}
		}
		if verb == "UID" {
			sub, a, _ := strings.Cut(args, " ")
			verb, args = "UID "+strings.ToUpper(sub), a
		}
		if h := s.cfg.on[verb]; h != nil {
			h(c, tag, args)
			continue
		}
		if !s.standard(c, tag, verb, args) {
			return
		}
	}
}

// standard answers like a small healthy server; false ends the connection.
func (s *fakeServer) standard(c *fconn, tag, verb, args string) bool {
	switch verb {
	case "CAPABILITY":
		c.send("* CAPABILITY "+s.cfg.caps, tag+" OK done")
	case "STARTTLS":
		c.send(tag + " OK begin TLS")
		return c.upgrade(s.cfg.starttls)
	case "LOGIN":
		user, pass := loginArgs(args)
		if user == "" || (s.cfg.password != "" && pass != s.cfg.password) {
			c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
			return true
		}
		c.send(tag + " OK [CAPABILITY " + s.cfg.caps + " MOVE] logged in")
	case "AUTHENTICATE":
		mech, ir, _ := strings.Cut(args, " ")
		if ir == "" {
			c.send("+ ")
			ir, _ = c.readLine()
		}
		raw, err := base64.StdEncoding.DecodeString(ir)
		if err != nil {
			c.send(tag + " BAD not base64")
			return true
		}
		if strings.EqualFold(mech, "PLAIN") && s.cfg.password != "" {
			if f := strings.Split(string(raw), "\x00"); len(f) != 3 || f[2] != s.cfg.password {
				c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
				return true
			}
		}
		c.send(tag + " OK logged in")
	case "LIST":
		c.send(`* LIST (\HasNoChildren) "/" INBOX`, `* LIST (\HasNoChildren) "/" {7}`, "Archive", tag+" OK done")
	case "SELECT":
		c.send("* 2 EXISTS", "* OK [UIDVALIDITY 7] ok", `* OK [PERMANENTFLAGS (\Seen \Deleted \*)] ok`, tag+" OK [READ-WRITE] selected")
	case "FETCH":
		c.send(`* 1 FETCH (UID 1 RFC822.SIZE 100 INTERNALDATE "21-Nov-2026 10:00:00 +0000" ENVELOPE ("Sat, 21 Nov 2026 10:00:00 +0000" "Hello" (("Bob" NIL "bob" "example.com")) NIL NIL NIL NIL NIL NIL "<1@x>"))`,
			`* 2 FETCH (UID 2 RFC822.SIZE 200 INTERNALDATE "21-Nov-2026 11:00:00 +0000" ENVELOPE ("Sat, 21 Nov 2026 11:00:00 +0000" {16}`,
			`Quarterly report (("Carol" NIL "carol" "example.com")) NIL NIL NIL NIL NIL NIL "<2@x>"))`,
			tag+" OK done")
	case "IDLE":
		c.send("+ idling")
		return s.idle(c, tag)
	case "NOOP":
		s.notify(c)
		c.send(tag + " OK done")
	case "APPEND":
		n, sync := appendSize(args)
		if n < 0 {
			c.send(tag + " BAD no literal")
			return true
		}
		if sync {
			c.send("+ go ahead")
		}
		if _, err := io.CopyN(io.Discard, c.r, n); err != nil {
			return false
		}
		c.readLine()
		c.send("* 3 EXISTS", tag+" OK [APPENDUID 7 3] appended")
	case "UID STORE":
		if strings.Contains(args, "$ImapfaultProbe") && !s.cfg.lose {
			s.flagged.Store(strings.Contains(args, "+FLAGS"))
		}
		c.send(tag + " OK stored")
	case "UID FETCH":
		c.send("* 3 FETCH (UID 3 FLAGS (" + s.flags() + "))")
		c.send(tag + " OK done")
	case "UID EXPUNGE", "UID SEARCH", "EXAMINE":
		c.send(tag + " OK done")
	case "LOGOUT":
		c.send("* BYE bye", tag+" OK done")
		return false
	default:
		c.send(tag + " BAD unknown command")
	}
	return true
}

func (s *fakeServer) flags() string {
	if s.flagged.Load() {
		return `\Seen $ImapfaultProbe`
	}
	return `\Seen`
}

// notify reports a flag change once per connection, as a real server
// reports changes made by other sessions.
func (s *fakeServer) notify(c *fconn) {
	if s.cfg.noNotify || c.pushed || !s.flagged.Load() {
		return
	}
	c.pushed = true
	c.send("* 3 FETCH (FLAGS (" + s.flags() + "))")
}

// idle pushes flag changes until the client sends DONE.
func (s *fakeServer) idle(c *fconn, tag string) bool {
	for {
		if !s.cfg.noPush {
			s.notify(c)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.r.Peek(1); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return false
		}
		line, err := c.readLine()
		if err != nil {
			return false
		}
		if strings.EqualFold(line, "DONE") {
			c.send(tag + " OK idle done")
			return true
		}
		c.send(tag + " BAD expected DONE")
		return true
	}
}

func loginArgs(args string) (string, string) {
	var out []string
	for args != "" && len(out) < 2 {
		args = strings.TrimLeft(args, " ")
		if strings.HasPrefix(args, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(args) && args[i] != '"'; i++ {
				if args[i] == '\\' {
					i++
				}
				b.WriteByte(args[i])
			}
			out = append(out, b.String())
			args = args[min(i+1, len(args)):]
			continue
		}
		w, rest, _ := strings.Cut(args, " ")
		out = append(out, w)
		args = rest
	}
	for len(out) < 2 {
		out = append(out, "")
	}
	return out[0], out[1]
}

func appendSize(args string) (int64, bool) {
	i := strings.LastIndexByte(args, '{')
	if i < 0 || !strings.HasSuffix(args, "}") {
		return -1, false
	}
	digits := args[i+1 : len(args)-1]
	sync := !strings.HasSuffix(digits, "+")
	n, err := strconv.ParseInt(strings.TrimSuffix(digits, "+"), 10, 64)
	if err != nil {
		return -1, false
	}
	return n, sync
}

// reply returns a handler that answers a command with one tagged line.
func reply(status string) func(c *fconn, tag, args string) {
	return func(c *fconn, tag, _ string) { c.send(tag + " " + status) }
}

// lines returns a handler that sends raw lines ("TAG" is replaced).
func lines(ls ...string) func(c *fconn, tag, args string) {
	return func(c *fconn, tag, _ string) {
		for _, l := range ls {
			c.send(strings.ReplaceAll(l, "TAG", tag))
		}
	}
}

// hangUp returns a handler that closes the connection, after sending ls.
func hangUp(ls ...string) func(c *fconn, tag, args string) {
	return func(c *fconn, tag, args string) {
		lines(ls...)(c, tag, args)
		c.Conn.Close()
	}
}

// silence returns a handler that never answers.
func silence() func(c *fconn, tag, args string) {
	return func(c *fconn, _, _ string) { c.wait() }
}

// inlineLiterals reads the literals a command line announces and puts
// their bytes in place of the markers, for commands parsed as text.
func (c *fconn) inlineLiterals(args string) (string, error) {
	for {
		n, sync := appendSize(args)
		if n < 0 {
			return args, nil
		}
		if sync {
			c.send("+ go ahead")
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			return "", err
		}
		rest, err := c.readLine()
		if err != nil {
			return "", err
		}
		args = args[:strings.LastIndexByte(args, '{')] + string(lit) + rest
	}
}
