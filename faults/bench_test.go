package faults

import (
	"io"
	"net"
	"testing"
	"time"
)

// discardConn is a socket that takes every write.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)       { return len(b), nil }
func (discardConn) Close() error                      { return nil }
func (discardConn) SetDeadline(time.Time) error       { return nil }
func (discardConn) SetWriteDeadline(time.Time) error  { return nil }
func (discardConn) RemoteAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) LocalAddr() net.Addr               { return &net.TCPAddr{} }
func (discardConn) SetReadDeadline(t time.Time) error { return nil }
func (discardConn) Read(b []byte) (int, error)        { return 0, io.EOF }

// selectCycle is one SELECT as the wire layer sees it: the client's line,
// then the server's reply, line by line as go-imap writes it.
var selectCycle = struct {
	command string
	reply   []string
}{
	command: "a1 SELECT INBOX\r\n",
	reply: []string{
		"* FLAGS (\\Answered \\Deleted \\Draft \\Flagged \\Seen)\r\n",
		"* OK [PERMANENTFLAGS (\\Answered \\Deleted \\Draft \\Flagged \\Seen \\*)] Flags permitted\r\n",
		"* 20 EXISTS\r\n",
		"* OK [UIDNEXT 21] Predicted next UID\r\n",
		"* OK [UIDVALIDITY 1] UIDs valid\r\n",
		"a1 OK [READ-WRITE] SELECT completed\r\n",
	},
}

// newGreetedConn returns a Conn of a run with faults that never fire,
// past its greeting.
func newGreetedConn(tb testing.TB) *Conn {
	set, err := NewSet([]Fault{
		{When: When{Command: "RENAME"}, Action: &Respond{Respond: "NO never"}},
		{When: When{Command: "RENAME"}, Action: &Delay{Delay: time.Second}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	// No command rate limit: the benchmark sends far more than a client may.
	c := set.NewConn(discardConn{}, &ConnOptions{})
	if _, err := c.Write([]byte("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")); err != nil {
		tb.Fatal(err)
	}
	return c
}

func runSelectCycle(tb testing.TB, c *Conn, command []byte, reply [][]byte) {
	if err := c.feedClient(command); err != nil {
		tb.Fatal(err)
	}
	c.in = nil
	for _, l := range reply {
		if _, err := c.Write(l); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestSelectCycleAllocs checks what a command and its reply allocate in
// the wire layer: the command's record and tag, nothing per reply line.
func TestSelectCycleAllocs(t *testing.T) {
	c := newGreetedConn(t)
	command, reply := []byte(selectCycle.command), [][]byte{}
	for _, l := range selectCycle.reply {
		reply = append(reply, []byte(l))
	}
	if n := testing.AllocsPerRun(100, func() { runSelectCycle(t, c, command, reply) }); n > 3 {
		t.Errorf("a SELECT and its 6-line reply allocate %v times, want at most 3", n)
	}
}

// BenchmarkSelectCycle measures the wire layer's cost per command and
// reply, with faults armed that never fire.
func BenchmarkSelectCycle(b *testing.B) {
	c := newGreetedConn(b)
	command, reply := []byte(selectCycle.command), [][]byte{}
	for _, l := range selectCycle.reply {
		reply = append(reply, []byte(l))
	}
	b.ReportAllocs()
	for b.Loop() {
		runSelectCycle(b, c, command, reply)
	}
}
