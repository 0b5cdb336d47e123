package server

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestCloseSaysBye: stopping the server tells every client so with an
// untagged BYE before the connection closes (RFC 9051 section 7.1.5),
// whether it idles, waits between commands or has not logged in; an
// idling client used to get NO [SERVERBUG].
func TestCloseSaysBye(t *testing.T) {
	srv, err := New(plainScenario(t, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	idle := dialWire(t, srv.Addr())
	idle.line()
	idle.send("a LOGIN alice pw")
	idle.until("a ")
	idle.send("b SELECT INBOX")
	idle.until("b ")
	idle.send("c IDLE")
	idle.until("+ ")
	between := dialWire(t, srv.Addr())
	between.line()
	between.send("a LOGIN alice pw")
	between.until("a ")
	greeted := dialWire(t, srv.Addr())
	greeted.line()

	srv.Close()
	for name, w := range map[string]*wire{"idling": idle, "between commands": between, "not logged in": greeted} {
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, err := io.ReadAll(w.r)
		if err != nil {
			t.Errorf("%s: reading until the server closes: %v", name, err)
		}
		lines := strings.Split(strings.TrimRight(string(rest), "\r\n"), "\r\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "* BYE ") {
			t.Errorf("%s: got %q after Close, want one untagged BYE", name, rest)
		}
	}
}
