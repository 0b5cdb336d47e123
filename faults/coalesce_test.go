package faults

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recordConn is a socket that records each write.
type recordConn struct {
	discardConn
	writes *[]string
}

func (r recordConn) Write(b []byte) (int, error) {
	*r.writes = append(*r.writes, string(b))
	return len(b), nil
}

// TestCoalescing checks which server lines share a write: a response's
// untagged lines go out with its tagged line, in one write; but every line
// goes out alone during IDLE, and under a fault that shapes writes or
// counts bytes, so that slice, throttle and after_bytes still act on the
// bytes where they say.
func TestCoalescing(t *testing.T) {
	fetch := []string{"* 1 FETCH (FLAGS (\\Seen))\r\n", "* 2 FETCH (BODY[] {5}\r\n", "hello", ")\r\n", "a1 OK FETCH completed\r\n"}
	tests := []struct {
		name    string
		faults  []Fault
		command string
		lines   []string
		want    []string // the writes, after the greeting's
	}{
		{
			name:    "a response in one write",
			command: "a1 FETCH 1:2 (FLAGS BODY[])\r\n",
			lines:   fetch,
			want:    []string{strings.Join(fetch, "")},
		},
		{
			name:    "IDLE's lines one by one",
			command: "a1 IDLE\r\n",
			lines:   []string{"+ idling\r\n", "* 3 EXISTS\r\n", "* 1 RECENT\r\n"},
			want:    []string{"+ idling\r\n", "* 3 EXISTS\r\n", "* 1 RECENT\r\n"},
		},
		{
			name:    "a BYE at once",
			command: "a1 LOGOUT\r\n",
			lines:   []string{"* BYE bye\r\n", "a1 OK LOGOUT completed\r\n"},
			want:    []string{"* BYE bye\r\n", "a1 OK LOGOUT completed\r\n"},
		},
		{
			name:    "slice",
			faults:  []Fault{{Action: &Slice{Slice: 10}}},
			command: "a1 FETCH 1 (FLAGS)\r\n",
			lines:   []string{"* 1 FETCH (FLAGS (\\Seen))\r\n", "a1 OK done\r\n"},
			want:    []string{"* 1 FETCH ", "(FLAGS (\\S", "een))\r\n", "a1 OK done", "\r\n"},
		},
		{
			name:    "after_bytes yet to fire",
			faults:  []Fault{{When: When{AfterBytes: 20}, Action: &Delay{Delay: 1}}},
			command: "a1 FETCH 1:2 (FLAGS)\r\n",
			lines:   []string{"* 1 FETCH (FLAGS ())\r\n", "* 2 FETCH (FLAGS ())\r\n", "a1 OK done\r\n"},
			// Line by line until the fault fires; held back again after.
			want: []string{"* 1 FETC", "H (FLAGS ())\r\n", "* 2 FETCH (FLAGS ())\r\na1 OK done\r\n"},
		},
		{
			name:    "after_bytes fired in the greeting",
			faults:  []Fault{{When: When{AfterBytes: 1}, Action: &Delay{Delay: 1}}},
			command: "a1 FETCH 1:2 (FLAGS)\r\n",
			lines:   []string{"* 1 FETCH (FLAGS ())\r\n", "* 2 FETCH (FLAGS ())\r\n", "a1 OK done\r\n"},
			want:    []string{"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\na1 OK done\r\n"},
		},
		{
			name:    "a slice waiting for another command",
			faults:  []Fault{{When: When{Command: "RENAME"}, Action: &Slice{Slice: 1}}},
			command: "a1 FETCH 1:2 (FLAGS)\r\n",
			lines:   []string{"* 1 FETCH (FLAGS ())\r\n", "* 2 FETCH (FLAGS ())\r\n", "a1 OK done\r\n"},
			want:    []string{"* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\na1 OK done\r\n"},
		},
		{
			name:    "a slice for this command",
			faults:  []Fault{{When: When{Command: "FETCH"}, Action: &Slice{Slice: 15}}},
			command: "a1 FETCH 1:2 (FLAGS)\r\n",
			lines:   []string{"* 1 FETCH (FLAGS ())\r\n", "a1 OK done\r\n"},
			want:    []string{"* 1 FETCH (FLAG", "S ())\r\n", "a1 OK done\r\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := NewSet(tt.faults)
			if err != nil {
				t.Fatal(err)
			}
			var writes []string
			c := set.NewConn(recordConn{writes: &writes}, &ConnOptions{})
			if _, err := c.Write([]byte("* OK ready\r\n")); err != nil {
				t.Fatal(err)
			}
			if err := c.feedClient([]byte(tt.command)); err != nil {
				t.Fatal(err)
			}
			writes = nil
			for _, l := range tt.lines {
				if _, err := c.Write([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, writes); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCoalescingBounded checks that a response bigger than holdMax goes
// out in pieces rather than all at the end.
func TestCoalescingBounded(t *testing.T) {
	set, err := NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	var writes []string
	c := set.NewConn(recordConn{writes: &writes}, &ConnOptions{})
	c.Write([]byte("* OK ready\r\n"))
	if err := c.feedClient([]byte("a1 FETCH 1:* (FLAGS)\r\n")); err != nil {
		t.Fatal(err)
	}
	writes = nil
	line := []byte("* 1 FETCH (FLAGS (\\Seen))\r\n")
	n := 3 * holdMax / len(line)
	for range n {
		c.Write(line)
	}
	c.Write([]byte("a1 OK done\r\n"))
	if got := len(writes); got < 3 || got > 4 {
		t.Errorf("%d lines (%d bytes) in %d writes, want 3 or 4", n, n*len(line), got)
	}
	if got := strings.Join(writes, ""); got != string(bytes.Repeat(line, n))+"a1 OK done\r\n" {
		t.Error("the bytes written are not the lines in order")
	}
}
