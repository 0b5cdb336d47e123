package server

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// wire is a bare IMAP client for tests that must see exact bytes.
type wire struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialWire(t *testing.T, addr string) *wire {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wire{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// line reads one line, failing the test after 5 s.
func (w *wire) line() string {
	w.t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := w.r.ReadString('\n')
	if err != nil {
		w.t.Fatalf("reading a line: %v (got %q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

func (w *wire) send(s string) {
	w.t.Helper()
	if _, err := w.conn.Write([]byte(s + "\r\n")); err != nil {
		w.t.Fatalf("writing %q: %v", s, err)
	}
}

// until reads lines up to and including the first with the given prefix
// and returns them all.
func (w *wire) until(prefix string) []string {
	w.t.Helper()
	var lines []string
	for i := 0; i < 10000; i++ {
		l := w.line()
		lines = append(lines, l)
		if strings.HasPrefix(l, prefix) {
			return lines
		}
	}
	w.t.Fatalf("no line starting %q in %d lines", prefix, len(lines))
	return nil
}

func (w *wire) startTLS(cfg *tls.Config) {
	w.t.Helper()
	w.send("s1 STARTTLS")
	if l := w.until("s1 "); !strings.HasPrefix(l[len(l)-1], "s1 OK") {
		w.t.Fatalf("STARTTLS: %q", l)
	}
	tc := tls.Client(w.conn, cfg)
	if err := tc.Handshake(); err != nil {
		w.t.Fatalf("TLS handshake: %v", err)
	}
	w.conn = tc
	w.r = bufio.NewReader(tc)
}
