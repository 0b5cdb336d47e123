package server

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLimits drives a client past each limit on the wire: it gets the
// standard answer, and the server goes on serving everyone else.
func TestLimits(t *testing.T) {
	type step struct {
		send string // sent as is: add "\r\n" for a whole line
		want string // prefix of the first line that starts with its first word
	}
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name   string
		limits string
		steps  []step
		closed bool // the server ends the connection after the steps
	}{
		{
			name:   "overlong line in one piece",
			limits: "max_line = 1000",
			steps: []step{
				{"a1 NOOP " + long + "\r\n", "a1 BAD [TOOBIG]"},
				{"a2 NOOP\r\n", "a2 OK"},
			},
		},
		{
			name:   "overlong line in pieces, no tag",
			limits: "max_line = 1000",
			steps: []step{
				{long, ""},
				{long, ""},
				{long + "\r\na2 NOOP\r\n", "* BAD [TOOBIG]"},
				{"", "a2 OK"},
			},
		},
		{
			name:   "overlong continuation after a literal",
			limits: "max_line = 1000",
			steps: []step{
				{"a1 LOGIN {5}\r\n", "+"},
				{"alice " + long + "\r\n", "* BYE"},
			},
			closed: true,
		},
		{
			name:   "overlong line inside IDLE",
			limits: "max_line = 1000",
			steps: []step{
				{"a1 LOGIN alice pw\r\n", "a1 OK"},
				{"a2 SELECT INBOX\r\n", "a2 OK"},
				{"a3 IDLE\r\n", "+"},
				{long + "\r\n", "* BYE"},
			},
			closed: true,
		},
		{
			name: "literal over go-imap's 4 KiB for LOGIN",
			steps: []step{
				{"a1 LOGIN alice {5000}\r\n", "a1 NO [TOOBIG]"},
				{"a2 NOOP\r\n", "a2 OK"},
			},
		},
		{
			name: "non-synchronizing literal over 4 KiB for LOGIN",
			steps: []step{
				{"a1 LOGIN alice {5000+}\r\n" + strings.Repeat("a2 DELETE INBOX\r\n", 300), "a1 NO [TOOBIG]"},
				{"", "* BYE"},
			},
			closed: true,
		},
		{
			name:   "APPEND literal over max_literal",
			limits: "max_literal = 1000",
			steps: []step{
				{"a1 LOGIN alice pw\r\n", "a1 OK"},
				{"a2 APPEND INBOX {1001}\r\n", "a2 NO [TOOBIG]"},
				{"a3 APPEND INBOX {12}\r\n", "+"},
				{"Subject: x\r\n\r\n", "a3 OK"},
			},
		},
		{
			name:   "non-synchronizing APPEND literal over max_literal",
			limits: "max_literal = 1000",
			steps: []step{
				{"a1 LOGIN alice pw\r\n", "a1 OK"},
				{"a2 APPEND INBOX {2000+}\r\n" + strings.Repeat("x", 2000) + "\r\n", "a2 NO [TOOBIG]"},
				{"", "* BYE"},
			},
			closed: true,
		},
		{
			name:   "command flood",
			limits: "commands_per_second = 5",
			steps: []step{
				{strings.Repeat("a NOOP\r\n", 5) + "b NOOP\r\n", "b NO [LIMIT]"},
				{strings.Repeat("c NOOP\r\n", 20), "* BYE"},
			},
			closed: true,
		},
		{
			name:   "one session per user",
			limits: "max_connections_per_user = 1",
			steps: []step{
				{"a1 LOGIN alice pw\r\n", "a1 OK"},
				{"a2 LOGOUT\r\n", "a2 OK"},
			},
			closed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewTest(t, plainScenario(t, "[server.limits]\n"+tt.limits+"\n"))
			w := dialWire(t, srv.Addr())
			w.line()
			for _, s := range tt.steps {
				if s.send != "" {
					if _, err := w.conn.Write([]byte(s.send)); err != nil {
						t.Fatalf("writing %.40q: %v", s.send, err)
					}
				}
				if s.want == "" {
					continue
				}
				word, _, _ := strings.Cut(s.want, " ")
				lines := w.until(word)
				if got := lines[len(lines)-1]; !strings.HasPrefix(got, s.want) {
					t.Fatalf("after %.40q: got %q, want %q", s.send, got, s.want)
				}
			}
			if tt.closed {
				expectClosed(t, w)
			}
			healthy(t, srv.Addr())
		})
	}
}

// TestUserAndConnectionLimits holds sessions open and checks that one
// more is refused, by every way of logging in, and that a freed slot can
// be taken again.
func TestUserAndConnectionLimits(t *testing.T) {
	sc := plainScenario(t, `
[server]
auth_mechanisms = ["PLAIN", "XOAUTH2", "OAUTHBEARER"]
[server.limits]
max_connections = 3
max_connections_per_user = 1
`)
	sc.Users[0].Tokens = []string{"tok"}
	srv := NewTest(t, sc)
	first := dialWire(t, srv.Addr())
	first.line()
	first.send("a LOGIN alice pw")
	if l := first.until("a "); !strings.HasPrefix(l[len(l)-1], "a OK") {
		t.Fatalf("first LOGIN: %q", l)
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, login := range []string{
		"b LOGIN alice pw",
		"b AUTHENTICATE PLAIN " + b64([]byte("\x00alice\x00pw")),
		"b AUTHENTICATE XOAUTH2 " + b64([]byte("user=alice\x01auth=Bearer tok\x01\x01")),
		"b AUTHENTICATE OAUTHBEARER " + b64([]byte("n,a=alice,\x01auth=Bearer tok\x01\x01")),
	} {
		w := dialWire(t, srv.Addr())
		w.line()
		w.send(login)
		if l := w.until("b "); !strings.HasPrefix(l[len(l)-1], "b NO [LIMIT]") {
			t.Errorf("%s: got %q, want NO [LIMIT]", strings.Fields(login)[1:3], l[len(l)-1])
		}
		w.conn.Close()
		// The server counts a connection until it has seen it close; on a
		// loaded machine that can lag behind the next dial.
		waitConns(t, srv, 1)
	}

	// Two more connections fill max_connections; the next is turned away
	// before its greeting.
	for range 2 {
		dialWire(t, srv.Addr()).line()
	}
	over := dialWire(t, srv.Addr())
	if got := over.line(); got != "* BYE [LIMIT] Too many connections" {
		t.Errorf("connection over the limit: got %q", got)
	}
	expectClosed(t, over)

	first.send("c LOGOUT")
	expectClosed(t, first)
	waitConns(t, srv, 2)
	w := dialWire(t, srv.Addr())
	if greeting := w.line(); !strings.HasPrefix(greeting, "* OK") {
		t.Fatalf("greeting once the first session ended: %q", greeting)
	}
	w.send("d LOGIN alice pw")
	if l := w.until("d "); !strings.HasPrefix(l[len(l)-1], "d OK") {
		t.Errorf("LOGIN after the first session ended: %q", l)
	}
}

// expectClosed reads until the server closes the connection.
func expectClosed(t *testing.T, w *wire) {
	t.Helper()
	w.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(w.r)
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("connection still open: %v (read %.80q)", err, rest)
	}
}

// healthy checks that a new client gets a full session.
func healthy(t *testing.T, addr string) {
	t.Helper()
	w := dialWire(t, addr)
	w.line()
	for _, cmd := range []string{"h1 LOGIN alice pw", "h2 SELECT INBOX", "h3 FETCH 1 (FLAGS)", "h4 LOGOUT"} {
		w.send(cmd)
		tag, _, _ := strings.Cut(cmd, " ")
		if l := w.until(tag + " "); !strings.HasPrefix(l[len(l)-1], tag+" OK") {
			t.Fatalf("server unhealthy after the limit: %s: %q", cmd, l)
		}
	}
}

// TestWarnsBeyondLoopback checks that an embedded server says so, at Warn,
// when it listens where other machines can reach it.
func TestWarnsBeyondLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr string
		warn bool
	}{
		{"", false},
		{"127.0.0.1:0", false},
		{"0.0.0.0:0", true},
	} {
		var logs syncBuffer
		srv, err := New(plainScenario(t, ""), Options{Addr: tt.addr, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatalf("New(Addr %q) = %v", tt.addr, err)
		}
		srv.Close()
		if got := strings.Contains(logs.String(), "level=WARN msg=\"listening beyond this machine"); got != tt.warn {
			t.Errorf("New(Addr %q) warned %v, want %v; logs:\n%s", tt.addr, got, tt.warn, logs.String())
		}
	}
}

// waitConns waits until the server holds at most n connections: it
// checks again at each transcript entry, since the server records one as
// it lets a connection go.
func waitConns(t *testing.T, srv *Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held := 0
	err := srv.transcript.until(ctx, func() bool {
		srv.mu.Lock()
		held = len(srv.conns)
		srv.mu.Unlock()
		return held <= n
	})
	if err != nil {
		t.Fatalf("the server still holds %d connections after 10s, want at most %d", held, n)
	}
}
