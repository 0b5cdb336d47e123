package server

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// replayScript answers the greeting, the first two CAPABILITY commands
// and the second LOGIN from a script; everything else is the server's.
const replayScript = `
[replay]
greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme IMAP ready"

[[replay.steps]]
command = "CAPABILITY"
untagged = ["* CAPABILITY IMAP4rev1 AUTH=PLAIN XACME"]
status = "OK done"

[[replay.steps]]
command = "capability"
untagged = ["* CAPABILITY IMAP4rev1", "* 1 FETCH (BODY[] {5}\r\nhello)"]
status = "NO [UNAVAILABLE] second time"

[[replay.steps]]
command = "LOGIN"
nth = 2
untagged = ["* BYE going away"]
end = "eof"

[[replay.steps]]
command = "NOOP"
connection = 2
status = "NO only on the second connection"
`

// TestReplayScript: the greeting line is replaced whole, steps answer
// their command's occurrences in order with the client's tag, literals
// go out inline, a command the script does not cover (the first LOGIN,
// the third CAPABILITY) is answered by the server, and end = "eof" closes
// the connection in place of the tagged reply.
func TestReplayScript(t *testing.T) {
	srv := NewTest(t, plainScenario(t, replayScript))
	w := dialWire(t, srv.Addr())
	var got []string
	got = append(got, w.line())
	w.send("x1 CAPABILITY")
	got = append(got, w.until("x1 ")...)
	w.send("x2 CAPABILITY")
	got = append(got, w.until("x2 ")...)
	w.send("x3 CAPABILITY")
	third := w.until("x3 ")
	w.send("x4 LOGIN alice pw")
	got = append(got, w.until("x4 ")...)
	w.send("x5 LOGIN alice pw")
	got = append(got, w.line())
	want := []string{
		"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Acme IMAP ready",
		"* CAPABILITY IMAP4rev1 AUTH=PLAIN XACME",
		"x1 OK done",
		"* CAPABILITY IMAP4rev1",
		"* 1 FETCH (BODY[] {5}",
		"hello)",
		"x2 NO [UNAVAILABLE] second time",
		"x4 OK [CAPABILITY",
		"* BYE going away",
	}
	// The server's own LOGIN reply carries its capability list: compare
	// its start.
	for i, l := range got {
		if strings.HasPrefix(l, "x4 OK [CAPABILITY") {
			got[i] = "x4 OK [CAPABILITY"
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	if last := third[len(third)-1]; !strings.HasPrefix(last, "x3 OK") || strings.Contains(strings.Join(third, ""), "XACME") {
		t.Errorf("third CAPABILITY, not scripted: %q; want the server's own answer", third)
	}
	if _, err := w.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Errorf("after end = \"eof\": %v; want EOF", err)
	}
	// The second connection: the NOOP step is its own.
	w2 := dialWire(t, srv.Addr())
	w2.line()
	w2.send("n1 NOOP")
	if got := w2.until("n1 "); got[len(got)-1] != "n1 NO only on the second connection" {
		t.Errorf("NOOP on connection 2: %q", got)
	}
}

// TestReplayGreetingEnds: a replay that ends at the greeting sends the
// greeting line, if any, and closes; a BYE greeting line closes too.
func TestReplayGreetingEnds(t *testing.T) {
	for _, tt := range []struct{ name, replay, want string }{
		{"eof after a partial session", "greeting = \"* OK Acme\"\nend = \"eof\"", "* OK Acme\r\n"},
		{"eof before any byte", "end = \"eof\"", ""},
		{"bye", "greeting = \"* BYE Too many connections\"", "* BYE Too many connections\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewTest(t, plainScenario(t, "[replay]\n"+tt.replay+"\n"))
			w := dialWire(t, srv.Addr())
			got, err := io.ReadAll(w.r)
			if err != nil {
				t.Fatalf("reading to EOF: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q; want %q then EOF", got, tt.want)
			}
		})
	}
}

// TestReplayAfterOK: after_ok lets the server answer LOGIN itself (so the
// session is logged in), then sends the step's lines and ends; a NO from
// the server is followed by nothing.
func TestReplayAfterOK(t *testing.T) {
	srv := NewTest(t, plainScenario(t, `
[replay]
[[replay.steps]]
command = "LOGIN"
nth = 2
after_ok = { untagged = ["* BYE Account is being migrated"], end = "eof" }
`))
	w := dialWire(t, srv.Addr())
	w.line()
	w.send("a1 LOGIN alice wrong")
	if got := w.until("a1 "); !strings.HasPrefix(got[len(got)-1], "a1 NO") {
		t.Fatalf("a refused LOGIN: %q; want the server's NO and nothing after it", got)
	}
	w.send("a2 LOGIN alice pw")
	got := w.until("a2 ")
	if !strings.HasPrefix(got[len(got)-1], "a2 OK") {
		t.Fatalf("LOGIN: %q; want the server's OK", got)
	}
	if l := w.line(); l != "* BYE Account is being migrated" {
		t.Errorf("after the OK: %q; want the step's line", l)
	}
	if _, err := w.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Errorf("after the line: %v; want EOF", err)
	}
}
