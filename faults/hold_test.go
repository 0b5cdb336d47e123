package faults

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHold: matching lines are kept back while the fault applies and sent
// before the first line once it no longer does; a line that announces a
// literal goes out with its literal.
func TestHold(t *testing.T) {
	set, err := NewSet([]Fault{{When: When{Command: "NOOP"}, Action: &Hold{Hold: `^\* \d+ (EXISTS|FETCH)`}}})
	if err != nil {
		t.Fatal(err)
	}
	server, client := net.Pipe()
	defer client.Close()
	c := set.NewConn(server, &ConnOptions{})
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	c.startCommand("a", "NOOP", []byte("a NOOP\r\n"))
	c.startCommand("b", "FETCH", []byte("b FETCH 1:2 (FLAGS)\r\n"))
	for _, out := range []string{
		"* OK ready\r\n",
		"* 5 EXISTS\r\n",                           // held: NOOP's
		"* 1 FETCH (BODY[] {2}\r\n", "hi", ")\r\n", // a literal: not held
		"a OK NOOP done\r\n",
		"* 2 FETCH (FLAGS ())\r\n", // FETCH's: the hold no longer applies
		"b OK FETCH done\r\n",
	} {
		if _, err := c.Write([]byte(out)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	want := "* OK ready\r\n* 1 FETCH (BODY[] {2}\r\nhi)\r\na OK NOOP done\r\n* 5 EXISTS\r\n* 2 FETCH (FLAGS ())\r\nb OK FETCH done\r\n"
	if diff := cmp.Diff(want, string(<-got)); diff != "" {
		t.Errorf("client got (-want +got):\n%s", diff)
	}
}
