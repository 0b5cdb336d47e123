package faults

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFeedClientSplits checks that the wire layer frames the client's
// bytes the same however reads split them: what the server gets, and what
// the line limit answers.
func TestFeedClientSplits(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		server   string
		refusals []string
	}{
		{"lines and a literal", "a1 NOOP\r\na2 APPEND INBOX {3}\r\nabc\r\na3 NOOP\r\n",
			"a1 NOOP\r\na2 APPEND INBOX {3}\r\nabc\r\na3 NOOP\r\n", nil},
		{"a line over the limit, with a literal marker", "a1 NOOP\r\na2 LOGIN " + strings.Repeat("x", 40) + " {3}\r\nabc\r\na3 NOOP\r\n",
			"a1 NOOP\r\nabc\r\na3 NOOP\r\n", []string{"a2 BAD [TOOBIG] Command line too long (limit 32 bytes)\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for at := 0; at < len(tt.in); at++ {
				set, err := NewSet(nil)
				if err != nil {
					t.Fatal(err)
				}
				var writes []string
				c := set.NewConn(recordConn{writes: &writes}, &ConnOptions{Limits: Limits{MaxLine: 32}})
				if _, err := c.Write([]byte("* OK ready\r\n")); err != nil {
					t.Fatal(err)
				}
				writes = nil
				for _, b := range []string{tt.in[:at], tt.in[at:]} {
					if err := c.feedClient([]byte(b)); err != nil {
						t.Fatalf("cut at %d: %v", at, err)
					}
				}
				how := fmt.Sprintf("cut at %d", at)
				if diff := cmp.Diff(tt.server, string(c.in)); diff != "" {
					t.Errorf("%s: the server got (-want +got):\n%s", how, diff)
				}
				if diff := cmp.Diff(tt.refusals, writes); diff != "" {
					t.Errorf("%s: the wire layer answered (-want +got):\n%s", how, diff)
				}
			}
		})
	}
}
