package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestPreAuthGreetingMatchesLikeEveryFault: a PREAUTH greeting fault obeys
// the same when as every fault (it had a matcher of its own that knew only
// connection): first = 1 logs in the first connection only, and a phase
// other than the greeting's never matches.
func TestPreAuthGreetingMatchesLikeEveryFault(t *testing.T) {
	tests := []struct {
		when string
		want []bool // PREAUTH on connections 1, 2, 3
	}{
		{"{ first = 1 }", []bool{true, false, false}},
		{"{ connection = 2 }", []bool{false, true, false}},
		{"{ first = 2 }", []bool{true, true, false}},
		{"{ phase = \"greeting\", first = 1 }", []bool{true, false, false}},
		{"{ probability = 0.0001, seed = 1 }", []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			srv := NewTest(t, plainScenario(t, fmt.Sprintf("[[faults]]\nwhen = %s\ngreeting = \"alice logged in\"\nstatus = \"PREAUTH\"\n", tt.when)))
			for i, want := range tt.want {
				w := dialWire(t, srv.Addr())
				g := w.line()
				if got := strings.HasPrefix(g, "* PREAUTH "); got != want {
					t.Errorf("connection %d: greeting %q; want PREAUTH: %v", i+1, g, want)
				}
				// The session agrees with the greeting: logged in or not.
				w.send("a SELECT INBOX")
				reply := w.until("a ")
				if got := strings.HasPrefix(reply[len(reply)-1], "a OK"); got != want {
					t.Errorf("connection %d: SELECT without LOGIN: %q", i+1, reply[len(reply)-1])
				}
				w.conn.Close()
			}
		})
	}
}
