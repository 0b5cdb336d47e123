package faults

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestCloseRacesNewGoroutines closes a connection just after a stall
// started its drain or a phase armed its timers, with nothing ordering
// the two: a goroutine the connection admitted while Close waited for
// them was a data race (a WaitGroup Add concurrent with its Wait), which
// the race detector reports on 2 CPUs (go test -race -cpu 2).
func TestCloseRacesNewGoroutines(t *testing.T) {
	timer := Fault{When: When{After: time.Hour}, Action: &Delay{Delay: time.Second}}
	starts := []struct {
		name  string
		start func(c *Conn)
	}{
		{"stall", func(c *Conn) { c.Stall() }},
		{"timers", func(c *Conn) { _ = c.Connect(context.Background()) }},
	}
	for _, tt := range starts {
		t.Run(tt.name, func(t *testing.T) {
			set, err := NewSet([]Fault{timer})
			if err != nil {
				t.Fatal(err)
			}
			steady := runtime.NumGoroutine()
			for i := 0; i < 50; i++ {
				// The goroutines of the last round are gone, so that the
				// count below sees the one the start makes.
				waitGoroutines(func(n int) bool { return n <= steady })
				server, client := net.Pipe()
				c := set.NewConn(server, &ConnOptions{})
				// A drain holds the socket until the connection ends, so
				// that it cannot order itself before Close by reading.
				c.sock.Lock()
				released := make(chan struct{})
				go func() {
					defer close(released)
					<-c.life().Done()
					c.sock.Unlock()
				}()
				ready, closed, started := make(chan struct{}), make(chan struct{}), make(chan struct{})
				go func() {
					defer close(started)
					close(ready)
					tt.start(c)
					<-closed // stay counted until Close ran
				}()
				<-ready
				// The goroutine count orders nothing for the race
				// detector: Close follows the start without a
				// happens-before edge, as a server's Close follows a
				// connection's faults.
				waitGoroutines(func(n int) bool { return n >= steady+3 })
				c.Close()
				close(closed)
				<-started
				<-released
				client.Close()
			}
		})
	}
}

// waitGoroutines spins until the goroutine count satisfies ok, for at
// most 200ms: it only steers the interleaving a test provokes, and a
// goroutine of another test ending meanwhile can spoil the count.
func waitGoroutines(ok func(int) bool) {
	for deadline := time.Now().Add(200 * time.Millisecond); !ok(runtime.NumGoroutine()) && time.Now().Before(deadline); {
		runtime.Gosched()
	}
}
