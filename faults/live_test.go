package faults

import (
	"net"
	"testing"
)

// TestDerivedSetsCountFromWhenArmed: a fault armed or a set played later
// counts its connections from that moment, the numbering goes on across
// derived sets, and a fault's First budget carries over from one derived
// set to the next.
func TestDerivedSetsCountFromWhenArmed(t *testing.T) {
	newConn := func(s *Set) *Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return s.NewConn(a, &ConnOptions{})
	}
	base, err := NewSet([]Fault{{When: When{Connection: 1}, Action: &Drop{Drop: "fin"}}})
	if err != nil {
		t.Fatal(err)
	}
	c1 := newConn(base)
	c2 := newConn(base)
	if !base.armed[0].onConn(c1.n) || base.armed[0].onConn(c2.n) {
		t.Fatalf("scenario fault: connection 1 must be the run's first")
	}
	live, err := base.Arm(Fault{When: When{Connection: 1, First: 1, Command: "LOGIN"}, Action: &Respond{Respond: "NO later"}})
	if err != nil {
		t.Fatal(err)
	}
	with := base.With(live)
	c3 := newConn(with)
	if c3.n != 3 {
		t.Errorf("derived set numbered connection %d, want 3", c3.n)
	}
	if !live.a.onConn(c3.n) || live.a.onConn(c2.n) {
		t.Errorf("live fault: connection 1 must be the first after it was armed")
	}
	if !live.a.take() {
		t.Fatal("live fault did not fire once")
	}
	again := base.With(live)
	if again.armed[1].take() || live.Fired() != 1 {
		t.Errorf("a derived set reset the fault's First budget (fired %d)", live.Fired())
	}
	next, err := base.Next([]Fault{{When: When{Connection: 1}, Action: &Drop{Drop: "fin"}}})
	if err != nil {
		t.Fatal(err)
	}
	c4 := newConn(next)
	if c4.n != 4 || !next.armed[0].onConn(c4.n) {
		t.Errorf("next scenario: connection %d should be its first", c4.n)
	}
	if _, err := base.Arm(Fault{When: When{Nth: 2}, Action: &Drop{Drop: "fin"}}); err == nil {
		t.Error("Arm accepted nth without a command")
	}
}
