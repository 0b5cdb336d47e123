package faults

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
)

// Set is the faults of one server run. Its connections share the run-wide
// counters (When.First, When.Probability) and the connection numbering.
type Set struct {
	armed []*armed
	// countCommands is set when a fault names an nth occurrence.
	countCommands bool
	// shapes and countBytes are set when a fault shapes writes or counts
	// the bytes written, so that the output path of the other runs does
	// neither.
	shapes, countBytes bool
	// capFaults is set when a fault changes capability lists, atConnect
	// when one acts on a just-accepted connection.
	capFaults, atConnect bool
	// conns numbers the run's connections; the sets that Next and With
	// derive share it, so that numbers stay unique across them.
	conns *atomic.Int64
}

// NewSet validates faults and arms them for a run.
func NewSet(faults []Fault) (*Set, error) {
	s := &Set{conns: new(atomic.Int64)}
	for i, f := range faults {
		if f.Action == nil {
			return nil, fmt.Errorf("faults[%d]: no action", i)
		}
		if err := f.When.ValidateFor(f.Action); err != nil {
			return nil, fmt.Errorf("faults[%d] (%s): %w", i, f.Action.Kind(), err)
		}
		if err := f.Action.Validate(); err != nil {
			return nil, fmt.Errorf("faults[%d] (%s): %w", i, f.Action.Kind(), err)
		}
		s.add(newArmed(f, 0))
	}
	return s, nil
}

// add appends an armed fault and notes what it needs of the wire layer.
func (s *Set) add(a *armed) {
	f := a.Fault
	s.armed = append(s.armed, a)
	s.countCommands = s.countCommands || f.When.Nth > 0
	if _, ok := f.Action.(WriteShaper); ok {
		s.shapes = true
	}
	if _, ok := f.Action.(*Capabilities); ok {
		s.capFaults = true
	}
	if _, ok := f.Action.(EventAction); ok {
		switch f.When.Point() {
		case PointConnect:
			s.atConnect = true
		case PointBytes:
			s.countBytes = true
		}
	}
}

// ConnOptions configure the wire layer of one connection: the server's
// transport policy, which is not a fault but shapes the same lines.
type ConnOptions struct {
	// StartTLS, when set, makes the connection advertise STARTTLS and
	// upgrade itself when the client asks, so that faults keep seeing
	// plaintext IMAP after the handshake.
	StartTLS *tls.Config
	// RequireTLSForAuth advertises LOGINDISABLED and refuses LOGIN and
	// AUTHENTICATE with NO [PRIVACYREQUIRED] until TLS is up.
	RequireTLSForAuth bool
	// Capabilities, when non-nil, replaces every capability list the
	// server sends before the transport policy and faults adjust it.
	Capabilities []string
	// Tap receives the transcript: every line and literal chunk in either
	// direction, secrets masked.
	Tap func(TapEvent)
	// Logger receives the faults that fire, at debug level, and the
	// limits a client hits, at info level.
	Logger *slog.Logger
	// Limits bound the client's lines, literals and command rate; a zero
	// field is no limit. The connection counts are the server's business.
	Limits Limits
	// ID, when set, is the wire layer's answer to ID (RFC 2971) as field
	// and value pairs ("name", "imapfault"); the server must then
	// advertise ID (local.go). A flavour gives its product's answer here.
	ID []string
	// Relayed says the connection fronts a real server (imapfault
	// proxy): the wire layer answers no command in its place, since the
	// work-arounds for go-imap's answers (local.go) would hide the real
	// server's.
	Relayed bool
}

// AtConnect reports whether a fault acts on a just-accepted connection:
// whether Conn.Connect may take as long as the client or the fault make it.
func (s *Set) AtConnect() bool { return s.atConnect }

// NewConn wraps a freshly accepted TCP connection and numbers it. opts
// may be shared by every connection of the run; it is not modified.
func (s *Set) NewConn(raw net.Conn, opts *ConnOptions) *Conn {
	return newConn(s, raw, int(s.conns.Add(1)), opts)
}
