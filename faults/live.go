package faults

import "fmt"

// A run can change its faults while it serves: a control API switches the
// scenario or adds a fault for the connections still to come. A Set is
// never modified once connections use it; the server swaps in a derived
// Set for new connections instead, and connections keep the Set they
// started with. Derived sets share the run's connection numbering, and a
// fault's run-wide counters (First, Probability) live with the fault, so
// they carry over from one derived Set to the next.

// Armed is one fault armed in a run: the fault with its run-wide counters.
type Armed struct{ a *armed }

// Fault returns the armed fault's declaration.
func (a *Armed) Fault() Fault { return a.a.Fault }

// Fired returns how many times the fault has fired so far.
func (a *Armed) Fired() int {
	a.a.mu.Lock()
	defer a.a.mu.Unlock()
	return a.a.fired
}

// Arm validates a fault and arms it now: its First counts firings from
// this moment and its When.Connection counts the connections accepted
// after it, so that connection = 1 is the next one.
func (s *Set) Arm(f Fault) (*Armed, error) {
	if f.Action == nil {
		return nil, fmt.Errorf("no action")
	}
	if err := f.When.Validate(); err != nil {
		return nil, err
	}
	if err := f.Action.Validate(); err != nil {
		return nil, err
	}
	return &Armed{newArmed(f, int(s.conns.Load()))}, nil
}

// Next validates faults and arms them as a new Set for the same run, as
// for a scenario played from now on: they count connections and firings
// from this moment, and the connection numbers go on from s's.
func (s *Set) Next(faults []Fault) (*Set, error) {
	n, err := NewSet(faults)
	if err != nil {
		return nil, err
	}
	base := int(s.conns.Load())
	for _, a := range n.armed {
		a.base = base
	}
	n.conns = s.conns
	return n, nil
}

// With returns a Set with s's faults followed by extra, for new
// connections. It shares s's numbering and every fault's counters.
func (s *Set) With(extra ...*Armed) *Set {
	n := &Set{conns: s.conns}
	for _, a := range s.armed {
		n.add(a)
	}
	for _, a := range extra {
		n.add(a.a)
	}
	return n
}

// Count returns how many connections the run has numbered.
func (s *Set) Count() int { return int(s.conns.Load()) }
