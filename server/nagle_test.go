package server

import (
	"slices"
	"testing"
	"time"

	"github.com/imapfault/imapfault/bench"
	"github.com/imapfault/imapfault/scenarios"
)

// TestAppendFromNagleClient checks that an APPEND whose literal and final
// CRLF come in two writes from a client with Nagle's algorithm on (as
// Python's imaplib sends them) does not wait for the delayed ACK, 40 ms
// on Linux, every time.
func TestAppendFromNagleClient(t *testing.T) {
	data, err := bench.Scenarios.ReadFile("scenarios/plain.toml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse("plain.toml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewTest(t, sc)
	target := bench.Target{Addr: srv.Addr(), User: sc.Users[0].Name, Password: sc.Users[0].Password}
	var appends []time.Duration
	for range 7 {
		err := bench.Session(t.Context(), target, true, func(cmd string, d time.Duration) {
			if cmd == "append" {
				appends = append(appends, d)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(appends)
	// The median, so that one slow moment of a busy machine does not fail
	// the test; with the delayed ACK every APPEND takes 40 ms or more.
	if med := appends[len(appends)/2]; med >= 30*time.Millisecond {
		t.Errorf("median APPEND = %v (all: %v), want well under the 40 ms delayed ACK", med, appends)
	}
}
