package faults

import (
	"errors"
	"net"
	"testing"
)

// TestLiveNewConnections: a proxy's Live gives each new connection the
// faults in force when it is accepted; open connections keep theirs, and
// connection = 1 in a fault added live is the next connection.
func TestLiveNewConnections(t *testing.T) {
	base, err := NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	live := NewLive(base)
	newConn := func() *Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return live.NewConn(a, &ConnOptions{})
	}
	before := newConn()
	f, err := live.AddFault(Fault{When: When{Connection: 1, Command: "SELECT"}, Action: &Respond{Respond: "NO x"}})
	if err != nil {
		t.Fatal(err)
	}
	after, later := newConn(), newConn()
	if len(before.set.armed) != 0 {
		t.Errorf("the connection open before the fault was added got it")
	}
	if len(after.set.armed) != 1 || !after.set.armed[0].onConn(after.n) || after.set.armed[0].onConn(later.n) {
		t.Errorf("connection = 1 of a live fault is not the next connection accepted")
	}
	if _, err := live.AddFault(Fault{When: When{Nth: -1}, Action: &Drop{Drop: "fin"}}); err == nil || len(live.Faults()) != 1 {
		t.Errorf("an invalid fault was added: %v, %d faults", err, len(live.Faults()))
	}
	if err := live.RemoveFault(f.ID); err != nil {
		t.Fatal(err)
	}
	if err := live.RemoveFault(f.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing it again: %v, want ErrNotFound", err)
	}
	if len(after.set.armed) != 1 || len(newConn().set.armed) != 0 {
		t.Errorf("removing a fault must change new connections only")
	}
	if _, err := live.AddFault(Fault{When: When{Command: "LOGIN"}, Action: &Respond{Respond: "NO y"}}); err != nil {
		t.Fatal(err)
	}
	live.ClearFaults()
	if len(live.Faults()) != 0 || len(newConn().set.armed) != 0 {
		t.Errorf("faults left after ClearFaults")
	}
}
