package faults

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// ErrNotFound is wrapped by the error of removing a live fault that does
// not exist. The server's ErrNotFound is this one, so that callers test
// one error whatever holds the faults.
var ErrNotFound = errors.New("not found")

// LiveFault is a fault added while a run serves.
type LiveFault struct {
	ID    int
	Added time.Time
	armed *Armed
}

// Fault returns the fault's declaration.
func (f LiveFault) Fault() Fault { return f.armed.Fault() }

// Fired returns how many times the fault has fired.
func (f LiveFault) Fired() int { return f.armed.Fired() }

// LiveFaults is a base Set (a scenario's faults) with the faults added
// while the run serves, and the Set new connections get. It is a value
// never modified: each change returns a new one, which its holder
// publishes atomically with whatever else new connections take (a
// server's play), so that open connections keep the faults they started
// with. It is the one way live faults are armed, for a server as for a
// proxy (Live).
type LiveFaults struct {
	base, set *Set
	list      []LiveFault
}

// NewLiveFaults starts with base's faults and no live ones.
func NewLiveFaults(base *Set) LiveFaults { return LiveFaults{base: base, set: base} }

// Base returns the set without the live faults, from which a switch of
// scenario derives the next (Set.Next).
func (l LiveFaults) Base() *Set { return l.base }

// Set returns the set new connections get.
func (l LiveFaults) Set() *Set { return l.set }

// List returns the live faults in the order they were added.
func (l LiveFaults) List() []LiveFault { return slices.Clone(l.list) }

// Add arms f from now (Set.Arm) under id.
func (l LiveFaults) Add(id int, f Fault) (LiveFaults, LiveFault, error) {
	a, err := l.base.Arm(f)
	if err != nil {
		return l, LiveFault{}, err
	}
	lf := LiveFault{ID: id, Added: time.Now(), armed: a}
	return l.with(append(slices.Clone(l.list), lf)), lf, nil
}

// Remove disarms the live fault id.
func (l LiveFaults) Remove(id int) (LiveFaults, error) {
	i := slices.IndexFunc(l.list, func(f LiveFault) bool { return f.ID == id })
	if i < 0 {
		return l, fmt.Errorf("no live fault %d: %w", id, ErrNotFound)
	}
	return l.with(slices.Delete(slices.Clone(l.list), i, i+1)), nil
}

// Clear disarms every live fault; the base's stay.
func (l LiveFaults) Clear() LiveFaults { return l.with(nil) }

func (l LiveFaults) with(list []LiveFault) LiveFaults {
	armed := make([]*Armed, len(list))
	for i, f := range list {
		armed[i] = f.armed
	}
	return LiveFaults{base: l.base, set: l.base.With(armed...), list: list}
}

// Live holds the live faults of a run that has nothing else to switch
// (a proxy): a control API changes them, and each new connection takes
// the set in force when it is accepted.
type Live struct {
	mu     sync.Mutex
	cur    LiveFaults
	lastID int
}

// NewLive holds base's faults and no live ones.
func NewLive(base *Set) *Live { return &Live{cur: NewLiveFaults(base)} }

// NewConn wraps a freshly accepted connection with the faults in force.
// It numbers the connection under the lock AddFault arms under, so that
// a fault's connection = 1 is exactly the next connection accepted.
func (l *Live) NewConn(raw net.Conn, opts *ConnOptions) *Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur.Set().NewConn(raw, opts)
}

// AddFault arms a fault for the connections accepted from now on.
func (l *Live) AddFault(f Fault) (LiveFault, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next, lf, err := l.cur.Add(l.lastID+1, f)
	if err != nil {
		return LiveFault{}, err
	}
	l.lastID++
	l.cur = next
	return lf, nil
}

// Faults returns the live faults in the order they were added.
func (l *Live) Faults() []LiveFault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur.List()
}

// RemoveFault disarms a live fault for new connections.
func (l *Live) RemoveFault(id int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	next, err := l.cur.Remove(id)
	if err != nil {
		return err
	}
	l.cur = next
	return nil
}

// ClearFaults disarms every live fault for new connections.
func (l *Live) ClearFaults() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur = l.cur.Clear()
}
